"""The reading view's annotations as plain JSON, in the shape of the API's
`AnnotationSerializer`: for the page's configuration (`templatetags/annotation_reader.py`)
and for the rest of a long text's annotations (`views.text_annotations`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import QuerySet
from django.http import HttpRequest

from annotations.models import Annotation
from annotations.reads import stamper
from annotations.serializers import etag_for

if TYPE_CHECKING:
    from sources.models import SourceText


def represent(
    request: HttpRequest, annotations: QuerySet[Annotation], *, order: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The plain JSON of `AnnotationSerializer` (the keys the reading view reads), built
    from three flat queries: a 1 MB text may carry thousands of annotations, and
    serialising them one model instance at a time took a second of every page view."""
    ordered = annotations.order_by(*order) if order else annotations.in_document_order()
    rows = list(ordered.values(*ROW_FIELDS))
    if not rows:  # most texts have no notes, replies or orphans: two queries fewer each
        return []
    tags = tag_names(annotations)
    editable = set(
        Annotation.objects.editable_by(request.user)
        .filter(pk__in=annotations.values("pk"))
        .values_list("pk", flat=True)
    )
    stamp = stamper()
    return [plain(row, tags.get(row["id"], []), row["id"] in editable, stamp) for row in rows]


ROW_FIELDS = (
    "id", "text_id", "text__source_id", "text__revision", "start", "end", "exact", "prefix",
    "suffix", "page", "region", "reply_to_id", "whole_text", "state", "anchor_score", "comment_raw",
    "comment_html", "motivation", "visibility", "version", "created", "modified", "creator_id",
    "creator__username",
)  # fmt: skip


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


def plain(
    row: dict[str, Any], tags: list[str], can_edit: bool, stamp: Callable[[Any], Any]
) -> dict[str, Any]:
    """One row as `AnnotationSerializer` writes it; `stamp` writes timestamps as DRF does
    (`reads.stamper`: DRF's per-value time-zone lookups were 40 % of 2,000 rows' time)."""
    creator = row["creator_id"] and {"id": row["creator_id"], "username": row["creator__username"]}
    return {
        "id": row["id"],
        "source": row["text__source_id"],
        "text": row["text_id"],
        "revision": row["text__revision"],
        **{key: row[key] for key in ("start", "end", "exact", "prefix", "suffix", "page")},
        "region": row["region"],
        "reply_to": row["reply_to_id"],
        "whole_text": row["whole_text"],
        "state": row["state"],
        "anchor_score": row["anchor_score"],
        "comment": row["comment_raw"],
        "comment_html": row["comment_html"],
        **{key: row[key] for key in ("motivation", "visibility", "version")},
        "tags": tags,
        "creator": creator or None,
        "created": stamp(row["created"]),
        "modified": stamp(row["modified"]),
        "etag": etag_for(_Version(row["id"], row["version"])),  # type: ignore[arg-type]
        "can_edit": can_edit,
    }


# The replies and notes a reading view holds at most (a thread is written by hand: far more
# than any text gathers); beyond, the page says so and the API pages the rest.
THREADS_MOST = 2_000


def threads(request: HttpRequest, text: SourceText) -> dict[str, Any]:
    """The notes on the whole of `text` and every reply on it (their threads), as the user
    sees them (`AnnotationQuerySet.visible_to`: a private thread only to its writer), in the
    order they were written; the reading view nests the replies under what they answer."""
    visible = Annotation.objects.visible_to(request.user).filter(text=text)
    notes = visible.filter(whole_text=True)
    replies = visible.filter(reply_to__isnull=False)
    counted = replies.count()
    if counted > THREADS_MOST:
        replies = replies.filter(pk__in=replies.order_by("-pk").values("pk")[:THREADS_MOST])
    return {
        "notes": represent(request, notes, order=("created", "pk")),
        "replies": represent(request, replies, order=("created", "pk")),
        "repliesLeftOut": max(0, counted - THREADS_MOST),
    }
