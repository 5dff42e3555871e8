"""Claims, their evidence and the events they are about.

A claim is a statement in the researcher's words, backed (or undermined) by highlights
through Evidence rows; an event is a dated happening that claims are about. The work
(creating with invariants, cycles, grouping) lives in `claims.py` and `events.py`.

These models belong to the `annotations` app (same label, same tables and migrations):
`annotations.apps` finds them here, as Django finds an app's own `models.py`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from annotations.models import Annotation, Tag, Visibility
from core.dates import edtf_bounds
from sources.models import Library

if TYPE_CHECKING:
    from sources.models import AnyUser

STATEMENT_MAX_CHARS = 2000
WIKIDATA_ID = re.compile(r"^Q[1-9]\d{0,11}$")


class ClaimStatus(models.TextChoices):
    ASSERTED = "asserted", "Asserted"
    CORROBORATED = "corroborated", "Corroborated"
    DISPUTED = "disputed", "Disputed"
    REFUTED = "refuted", "Refuted"


class ClaimRank(models.TextChoices):
    """Wikidata's ranks: the claim to prefer among rivals, an ordinary one, a superseded one."""

    PREFERRED = "preferred", "Preferred"
    NORMAL = "normal", "Normal"
    DEPRECATED = "deprecated", "Deprecated"


class Stance(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    CONTRADICTS = "contradicts", "Contradicts"
    MENTIONS = "mentions", "Mentions"


class EventRelation(models.TextChoices):
    """How a claim bears on an event."""

    ABOUT = "about", "is about"
    DATES = "dates", "dates"
    CONTRADICTS_DATE = "contradicts-date", "contradicts the date of"
    PLACES = "places", "places"
    CAUSES = "causes", "names a cause of"
    CONSEQUENCE = "consequence", "names a consequence of"
    PARTICIPANTS = "participants", "names participants in"


class ClaimQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> ClaimQuerySet:
        """Claims of the libraries the user may read; a private claim only to its creator."""
        shown = Q(visibility=Visibility.LIBRARY)
        if user.is_authenticated:
            shown |= Q(creator=user)
        return self.filter(shown, library__in=Library.objects.visible_to(user))

    def editable_by(self, user: AnyUser) -> ClaimQuerySet:
        """As for annotations: the creator while they hold a write role; owners moderate
        what the library can see, never someone's private claim."""
        if not user.is_authenticated:
            return self.none()
        own = Q(creator=user, library__in=Library.objects.editable_by(user))
        moderated = Q(visibility=Visibility.LIBRARY, library__in=Library.objects.owned_by(user))
        return self.filter(own | moderated)


class Claim(models.Model):
    """A statement in the researcher's words, with a status, a rank and evidence."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="claims")
    statement = models.TextField(
        max_length=STATEMENT_MAX_CHARS, help_text="The claim in your own words."
    )
    note = models.TextField(blank=True, help_text="Discussion, caveats, what is still open.")
    status = models.CharField(
        max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.ASSERTED
    )
    rank = models.CharField(max_length=10, choices=ClaimRank.choices, default=ClaimRank.NORMAL)
    rank_reason = models.CharField(
        max_length=500, blank=True, help_text="Why preferred or deprecated (needed for deprecated)."
    )
    visibility = models.CharField(
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.LIBRARY,
        help_text="A private claim is seen by you alone, wherever claims are shown.",
    )
    tags = models.ManyToManyField(Tag, related_name="claims", blank=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claims",
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["modified"], m2m_fields=[tags])
    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-modified", "pk"]
        indexes = [models.Index(fields=["library", "status"])]

    def __str__(self) -> str:
        return self.statement if len(self.statement) <= 80 else self.statement[:79] + "…"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            self.version += 1
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("claim-detail", args=[self.pk])

    def clean(self) -> None:
        self.statement = " ".join(self.statement.split())
        if not self.statement:
            raise ValidationError({"statement": "State the claim."})
        if len(self.statement) > STATEMENT_MAX_CHARS:
            raise ValidationError(
                {"statement": f"A claim is at most {STATEMENT_MAX_CHARS:,} characters."}
            )
        if self.rank == ClaimRank.DEPRECATED and not self.rank_reason.strip():
            raise ValidationError({"rank_reason": "Say why the claim is deprecated."})


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> EvidenceQuerySet:
        """Evidence whose highlight the user may see: a quote made private later stays hidden."""
        return self.filter(
            library__in=Library.objects.visible_to(user),
            annotation__in=Annotation.objects.visible_to(user),
            claim__in=Claim.objects.visible_to(user),
        )

    def editable_by(self, user: AnyUser) -> EvidenceQuerySet:
        if not user.is_authenticated:
            return self.none()
        own = Q(creator=user, library__in=Library.objects.editable_by(user))
        return self.filter(own | Q(library__in=Library.objects.owned_by(user)))


class Evidence(models.Model):
    """One highlight brought to bear on one claim, with a stance and an optional note."""

    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="evidence", editable=False
    )
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="evidence")
    stance = models.CharField(max_length=12, choices=Stance.choices, default=Stance.SUPPORTS)
    note = models.CharField(max_length=2000, blank=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["modified"])
    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["claim", "stance", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "annotation"], name="one_evidence_per_quote")
        ]

    def __str__(self) -> str:
        return f"{self.annotation} {self.stance} {self.claim}"

    def save(self, *args, **kwargs) -> None:
        if self.library_id is None and self.claim_id is not None:
            self.library_id = self.claim.library_id
        if self.pk is not None and not kwargs.get("force_insert"):
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not (self.claim_id and self.annotation_id):
            return
        if self.annotation.library_id != self.claim.library_id:
            raise ValidationError({"annotation": "The highlight belongs to another library."})
        if self.annotation.reply_to_id is not None:
            raise ValidationError(
                {"annotation": "A reply is not evidence: it quotes no passage and no page."}
            )
        if self.annotation.visibility != Visibility.LIBRARY:
            raise ValidationError(
                {"annotation": "A private note cannot be evidence: share it with the library."}
            )


class EventQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> EventQuerySet:
        return self.filter(library__in=Library.objects.visible_to(user))

    def editable_by(self, user: AnyUser) -> EventQuerySet:
        """Events are shared reference data, like sources: editors and owners change them."""
        return self.filter(library__in=Library.objects.editable_by(user))


class Event(models.Model):
    """A dated happening; may sit inside a parent event ("the treaty signed" inside "the visit")."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=300)
    date = models.CharField(
        max_length=100,
        blank=True,
        help_text="EDTF: 1950-02-14, 1949-12-16/1950-02-17, 1960-07?, 196X, 1950?-01-01",
    )
    earliest = models.DateField(null=True, blank=True, editable=False)
    latest = models.DateField(null=True, blank=True, editable=False)
    place = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    wikidata_id = models.CharField(
        "Wikidata id",
        max_length=20,
        blank=True,
        validators=[RegexValidator(WIKIDATA_ID, "A Wikidata id is Q followed by digits.")],
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    participants = models.ManyToManyField(
        Tag, related_name="events", blank=True, help_text="People and groups, as tags: person:…"
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["modified"], m2m_fields=[participants])
    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = [F("earliest").asc(nulls_last=True), "name", "pk"]
        indexes = [models.Index(fields=["library", "earliest"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest__isnull=True)
                | Q(latest__isnull=True)
                | Q(earliest__lte=F("latest")),
                name="event_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})" if self.date else self.name

    def save(self, *args, **kwargs) -> None:
        self.set_bounds()
        if self.pk is not None and not kwargs.get("force_insert"):
            self.version += 1
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("event-detail", args=[self.pk])

    def set_bounds(self) -> None:
        self.date = self.date.strip()
        bounds = edtf_bounds(self.date, field="date") if self.date else (None, None)
        self.earliest, self.latest = bounds

    def clean(self) -> None:
        self.set_bounds()
        if self.parent_id is None:
            return
        if self.parent.library_id != self.library_id:
            raise ValidationError({"parent": "The parent event belongs to another library."})
        if self.pk is not None and self.pk in self.parent.ancestor_ids(include_self=True):
            raise ValidationError(
                {"parent": f"“{self.parent.name}” is this event or inside it: a cycle."}
            )

    def ancestor_ids(self, *, include_self: bool = False) -> list[int]:
        """Ids from this event up to the outermost one; stops on a (corrupt) loop."""
        seen = [self.pk] if include_self else []
        parent_id = self.parent_id
        while parent_id is not None and parent_id not in seen:
            seen.append(parent_id)
            parent_id = Event.objects.filter(pk=parent_id).values_list("parent_id", flat=True)[0]
        return seen

    @property
    def wikidata_url(self) -> str:
        return f"https://www.wikidata.org/wiki/{self.wikidata_id}" if self.wikidata_id else ""


class ClaimEventQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> ClaimEventQuerySet:
        return self.filter(claim__in=Claim.objects.visible_to(user))


class ClaimEvent(models.Model):
    """`claim` <relation> `event`: "this claim dates the treaty's signing"."""

    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="claim_events", editable=False
    )
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="event_links")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="claim_links")
    relation = models.CharField(
        max_length=20, choices=EventRelation.choices, default=EventRelation.ABOUT
    )
    note = models.CharField(max_length=1000, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = ClaimEventQuerySet.as_manager()

    class Meta:
        ordering = ["event", "relation", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "event", "relation"], name="one_link_per_claim_event_relation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.claim} {self.get_relation_display()} {self.event}"

    def save(self, *args, **kwargs) -> None:
        if self.library_id is None and self.claim_id is not None:
            self.library_id = self.claim.library_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.claim_id and self.event_id and self.claim.library_id != self.event.library_id:
            raise ValidationError({"event": "The event belongs to another library."})
