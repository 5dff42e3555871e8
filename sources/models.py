"""Libraries, members, sources, creators, immutable texts and provenance links.

Source metadata is held in CSL variables (https://citationstyles.org) so that export
is lossless; `csl.py` maps a Source to and from CSL-JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import TYPE_CHECKING

import edtf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Concat, Lower
from django.db.models.lookups import Contains
from django.urls import reverse
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from core import batching
from core.dates import Bounds, edtf_bounds
from sources.citekeys import assign_citation_key

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = (Role.OWNER, Role.EDITOR)


class LibraryQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> LibraryQuerySet:
        if not user.is_authenticated:
            return self.filter(is_public=True)
        return self.filter(Q(is_public=True) | Q(memberships__user=user)).distinct()

    def editable_by(self, user: AnyUser) -> LibraryQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__role__in=WRITE_ROLES)

    def owned_by(self, user: AnyUser) -> LibraryQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user, memberships__role=Role.OWNER)


class LibraryManager(models.Manager.from_queryset(LibraryQuerySet)):  # type: ignore[misc]
    def create_for(self, owner, *, name: str, **fields) -> Library:
        """Create a library with `owner` as its first member."""
        base = slugify(name)[:60] or "library"
        slug, n = base, 1
        while self.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        library = self.create(name=name, slug=slug, **fields)
        Membership.objects.create(library=library, user=owner, role=Role.OWNER)
        return library


class Library(models.Model):
    """A research workspace; owns every source, annotation and claim in it."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    is_public = models.BooleanField(
        default=False, help_text="Published read-only to everyone, signed in or not."
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = LibraryManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "libraries"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("library-detail", args=[self.slug])

    def role_of(self, user: AnyUser) -> str | None:
        if not user.is_authenticated:
            return None
        membership = self.memberships.filter(user=user).first()
        return membership.role if membership else None

    def can_edit(self, user: AnyUser) -> bool:
        return self.role_of(user) in WRITE_ROLES

    def visible_with_role(self, user: AnyUser, role: str | None) -> bool:
        """`LibraryQuerySet.visible_to` for this library, given the user's role in it (None
        for a non-member): no query of its own."""
        return self.is_public or (user.is_authenticated and role is not None)


class Membership(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["library", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.library}"


class SourceType(models.TextChoices):
    """CSL item types a historian meets most (CSL 1.0.2 names)."""

    MANUSCRIPT = "manuscript", "Manuscript / archival document"
    LETTER = "letter", "Letter"
    ARTICLE_MAGAZINE = "article-magazine", "Magazine article"
    ARTICLE_NEWSPAPER = "article-newspaper", "Newspaper article"
    ARTICLE_JOURNAL = "article-journal", "Journal article"
    WEBPAGE = "webpage", "Web page"
    BOOK = "book", "Book"
    CHAPTER = "chapter", "Book chapter"
    REPORT = "report", "Report"
    INTERVIEW = "interview", "Interview"
    SPEECH = "speech", "Speech"
    TREATY = "treaty", "Treaty"
    LEGISLATION = "legislation", "Legislation"
    MAP = "map", "Map"
    PERSONAL_COMMUNICATION = "personal_communication", "Personal communication"
    THESIS = "thesis", "Thesis"
    ENTRY_ENCYCLOPEDIA = "entry-encyclopedia", "Encyclopedia entry"
    DOCUMENT = "document", "Document (other)"
    # The rest of CSL 1.0.2's types, so that every Zotero item type keeps its CSL type.
    ARTICLE = "article", "Article or preprint"
    BILL = "bill", "Bill"
    BROADCAST = "broadcast", "Broadcast or podcast"
    CLASSIC = "classic", "Classic work"
    COLLECTION = "collection", "Archival collection"
    DATASET = "dataset", "Dataset"
    ENTRY = "entry", "Entry"
    ENTRY_DICTIONARY = "entry-dictionary", "Dictionary entry"
    EVENT = "event", "Event"
    FIGURE = "figure", "Figure"
    GRAPHIC = "graphic", "Artwork or graphic"
    HEARING = "hearing", "Hearing"
    LEGAL_CASE = "legal_case", "Legal case"
    MOTION_PICTURE = "motion_picture", "Film or video"
    MUSICAL_SCORE = "musical_score", "Musical score"
    PAMPHLET = "pamphlet", "Pamphlet"
    PAPER_CONFERENCE = "paper-conference", "Conference paper"
    PATENT = "patent", "Patent"
    PERFORMANCE = "performance", "Performance"
    PERIODICAL = "periodical", "Periodical issue"
    POST = "post", "Forum post or message"
    POST_WEBLOG = "post-weblog", "Blog post"
    REGULATION = "regulation", "Regulation"
    REVIEW = "review", "Review"
    REVIEW_BOOK = "review-book", "Book review"
    SOFTWARE = "software", "Software"
    SONG = "song", "Audio recording"
    STANDARD = "standard", "Standard"


class SourceKind(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


def folded_contains(field: str, text: str) -> Contains:
    """`field` contains `text`, ignoring case in every script: SQLite's LIKE folds only
    ASCII, so both sides are lowered first (SQLite gets Python's LOWER: core/sqlite.py)."""
    return Contains(Lower(field), Lower(Value(text)))


# Sort keys of the source lists (`-key` reverses one); the pk breaks the last ties.
SOURCE_ORDERINGS = {
    "issued": (F("issued_earliest"), F("issued_latest"), Lower("title")),
    "title": (Lower("title"), F("issued_earliest")),
    "creator": (F("first_creator"), Lower("title")),
    "citation_key": (F("citation_key"),),
    "created": (F("created"),),
    "modified": (F("modified"),),
}


class SourceQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> SourceQuerySet:
        return self.filter(library__in=Library.objects.visible_to(user))

    def editable_by(self, user: AnyUser) -> SourceQuerySet:
        return self.filter(library__in=Library.objects.editable_by(user))

    def matching(
        self,
        *,
        title: str = "",
        creator: str = "",
        kind: str = "",
        csl_type: str = "",
        issued_from: dt.date | None = None,
        issued_to: dt.date | None = None,
    ) -> SourceQuerySet:
        """The sources that pass every filter given; an empty filter lets all through."""
        sources = self.search_title(title).issued_overlapping(issued_from, issued_to)
        if creator:
            sources = sources.by_creator(creator)
        if kind:
            sources = sources.filter(kind=kind)
        if csl_type:
            sources = sources.filter(csl_type=csl_type)
        return sources

    def search_title(self, text: str) -> SourceQuerySet:
        """Sources whose title holds every word of `text`, in any case and script."""
        sources = self
        for word in text.split():
            sources = sources.filter(folded_contains("title", word))
        return sources

    def by_creator(self, name: str) -> SourceQuerySet:
        """Sources with one creator whose names hold every word of `name`: "Mao Zedong"
        and "Zedong, Mao" find Mao; "Stalin Mao" finds no one. EXISTS rather than a join,
        so that a source with two matching creators is listed once."""
        creators = Creator.objects.filter(source=OuterRef("pk"))
        for word in name.replace(",", " ").split():
            creators = creators.filter(
                Q(folded_contains("family", word))
                | Q(folded_contains("given", word))
                | Q(folded_contains("literal", word))
            )
        return self.filter(Exists(creators))

    def issued_overlapping(self, start: dt.date | None, end: dt.date | None) -> SourceQuerySet:
        """Sources whose possible dates overlap [start, end], either end open: "196X"
        overlaps 1965, an open-ended "../1950" reaches as far back as asked, and a source
        without a date never matches a range."""
        sources = self
        if start:
            sources = sources.filter(
                Q(issued_latest__gte=start)
                | Q(issued_latest__isnull=True, issued_earliest__isnull=False)
            )
        if end:
            sources = sources.filter(
                Q(issued_earliest__lte=end)
                | Q(issued_earliest__isnull=True, issued_latest__isnull=False)
            )
        return sources

    def ordered_by(self, key: str) -> SourceQuerySet:
        """Sorted by a key of SOURCE_ORDERINGS, `-key` reversed; what has no date or no
        creator comes last either way."""
        descending, name = key.startswith("-"), key.lstrip("-")
        terms = [*SOURCE_ORDERINGS[name], F("pk")]
        sources = self.alias(first_creator=first_creator_name()) if name == "creator" else self
        return sources.order_by(
            *(t.desc(nulls_last=True) if descending else t.asc(nulls_last=True) for t in terms)
        )


def first_creator_name() -> Subquery:
    """The sort name of a source's first author (or first creator of any role)."""
    creators = (
        Creator.objects.filter(source=OuterRef("pk"))
        .annotate(
            author_first=Case(
                When(role=CreatorRole.AUTHOR, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            sort_name=Lower(Concat("family", "literal", Value(" "), "given")),
        )
        .order_by("author_first", "order", "pk")
    )
    return Subquery(creators.values("sort_name")[:1])


class SourceManager(models.Manager.from_queryset(SourceQuerySet)):  # type: ignore[misc]
    def create_with_creators(self, *, library: Library, creators: list[dict], **fields) -> Source:
        """Create a source and its creators; the citation key comes from the first author."""
        source = self.model(library=library, **fields)
        source.full_clean(exclude=["citation_key"])
        if not source.citation_key and creators:
            first = creators[0]
            name = first.get("family") or first.get("literal") or ""
            source.citation_key = assign_citation_key(source, first_creator=name)
        people = [Creator(order=order, **creator) for order, creator in enumerate(creators)]
        for person in people:
            person.full_clean(exclude=["source"])
        with transaction.atomic(), batching.batch():  # indexed once, with its creators
            source.save()
            for person in people:
                person.source = source
                person.save()
        return source


class Source(models.Model):
    """One bibliographic record, in CSL variables."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="sources")
    citation_key = models.CharField(
        max_length=100, help_text="Stable key for pandoc and BibLaTeX, assigned once."
    )
    csl_type = models.CharField(
        "type", max_length=30, choices=SourceType.choices, default=SourceType.DOCUMENT
    )
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.PRIMARY)
    title = models.CharField(
        max_length=1000,
        blank=True,
        help_text="May be empty (an untitled letter or cable): pages and citations then "
        "describe the source instead.",
    )
    container_title = models.CharField(
        max_length=500, blank=True, help_text="Periodical, book or website."
    )
    collection_title = models.CharField(max_length=500, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    publisher_place = models.CharField(max_length=300, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    page = models.CharField(max_length=50, blank=True)
    edition = models.CharField(max_length=50, blank=True)
    issued = models.CharField(
        max_length=100,
        blank=True,
        help_text="EDTF date: 1949-12-16, 1960-07?, 1958/1962, 196X, 1950-01-01~",
    )
    issued_literal = models.CharField(
        "date as written",
        max_length=200,
        blank=True,
        help_text="A date EDTF cannot hold (n.d., “Easter Monday, 1950”), kept as written; "
        "it sorts by any year it names.",
    )
    issued_earliest = models.DateField(null=True, blank=True, editable=False)
    issued_latest = models.DateField(null=True, blank=True, editable=False)
    archive = models.CharField(max_length=300, blank=True)
    archive_place = models.CharField(max_length=200, blank=True)
    archive_collection = models.CharField(max_length=300, blank=True)
    archive_location = models.CharField(
        max_length=300, blank=True, help_text="Fond / opis / delo / listy, box, folder."
    )
    call_number = models.CharField(max_length=200, blank=True)
    genre = models.CharField(max_length=200, blank=True)
    medium = models.CharField(max_length=200, blank=True)
    url = models.URLField("URL", max_length=2000, blank=True)
    accessed = models.CharField(max_length=100, blank=True, help_text="EDTF date of access.")
    language = models.CharField(max_length=35, blank=True, help_text="BCP 47, e.g. ru, en, zh.")
    original_language = models.CharField(max_length=35, blank=True)
    rights = models.CharField(max_length=1000, blank=True)
    identifiers = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"DOI": "…", "wilson_center": "110404"}'
    )
    abstract = models.TextField(blank=True)
    keywords = models.JSONField(
        default=list,
        blank=True,
        help_text='Subject keywords, as Zotero keeps them: ["Sino-Soviet alliance", …]; a '
        "collection path as a keyword in the collection: namespace.",
    )
    note = models.TextField(blank=True)
    variables = models.JSONField(
        "other CSL variables",
        default=dict,
        blank=True,
        help_text='Every other CSL variable, as CSL-JSON writes it: {"number": "12", '
        '"event-place": "Geneva", "submitted": {"raw": "1950-03"}}.',
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["modified"])
    objects = SourceManager()

    class Meta:
        ordering = ["issued_earliest", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "citation_key"], name="citation_key_unique_in_library"
            )
        ]
        indexes = [models.Index(fields=["library", "issued_earliest"])]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs) -> None:
        self.issued_earliest, self.issued_latest = issued_bounds(self.issued, self.issued_literal)
        if not self.citation_key:
            first = self.creators.first() if self.pk else None
            name = (first.family or first.literal) if first else ""
            self.citation_key = assign_citation_key(self, first_creator=name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("source-detail", args=[self.pk])

    def clean(self) -> None:
        self.issued_earliest, self.issued_latest = issued_bounds(self.issued, self.issued_literal)
        if self.accessed:
            edtf_or_bce_bounds(self.accessed, field="accessed")
        if not isinstance(self.variables, dict):
            raise ValidationError({"variables": "Must be an object of CSL variables."})

    @property
    def display_title(self) -> str:
        """The title, or for an untitled source a description in brackets, as Zotero shows
        untitled letters and interviews: "[Letter to Mao Zedong]"."""
        return self.title or describe_untitled(self)

    @property
    def current_text(self) -> SourceText | None:
        return self.texts.order_by("-revision").first()

    def creators_in_role(self, role: str) -> list[Creator]:
        return [c for c in self.creators.all() if c.role == role]


def edtf_or_bce_bounds(value: str, *, field: str) -> Bounds:
    """`edtf_bounds`, and for an EDTF date before the year 1 (-0044-03-15), which no
    calendar day of ours can hold, the first day we can: it sorts before every other."""
    try:
        return edtf_bounds(value, field=field)
    except ValidationError:
        if not _BCE.match(value.strip()):
            raise
        try:
            edtf.parse_edtf(value.strip())
        except (edtf.EDTFParseException, ValueError, TypeError):
            raise ValidationError({field: f"{value!r} is not an EDTF date."}) from None
        return dt.date.min, dt.date.min


_BCE = re.compile(r"^(?:-\d|Y-)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def issued_bounds(issued: str, literal: str = "") -> Bounds:
    """The days a source's date can mean: its EDTF's, else the first year a date kept as
    written names ("Easter Monday, 1950" sorts as 1950), else none."""
    if issued:
        return edtf_or_bce_bounds(issued, field="issued")
    if year := _YEAR.search(literal or ""):
        return dt.date(int(year[1]), 1, 1), dt.date(int(year[1]), 12, 31)
    return None, None


def describe_untitled(source: Source) -> str:
    """ "[Letter from Roshchin to Zhou Enlai, 1950-01-02]": what Zotero shows in place of
    a missing title, for letters, interviews and everything else."""
    creators = list(source.creators.all()) if source.pk else []
    authors = [c.short_name for c in creators if c.role == CreatorRole.AUTHOR]
    others = {
        "recipient": [c.short_name for c in creators if c.role == CreatorRole.RECIPIENT],
        "interviewee": [c.short_name for c in creators if c.role == CreatorRole.INTERVIEWEE],
    }
    words = [SourceType(source.csl_type).label.split(" /")[0] if source.csl_type else "Source"]
    if source.csl_type in (SourceType.INTERVIEW,) and (people := others["interviewee"] or authors):
        words.append("with " + " and ".join(people))
    else:
        if authors:
            words.append("from " + " and ".join(authors))
        if others["recipient"]:
            words.append("to " + " and ".join(others["recipient"]))
    date = source.issued or source.issued_literal
    return "[" + " ".join(words) + (f", {date}" if date else "") + "]"


class CreatorRole(models.TextChoices):
    """Every CSL 1.0.2 name variable, and the interviewee CSL has no variable for."""

    AUTHOR = "author", "Author"
    TRANSLATOR = "translator", "Translator"
    EDITOR = "editor", "Editor"
    RECIPIENT = "recipient", "Recipient"
    INTERVIEWER = "interviewer", "Interviewer"
    INTERVIEWEE = "interviewee", "Interviewee"
    CONTRIBUTOR = "contributor", "Contributor"
    CONTAINER_AUTHOR = "container-author", "Author of the container"
    COLLECTION_EDITOR = "collection-editor", "Series editor"
    EDITORIAL_DIRECTOR = "editorial-director", "Editorial director"
    COMPILER = "compiler", "Compiler"
    ORIGINAL_AUTHOR = "original-author", "Original author"
    REVIEWED_AUTHOR = "reviewed-author", "Reviewed author"
    CHAIR = "chair", "Chair"
    ORGANIZER = "organizer", "Organizer"
    CURATOR = "curator", "Curator"
    HOST = "host", "Host"
    GUEST = "guest", "Guest"
    NARRATOR = "narrator", "Narrator"
    ILLUSTRATOR = "illustrator", "Illustrator"
    COMPOSER = "composer", "Composer"
    DIRECTOR = "director", "Director"
    PERFORMER = "performer", "Performer"
    PRODUCER = "producer", "Producer"
    EXECUTIVE_PRODUCER = "executive-producer", "Executive producer"
    SCRIPT_WRITER = "script-writer", "Script writer"
    SERIES_CREATOR = "series-creator", "Series creator"


class Creator(models.Model):
    """A person or institution with a role on a source, in order."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="creators")
    role = models.CharField(max_length=20, choices=CreatorRole.choices, default=CreatorRole.AUTHOR)
    family = models.CharField(max_length=200, blank=True)
    given = models.CharField(max_length=200, blank=True)
    literal = models.CharField(
        max_length=300, blank=True, help_text="An institution, or a name not split in two."
    )
    order = models.PositiveSmallIntegerField(default=0)
    suffix = models.CharField(max_length=50, blank=True, help_text="Jr., III.")
    family_first = models.BooleanField(
        default=False,
        help_text="Written family name first (Mao Zedong, Zhou Enlai): shown and cited so "
        "(CSL's static-ordering).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "order", "pk"]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and not self.family_first:
            self.family_first = written_family_first(self.family, self.given)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """Sorted form: "King, Martin Luther, Jr."; a family-first name as written."""
        if self.literal:
            return self.literal
        if self.family_first:
            return self.natural_name
        return ", ".join(part for part in (self.family, self.given, self.suffix) if part)

    @property
    def natural_name(self) -> str:
        """Reading form: "Martin Luther King Jr.", "Mao Zedong", "毛泽东"."""
        if self.literal:
            return self.literal
        if self.family_first:
            glue = "" if _CJK.search(self.family + self.given) else " "
            return glue.join(part for part in (self.family, self.given) if part)
        return " ".join(part for part in (self.given, self.family, self.suffix) if part)

    @property
    def short_name(self) -> str:
        """The family name (an institution's whole name), for descriptions."""
        return self.literal or self.family

    def clean(self) -> None:
        if not (self.literal or self.family):
            raise ValidationError({"family": "Give a family name or a literal name."})


# Han, kana and Hangul: Chinese, Japanese and Korean names are written family name first.
_CJK = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)
# Letters only Vietnamese (ơ ư đ ă, tone marks with a dot below) or Hungarian (ő ű) write.
_VIETNAMESE = re.compile(r"[ơưđăƠƯĐĂạặậẹệịọộợụựỵảẳẩẻểỉỏổởủửỷẫễỗữỹ]")
_HUNGARIAN = re.compile(r"[őűŐŰ]")


def written_family_first(family: str, given: str) -> bool:
    """Is a name in a script or spelling whose names are written family name first?
    Chinese, Japanese and Korean by script; Vietnamese and Hungarian by the letters only
    they use. A romanised name ("Mao, Zedong") cannot tell: its editor sets the flag."""
    text = f"{family} {given}"
    return bool(_CJK.search(text) or _VIETNAMESE.search(text) or _HUNGARIAN.search(text))


def canonical_text(text: str) -> str:
    """The canonical form offsets count in: NFC, LF line ends, no BOM."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SourceTextQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> SourceTextQuerySet:
        return self.filter(source__library__in=Library.objects.visible_to(user))


class SourceTextManager(models.Manager.from_queryset(SourceTextQuerySet)):  # type: ignore[misc]
    @transaction.atomic
    def add_revision(self, source: Source, *, text: str, **origin) -> SourceText:
        """Append a revision: canonicalise, checksum and number it. Never edits a revision.

        Atomic, so that whatever runs on the new revision (re-anchoring, fingerprints)
        commits with it or not at all, whoever calls this; one batch (`core.batching`), so
        that whoever reacts to its writes (the search index) does once, after everything
        the new revision set off (annotations carried over to it), whatever the order of
        their receivers.

        Two revisions of one source saved at once (two OCR jobs, an import beside an edit)
        take numbers one after the other: the source's row is locked first, so the second
        reads the last number only once the first has committed. (Locking the last
        revision instead let the second wait, then read the same last number again: a
        duplicate, and a failed job.) FOR NO KEY UPDATE: rows that merely refer to the
        source are still written meanwhile."""
        text = canonical_text(text)
        Source.objects.select_for_update(no_key=True).only("pk").get(pk=source.pk)
        last = source.texts.order_by("-revision").values_list("revision", flat=True).first()
        with batching.batch():
            return self.create(
                source=source,
                revision=(last or 0) + 1,
                text=text,
                sha256=sha256_hex(text),
                **origin,
            )


class SourceText(models.Model):
    """An immutable revision of a source's text. A correction is a new revision."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="texts")
    revision = models.PositiveIntegerField()
    text = models.TextField(help_text="Canonical plain text (NFC); offsets count code points.")
    html_raw = models.TextField(blank=True, help_text="The HTML as imported, never shown.")
    html = models.TextField(blank=True, help_text="Sanitised HTML, safe to show.")
    page_map = models.JSONField(
        default=list,
        blank=True,
        help_text='[[start_offset, "page label"], …] for paginated originals.',
    )
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    media_type = models.CharField(max_length=100, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)

    objects = SourceTextManager()

    class Meta:
        ordering = ["source", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["source", "revision"], name="one_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.source} (revision {self.revision})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValidationError("A source text revision is immutable; add a new revision.")
        super().save(*args, **kwargs)

    def verify(self) -> bool:
        """Does the stored text still hash to the recorded checksum?"""
        return sha256_hex(self.text) == self.sha256

    def page_at(self, offset: int) -> str | None:
        """The page label that the code point at `offset` stands on."""
        label = None
        for start, page in self.page_map:
            if start > offset:
                break
            label = page
        return label

    def paragraphs(self) -> list[tuple[int, str]]:
        """(start offset, paragraph) pairs for the reading view; blank lines separate.
        Split once for this instance (the reading page needs them twice: 4 ms each for a
        1 MB text); a copy, so that the caller may change it."""
        cached = self.__dict__.get("_paragraphs")
        if cached is None or cached[0] is not self.text:
            cached = self.__dict__["_paragraphs"] = (self.text, self._split_paragraphs())
        return list(cached[1])

    def _split_paragraphs(self) -> list[tuple[int, str]]:
        result, offset = [], 0
        for block in self.text.split("\n\n"):
            stripped = block.strip("\n")
            if stripped.strip():
                result.append((offset + block.index(stripped), stripped))
            offset += len(block) + 2
        return result


class LinkRelation(models.TextChoices):
    """Provenance between sources, after W3C PROV."""

    QUOTES = "quotes", "quotes"
    CITES = "cites", "cites"
    TRANSLATES = "translates", "is a translation of"
    DERIVED_FROM = "derived-from", "is derived from"
    REPRINTS = "reprints", "reprints"
    RESPONDS_TO = "responds-to", "responds to"


INVERSE_LABELS = {
    LinkRelation.QUOTES: "is quoted by",
    LinkRelation.CITES: "is cited by",
    LinkRelation.TRANSLATES: "is translated by",
    LinkRelation.DERIVED_FROM: "is the origin of",
    LinkRelation.REPRINTS: "is reprinted by",
    LinkRelation.RESPONDS_TO: "is answered by",
}


class SourceLinkQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> SourceLinkQuerySet:
        return self.filter(library__in=Library.objects.visible_to(user))

    def editable_by(self, user: AnyUser) -> SourceLinkQuerySet:
        return self.filter(library__in=Library.objects.editable_by(user))


class SourceLink(models.Model):
    """`subject` <relation> `object`: "this article quotes that record"."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="source_links")
    subject = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="links_out")
    relation = models.CharField(max_length=20, choices=LinkRelation.choices)
    object = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="links_in")
    note = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = SourceLinkQuerySet.as_manager()

    class Meta:
        ordering = ["relation", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "relation", "object"], name="one_link_per_relation"
            ),
            models.CheckConstraint(
                condition=~Q(subject=models.F("object")), name="no_link_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.get_relation_display()} {self.object}"

    @property
    def inverse_label(self) -> str:
        return INVERSE_LABELS[LinkRelation(self.relation)]

    def clean(self) -> None:
        errors = {}
        if self.subject_id and self.object_id and self.subject_id == self.object_id:
            errors["object"] = "A source cannot be linked to itself."
        for field in ("subject", "object"):
            source = getattr(self, field, None)
            if source is not None and self.library_id and source.library_id != self.library_id:
                errors[field] = "The source belongs to another library."
        if errors:
            raise ValidationError(errors)


class ImportFormat(models.TextChoices):
    CSL_JSON = "csl-json", "CSL-JSON"
    RIS = "ris", "RIS"
    BIBTEX = "bibtex", "BibTeX / BibLaTeX"
    ZOTERO_JSON = "zotero-json", "Zotero web API JSON"
    ZOTERO_RDF = "zotero-rdf", "Zotero RDF"
    MODS = "mods", "MODS XML"
    ENDNOTE_XML = "endnote-xml", "EndNote XML"
    ZOTERO_DATA = "zotero-data", "Zotero data directory"


class ImportRunQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> ImportRunQuerySet:
        return self.filter(library__in=Library.objects.visible_to(user))


class ImportRun(models.Model):
    """One metadata file imported into a library, with an outcome line per record."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="imports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=20, choices=ImportFormat.choices)
    created = models.DateTimeField(auto_now_add=True)
    outcomes = models.JSONField(
        default=list,
        help_text='[{"index": 0, "status": "created|duplicate|failed", "message": "…", '
        '"warnings": ["…"], "source": id, "duplicate_of": id, "reasons": ["DOI"]}]',
    )

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.library}"

    def counts(self) -> dict[str, int]:
        result = {"created": 0, "duplicate": 0, "failed": 0}
        for outcome in self.outcomes:
            result[outcome["status"]] = result.get(outcome["status"], 0) + 1
        return result

    def warning_count(self) -> int:
        """Records created with a value kept aside (a date as written, a URL in the note)."""
        return sum(1 for outcome in self.outcomes if outcome.get("warnings"))
