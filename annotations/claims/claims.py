"""Claims and their evidence: create, change, attach highlights, search as you type.

Every function validates before it writes and runs in one transaction, so a bad field
(raised as a Django ValidationError naming it) leaves nothing half-written. Access is
the caller's business (`annotations.claims.access`); these functions keep the data's invariants:
evidence and events come from the claim's own library, a deprecated claim says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet

from annotations.claims.models import (
    Claim,
    ClaimEvent,
    ClaimQuerySet,
    ClaimStatus,
    Event,
    EventRelation,
    Evidence,
    Stance,
)
from annotations.claims.provenance import QuoteStep, chain
from annotations.models import TAGS_PER_ANNOTATION, Annotation, Tag, Visibility, tag_key
from annotations.writes import create_annotation, hold
from core import batching
from sources.models import Library, SourceKind, SourceText
from sources.serializers import library_lookup

CLAIM_FIELDS = ("statement", "note", "status", "rank", "rank_reason", "visibility")
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class EventLink:
    """A wanted claim → event link, as a form or serializer validated it."""

    event: Event
    relation: str = EventRelation.ABOUT
    note: str = ""


@dataclass(frozen=True)
class Selection:
    """A passage chosen in the reading view: offsets in code points of one revision."""

    text: SourceText
    start: int
    end: int
    exact: str | None = None
    comment: str = ""
    tags: Sequence[str] = field(default_factory=tuple)


# --- claims -----------------------------------------------------------------------------


@transaction.atomic
def create_claim(
    *,
    library: Library,
    creator: Any,
    statement: str,
    tags: Iterable[str] = (),
    events: Iterable[EventLink] = (),
    **fields: Any,
) -> Claim:
    """A new claim with its tags and event links; `fields` are any of CLAIM_FIELDS."""
    claim = Claim(library=library, creator=creator, statement=statement, **fields)
    claim.full_clean(exclude=["tags"])
    with batching.batch():  # saved, tagged, linked: indexed once
        claim.save()
        set_claim_tags(claim, tags)
        set_claim_events(claim, events)
    return claim


@transaction.atomic
def update_claim(claim: Claim, changes: dict[str, Any]) -> Claim:
    """Apply a validated edit: any of CLAIM_FIELDS, `tags` (names), `events` (EventLinks)."""
    for name in CLAIM_FIELDS:
        if name in changes:
            setattr(claim, name, changes[name])
    claim.full_clean(exclude=["tags"])
    with batching.batch():
        claim.save()
        if "tags" in changes:
            set_claim_tags(claim, changes["tags"])
        if "events" in changes:
            set_claim_events(claim, changes["events"])
    return claim


def set_claim_tags(claim: Claim, names: Iterable[str]) -> None:
    names = list(names)
    if len(names) > TAGS_PER_ANNOTATION:
        raise ValidationError({"tags": f"At most {TAGS_PER_ANNOTATION} tags."})
    claim.tags.set(Tag.objects.for_names(claim.library, names))


def set_claim_events(claim: Claim, links: Iterable[EventLink]) -> None:
    """Make the claim's event links exactly `links`; unchanged rows are kept (and their
    history with them), changed notes are saved, the rest deleted or created."""
    wanted = {(link.event.pk, link.relation): link for link in links}
    for link in wanted.values():
        if link.event.library_id != claim.library_id:
            raise ValidationError({"events": f"Event {link.event.pk} belongs to another library."})
    for row in list(claim.event_links.all()):
        link = wanted.pop((row.event_id, row.relation), None)
        if link is None:
            row.delete()
        elif link.note != row.note:
            row.note = link.note
            row.save()
    for link in wanted.values():
        link_event(claim, link.event, relation=link.relation, note=link.note)


def link_event(claim: Claim, event: Event, *, relation: str, note: str = "") -> ClaimEvent:
    row = ClaimEvent(
        library_id=claim.library_id, claim=claim, event=event, relation=relation, note=note
    )
    row.full_clean(validate_unique=False, validate_constraints=False)
    if claim.event_links.filter(event=event, relation=relation).exists():
        raise ValidationError({"event": "The claim is already linked to this event that way."})
    row.save()
    return row


# --- evidence ---------------------------------------------------------------------------


def add_evidence(
    claim: Claim,
    annotation: Annotation,
    *,
    creator: Any,
    stance: str = Stance.SUPPORTS,
    note: str = "",
) -> Evidence:
    """Bring a highlight to bear on a claim. Raises ValidationError on `annotation` when it
    is from another library, private, or already evidence for the claim; DeletedMeanwhile
    when its source, the highlight or the claim was deleted while it was being written."""
    evidence = Evidence(
        library_id=claim.library_id,
        claim=claim,
        annotation=annotation,
        creator=creator,
        stance=stance,
        note=note.strip(),
    )
    # Deleted meanwhile (the source, the highlight, the claim): a 409, not a broken key.
    rows = [(Annotation, annotation.pk, "highlight"), (Claim, claim.pk, "claim")]
    hold(annotation.text_id, rows, doing="the evidence was being saved")
    evidence.full_clean(validate_unique=False, validate_constraints=False)
    duplicate = ValidationError({"annotation": "This highlight is already evidence for the claim."})
    if claim.evidence.filter(annotation=annotation).exists():
        raise duplicate
    try:
        with transaction.atomic():  # a savepoint: the same quote attached a moment ago
            evidence.save()
    except IntegrityError:
        raise duplicate from None
    return evidence


@transaction.atomic
def update_evidence(evidence: Evidence, changes: dict[str, Any]) -> Evidence:
    for name in ("stance", "note"):
        if name in changes:
            setattr(evidence, name, changes[name].strip() if name == "note" else changes[name])
    evidence.full_clean(validate_unique=False, validate_constraints=False)
    evidence.save()
    return evidence


def highlight(selection: Selection, *, creator: Any) -> Annotation:
    """A library-visible annotation on the selection (evidence is never private)."""
    return create_annotation(
        text=selection.text,
        start=selection.start,
        end=selection.end,
        exact=selection.exact,
        creator=creator,
        comment=selection.comment,
        tags=selection.tags,
        visibility=Visibility.LIBRARY,
    )


@transaction.atomic
def make_claim_from_highlight(
    source: Annotation | Selection,
    *,
    creator: Any,
    statement: str,
    stance: str = Stance.SUPPORTS,
    evidence_note: str = "",
    **claim_fields: Any,
) -> Claim:
    """The reading view's "make claim" in one step: the highlight (created from a fresh
    selection when need be), the claim, and the evidence linking them; all or nothing."""
    annotation = source if isinstance(source, Annotation) else highlight(source, creator=creator)
    claim = create_claim(
        library=annotation.library, creator=creator, statement=statement, **claim_fields
    )
    add_evidence(claim, annotation, creator=creator, stance=stance, note=evidence_note)
    return claim


@transaction.atomic
def attach_highlight(
    claim: Claim,
    source: Annotation | Selection,
    *,
    creator: Any,
    stance: str = Stance.SUPPORTS,
    note: str = "",
) -> Evidence:
    """Attach an existing highlight, or a fresh selection, to an existing claim."""
    if isinstance(source, Selection):
        # The text's source is read next: held first, so that it cannot be deleted meanwhile.
        hold(source.text.pk, [(Claim, claim.pk, "claim")], doing="the evidence was being saved")
        if source.text.source.library_id != claim.library_id:
            raise ValidationError({"text": "The text belongs to another library than the claim."})
    annotation = source if isinstance(source, Annotation) else highlight(source, creator=creator)
    return add_evidence(claim, annotation, creator=creator, stance=stance, note=note)


# --- reading ----------------------------------------------------------------------------


def search_claims(claims: ClaimQuerySet, query: str, *, limit: int = SEARCH_LIMIT) -> QuerySet:
    """Claims whose statement or tags contain every word typed, in any order, most
    recently changed first: the search-as-you-type of "attach to claim"."""
    for word in query.split()[:10]:
        claims = claims.filter(
            Q(statement__icontains=word) | Q(tags__name_key__contains=word.casefold())
        )
    return claims.distinct().order_by("-modified", "-pk")[:limit]


def filter_claims(claims: ClaimQuerySet, query: dict[str, Any]) -> QuerySet:
    """The claim lists' filters, already validated (API query serializer or page form)."""
    if library := query.get("library"):
        claims = claims.filter(library_lookup(library))
    for name in ("status", "rank"):
        if query.get(name):
            claims = claims.filter(**{name: query[name]})
    if event := query.get("event"):
        claims = claims.filter(event_links__event_id=getattr(event, "pk", event))
    if source := query.get("source"):
        claims = claims.filter(evidence__annotation__text__source_id=getattr(source, "pk", source))
    for tag in query.get("tag") or []:
        claims = claims.filter(tags__name_key=tag_key(tag))
    for word in (query.get("q") or "").split()[:10]:
        claims = claims.filter(statement__icontains=word)
    return claims.distinct()


def with_counts(claims: QuerySet) -> QuerySet:
    """Each claim with how many quotes support, contradict and mention it."""

    def by(stance: str) -> Count:
        return Count("evidence", filter=Q(evidence__stance=stance), distinct=True)

    return claims.annotate(
        supports=by(Stance.SUPPORTS),
        contradicts=by(Stance.CONTRADICTS),
        mentions=by(Stance.MENTIONS),
    )


@dataclass
class Weight:
    """What the evidence says, by source: the hint beside a claim's status."""

    supporting: set[int] = field(default_factory=set)
    contradicting: set[int] = field(default_factory=set)
    primary_supporting: set[int] = field(default_factory=set)

    @property
    def suggestion(self) -> str | None:
        if self.supporting and self.contradicting:
            return ClaimStatus.DISPUTED
        if len(self.supporting) >= 2:
            return ClaimStatus.CORROBORATED
        if self.contradicting and not self.supporting:
            return ClaimStatus.REFUTED
        return None


def weigh(evidence: Iterable[Evidence]) -> Weight:
    weight = Weight()
    for item in evidence:
        source = item.annotation.text.source
        if item.stance == Stance.SUPPORTS:
            weight.supporting.add(source.pk)
            if source.kind == SourceKind.PRIMARY:
                weight.primary_supporting.add(source.pk)
        elif item.stance == Stance.CONTRADICTS:
            weight.contradicting.add(source.pk)
    return weight


@dataclass
class ClaimPage:
    """What the claim page shows: the claim, its provenance chain, its events."""

    claim: Claim
    steps: list[QuoteStep]
    links: list[ClaimEvent]
    can_edit: bool
    can_add: bool
    editable_evidence: set[int]

    @property
    def weight(self) -> Weight:
        return weigh(step.evidence for step in self.steps)

    @property
    def by_stance(self) -> list[tuple[str, str, list[QuoteStep]]]:
        groups = []
        for stance, label in Stance.choices:
            steps = [s for s in self.steps if s.evidence.stance == stance]
            if steps:
                groups.append((stance, label, steps))
        return groups

    @property
    def stances(self) -> list[tuple[str, str]]:
        return list(Stance.choices)

    @property
    def broken(self) -> list[QuoteStep]:
        """Quotes whose revision no longer hashes to its recorded SHA-256."""
        return [step for step in self.steps if not step.verifies]


def claim_page(claim: Claim, user: Any) -> ClaimPage:
    steps = chain(claim, user)
    editable = Evidence.objects.editable_by(user).filter(claim=claim)
    return ClaimPage(
        claim=claim,
        steps=steps,
        links=list(claim.event_links.select_related("event").order_by("event__earliest", "pk")),
        can_edit=Claim.objects.editable_by(user).filter(pk=claim.pk).exists(),
        can_add=claim.library.can_edit(user),
        editable_evidence=set(editable.values_list("pk", flat=True)),
    )
