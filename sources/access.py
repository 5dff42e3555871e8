"""One helper per object type: 404 for what the user cannot see, 403 for read-only.

Every view that touches a library's content goes through these; the rules themselves
are the QuerySet methods `visible_to` and `editable_by` on each model.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from sources.models import Library, Role, Source, SourceLink


def get_library_for_user(user, slug: str, *, write: bool = False, owner: bool = False) -> Library:
    library = Library.objects.visible_to(user).filter(slug=slug).first()
    if library is None:
        raise Http404("No such library.")
    role = library.role_of(user)
    if owner and role != Role.OWNER:
        raise PermissionDenied("Only the library's owners may do this.")
    if write and role not in (Role.OWNER, Role.EDITOR):
        raise PermissionDenied("You may read this library but not change it.")
    return library


def get_source_for_user(user, pk: int, *, write: bool = False) -> Source:
    source = Source.objects.visible_to(user).select_related("library").filter(pk=pk).first()
    if source is None:
        raise Http404("No such source.")
    if write and not source.library.can_edit(user):
        raise PermissionDenied("You may read this source but not change it.")
    return source


def get_link_for_user(user, pk: int, *, write: bool = False) -> SourceLink:
    link = SourceLink.objects.visible_to(user).select_related("library").filter(pk=pk).first()
    if link is None:
        raise Http404("No such link.")
    if write and not link.library.can_edit(user):
        raise PermissionDenied("You may read this link but not change it.")
    return link
