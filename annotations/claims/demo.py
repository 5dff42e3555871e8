"""The demo library's claims and events, built from its two texts (sources/demo/claims.json).

`load_demo` calls `load_demo_claims` after the sources and texts exist. Quotes are found
in the canonical text with `str.find`, so offsets always match what was imported; a
quote that is not there stops the load with its source and first words. Harmless to
repeat: events are matched by name, claims by statement, highlights by their offsets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import transaction

from annotations.claims import claims as claim_work
from annotations.claims import events as event_work
from annotations.claims.models import Claim, Event
from annotations.models import Annotation, Visibility
from annotations.writes import create_annotation
from core.history import acting_as
from sources.demo import DEMO_DIR
from sources.models import Library

CLAIMS_FILE = DEMO_DIR / "claims.json"


class DemoError(Exception):
    """The demo file does not fit the demo texts."""


def load_demo_claims(library: Library, user: Any, *, path: Path = CLAIMS_FILE) -> dict[str, int]:
    """Create the demo events, claims, highlights and evidence that are missing; return
    how many of each the library then holds."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    with transaction.atomic(), acting_as(user):
        events: dict[str, Event] = {}
        for item in spec["events"]:
            events[item["key"]] = ensure_event(library, item, events, user)
        for item in spec["claims"]:
            ensure_claim(library, item, events, user)
    return {
        "events": library.events.count(),
        "claims": library.claims.count(),
        "evidence": library.evidence.count(),
    }


def ensure_event(library: Library, item: dict, known: dict[str, Event], user: Any) -> Event:
    found = library.events.filter(name=item["name"]).first()
    if found is not None:
        return found
    parent = known[item["parent"]] if item.get("parent") else None
    return event_work.create_event(
        library=library,
        creator=user,
        name=item["name"],
        date=item.get("date", ""),
        place=item.get("place", ""),
        description=item.get("description", ""),
        parent=parent,
        participants=item.get("participants", []),
    )


def ensure_claim(library: Library, item: dict, events: dict[str, Event], user: Any) -> Claim:
    claim = library.claims.filter(statement=item["statement"]).first()
    if claim is None:
        links = [
            claim_work.EventLink(events[link["event"]], link["relation"], link.get("note", ""))
            for link in item.get("events", [])
        ]
        claim = claim_work.create_claim(
            library=library,
            creator=user,
            statement=item["statement"],
            status=item.get("status", "asserted"),
            note=item.get("note", ""),
            tags=item.get("tags", []),
            events=links,
        )
    for evidence in item.get("evidence", []):
        annotation = ensure_quote(library, evidence, user)
        if not claim.evidence.filter(annotation=annotation).exists():
            claim_work.add_evidence(
                claim,
                annotation,
                creator=user,
                stance=evidence["stance"],
                note=evidence.get("note", ""),
            )
    return claim


def ensure_quote(library: Library, item: dict, user: Any) -> Annotation:
    """The library-visible highlight on the quote in the source's current text."""
    source = library.sources.filter(citation_key=item["source"]).first()
    text = source.current_text if source else None
    if text is None:
        raise DemoError(f"No text for the demo source {item['source']!r}.")
    start = text.text.find(item["quote"])
    if start < 0:
        raise DemoError(f"Quote not in {item['source']}: {item['quote'][:60]!r}")
    end = start + len(item["quote"])
    found = Annotation.objects.filter(
        text=text, start=start, end=end, visibility=Visibility.LIBRARY
    ).first()
    if found is not None:
        return found
    return create_annotation(
        text=text, start=start, end=end, creator=user, tags=item.get("tags", [])
    )
