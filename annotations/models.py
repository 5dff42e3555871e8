"""Annotations (highlights on one immutable text revision) and the library's tags.

An annotation follows the W3C Web Annotation model: a TextPositionSelector (start, end
in Unicode code points of the canonical text) and a TextQuoteSelector (exact, prefix,
suffix). Invariant, checked on every write: `text.text[start:end] == exact`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.db import models, router, transaction
from django.db.models import F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from annotations.anchoring import quote_selector
from sources.dates import edtf_bounds
from sources.models import WRITE_ROLES, Library, Role, SourceText
from sources.sanitize import render_markdown

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sources.models import AnyUser

COMMENT_MAX_CHARS = 100_000
TAG_MAX_CHARS = 200
TAGS_PER_ANNOTATION = 50
NAMESPACE_MAX_CHARS = 50
# A namespace is one word before the first colon ("person:Mao Zedong"); a colon after
# a phrase ("Treaty of 1950: drafts") is part of an ordinary tag name.
_NAMESPACED = re.compile(rf"^([^\s:]{{1,{NAMESPACE_MAX_CHARS}}})\s*:\s*(\S.*)$", re.DOTALL)


class AnchorState(models.TextChoices):
    ANCHORED = "anchored", "Anchored"
    MOVED = "moved", "Moved"
    FUZZY = "fuzzy", "Fuzzy match"
    ORPHANED = "orphaned", "Orphaned"


class Motivation(models.TextChoices):
    """The thirteen motivations of the W3C Web Annotation vocabulary (§3.3.5)."""

    ASSESSING = "assessing", "Assessing"
    BOOKMARKING = "bookmarking", "Bookmarking"
    CLASSIFYING = "classifying", "Classifying"
    COMMENTING = "commenting", "Commenting"
    DESCRIBING = "describing", "Describing"
    EDITING = "editing", "Editing"
    HIGHLIGHTING = "highlighting", "Highlighting"
    IDENTIFYING = "identifying", "Identifying"
    LINKING = "linking", "Linking"
    MODERATING = "moderating", "Moderating"
    QUESTIONING = "questioning", "Questioning"
    REPLYING = "replying", "Replying"
    TAGGING = "tagging", "Tagging"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Only me"
    LIBRARY = "library", "Everyone in the library"


# --- tags -------------------------------------------------------------------------


def split_tag_name(name: str) -> tuple[str, str]:
    """(namespace, display name) of a tag as typed: NFC, whitespace collapsed,
    "Person : Mao" → ("person", "Person:Mao"). Raises ValidationError on `tags`."""
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not name:
        raise ValidationError({"tags": "A tag cannot be empty."})
    if len(name) > TAG_MAX_CHARS:
        raise ValidationError({"tags": f"A tag is at most {TAG_MAX_CHARS} characters."})
    match = _NAMESPACED.match(name)
    if match is None:
        return "", name
    return match[1].casefold(), f"{match[1]}:{match[2]}"


def tag_key(name: str) -> str:
    """The case-insensitive identity of a tag name: same key, same tag."""
    return split_tag_name(name)[1].casefold()


class TagQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> TagQuerySet:
        return self.filter(library__in=Library.objects.visible_to(user))

    def editable_by(self, user: AnyUser) -> TagQuerySet:
        return self.filter(library__in=Library.objects.editable_by(user))


class Tag(models.Model):
    """A library's tag; `name` keeps the spelling first typed, `name_key` matches."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=TAG_MAX_CHARS)
    name_key = models.CharField(max_length=TAG_MAX_CHARS, editable=False)
    namespace = models.CharField(max_length=NAMESPACE_MAX_CHARS, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "name_key"], name="tag_name_unique_in_library"
            )
        ]
        indexes = [models.Index(fields=["library", "namespace"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.namespace, self.name = split_tag_name(self.name)
        self.name_key = self.name.casefold()
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """The name without its namespace: "Mao Zedong" for "person:Mao Zedong"."""
        return self.name.split(":", 1)[1] if self.namespace else self.name


class TagNamespace(models.Model):
    """The colour a library paints one tag namespace with."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="tag_namespaces")
    namespace = models.CharField(max_length=NAMESPACE_MAX_CHARS, blank=True)
    colour = models.CharField(
        max_length=7,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give a colour as #rrggbb.")],
    )

    class Meta:
        ordering = ["namespace"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "namespace"], name="one_colour_per_namespace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace or '(none)'} {self.colour}"

    def save(self, *args, **kwargs) -> None:
        self.namespace = self.namespace.strip().casefold()
        self.colour = self.colour.lower()
        super().save(*args, **kwargs)


# --- annotations ------------------------------------------------------------------


class AnnotationQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> AnnotationQuerySet:
        """Annotations in libraries the user sees; private ones only to their creator."""
        shown = self.filter(library__in=Library.objects.visible_to(user))
        if not user.is_authenticated:
            return shown.filter(visibility=Visibility.LIBRARY)
        return shown.filter(Q(visibility=Visibility.LIBRARY) | Q(creator=user))

    def editable_by(self, user: AnyUser) -> AnnotationQuerySet:
        """The creator while they still hold a write role; owners also moderate (edit,
        delete) the library-visible annotations of others. Editors cannot change other
        people's annotations, and nobody touches someone else's private notes."""
        if not user.is_authenticated:
            return self.none()
        own = Q(creator=user, library__in=Library.objects.editable_by(user))
        moderated = Q(visibility=Visibility.LIBRARY, library__in=Library.objects.owned_by(user))
        return self.filter(own | moderated)

    def in_document_order(self) -> AnnotationQuerySet:
        return self.order_by("start", "end", "pk")


# What `full_clean` need not look up again: the text, its library and the creator are the
# instances just read (each a query to re-check), and `check_anchor` enforces the one
# constraint (end > start) without a query; the database enforces both as well.
KNOWN_RELATIONS = ["tags", "text", "library", "creator"]


# Named, so that a new annotation's one history record can be written after its tags are set.
ANNOTATION_HISTORY = HistoricalRecords(excluded_fields=["modified"], m2m_fields=["tags"])


class AnnotationManager(models.Manager.from_queryset(AnnotationQuerySet)):  # type: ignore[misc]
    def create_annotation(
        self,
        *,
        text: SourceText,
        start: int,
        end: int,
        creator,
        exact: str | None = None,
        comment: str = "",
        motivation: str = "",
        visibility: str = Visibility.LIBRARY,
        tags: Iterable[str] = (),
        state: str = AnchorState.ANCHORED,
        anchor_score: float = 1.0,
        hold_tags: bool = False,
    ) -> Annotation:
        """Create an annotation; the quote is derived from the offsets (a given `exact`
        must equal it). Raises ValidationError naming the field; writes nothing then.
        `hold_tags`: the annotation holds its tags as `prefetch_related` would, for a caller
        that represents it at once (they are not read back)."""
        annotation = self.model(
            library=text.source.library,
            text=text,
            creator=creator,
            visibility=visibility,
            state=state,
            anchor_score=anchor_score,
        )
        annotation.set_anchor(start, end, exact=exact)
        annotation.set_comment(comment)
        annotation.motivation = motivation or annotation.default_motivation()
        from annotations import search_index, writes
        from annotations.tags import tags_for, wanted_tags

        annotation.full_clean(exclude=KNOWN_RELATIONS, validate_constraints=False)
        using = self._db or router.db_for_write(self.model)
        if writes.supported(using):
            wanted = wanted_tags(tags, most=TAGS_PER_ANNOTATION)  # before anything is written
            with transaction.atomic(using=using, savepoint=False):
                found = tags_for(annotation.library, wanted)
                writes.insert_new(annotation, found, using)
        else:
            with transaction.atomic(using=using), search_index.deferred():
                # One history record, "created", with its tags; not "created" and then
                # "changed" for the tags set a moment later (half the history's cost).
                annotation.skip_history_when_saving = True
                try:
                    annotation.save()
                    found = annotation.set_tags(tags, new=True)
                finally:
                    del annotation.skip_history_when_saving
                ANNOTATION_HISTORY.create_historical_record(annotation, "+")
        if hold_tags:
            annotation.hold_tags(sorted(found, key=lambda tag: tag.name_key))
        return annotation


class Annotation(models.Model):
    """A highlight (maybe with a comment and tags) on one revision of a source's text."""

    library = models.ForeignKey(
        Library,
        on_delete=models.CASCADE,
        related_name="annotations",
        editable=False,
        help_text="The text's library, stored to scope queries without joins.",
    )
    text = models.ForeignKey(
        SourceText,
        on_delete=models.CASCADE,
        related_name="annotations",
        help_text="The revision the offsets count in.",
    )
    start = models.PositiveIntegerField(help_text="First code point of the quote.")
    end = models.PositiveIntegerField(help_text="Code point after the quote.")
    exact = models.TextField(help_text="The quoted passage, text[start:end].")
    prefix = models.CharField(max_length=64, blank=True)
    suffix = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=10, choices=AnchorState.choices, default=AnchorState.ANCHORED
    )
    anchor_score = models.FloatField(
        default=1.0, help_text="Match quality of the last re-anchoring, 0–1."
    )
    comment_raw = models.TextField("comment", blank=True, help_text="Markdown, as written.")
    comment_html = models.TextField(blank=True, editable=False, help_text="Sanitised HTML.")
    motivation = models.CharField(
        max_length=20, choices=Motivation.choices, default=Motivation.HIGHLIGHTING
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.LIBRARY
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    tags = models.ManyToManyField(Tag, related_name="annotations", blank=True)

    history = ANNOTATION_HISTORY
    objects = AnnotationManager()

    class Meta:
        # By the column, not the relation: "text" would follow SourceText's and Source's
        # orderings and join sources_source into every unsliced query.
        ordering = ["text_id", "start", "end", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="annotation_not_empty")
        ]
        indexes = [
            # A text's annotations in document order (`ordering`), so that a page of them
            # is read in order and stops at the page's end: with (text, start) alone,
            # PostgreSQL read all 1,400 notes of a text and sorted them for a page of 50.
            models.Index(fields=["text", "start", "end", "id"], name="annotation_document_order"),
            models.Index(fields=["library", "state"]),
        ]

    def __str__(self) -> str:
        quote = self.exact if len(self.exact) <= 60 else self.exact[:59] + "…"
        return f"“{quote}” ({self.text_id}:{self.start}–{self.end})"

    def save(self, *args, **kwargs) -> None:
        self.check_anchor()
        if self.pk is not None and not kwargs.get("force_insert"):
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.check_anchor()
        if len(self.comment_raw) > COMMENT_MAX_CHARS:
            raise ValidationError({"comment": self._comment_too_long()})
        if self.text_id and self.library_id and self.text.source.library_id != self.library_id:
            raise ValidationError({"text": "The text belongs to another library."})

    def check_anchor(self) -> None:
        """The invariant: 0 ≤ start < end ≤ len(text) and text[start:end] == exact."""
        if self.text_id is None or self.start is None or self.end is None:
            return  # clean_fields() names the missing field
        length = len(self.text.text)
        if not 0 <= self.start < length:
            raise ValidationError({"start": f"start must be at least 0 and below {length}."})
        if not self.start < self.end <= length:
            raise ValidationError({"end": f"end must be after start and at most {length}."})
        if self.text.text[self.start : self.end] != self.exact:
            raise ValidationError({"exact": "The quote does not match the text at start–end."})

    def set_anchor(self, start: int, end: int, *, exact: str | None = None) -> None:
        """Place the annotation on `self.text`: the quote and its context are derived from
        the offsets; a given `exact` is a check that the client saw the same text."""
        self.start, self.end = start, end
        self.exact = self.text.text[start:end] if exact is None else exact
        self.check_anchor()
        _, self.prefix, self.suffix = quote_selector(self.text.text, start, end)

    def set_comment(self, raw: str) -> None:
        """Store the Markdown as written and its sanitised HTML (rendered on write)."""
        if len(raw) > COMMENT_MAX_CHARS:
            raise ValidationError({"comment": self._comment_too_long()})
        self.comment_raw = raw
        self.comment_html = render_markdown(raw) if raw.strip() else ""

    def set_tags(self, names: Iterable[str], *, new: bool = False) -> list[Tag]:
        """Tag with `names` (found or created in the library) and return the tags. `new`:
        the annotation was just created and has no tags yet, so there is nothing to
        compare with or remove."""
        from annotations.tags import get_or_create_tags

        tags = get_or_create_tags(self.library, names, most=TAGS_PER_ANNOTATION)
        if not new:
            self.tags.set(tags)
        elif tags:
            self.tags.add(*tags)
        return tags

    def load_tags(self) -> None:
        """Read the tags once and hold them as `prefetch_related` would (in `Tag`'s order):
        for one annotation that machinery costs twice the query it runs."""
        if "tags" not in getattr(self, "_prefetched_objects_cache", {}):
            self.hold_tags(list(self.tags.all()))

    def hold_tags(self, tags: list[Tag]) -> None:
        """Hold tags read elsewhere (in `Tag`'s order) as `prefetch_related` would: in the
        related manager's own queryset, whose filter is only built if something filters it
        further (a third of the cost of `Tag.objects.filter(annotations=self)`)."""
        cache = self.__dict__.setdefault("_prefetched_objects_cache", {})
        cache.pop("tags", None)  # else the manager would hand back what is held
        held = self.tags.get_queryset()
        held._result_cache, held._prefetch_done = tags, True
        cache["tags"] = held

    def visible_with_role(self, user: AnyUser, role: str | None, library: Library) -> bool:
        """`AnnotationQuerySet.visible_to` for this one annotation, given its library and
        the user's role there (None for a non-member)."""
        if not library.visible_with_role(user, role):
            return False
        return self.visibility == Visibility.LIBRARY or (
            user.is_authenticated and self.creator_id == user.pk
        )

    def editable_with_role(self, user: AnyUser, role: str | None) -> bool:
        """`AnnotationQuerySet.editable_by` for this one annotation, given the user's role
        in its library (`sources.access.role_in_library`): no query of its own."""
        if not user.is_authenticated:
            return False
        if self.creator_id == user.pk and role in WRITE_ROLES:
            return True
        return self.visibility == Visibility.LIBRARY and role == Role.OWNER

    def apply_changes(self, changes: dict, *, user) -> None:
        """Apply a validated edit (any of start, end, exact, comment, tags, motivation,
        visibility) in one transaction. Only the creator decides who sees the annotation."""
        new_visibility = changes.get("visibility", self.visibility)
        if new_visibility != self.visibility and user.pk != self.creator_id:
            raise PermissionDenied("Only its creator can change who sees an annotation.")
        keeps_default = self.motivation == self.default_motivation()
        if {"start", "end", "exact"} & changes.keys():
            start, end = changes.get("start", self.start), changes.get("end", self.end)
            self.set_anchor(start, end, exact=changes.get("exact"))
            self.state, self.anchor_score = AnchorState.ANCHORED, 1.0  # placed by a person
        if "comment" in changes:
            self.set_comment(changes["comment"])
        self.visibility = new_visibility
        self.motivation = changes.get("motivation") or (
            self.default_motivation() if keeps_default else self.motivation
        )
        from annotations import search_index

        with transaction.atomic(), search_index.deferred():
            self.full_clean(exclude=KNOWN_RELATIONS, validate_constraints=False)
            self.save()
            if "tags" in changes:
                self.set_tags(changes["tags"])

    def default_motivation(self) -> str:
        return Motivation.COMMENTING if self.comment_raw.strip() else Motivation.HIGHLIGHTING

    @property
    def source_id(self) -> int:
        return self.text.source_id

    @staticmethod
    def _comment_too_long() -> str:
        return f"A comment is at most {COMMENT_MAX_CHARS:,} characters."


# --- claims, evidence and events ----------------------------------------------------
# A claim is a statement in the researcher's words, backed (or undermined) by highlights
# through Evidence rows; an event is a dated happening that claims are about. The work
# (creating with invariants, cycles, grouping) lives in `claims.py` and `events.py`.

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


# --- search index -----------------------------------------------------------------------
# One denormalised row per searchable thing, kept in step with the rows it describes by
# `search_index.py` (signals, in the writer's transaction) and rebuilt from them by
# `manage.py rebuild_search_index`. The migration adds what Django cannot declare: on
# PostgreSQL a generated tsvector column with GIN indexes, on SQLite an FTS5 table that
# triggers keep equal to `terms`, `stems` and `facets`.


class SearchEntryKind(models.TextChoices):
    CLAIM = "claim", "Claim"
    ANNOTATION = "annotation", "Annotation"
    PASSAGE = "passage", "Passage of a source text"
    SOURCE = "source", "Source description"


UNCONSTRAINED = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class SearchEntry(models.Model):
    """One searchable thing: a claim, an annotation, a source's description or a passage of
    its current text, with what a result shows and what filters match."""

    key = models.CharField(max_length=40, unique=True, help_text="a:12, c:3, p:<text>:<n>, s:7")
    kind = models.CharField(max_length=10, choices=SearchEntryKind.choices)
    # No database constraints and no cascades: `search_index` deletes entries when what
    # they describe is deleted, after the cascade, so that a re-index triggered half-way
    # through a cascade can never leave a row pointing at something deleted.
    library = models.ForeignKey(Library, **UNCONSTRAINED)
    source = models.ForeignKey("sources.Source", null=True, **UNCONSTRAINED)
    text = models.ForeignKey(SourceText, null=True, **UNCONSTRAINED)
    annotation = models.ForeignKey(Annotation, null=True, **UNCONSTRAINED)
    claim = models.ForeignKey(Claim, null=True, **UNCONSTRAINED)
    start = models.PositiveIntegerField(default=0, help_text="Code point offset in `text`.")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    private = models.BooleanField(default=False, help_text="Shown to its creator only.")
    status = models.CharField(max_length=12, blank=True)
    date_earliest = models.DateField(null=True)
    date_latest = models.DateField(null=True)
    year = models.SmallIntegerField(null=True)
    title = models.CharField(max_length=1000, blank=True)
    body = models.TextField(help_text="What the result shows: quote, statement, passage.")
    note = models.TextField(blank=True, help_text="Shown below: comment, claim note.")
    terms = models.TextField(help_text="Folded words, as `search_text.terms` writes them.")
    stems = models.TextField(blank=True, help_text="Snowball stems, for SQLite's FTS5.")
    facets = models.JSONField(default=list, help_text='Filter tokens: ["t12", "kprimary", …]')

    class Meta:
        verbose_name_plural = "search entries"
        indexes = [
            models.Index(fields=["library", "date_earliest", "id"], name="search_library_date"),
            models.Index(fields=["library", "id"], name="search_library_id"),
        ]

    def __str__(self) -> str:
        return self.key


class SearchWord(models.Model):
    """A word some library's index holds: the vocabulary fuzzy matching looks in."""

    library = models.ForeignKey(Library, **UNCONSTRAINED)
    word = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["library", "word"], name="one_search_word")]

    def __str__(self) -> str:
        return self.word
