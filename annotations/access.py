"""One helper per object type: 404 for what the user cannot see, 403 for read-only.

The rules themselves are the QuerySet methods `visible_to` and `editable_by`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotations.models import Annotation, AnnotationQuerySet, Tag
from sources.access import locked_for_write, role_in_library
from sources.models import SourceText

if TYPE_CHECKING:
    from sources.models import AnyUser

# Annotation lists must never read the full text of a revision (up to megabytes) per row.
TEXT_BODY_FIELDS = ("text__text", "text__html_raw", "text__html", "text__page_map")


def annotations_for(user: AnyUser) -> AnnotationQuerySet:
    """Visible annotations with what their representation needs: one query for the rows
    (with their text's header, creator, library and the user's role there, which decides
    `can_edit`) and one for their tags."""
    return (
        Annotation.objects.visible_to(user)
        .select_related("creator", "library", "text")
        .defer(*TEXT_BODY_FIELDS)
        .annotate(viewer_role=role_in_library(user))
        .prefetch_related("tags")
    )


def get_annotation_for_user(user: AnyUser, pk: int, *, write: bool = False) -> Annotation:
    """One annotation in two queries: the row (see `annotations_for`) and its tags, read
    directly (for one object `prefetch_related` costs twice the query it runs)."""
    found = annotations_for(user).prefetch_related(None).filter(pk=pk).order_by()
    annotation = next(iter(locked_for_write(found, write)), None)
    if annotation is None:
        raise Http404("No such annotation.")
    annotation.load_tags()
    if write and not annotation.editable_with_role(user, annotation.viewer_role):
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
