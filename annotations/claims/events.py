"""Events: create and change them (EDTF dates, Wikidata ids, nesting without cycles,
participants as tags), and gather what the event page shows.

The event page answers a historian's question: what do my sources say about this
event, and where do they disagree? Claims are grouped by what their evidence does
(supported, disputed, contradicted, only mentioned); each quote carries its source,
primary and secondary told apart; dates given by claims stand beside the event's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q

from annotations.claims.models import (
    WIKIDATA_ID,
    Claim,
    ClaimEvent,
    Event,
    EventRelation,
    Evidence,
    Stance,
)
from annotations.models import TAGS_PER_ANNOTATION, Tag, split_tag_name
from sources.models import Library, Source, SourceKind, SourceText

EVENT_FIELDS = ("name", "date", "place", "description", "wikidata_id", "parent")
PARTICIPANT_NAMESPACE = "person"
_WIKIDATA_URL = re.compile(r"^(?:https?://)?(?:www\.|m\.)?wikidata\.org/(?:wiki|entity)/(Q\d+)/?$")
DATE_RELATIONS = (EventRelation.DATES, EventRelation.CONTRADICTS_DATE)


# --- writing ----------------------------------------------------------------------------


def normalise_wikidata(value: str) -> str:
    """ "Q123", "q123" or a wikidata.org URL → "Q123"; anything else is a ValidationError."""
    value = value.strip()
    if not value:
        return ""
    if match := _WIKIDATA_URL.match(value):
        value = match[1]
    value = value.upper()
    if not WIKIDATA_ID.match(value):
        raise ValidationError(
            {"wikidata_id": f"{value[:40]!r} is not a Wikidata item id (Q followed by digits)."}
        )
    return value


def participant_names(names: Iterable[str]) -> list[str]:
    """Tag names for participants: a bare name is a person ("Mao Zedong" → "person:Mao
    Zedong"); a namespaced one ("org:Politburo") is kept."""
    result = []
    for name in names:
        namespace, display = split_tag_name(name)
        if not namespace:
            namespace, display = split_tag_name(f"{PARTICIPANT_NAMESPACE}:{display}")
        result.append(display)
    return result


def set_participants(event: Event, names: Iterable[str]) -> None:
    names = list(names)
    if len(names) > TAGS_PER_ANNOTATION:
        raise ValidationError({"participants": f"At most {TAGS_PER_ANNOTATION} participants."})
    try:
        tags = Tag.objects.for_names(event.library, participant_names(names))
    except ValidationError as error:  # the tag helpers name `tags`
        raise ValidationError({"participants": error.messages}) from error
    event.participants.set(tags)


@transaction.atomic
def create_event(
    *, library: Library, creator: Any, name: str, participants: Iterable[str] = (), **fields: Any
) -> Event:
    """A new event; `fields` are any of EVENT_FIELDS but name."""
    fields["wikidata_id"] = normalise_wikidata(fields.get("wikidata_id", ""))
    event = Event(library=library, creator=creator, name=name.strip(), **fields)
    event.full_clean(exclude=["participants"])
    event.save()
    set_participants(event, participants)
    return event


@transaction.atomic
def update_event(event: Event, changes: dict[str, Any]) -> Event:
    """Apply a validated edit: any of EVENT_FIELDS and `participants` (names)."""
    if "wikidata_id" in changes:
        changes = {**changes, "wikidata_id": normalise_wikidata(changes["wikidata_id"])}
    for name in EVENT_FIELDS:
        if name in changes:
            setattr(event, name, changes[name].strip() if name == "name" else changes[name])
    event.full_clean(exclude=["participants"])
    event.save()
    if "participants" in changes:
        set_participants(event, changes["participants"])
    return event


def descendant_ids(event: Event) -> set[int]:
    """Every event inside `event`, at any depth (one query per level)."""
    found: set[int] = set()
    level = {event.pk}
    while level:
        level = set(Event.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        level -= found | {event.pk}
        found |= level
    return found


# --- the event page ---------------------------------------------------------------------


@dataclass
class Quote:
    """One quote brought as evidence, with the source it comes from."""

    evidence: Evidence

    @property
    def annotation(self):
        return self.evidence.annotation

    @property
    def source(self) -> Source:
        return self.evidence.annotation.text.source

    @property
    def is_primary(self) -> bool:
        return self.source.kind == SourceKind.PRIMARY


@dataclass
class ClaimView:
    """A claim on the event page: its links to the event and its quotes by stance."""

    claim: Claim
    links: list[ClaimEvent] = field(default_factory=list)
    within: list[ClaimEvent] = field(default_factory=list)  # its links to events inside
    supports: list[Quote] = field(default_factory=list)
    contradicts: list[Quote] = field(default_factory=list)
    mentions: list[Quote] = field(default_factory=list)

    @property
    def disagreement(self) -> bool:
        return bool(self.supports and self.contradicts)

    @property
    def group(self) -> str:
        if self.disagreement:
            return "disputed"
        if self.supports:
            return "supported"
        if self.contradicts:
            return "contradicted"
        return "mentioned" if self.mentions else "unsupported"

    @property
    def relations(self) -> set[str]:
        return {link.relation for link in self.links}


GROUPS = [
    ("disputed", "Sources disagree", "Quotes for and against, side by side."),
    ("supported", "Supported by the sources", ""),
    ("contradicted", "Contradicted by the sources", ""),
    ("mentioned", "Only mentioned", "Quotes that bear on the claim without deciding it."),
    ("unsupported", "Without evidence yet", "Claims no quote supports or contradicts yet."),
]


@dataclass
class EventPage:
    event: Event
    ancestors: list[Event]
    children: list[Event]
    participants: list[Tag]
    claims: list[ClaimView]
    with_sub_events: bool = False  # the claims about the events inside it are shown too

    @property
    def when(self) -> str:
        return describe_date(self.event)

    @property
    def groups(self) -> list[tuple[str, str, str, list[ClaimView]]]:
        result = []
        for key, title, hint in GROUPS:
            members = [view for view in self.claims if view.group == key]
            if members:
                result.append((key, title, hint, members))
        return result

    @property
    def dating(self) -> tuple[list[ClaimView], list[ClaimView]]:
        """Claims that date the event, beside those that contradict its date."""
        agree = [v for v in self.claims if EventRelation.DATES in v.relations]
        disagree = [v for v in self.claims if EventRelation.CONTRADICTS_DATE in v.relations]
        return agree, disagree

    @property
    def sources(self) -> tuple[list[Source], list[Source]]:
        """The distinct sources quoted on the page: primary ones, then secondary ones."""
        seen: dict[int, Source] = {}
        for view in self.claims:
            for quote in view.supports + view.contradicts + view.mentions:
                seen.setdefault(quote.source.pk, quote.source)
        ordered = sorted(
            seen.values(), key=lambda s: (s.issued_earliest is None, s.issued_earliest, s.title)
        )
        return (
            [s for s in ordered if s.kind == SourceKind.PRIMARY],
            [s for s in ordered if s.kind != SourceKind.PRIMARY],
        )


def event_page(event: Event, user: Any, *, with_sub_events: bool = False) -> EventPage:
    """Everything the event page shows, as `user` may see it, in a handful of queries;
    `with_sub_events`, the claims about the events inside it (at any depth) as well."""
    events = {event.pk} | (descendant_ids(event) if with_sub_events else set())
    texts = SourceText.objects.only("id", "source", "revision", "sha256").select_related("source")
    evidence = (
        Evidence.objects.visible_to(user)
        .select_related("annotation", "creator")
        .prefetch_related(Prefetch("annotation__text", queryset=texts))
        .order_by("pk")
    )
    links = ClaimEvent.objects.filter(event_id__in=events).select_related("event")
    claims = (
        Claim.objects.visible_to(user)
        .filter(event_links__event_id__in=events)
        .distinct()
        .select_related("creator")
        .prefetch_related(
            "tags",
            Prefetch("evidence", queryset=evidence, to_attr="shown_evidence"),
            Prefetch("event_links", queryset=links, to_attr="links_here"),
        )
        .order_by("rank", "-modified", "pk")
    )
    return EventPage(
        event=event,
        ancestors=ancestors(event),
        children=list(event.children.order_by("earliest", "name")),
        participants=list(event.participants.all()),
        claims=[claim_view(claim, event) for claim in sorted(claims, key=rank_order)],
        with_sub_events=with_sub_events,
    )


def rank_order(claim: Claim) -> tuple[int, float]:
    order = {"preferred": 0, "normal": 1, "deprecated": 2}
    return order.get(claim.rank, 1), -claim.modified.timestamp()


def claim_view(claim: Claim, event: Event) -> ClaimView:
    view = ClaimView(claim=claim)
    for link in sorted(
        claim.links_here,
        key=lambda link: (link.event.earliest is None, link.event.earliest, link.pk),
    ):
        (view.links if link.event_id == event.pk else view.within).append(link)
    for item in claim.shown_evidence:
        quotes = {Stance.SUPPORTS: view.supports, Stance.CONTRADICTS: view.contradicts}
        quotes.get(item.stance, view.mentions).append(Quote(item))
    for quotes in (view.supports, view.contradicts, view.mentions):
        quotes.sort(key=lambda q: (not q.is_primary, q.source.title, q.annotation.start))
    return view


def ancestors(event: Event) -> list[Event]:
    """The events `event` sits in, outermost first."""
    ids = event.ancestor_ids()
    found = Event.objects.in_bulk(ids)
    return [found[pk] for pk in reversed(ids) if pk in found]


# --- the timeline's outline -----------------------------------------------------------------


@dataclass
class OutlineRow:
    event: Event
    depth: int
    claims: int


def outline(library: Library, viewer: Any) -> list[OutlineRow]:
    """The library's events as an indented list (sub-events under their parent, by date),
    with how many claims each has that `viewer` may see: the timeline's text equivalent."""
    shown = Q(claim_links__claim__in=Claim.objects.visible_to(viewer).values("pk"))
    count = Count("claim_links__claim", filter=shown, distinct=True)
    events = list(library.events.annotate(claim_count=count))
    children: dict[int | None, list[Event]] = {}
    known = {event.pk for event in events}
    for event in events:
        parent = event.parent_id if event.parent_id in known else None
        children.setdefault(parent, []).append(event)
    rows: list[OutlineRow] = []

    def visit(parent: int | None, depth: int) -> None:
        for event in children.get(parent, []):
            rows.append(OutlineRow(event, depth, event.claim_count))
            visit(event.pk, depth + 1)

    visit(None, 0)
    return rows


def describe_date(event: Event) -> str:
    """The EDTF date in words: "16 December 1949 – 17 February 1950"."""
    if event.earliest is None and event.latest is None:
        return ""

    def day(value) -> str:
        return f"{value.day} {value:%B %Y}" if value else "open"

    words = (
        day(event.earliest)
        if event.earliest == event.latest
        else (f"{day(event.earliest)} – {day(event.latest)}")
    )
    qualifiers = [
        label
        for mark, label in (
            ("?", "uncertain"),
            ("~", "approximate"),
            ("%", "uncertain and approximate"),
        )
        if mark in event.date
    ]
    return f"{words} ({qualifiers[-1]})" if qualifiers else words
