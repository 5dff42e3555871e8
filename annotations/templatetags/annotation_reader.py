"""The annotating reading view's configuration, for `templates/annotations/_reader.html`.

The page hands it to `static/js/annotate.js` through `json_script` (no inline script: the
CSP forbids it). The annotations come in the shape of the API's plain JSON
(`AnnotationSerializer`), so the first paint needs no second request and the script sees
one shape whether it loaded or saved them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django import template
from django.db.models import QuerySet
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from rest_framework.fields import DateTimeField

from annotations.models import AnchorState, Annotation
from annotations.serializers import etag_for
from annotations.tags import namespace_colours
from sources.models import SourceText

register = template.Library()


@register.simple_tag(takes_context=True)
def annotation_reader_config(context: template.Context, text: SourceText) -> dict[str, Any]:
    return reader_config(context["request"], text)


def reader_config(request: HttpRequest, text: SourceText) -> dict[str, Any]:
    """Everything the reading view needs about `text` as `request.user` sees it."""
    user = request.user
    library = text.source.library
    is_current = text.source.texts.order_by("-revision").values_list("pk", flat=True)[0] == text.pk
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
        "annotations": represent(request, Annotation.objects.visible_to(user).filter(text=text)),
        "orphans": represent(request, orphans_of(user, text)) if is_current else [],
    }


def orphans_of(user, text: SourceText):
    """Annotations that lost their passage in a later revision; they wait on the revision
    where their quote still stands until someone re-attaches them here."""
    shown = Annotation.objects.visible_to(user).filter(text__source_id=text.source_id)
    return shown.filter(state=AnchorState.ORPHANED).exclude(text=text)


def represent(request: HttpRequest, annotations: QuerySet[Annotation]) -> list[dict[str, Any]]:
    """The plain JSON of `AnnotationSerializer` (the keys the reading view reads), built
    from three flat queries: a 1 MB text may carry thousands of annotations, and
    serialising them one model instance at a time took a second of every page view."""
    rows = list(annotations.in_document_order().values(*ROW_FIELDS))
    tags = tag_names(annotations)
    editable = set(
        Annotation.objects.editable_by(request.user)
        .filter(pk__in=annotations.values("pk"))
        .values_list("pk", flat=True)
    )
    return [plain(row, tags.get(row["id"], []), row["id"] in editable) for row in rows]


ROW_FIELDS = (
    "id", "text_id", "text__source_id", "text__revision", "start", "end", "exact", "prefix",
    "suffix", "state", "anchor_score", "comment_raw", "comment_html", "motivation",
    "visibility", "version", "created", "modified", "creator_id", "creator__username",
)  # fmt: skip
_timestamp = DateTimeField().to_representation


class _Version(NamedTuple):
    """What `etag_for` reads of an annotation, without building a model instance per row."""

    pk: int
    version: int


def tag_names(annotations: QuerySet[Annotation]) -> dict[int, list[str]]:
    through = Annotation.tags.through.objects.filter(annotation__in=annotations.values("pk"))
    names: dict[int, list[str]] = {}
    for annotation_id, name in through.values_list("annotation_id", "tag__name"):
        names.setdefault(annotation_id, []).append(name)
    return {pk: sorted(found, key=str.casefold) for pk, found in names.items()}


def plain(row: dict[str, Any], tags: list[str], can_edit: bool) -> dict[str, Any]:
    creator = row["creator_id"] and {"id": row["creator_id"], "username": row["creator__username"]}
    return {
        "id": row["id"],
        "source": row["text__source_id"],
        "text": row["text_id"],
        "revision": row["text__revision"],
        **{key: row[key] for key in ("start", "end", "exact", "prefix", "suffix", "state")},
        "anchor_score": row["anchor_score"],
        "comment": row["comment_raw"],
        "comment_html": row["comment_html"],
        **{key: row[key] for key in ("motivation", "visibility", "version")},
        "tags": tags,
        "creator": creator or None,
        "created": _timestamp(row["created"]),
        "modified": _timestamp(row["modified"]),
        "etag": etag_for(_Version(row["id"], row["version"])),  # type: ignore[arg-type]
        "can_edit": can_edit,
    }
