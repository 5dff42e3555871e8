"""The annotating reading view's configuration, for `templates/annotations/_reader.html`.

The page hands it to `static/js/annotate.js` through `json_script` (no inline script: the
CSP forbids it), with the annotations of the text the page holds; a long text's others
come from `text_annotations` (annotations/views.py) while its paragraphs stream in. The
annotations come in the shape of the API's plain JSON (`annotations/reader.py`), so the
first paint needs no second request and the script sees one shape whether it loaded or
saved them.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import QuerySet
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse

from annotations.models import AnchorState, Annotation
from annotations.reader import represent
from annotations.tags import namespace_colours
from sources.models import SourceText

register = template.Library()


@register.simple_tag(takes_context=True)
def annotation_reader_config(
    context: template.Context, text: SourceText, window_end: int | None = None
) -> dict[str, Any]:
    return reader_config(context["request"], text, window_end)


def reader_config(
    request: HttpRequest, text: SourceText, window_end: int | None = None
) -> dict[str, Any]:
    """Everything the reading view needs about `text` as `request.user` sees it. When the
    page holds the text only up to `window_end` (the reading view streams the rest), the
    annotations that begin before it come with the page, the others from `rest`."""
    user = request.user
    library = text.source.library
    is_current = text.source.texts.order_by("-revision").values_list("pk", flat=True)[0] == text.pk
    # Passages and regions; replies belong to their threads, not to the list of the text.
    visible = Annotation.objects.visible_to(user).filter(text=text, reply_to__isnull=True)
    first = visible if window_end is None else visible.filter(start__lt=window_end)
    return {
        "text": text.pk,
        "source": text.source_id,
        "revision": text.revision,
        "library": library.slug,
        "isCurrent": is_current,
        # Annotating happens on the current revision; older ones are for reading.
        "canAnnotate": is_current and library.can_edit(user),
        "user": {"id": user.pk, "username": user.get_username()} if user.is_authenticated else None,
        "api": {"annotations": reverse("api-annotation-list"), "tags": reverse("api-tag-list")},
        "csrfToken": get_token(request),
        "colours": namespace_colours(library),
        "annotations": represent(request, first),
        "orphans": represent(request, orphans_of(user, text)) if is_current else [],
        "rest": None if window_end is None else _rest(text, visible, window_end),
    }


def _rest(text: SourceText, visible: QuerySet[Annotation], window_end: int) -> dict[str, Any]:
    """Where the reading view fetches the annotations and paragraphs not sent with it."""
    return {
        "count": visible.count(),
        "annotations": f"{reverse('text-annotations', args=[text.pk])}?after={window_end}",
    }


def orphans_of(user, text: SourceText):
    """Annotations that lost their passage in a later revision; they wait on the revision
    where their quote still stands until someone re-attaches them here."""
    shown = Annotation.objects.visible_to(user).filter(
        text__source_id=text.source_id, reply_to__isnull=True
    )
    return shown.filter(state=AnchorState.ORPHANED).exclude(text=text)
