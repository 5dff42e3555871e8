"""The history of claims and events, their evidence and event links, and reverting them
(`core.history` reads and describes). An annotation's history also shows the claims it is
evidence for.

A record of evidence or of an event link belongs to a claim, and is shown only to whom the
claim is visible (`Claim.objects.visible_to`): a private claim's link to a public event,
or its evidence on a library-visible highlight, stays its creator's. A claim deleted since
is judged by its last history record (private: its creator only). A revert changes a
claim's visibility only for its creator, as an edit does."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery

from annotations.claims import claims as claim_work
from annotations.claims import events as event_work
from annotations.claims.models import Claim, ClaimEvent, Event, Evidence
from annotations.models import Annotation, Visibility
from core import history
from core.history import end_of, names_at, rows_as_of


def revert_claim(claim: Claim, record: Any, user: Any) -> Claim:
    """Statement, status, rank, tags and event links come back; visibility only for its
    creator (as in any edit, `annotations.claims.access`)."""
    changes: dict[str, Any] = {name: getattr(record, name) for name in claim_work.CLAIM_FIELDS}
    if user.pk != claim.creator_id:
        if record.visibility != claim.visibility:
            raise PermissionDenied("Only its creator can change who sees a claim.")
        del changes["visibility"]
    changes["tags"] = names_at(record, "tags")
    links = rows_as_of(ClaimEvent.history.filter(claim_id=claim.pk), end_of(claim, record))
    events = Event.objects.in_bulk([link.event_id for link in links])
    changes["events"] = [
        claim_work.EventLink(events[link.event_id], link.relation, link.note)
        for link in links
        if link.event_id in events
    ]
    return claim_work.update_claim(claim, changes)


def revert_event(event: Event, record: Any, user: Any) -> Event:
    changes: dict[str, Any] = {
        name: getattr(record, name)
        for name in ("name", "date", "place", "description", "wikidata_id")
    }
    changes["parent"] = Event.objects.filter(pk=record.parent_id).first()
    changes["participants"] = names_at(record, "participants")
    return event_work.update_event(event, changes)


def of_visible_claims(records: QuerySet, viewer: Any) -> QuerySet:
    """The history records (of evidence or event links) whose claim `viewer` may see: an
    existing claim by `Claim.objects.visible_to`, a deleted one by its last record."""
    last = Claim.history.filter(id=OuterRef("claim_id")).order_by("-history_date", "-history_id")
    shared = Q(claim_visibility=Visibility.LIBRARY)
    if viewer.is_authenticated:
        shared |= Q(claim_creator=viewer.pk)
    deleted = ~Q(claim_id__in=Claim.objects.values("pk"))
    return records.annotate(
        claim_visibility=Subquery(last.values("visibility")[:1]),
        claim_creator=Subquery(last.values("creator_id")[:1]),
    ).filter(Q(claim_id__in=Claim.objects.visible_to(viewer).values("pk")) | (deleted & shared))


def evidence_of_claim(claim: Claim, viewer: Any) -> QuerySet:
    records = Evidence.history.filter(claim_id=claim.pk)
    return of_visible_claims(records, viewer).order_by("-history_date")


def events_of_claim(claim: Claim, viewer: Any) -> QuerySet:
    records = ClaimEvent.history.filter(claim_id=claim.pk)
    return of_visible_claims(records, viewer).order_by("-history_date")


def claims_of_event(event: Event, viewer: Any) -> QuerySet:
    records = ClaimEvent.history.filter(event_id=event.pk)
    return of_visible_claims(records, viewer).order_by("-history_date")


def evidence_of_annotation(annotation: Annotation, viewer: Any) -> QuerySet:
    records = Evidence.history.filter(annotation_id=annotation.pk)
    return of_visible_claims(records, viewer).order_by("-history_date")


def register() -> None:
    history.track(Claim, versioned=True, revert=revert_claim)
    history.also_show(Claim, "Evidence", evidence_of_claim)
    history.also_show(Claim, "Link to an event", events_of_claim)
    history.track(Event, versioned=True, revert=revert_event)
    history.also_show(Event, "Claim linked", claims_of_event)
    history.also_show(Annotation, "Used as evidence", evidence_of_annotation)
