"""One helper per object type: 404 for what the user cannot see, 403 for read-only.

Every view that touches a library's content goes through these; the rules themselves
are the QuerySet methods `visible_to` and `editable_by` on each model.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.http import Http404

from core.rows import Layout, fetch, quoter, selected
from sources.models import ImportRun, Library, Membership, Role, Source, SourceLink, SourceText

if TYPE_CHECKING:
    from sources.models import AnyUser


def get_library_for_user(
    user: AnyUser, slug: str, *, write: bool = False, owner: bool = False
) -> Library:
    library = Library.objects.visible_to(user).filter(slug=slug).first()
    if library is None:
        raise Http404("No such library.")
    role = library.role_of(user)
    if owner and role != Role.OWNER:
        raise PermissionDenied("Only the library's owners may do this.")
    if write and role not in (Role.OWNER, Role.EDITOR):
        raise PermissionDenied("You may read this library but not change it.")
    return library


def require_role(
    library: Library, user: AnyUser, roles: tuple[str, ...] | None, *, doing: str
) -> None:
    """Http404 when the user cannot see the library; PermissionDenied saying they may not
    be `doing` it unless their role is one of `roles` (None: any reader may)."""
    if not Library.objects.visible_to(user).filter(pk=library.pk).exists():
        raise Http404("No such library.")
    if roles is not None and library.role_of(user) not in roles:
        raise PermissionDenied(f"You may not start {doing} here.")


def is_owner(library: Library, user: AnyUser) -> bool:
    return library.role_of(user) == Role.OWNER


def role_in_library(user: AnyUser, library: str = "library_id") -> Subquery | Value:
    """The user's role in each row's library (NULL for a non-member), to `annotate()` a
    query with: the row and the right to change it come back in one query, and every
    object of a request is judged by one membership instead of one query each."""
    if not user.is_authenticated:
        return Value(None, output_field=CharField())
    memberships = Membership.objects.filter(library_id=OuterRef(library), user_id=user.pk)
    return Subquery(memberships.values("role")[:1], output_field=CharField())


def read_text_for_user(user: AnyUser, pk: int) -> SourceText | None:
    """A text the user can see, with its source, library and the user's role there
    (`viewer_role`), in one prepared statement (`core.rows`): what creating an annotation
    looks up first, which the ORM took 1.2 ms to build. The text's HTML and page map are
    deferred. Who sees it is `Library.visible_to`'s
    rule, `Library.visible_with_role`; a test compares the two persona by persona."""
    using = router.db_for_read(SourceText)
    rows = fetch(using, _text_sql(using), [user.pk, pk])
    if not rows:
        return None
    text, source, library = _text_layout(using).instances(rows[0])
    role = rows[0][-1]
    if not library.visible_with_role(user, role):
        return None
    text.source, source.library, text.viewer_role = source, library, role
    return text


# What annotating a text needs of it; its HTML (as imported and cleaned, each often larger
# than the text) and page map stay in the database unless asked for (deferred fields).
_TEXT_FIELDS = ("id", "source", "revision", "text", "sha256")


@functools.cache
def _text_layout(using: str) -> Layout:
    return Layout(
        selected(SourceText, "t", _TEXT_FIELDS, using=using),
        selected(Source, "s", using=using),
        selected(Library, "l", using=using),
    )


@functools.cache
def _text_sql(using: str) -> str:
    q = quoter(using)
    return (
        f"SELECT {_text_layout(using).columns}, m.{q(Membership, 'role')} FROM {q(SourceText)} t "
        f"JOIN {q(Source)} s ON s.{q(Source, 'id')} = t.{q(SourceText, 'source')} "
        f"JOIN {q(Library)} l ON l.{q(Library, 'id')} = s.{q(Source, 'library')} "
        f"LEFT JOIN {q(Membership)} m ON m.{q(Membership, 'library')} = l.{q(Library, 'id')} "
        f"AND m.{q(Membership, 'user')} = %s WHERE t.{q(SourceText, 'id')} = %s"
    )


def locked_for_write(queryset: QuerySet, write: bool) -> QuerySet:
    """A row about to be changed is locked (SELECT … FOR UPDATE) until the transaction
    ends, so that two writers can never both pass the version check (If-Match) on the same
    version: the second waits, then sees the first one's version and gets its 412.
    Outside a transaction (a script) there is nothing to hold the lock, so none is taken."""
    using = router.db_for_write(queryset.model)
    if write and transaction.get_connection(using).in_atomic_block:
        return queryset.select_for_update(of=("self",))
    return queryset


def get_source_for_user(user: AnyUser, pk: int, *, write: bool = False) -> Source:
    sources = Source.objects.visible_to(user).select_related("library").filter(pk=pk)
    source = locked_for_write(sources, write).first()
    if source is None:
        raise Http404("No such source.")
    if write and not source.library.can_edit(user):
        raise PermissionDenied("You may read this source but not change it.")
    return source


def get_link_for_user(user: AnyUser, pk: int, *, write: bool = False) -> SourceLink:
    link = SourceLink.objects.visible_to(user).select_related("library").filter(pk=pk).first()
    if link is None:
        raise Http404("No such link.")
    if write and not link.library.can_edit(user):
        raise PermissionDenied("You may read this link but not change it.")
    return link


def get_import_for_user(user: AnyUser, pk: int) -> ImportRun:
    """A metadata import run, for anyone who can see its library (runs are never edited)."""
    runs = ImportRun.objects.visible_to(user).select_related("library", "user")
    run = runs.filter(pk=pk).first()
    if run is None:
        raise Http404("No such import.")
    return run
