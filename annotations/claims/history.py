"""The history of claims and events, their evidence and event links, and reverting them
(`core.history` reads and describes). An annotation's history also shows the claims it is
evidence for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from annotations.claims import claims as claim_work
from annotations.claims import events as event_work
from annotations.claims.models import Claim, ClaimEvent, Event, Evidence
from annotations.models import Annotation
from core import history
from core.history import end_of, names_at, rows_as_of


def revert_claim(claim: Claim, record: Any, user: Any) -> Claim:
    changes: dict[str, Any] = {name: getattr(record, name) for name in claim_work.CLAIM_FIELDS}
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


def evidence_of_claim(claim: Claim, viewer: Any) -> QuerySet:
    return Evidence.history.filter(claim_id=claim.pk).order_by("-history_date")


def events_of_claim(claim: Claim, viewer: Any) -> QuerySet:
    return ClaimEvent.history.filter(claim_id=claim.pk).order_by("-history_date")


def claims_of_event(event: Event, viewer: Any) -> QuerySet:
    return ClaimEvent.history.filter(event_id=event.pk).order_by("-history_date")


def evidence_of_annotation(annotation: Annotation, viewer: Any) -> QuerySet:
    return Evidence.history.filter(annotation_id=annotation.pk).order_by("-history_date")


def register() -> None:
    history.track(Claim, versioned=True, revert=revert_claim)
    history.also_show(Claim, "Evidence", evidence_of_claim)
    history.also_show(Claim, "Link to an event", events_of_claim)
    history.track(Event, versioned=True, revert=revert_event)
    history.also_show(Event, "Claim linked", claims_of_event)
    history.also_show(Annotation, "Used as evidence", evidence_of_annotation)
