"""One helper per object type: 404 for what the user cannot see, 403 for read-only.

The rules themselves are the QuerySet methods `visible_to` and `editable_by`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404

from annotations.models import Annotation, AnnotationQuerySet, Tag
from sources.access import locked_for_write
from sources.models import SourceText

if TYPE_CHECKING:
    from sources.models import AnyUser

# Annotation lists must never join the full text of a revision (up to megabytes) per row.
TEXT_HEADER_FIELDS = ("id", "source", "revision")


def annotations_for(user: AnyUser) -> AnnotationQuerySet:
    """Visible annotations with what their representation needs, in two or three queries."""
    texts = SourceText.objects.only(*TEXT_HEADER_FIELDS)
    return (
        Annotation.objects.visible_to(user)
        .select_related("creator", "library")
        .prefetch_related(Prefetch("text", queryset=texts), "tags")
    )


def get_annotation_for_user(user: AnyUser, pk: int, *, write: bool = False) -> Annotation:
    annotation = locked_for_write(annotations_for(user).filter(pk=pk), write).first()
    if annotation is None:
        raise Http404("No such annotation.")
    if write and not Annotation.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied("You may read this annotation but not change it.")
    return annotation


def get_text_for_user(user: AnyUser, pk: int, *, write: bool = False) -> SourceText:
    text = SourceText.objects.visible_to(user).select_related("source__library").filter(pk=pk)
    found = text.first()
    if found is None:
        raise Http404("No such text.")
    if write and not found.source.library.can_edit(user):
        raise PermissionDenied("You may read this text but not annotate it.")
    return found


def get_tag_for_user(user: AnyUser, pk: int, *, write: bool = False) -> Tag:
    tag = Tag.objects.visible_to(user).select_related("library").filter(pk=pk).first()
    if tag is None:
        raise Http404("No such tag.")
    if write and not tag.library.can_edit(user):
        raise PermissionDenied("You may read this library's tags but not change them.")
    return tag
