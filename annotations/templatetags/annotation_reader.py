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
from django.utils.html import escape
from django.utils.safestring import mark_safe

from annotations.models import AnchorState, Annotation
from annotations.reader import represent, threads
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
    # Passages and regions; replies belong to their threads and notes on the whole text to
    # their own section, not to the list of the text.
    visible = Annotation.objects.visible_to(user).filter(
        text=text, reply_to__isnull=True, whole_text=False
    )
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
        **threads(request, text),
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


# --- the first screens, painted by the server -----------------------------------------------

MAX_DEPTH = 4  # as static/js/annotate-paint.js shades overlaps


@register.simple_tag(takes_context=True)
def reading_paragraphs(context, blocks: list, text: SourceText | None) -> str:
    """The paragraphs the page holds, with the highlights the reader may see already
    painted in them, as `static/js/annotate-paint.js` paints them (one `<mark>` a run, its
    ids and its depth): the first screen shows its highlights as soon as the browser
    draws it, before any script runs; the script then takes the paragraphs over (their
    text is the same, so are its offsets). Replies and regions quote no passage."""
    if not blocks:
        return ""
    end = blocks[-1].start + len(blocks[-1].text)
    rows = []
    if text is not None:
        rows = list(
            Annotation.objects.visible_to(context["request"].user)
            .filter(text=text, start__lt=end, reply_to__isnull=True, region__isnull=True)
            .values_list("id", "start", "end", "state")
        )
    # The Element Timing API reports when the first paragraph, highlights and all, was
    # drawn (bench/reading.py reads it).
    return mark_safe(
        "".join(_paragraph(block, rows, first=i == 0) for i, block in enumerate(blocks))
    )


def _paragraph(block, rows: list[tuple], *, first: bool = False) -> str:
    start, length = block.start, len(block.text)
    spans = [
        (max(a_start, start) - start, min(a_end, start + length) - start, pk, state)
        for pk, a_start, a_end, state in rows
        if a_start < start + length and a_end > start
    ]
    cuts = {0, length, *(at for at, _ in block.breaks)}
    for s, e, _, _ in spans:
        cuts.update((s, e))
    edges = sorted(cut for cut in cuts if 0 <= cut <= length)
    breaks = sorted(block.breaks, key=lambda item: item[0])
    timing = ' elementtiming="reading-first-screen"' if first else ""
    html, b = [f'<p data-start="{start}"{timing}>'], 0
    for i, at in enumerate(edges):
        while b < len(breaks) and breaks[b][0] <= at:
            label = escape(breaks[b][1])
            html.append(f'<span class="page-break" role="doc-pagebreak" '
                        f'aria-label="Page {label}" data-page="{label}"></span>')  # fmt: skip
            b += 1
        if i + 1 == len(edges):
            break
        piece = escape(block.text[at : edges[i + 1]])
        covering = [(pk, state) for s, e, pk, state in spans if s <= at < e]
        if not covering:
            html.append(piece)
            continue
        depth = min(len(covering), MAX_DEPTH)
        approx = any(state in ("moved", "fuzzy") for _, state in covering)
        ids = " ".join(str(pk) for pk, _ in covering)
        kind = f"hl hl-d{depth}" + (" hl-approx" if approx else "")
        html.append(f'<mark class="{kind}" data-ids="{ids}">{piece}</mark>')
    html.append("</p>")
    return "".join(html)
