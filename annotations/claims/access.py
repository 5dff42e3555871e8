"""One helper per object type for claims, evidence and events: 404 for what the user
cannot see, 403 for what they may only read. The rules are the QuerySet methods
`visible_to` and `editable_by` on each model; pages and the API both come through here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotations.claims.models import Claim, ClaimEvent, Event, Evidence
from sources.access import locked_for_write


def get_claim_for_user(user: Any, pk: int, *, write: bool = False) -> Claim:
    claim = Claim.objects.visible_to(user).select_related("library", "creator").filter(pk=pk)
    found = locked_for_write(claim, write).first()
    if found is None:
        raise Http404("No such claim.")
    if write and not Claim.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied("You may read this claim but not change it.")
    return found


def get_evidence_for_user(user: Any, pk: int, *, write: bool = False) -> Evidence:
    rows = Evidence.objects.visible_to(user).select_related("claim", "library", "annotation")
    found = locked_for_write(rows.filter(pk=pk), write).first()
    if found is None:
        raise Http404("No such evidence.")
    if write and not Evidence.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied("You may read this evidence but not change it.")
    return found


def get_event_for_user(user: Any, pk: int, *, write: bool = False) -> Event:
    found = Event.objects.visible_to(user).select_related("library", "parent").filter(pk=pk)
    event = locked_for_write(found, write).first()
    if event is None:
        raise Http404("No such event.")
    if write and not event.library.can_edit(user):
        raise PermissionDenied("You may read this event but not change it.")
    return event


def get_claim_event_for_user(user: Any, pk: int) -> ClaimEvent:
    """A claim's link to an event, for changing: whoever may edit the claim."""
    link = ClaimEvent.objects.visible_to(user).select_related("claim", "event").filter(pk=pk)
    found = link.first()
    if found is None:
        raise Http404("No such link.")
    if not Claim.objects.editable_by(user).filter(pk=found.claim_id).exists():
        raise PermissionDenied("You may read this claim but not change it.")
    return found
