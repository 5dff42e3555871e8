"""Annotations (highlights on one immutable text revision) and the library's tags.

An annotation follows the W3C Web Annotation model: a TextPositionSelector (start, end
in Unicode code points of the canonical text) and a TextQuoteSelector (exact, prefix,
suffix). Invariant, checked on every write: `text.text[start:end] == exact`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.db import models, router, transaction
from django.db.models import Count, F, Q
from simple_history.models import HistoricalRecords

from annotations.anchoring import quote_selector
from core import batching
from core.rows import fetch, quoter, selected
from core.sanitize import MarkupRefused, render_markdown
from sources.models import WRITE_ROLES, Library, Role, SourceText

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sources.models import AnyUser

COMMENT_MAX_CHARS = 100_000
# A comment's Markdown may become at most this many HTML elements: bleach cleans ~20,000 a
# second, so a comment is saved in a fraction of one whatever it holds.
COMMENT_MAX_ELEMENTS = 5_000
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


def wanted_tags(names: Iterable[str], most: int | None = None) -> dict[str, str]:
    """{key: name as first typed} for `names`; raises ValidationError on `tags` (without
    touching the database) for a name that is not a tag, or more than `most` names."""
    names = list(names)
    if most is not None and len(names) > most:
        raise ValidationError({"tags": f"At most {most} tags."})
    wanted: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str):
            raise ValidationError({"tags": "Each tag is a string."})
        wanted.setdefault(tag_key(name), name)
    return wanted


class TagQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> TagQuerySet:
        """Tags that something the user may see carries (an annotation or claim visible to
        them, an event of a library they read: every model tagged, by its `visible_to`);
        a tag nothing carries, only to who may edit its library. A tag used only on
        someone's private notes is theirs alone, name included."""
        carried = Q()
        for tag_column, visible in _tagged_by(user):
            carried |= Q(pk__in=visible.values(tag_column))
        unused = _carried_by_nothing() & Q(library__in=Library.objects.editable_by(user))
        return self.filter(carried | unused, library__in=Library.objects.visible_to(user))

    def uses_in(self, library: Library, user: AnyUser) -> Counter[int]:
        """{tag id: how many things of `library` the user may see carry it}: one grouped
        count per tagged model, over the through rows of what they see there (a count per
        tag in a subquery took 6 to 30 times longer)."""
        counts: Counter[int] = Counter()
        for tag_field, visible in _tagged_by(user, library):
            grouped = visible.order_by().values(tag_field).annotate(n=Count("pk"))
            counts.update(dict(grouped.values_list(tag_field, "n")))
        return counts

    def editable_by(self, user: AnyUser) -> TagQuerySet:
        return self.filter(library__in=Library.objects.editable_by(user))


def _tagged_relations() -> list[models.ManyToManyRel]:
    """Every many-to-many to Tag (annotations' tags, claims' tags, events' participants)."""
    return [rel for rel in Tag._meta.related_objects if rel.many_to_many]


def _tagged_by(user: AnyUser, library: Library | None = None) -> list[tuple[str, models.QuerySet]]:
    """(the through model's tag field, its rows whose tagged object `user` may see, of
    `library` if given) for each tagged model; a model without `visible_to` shows its tags
    to nobody."""
    found = []
    for rel in _tagged_relations():
        rows = rel.related_model._default_manager
        if not hasattr(rows, "visible_to"):
            continue
        tag_field = rel.field.m2m_reverse_field_name()  # the through model's FK to Tag
        object_field = rel.field.m2m_field_name()  # its FK to the tagged model
        seen = rows.visible_to(user)
        seen = (seen.filter(library=library) if library is not None else seen).values("pk")
        visible = rel.through.objects.filter(**{f"{object_field}__in": seen})
        found.append((tag_field, visible))
    return found


def _carried_by_nothing() -> Q:
    """Tags no annotation, claim or event carries (whoever may see them)."""
    unused = Q()
    for rel in _tagged_relations():
        tag_field = rel.field.m2m_reverse_field_name()
        unused &= ~Q(pk__in=rel.through.objects.values(tag_field))
    return unused


class TagManager(models.Manager.from_queryset(TagQuerySet)):  # type: ignore[misc]
    def for_names(
        self, library: Library, names: Iterable[str], most: int | None = None
    ) -> list[Tag]:
        """The library's tags for `names`, created where missing, in the given order and
        without duplicates ("Moscow" and "moscow" are one tag); at most `most` names."""
        return self.for_keys(library, wanted_tags(names, most=most))

    def for_keys(self, library: Library, wanted: dict[str, str]) -> list[Tag]:
        """The tags `wanted_tags` named, in its order: those the library has read in one
        statement (prepared on PostgreSQL), the others created."""
        if not wanted:
            return []
        using = self._db or router.db_for_read(self.model)
        columns = selected(self.model, "t", using=using)
        rows = fetch(using, _tags_sql(using, len(wanted)), [library.pk, *wanted])
        existing = {tag.name_key: tag for tag in (columns.instance(row, 0) for row in rows)}
        result = []
        for key, name in wanted.items():
            tag = existing.get(key)
            if tag is None:
                tag, _ = self.get_or_create(library=library, name_key=key, defaults={"name": name})
            result.append(tag)
        return result


@functools.cache
def _tags_sql(using: str, count: int) -> str:
    """A library's tags with `count` name keys."""
    q = quoter(using)
    return (
        f"SELECT {selected(Tag, 't', using=using).columns} FROM {q(Tag)} t "
        f"WHERE t.{q(Tag, 'library')} = %s AND t.{q(Tag, 'name_key')} IN "
        f"({', '.join(['%s'] * count)})"
    )


class Tag(models.Model):
    """A library's tag; `name` keeps the spelling first typed, `name_key` matches."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=TAG_MAX_CHARS)
    name_key = models.CharField(max_length=TAG_MAX_CHARS, editable=False)
    namespace = models.CharField(max_length=NAMESPACE_MAX_CHARS, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = TagManager()

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
KNOWN_RELATIONS = ["tags", "text", "library", "creator", "reply_to"]

REGION_KEYS = ("x", "y", "w", "h")


def checked_region(region: object) -> dict[str, float]:
    """{"x", "y", "w", "h"} in percent of the page, inside it and not empty; ValidationError
    on `region` otherwise. Numbers are kept to three decimals (a thousandth of a percent)."""
    if not isinstance(region, dict) or set(region) != set(REGION_KEYS):
        raise ValidationError({"region": 'Give {"x", "y", "w", "h"} in percent of the page.'})
    values = {}
    for key in REGION_KEYS:
        value = region[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ValidationError({"region": f"{key} must be a number (percent of the page)."})
        values[key] = round(float(value), 3)
    if not (0 <= values["x"] < 100 and 0 <= values["y"] < 100):
        raise ValidationError({"region": "x and y must be at least 0 and below 100."})
    if not (0 < values["w"] <= 100 - values["x"] and 0 < values["h"] <= 100 - values["y"]):
        raise ValidationError({"region": "w and h must be above 0 and keep it on the page."})
    return values


# Named, so that a new annotation's one history record can be written after its tags are set.
ANNOTATION_HISTORY = HistoricalRecords(excluded_fields=["modified"], m2m_fields=["tags"])


class Annotation(models.Model):
    """A highlight (maybe with a comment and tags) on one revision of a source's text.

    What it is on (docs/decisions/0010-regions-and-replies.md), one of:
    - a passage: the code points start–end of the text (`exact` is the quote);
    - a region of a page: `page` (the revision's page index) and `region`, a rectangle in
      percent of the page ({"x", "y", "w", "h"}); start = end = where the page's text
      begins, so that it sorts with the page, and `exact` is empty;
    - another annotation: `reply_to`, a reply in that annotation's thread, on its text;
      start = end = its start, `exact` empty;
    - the whole text: `whole_text`, a note on the source (Hypothesis' page note); start =
      end = 0, `exact` empty, carried to each new revision with its replies.
    """

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
    exact = models.TextField(
        blank=True, help_text="The quoted passage, text[start:end]; empty on a region or reply."
    )
    page = models.PositiveIntegerField(
        null=True, blank=True, help_text="A region's page: the index of the revision's page."
    )
    region = models.JSONField(
        null=True,
        blank=True,
        help_text='A region of the page, in percent of its width and height: {"x": 12.5, '
        '"y": 40, "w": 30, "h": 10.25} from its top-left corner.',
    )
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        help_text="The annotation this one answers (a reply in its thread).",
    )
    whole_text = models.BooleanField(
        default=False, help_text="A note on the whole text (a page note): no passage or region."
    )
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
    objects = AnnotationQuerySet.as_manager()

    class Meta:
        # By the column, not the relation: "text" would follow SourceText's and Source's
        # orderings and join sources_source into every unsliced query.
        ordering = ["text_id", "start", "end", "pk"]
        constraints = [
            # A passage holds at least one code point; a region or a reply none; a note on
            # the whole text is at its beginning and quotes nothing.
            models.CheckConstraint(
                condition=Q(
                    end__gt=F("start"), region__isnull=True, reply_to__isnull=True, whole_text=False
                )
                | Q(
                    end=F("start"),
                    page__isnull=False,
                    region__isnull=False,
                    reply_to__isnull=True,
                    whole_text=False,
                )
                | Q(end=F("start"), region__isnull=True, reply_to__isnull=False, whole_text=False)
                | Q(
                    start=0,
                    end=0,
                    exact="",
                    page__isnull=True,
                    region__isnull=True,
                    reply_to__isnull=True,
                    whole_text=True,
                ),
                name="annotation_is_on_one_thing",
            ),
        ]
        indexes = [
            # A text's annotations in document order (`ordering`), so that a page of them
            # is read in order and stops at the page's end: with (text, start) alone,
            # PostgreSQL read all 1,400 notes of a text and sorted them for a page of 50.
            # On PostgreSQL it also holds visibility, creator and library (INCLUDE, migration
            # 0013), so that counting a text's annotations reads no row.
            models.Index(fields=["text", "start", "end", "id"], name="annotation_document_order"),
            models.Index(fields=["library", "state"]),
        ]

    def __str__(self) -> str:
        if self.kind == "region":
            return f"a region of page {self.page} ({self.text_id})"
        if self.kind == "reply":
            return f"a reply to {self.reply_to_id}"
        if self.kind == "note":
            return f"a note on the whole text {self.text_id}"
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

    @property
    def kind(self) -> str:
        """ "passage", "region", "reply" or "note" (on the whole text): what it is on."""
        if self.reply_to_id is not None:
            return "reply"
        if self.whole_text:
            return "note"
        return "region" if self.region is not None else "passage"

    def check_anchor(self) -> None:
        """The invariant: 0 ≤ start < end ≤ len(text) and text[start:end] == exact; for a
        region, a page of the text and a rectangle inside it; for a note, nothing quoted."""
        if self.text_id is None or self.start is None or self.end is None:
            return  # clean_fields() names the missing field
        if self.kind != "passage":
            if self.kind == "region":
                self.region = checked_region(self.region)
            if self.start != self.end or self.exact:
                raise ValidationError({"start": "A region, a reply or a note quotes no passage."})
            if self.kind == "note" and (self.start or self.page is not None or self.region):
                raise ValidationError({"whole_text": "A note on the whole text has no place."})
            return
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

    def set_region(self, page: int, region: object) -> None:
        """Place the annotation on a rectangle of the text's page `page`."""
        from sources.pages.models import Page  # a page is the pages package's

        found = Page.objects.filter(text_id=self.text_id, index=page).only("start").first()
        if found is None:
            count = Page.objects.filter(text_id=self.text_id).count()
            shown = (
                f"it has {count} page{'s' if count != 1 else ''}" if count else "it has no pages"
            )
            raise ValidationError({"page": f"No page {page} in this revision ({shown})."})
        self.page, self.region = page, checked_region(region)
        self.start = self.end = found.start
        self.exact = self.prefix = self.suffix = ""

    def on_whole_text(self) -> None:
        """Make this annotation a note on its whole text (a page note): no passage."""
        self.whole_text = True
        self.start = self.end = 0
        self.exact = self.prefix = self.suffix = ""

    def answer(self, parent: Annotation) -> None:
        """Make this annotation a reply in `parent`'s thread, on its text."""
        if parent.text_id != self.text_id:
            raise ValidationError({"reply_to": "A reply is on the text of what it answers."})
        self.reply_to = parent
        self.start = self.end = parent.start
        self.exact = self.prefix = self.suffix = ""
        if parent.visibility == Visibility.PRIVATE:
            self.visibility = Visibility.PRIVATE  # a private thread stays private

    def check_thread_visibility(
        self, visibility: str, below: list[tuple[int, int | None]] | None = None
    ) -> None:
        """A reply in a private thread stays private; an annotation others have answered
        stays visible to them (going private would hide what their replies answer).
        `below`: the thread under it (`_thread_below`), when already read."""
        private_thread = (
            self.reply_to_id is not None and self.reply_to.visibility == Visibility.PRIVATE
        )
        if visibility == Visibility.LIBRARY and private_thread:
            raise ValidationError({"visibility": "A reply in a private thread stays private."})
        if visibility == Visibility.PRIVATE and (others := self.replies_by_others(below)):
            noun = "reply" if others == 1 else "replies"
            raise ValidationError(
                {"visibility": f"{others} {noun} by others answer it: it stays visible to them."}
            )

    def replies_by_others(self, below: list[tuple[int, int | None]] | None = None) -> int:
        """How many annotations of other people answer this one, in its whole thread
        (`below`, when already read)."""
        thread = self._thread_below() if below is None else below
        return sum(1 for _, creator in thread if creator != self.creator_id)

    def _thread_below(self) -> list[tuple[int, int | None]]:
        """(id, creator) of every annotation answering this one, in its whole thread."""
        if self.pk is None:
            return []
        thread, frontier = [], [self.pk]
        while frontier and len(thread) < 10_000:  # a thread is bounded by what was written
            replies = list(
                Annotation.objects.filter(reply_to__in=frontier).values_list("pk", "creator_id")
            )
            thread += replies
            frontier = [pk for pk, _ in replies]
        return thread

    def _own_shared_replies(self, below: list[tuple[int, int | None]]) -> list[Annotation]:
        """The creator's own replies in the thread `below` this one that the library sees:
        they go private with it (no one else answered it, or it could not), so that no
        shared reply refers to a private annotation (its id in a Hypothesis row's
        `references`)."""
        ids = [pk for pk, creator in below if creator == self.creator_id]
        return list(Annotation.objects.filter(pk__in=ids, visibility=Visibility.LIBRARY))

    def set_comment(self, raw: str) -> None:
        """Store the Markdown as written and its sanitised HTML (rendered on write)."""
        if len(raw) > COMMENT_MAX_CHARS:
            raise ValidationError({"comment": self._comment_too_long()})
        try:
            html = render_markdown(raw, most_elements=COMMENT_MAX_ELEMENTS) if raw.strip() else ""
        except MarkupRefused as error:
            raise ValidationError({"comment": f"The comment {error}."}) from None
        self.comment_raw, self.comment_html = raw, html

    def set_tags(self, names: Iterable[str], *, new: bool = False) -> list[Tag]:
        """Tag with `names` (found or created in the library) and return the tags. `new`:
        the annotation was just created and has no tags yet, so there is nothing to
        compare with or remove."""
        tags = Tag.objects.for_names(self.library, names, most=TAGS_PER_ANNOTATION)
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
        followers: list[Annotation] = []
        if new_visibility != self.visibility:
            going_private = new_visibility == Visibility.PRIVATE
            below = self._thread_below() if going_private else []  # read once, for both
            self.check_thread_visibility(new_visibility, below)
            if going_private:
                followers = self._own_shared_replies(below)
        keeps_default = self.motivation == self.default_motivation()
        if "region" in changes:
            self.region = checked_region(changes["region"])
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
        with transaction.atomic(), batching.batch():
            self.full_clean(exclude=KNOWN_RELATIONS, validate_constraints=False)
            self.save()
            if "tags" in changes:
                self.set_tags(changes["tags"])
            for reply in followers:  # saved one by one: each keeps its history and index
                reply.visibility = Visibility.PRIVATE
                reply.save()

    def default_motivation(self) -> str:
        if self.reply_to_id is not None:
            return Motivation.REPLYING
        if self.whole_text or self.comment_raw.strip():
            return Motivation.COMMENTING  # a note highlights nothing, even without words
        return Motivation.HIGHLIGHTING

    @property
    def source_id(self) -> int:
        return self.text.source_id

    @staticmethod
    def _comment_too_long() -> str:
        return f"A comment is at most {COMMENT_MAX_CHARS:,} characters."
