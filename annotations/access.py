"""One helper per object type: 404 for what the user cannot see, 403 for read-only.

The rules themselves are the QuerySet methods `visible_to` and `editable_by`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import router
from django.http import Http404

from annotations.models import Annotation, AnnotationQuerySet, Tag
from core.rows import Layout, fetch, quoter, selected
from sources.access import locked_for_write, role_in_library
from sources.models import Library, Membership, SourceText

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


def read_annotation_for_user(user: AnyUser, pk: int) -> Annotation:
    """`get_annotation_for_user` for reading only, in one statement written out instead of
    built by the ORM: for the API's most frequent request the ORM spent 1.7 ms building
    and compiling a query that PostgreSQL answers in 0.1 ms (bench/README.md, *Load test*).

    The row comes with what its representation needs (its text's header, library, creator,
    tags, the user's role there), as the instances `get_annotation_for_user` gives; who may
    see it is decided by `Annotation.visible_with_role`, the rule of
    `AnnotationQuerySet.visible_to` for one row (a test checks the two persona by persona)."""
    using = router.db_for_read(Annotation)
    layout = _read_layout(using)
    rows = fetch(using, _read_sql(using), [user.pk, pk])
    if not rows:
        raise Http404("No such annotation.")
    annotation, text, library, creator = (layout.instance(rows[0], part) for part in range(TAG))
    role = rows[0][-1]
    if not annotation.visible_with_role(user, role, library):
        raise Http404("No such annotation.")
    annotation.text, annotation.library, annotation.viewer_role = text, library, role
    if creator is not None:
        annotation.creator = creator
    annotation.hold_tags([tag for row in rows if (tag := layout.instance(row, TAG))])
    return annotation


TAG = 4  # the tag's place in `_read_layout`


@functools.cache
def _read_layout(using: str) -> Layout:
    """The annotation, its text's header, library, creator and one tag (the user's role in
    the library follows them in each row of `_read_sql`)."""
    return Layout(
        selected(Annotation, "a", using=using),
        selected(SourceText, "t", ("id", "source", "revision"), using=using),
        selected(Library, "l", ("id", "name", "slug", "is_public"), using=using),
        selected(get_user_model(), "u", ("id", "username"), using=using),
        selected(Tag, "tg", ("id", "library", "name", "name_key", "namespace"), using=using),
    )


@functools.cache
def _read_sql(using: str) -> str:
    """One row per tag (or one without), in `Tag`'s order; parameters: user id, annotation
    id. Membership has one row per library and user, so the role does not multiply rows."""
    q, user, tagging = quoter(using), get_user_model(), Annotation.tags.through
    return (
        f"SELECT {_read_layout(using).columns}, m.{q(Membership, 'role')} FROM {q(Annotation)} a "
        f"JOIN {q(SourceText)} t ON t.{q(SourceText, 'id')} = a.{q(Annotation, 'text')} "
        f"JOIN {q(Library)} l ON l.{q(Library, 'id')} = a.{q(Annotation, 'library')} "
        f"LEFT JOIN {q(user)} u ON u.{q(user, 'id')} = a.{q(Annotation, 'creator')} "
        f"LEFT JOIN {q(Membership)} m ON m.{q(Membership, 'library')} = "
        f"a.{q(Annotation, 'library')} AND m.{q(Membership, 'user')} = %s "
        f"LEFT JOIN {q(tagging)} at ON at.{q(tagging, 'annotation')} = a.{q(Annotation, 'id')} "
        f"LEFT JOIN {q(Tag)} tg ON tg.{q(Tag, 'id')} = at.{q(tagging, 'tag')} "
        f"WHERE a.{q(Annotation, 'id')} = %s ORDER BY tg.{q(Tag, 'name_key')}"
    )


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
