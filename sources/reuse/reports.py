"""What the text-reuse pages show, built on the detection in `sources/reuse/detection.py`: the
passages a text shares with each other source (both sides, differences marked, the
direction of borrowing the dates suggest), a compilation's paragraphs attributed to their
originals, the other occurrences of a highlighted passage, and recording a source link
with the shared passages as its evidence."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Count, Max, Q, Sum

from sources.models import LinkRelation, Source, SourceKind, SourceLink, SourceText
from sources.reuse.detection import (
    CJK,
    MARKS,
    SharedPassage,
    Words,
    default_min_words,
    detect,
    find_passage,
    internal_repeats,
    matching_blocks,
    normalise,
    passage_words,
    words_of_revision,
)
from sources.reuse.models import SourceLinkPassage

ORIGIN_COLOURS = 8  # highlight colours of the compilation view (static/css/reuse.css)


# --- what the pages show ---------------------------------------------------------------------


class Direction(models.TextChoices):
    """Which way the borrowing went, going by the sources' dates."""

    THIS_EARLIER = "this-earlier", "this source is the earlier"
    OTHER_EARLIER = "other-earlier", "the other source is the earlier"
    OVERLAPPING = "overlapping", "the dates overlap"
    UNKNOWN = "unknown", "a source is undated"


def suggest_direction(this: Source, other: Source) -> Direction:
    if not (this.issued_earliest and other.issued_earliest):
        return Direction.UNKNOWN
    if this.issued_latest and this.issued_latest < other.issued_earliest:
        return Direction.THIS_EARLIER
    if other.issued_latest and other.issued_latest < this.issued_earliest:
        return Direction.OTHER_EARLIER
    return Direction.OVERLAPPING


@dataclass
class Aligned:
    """One shared passage as shown: both sides, the words each lacks marked."""

    passage: SharedPassage
    this: list[Piece]
    other: list[Piece]

    @property
    def quote(self) -> str:
        return "".join(piece.text for piece in self.this)


def aligned(revision: SourceText, other: SourceText, passage: SharedPassage) -> Aligned:
    this_side = revision.text[passage.start : passage.end]
    other_side = other.text[passage.other_start : passage.other_end]
    return Aligned(passage, *mark_differences(this_side, other_side))


@dataclass
class Match:
    """The passages one text shares with another source's text, for a page."""

    revision: SourceText
    other: SourceText
    passages: list[SharedPassage]
    links: list[SourceLink] = field(default_factory=list)  # links between the two sources

    @property
    def words(self) -> int:
        return sum(p.words for p in self.passages)

    @property
    def direction(self) -> str:
        return suggest_direction(self.revision.source, self.other.source)

    @property
    def borrower(self) -> str:
        """Whose text is the copy, as far as the dates tell: "this", "other" or ""."""
        return {Direction.THIS_EARLIER: "other", Direction.OTHER_EARLIER: "this"}.get(
            self.direction, ""
        )

    @property
    def relation(self) -> str:
        """The relation to offer: one quotes a primary source, derives from anything else."""
        origin = {"this": self.other.source, "other": self.revision.source}.get(self.borrower)
        if origin is not None and origin.kind == SourceKind.PRIMARY:
            return LinkRelation.QUOTES
        return LinkRelation.DERIVED_FROM

    @property
    def evidence(self) -> int:
        """Passages already recorded as evidence on the links between the two sources."""
        return sum(link.passage_count for link in self.links)

    def aligned(self) -> list[Aligned]:
        return [aligned(self.revision, self.other, p) for p in self.passages]


@dataclass
class Report:
    """Everything the source page and the shared-passages page show about a revision."""

    revision: SourceText
    matches: list[Match]
    repeats: list[SharedPassage]
    min_words: int
    truncated: bool = False  # more sources matched than are listed

    def aligned_repeats(self) -> list[Aligned]:
        return [aligned(self.revision, self.revision, p) for p in self.repeats]


def library_stamp(library_id: int) -> str:
    """Changes whenever a text enters or leaves the library: the cache key of detections."""
    texts = SourceText.objects.filter(source__library_id=library_id)
    stamp = texts.aggregate(last=Max("pk"), count=Count("pk"), total=Sum("pk"))
    return f"{library_id}-{stamp['last']}-{stamp['count']}-{stamp['total']}"


def cached_detect(
    revision: SourceText, *, min_words: int
) -> tuple[list[SharedPassage], list[SharedPassage]]:
    """`detect` and `internal_repeats`, kept until a text enters or leaves the library."""
    library_id = revision.source.library_id
    stamp = library_stamp(library_id)
    key = f"reuse:v1:{revision.pk}:{revision.sha256[:16]}:{min_words}:{stamp}"
    found = cache.get(key)
    if found is None:
        found = (
            detect(revision, min_words=min_words),
            internal_repeats(revision, min_words=min_words),
        )
        cache.set(key, found, timeout=24 * 3600)
    return found


def report(revision: SourceText, *, min_words: int | None = None, limit: int = 0) -> Report:
    """The shared passages of `revision`, by other source (the `limit` sharing most)."""
    min_words = min_words or default_min_words()
    shared, repeats = cached_detect(revision, min_words=min_words)
    matches = matches_by_source(revision, shared)
    truncated = bool(limit) and len(matches) > limit
    return Report(revision, matches[:limit] if limit else matches, repeats, min_words, truncated)


def matches_by_source(revision: SourceText, passages: list[SharedPassage]) -> list[Match]:
    """Group passages by the other text, most shared words first, with the links the two
    sources already have."""
    grouped: dict[int, list[SharedPassage]] = defaultdict(list)
    for passage in passages:
        grouped[passage.other_text_id].append(passage)
    texts = SourceText.objects.select_related("source").order_by().in_bulk(list(grouped))
    matches = [
        Match(revision, texts[pk], _each_pair_once(found))
        for pk, found in grouped.items()
        if pk in texts
    ]
    _attach_links(revision.source, matches)
    return sorted(matches, key=lambda m: (-m.words, m.other.source.title))


def _each_pair_once(passages: list[SharedPassage]) -> list[SharedPassage]:
    """A passage that one of the two texts repeats pairs with each of its copies in the
    other: the same pair would be listed twice. Keep the first pairing of each span on
    either side (the repeats within a text are listed apart, `internal_repeats`)."""
    here: set[tuple[int, int]] = set()
    there: set[tuple[int, int]] = set()
    kept = []
    for passage in passages:
        span, other = (passage.start, passage.end), (passage.other_start, passage.other_end)
        if span in here or other in there:
            continue
        here.add(span)
        there.add(other)
        kept.append(passage)
    return kept


def _attach_links(this: Source, matches: list[Match]) -> None:
    by_source = {m.other.source_id: m for m in matches}
    links = SourceLink.objects.filter(library_id=this.library_id).filter(
        Q(subject=this, object_id__in=by_source) | Q(object=this, subject_id__in=by_source)
    )
    links = links.select_related("subject", "object").annotate(passage_count=Count("passages"))
    for link in links:
        other = link.object_id if link.subject_id == this.pk else link.subject_id
        by_source[other].links.append(link)


@dataclass
class PassageReport:
    """Other occurrences of a highlighted passage."""

    revision: SourceText
    start: int
    end: int
    words: int
    here: list[Aligned]  # elsewhere in the same text
    elsewhere: list[tuple[SourceText, Aligned]]  # in other sources' texts
    min_words: int

    @property
    def quote(self) -> str:
        return self.revision.text[self.start : self.end]


def passage_report(
    revision: SourceText, start: int, end: int, *, min_words: int | None = None
) -> PassageReport:
    min_words = min_words or default_min_words()
    found = find_passage(revision.source.library_id, revision, start, end, min_words=min_words)
    others = (
        SourceText.objects.select_related("source")
        .order_by()
        .in_bulk({p.other_text_id for p in found} - {revision.pk})
    )
    here = [aligned(revision, revision, p) for p in found if p.other_text_id == revision.pk]
    elsewhere = [
        (others[p.other_text_id], aligned(revision, others[p.other_text_id], p))
        for p in found
        if p.other_text_id in others
    ]
    count = passage_words(revision, start, end)
    return PassageReport(revision, start, end, count, here, elsewhere, min_words)


# --- the compilation view: whose words are these? ----------------------------------------------


@dataclass
class Origin:
    """A text of the library that a compilation draws on, numbered for the page's legend."""

    number: int
    text: SourceText
    words: int  # words of the compilation found in it
    share: float
    behind: list[SourceLink] = field(default_factory=list)  # what the origin itself draws on

    @property
    def colour(self) -> int:
        """One of the page's ORIGIN_COLOURS highlight colours; the number tells them apart."""
        return (self.number - 1) % ORIGIN_COLOURS + 1


@dataclass
class Share:
    origin: Origin
    words: int
    share: float


@dataclass
class AttributedParagraph:
    start: int
    text: str
    words: int
    covered: int
    shares: list[Share]
    pieces: list[tuple[str, Origin | None]]  # runs of the paragraph and where they are from

    @property
    def share(self) -> float:
        return self.covered / self.words if self.words else 0.0


@dataclass
class Attribution:
    revision: SourceText
    paragraphs: list[AttributedParagraph]
    origins: list[Origin]
    words: int
    covered: int
    min_words: int

    @property
    def share(self) -> float:
        return self.covered / self.words if self.words else 0.0


def attribute(revision: SourceText, *, min_words: int | None = None) -> Attribution:
    """Each paragraph of `revision` with the library's texts its words are found in and
    the share of its words they account for; a compilation comes apart into its originals."""
    min_words = min_words or default_min_words()
    shared, _ = cached_detect(revision, min_words=min_words)
    words = words_of_revision(revision)
    owners = _owners(words, shared)
    origins = _origins(revision, owners, len(words))
    by_text = {origin.text.pk: origin for origin in origins}
    paragraphs = [
        _attributed(words, owners, by_text, start, text) for start, text in revision.paragraphs()
    ]
    covered = sum(1 for found in owners.values() if found)
    return Attribution(revision, paragraphs, origins, len(words), covered, min_words)


def _owners(words: Words, shared: list[SharedPassage]) -> dict[int, set[int]]:
    """{word index: ids of the texts the word was found in}."""
    owners: dict[int, set[int]] = defaultdict(set)
    for passage in shared:
        for index in words.between(passage.start, passage.end):
            owners[index].add(passage.other_text_id)
    return owners


def _origins(revision: SourceText, owners: dict[int, set[int]], total: int) -> list[Origin]:
    counts = Counter(text for found in owners.values() for text in found)
    texts = SourceText.objects.select_related("source").order_by().in_bulk(list(counts))
    ranked = sorted(counts, key=lambda pk: (-counts[pk], texts[pk].source.title))
    origins = [
        Origin(n, texts[pk], counts[pk], counts[pk] / total if total else 0.0)
        for n, pk in enumerate(ranked, start=1)
    ]
    behind = SourceLink.objects.filter(
        library_id=revision.source.library_id,
        subject_id__in=[o.text.source_id for o in origins],
    ).select_related("object")
    for link in behind:
        for origin in origins:
            if origin.text.source_id == link.subject_id:
                origin.behind.append(link)
    return origins


def _attributed(
    words: Words, owners: dict[int, set[int]], by_text: dict[int, Origin], start: int, text: str
) -> AttributedParagraph:
    span = words.between(start, start + len(text))
    counts = Counter(pk for i in span for pk in owners.get(i, ()))
    shares = [Share(by_text[pk], n, n / len(span)) for pk, n in counts.most_common() if len(span)]
    rank = {share.origin.text.pk: place for place, share in enumerate(shares)}
    # A word found in several originals is shown as from the one the paragraph owes most.
    found_in = [
        by_text[min(owners[i], key=rank.__getitem__)] if owners.get(i) else None for i in span
    ]
    covered = sum(1 for origin in found_in if origin is not None)
    return AttributedParagraph(
        start, text, len(span), covered, shares, _runs_of(words, span, found_in, start, text)
    )


def _runs_of(
    words: Words, span: range, found_in: list[Origin | None], start: int, text: str
) -> list[tuple[str, Origin | None]]:
    """Cut a paragraph into runs of words found in one origin (or in none)."""
    pieces: list[tuple[str, Origin | None]] = []
    position = 0
    for i, origin in zip(span, found_in, strict=True):
        word_start, word_end = words.starts[i] - start, words.ends[i] - start
        if pieces and pieces[-1][1] is origin:
            pieces[-1] = (pieces[-1][0] + text[position:word_end], origin)
        else:
            if position < word_start:
                pieces.append((text[position:word_start], None))
            pieces.append((text[word_start:word_end], origin))
        position = word_end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


# --- differences between two passages ---------------------------------------------------------

DISPLAY_WORD = re.compile(rf"[{CJK}]|\w+(?:[{MARKS}]\w*)*")


@dataclass(frozen=True)
class Piece:
    """A run of a passage as shown: `differs` marks words the other side lacks."""

    text: str
    differs: bool = False


def mark_differences(a: str, b: str) -> tuple[list[Piece], list[Piece]]:
    """Both passages cut into pieces, marking the words (numbers included, so a dropped
    year shows) that the other passage does not have. Punctuation is not compared."""
    a_spans, b_spans = _display_words(a), _display_words(b)
    a_keys = [_display_key(a[s:e]) for s, e in a_spans]
    b_keys = [_display_key(b[s:e]) for s, e in b_spans]
    a_same: set[int] = set()
    b_same: set[int] = set()
    for i, j, size in matching_blocks(a_keys, b_keys):
        a_same.update(range(i, i + size))
        b_same.update(range(j, j + size))
    return _pieces(a, a_spans, a_same), _pieces(b, b_spans, b_same)


def _display_words(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in DISPLAY_WORD.finditer(text)]


def _display_key(word: str) -> str:
    return normalise(word) or word


def _pieces(text: str, spans: list[tuple[int, int]], same: set[int]) -> list[Piece]:
    pieces: list[Piece] = []
    position = 0
    for index, (start, end) in enumerate(spans):
        differs = index not in same
        _add(pieces, text[position:start], False)
        _add(pieces, text[start:end], differs)
        position = end
    _add(pieces, text[position:], False)
    return pieces


def _add(pieces: list[Piece], text: str, differs: bool) -> None:
    """Append, joining a changed run across the spaces between changed words."""
    if not text:
        return
    if pieces and pieces[-1].differs == differs:
        pieces[-1] = Piece(pieces[-1].text + text, differs)
    elif differs and len(pieces) >= 2 and pieces[-2].differs and not pieces[-1].text.strip():
        gap = pieces.pop()
        pieces[-1] = Piece(pieces[-1].text + gap.text + text, True)
    else:
        pieces.append(Piece(text, differs))


# --- recording a link ------------------------------------------------------------------------


class NothingShared(Exception):
    """The two texts share no passage long enough to be evidence."""


@transaction.atomic
def record_link(
    revision: SourceText,
    other: SourceText,
    *,
    relation: str,
    borrower: str,
    user,
    min_words: int | None = None,
) -> tuple[SourceLink, int]:
    """Record "the borrower <relation> the origin" with the shared passages as evidence.

    The passages are found again here rather than taken from the request. Returns the
    link (new or already there) and how many passages were added to its evidence."""
    passages = [p for p in detect(revision, min_words=min_words) if p.other_text_id == other.pk]
    if not passages:
        raise NothingShared
    subject, obj = (revision, other) if borrower == "this" else (other, revision)
    link, _ = SourceLink.objects.get_or_create(
        library_id=revision.source.library_id,
        subject_id=subject.source_id,
        relation=relation,
        object_id=obj.source_id,
        defaults={"created_by": user, "note": _link_note(passages)},
    )
    known = set(
        link.passages.values_list("subject_text", "subject_start", "object_text", "object_start")
    )
    rows = [
        row
        for p in passages
        if (
            row := _evidence(
                link, p, revision, other, this_is_subject=borrower == "this", user=user
            )
        )
        and (row.subject_text_id, row.subject_start, row.object_text_id, row.object_start)
        not in known
    ]
    SourceLinkPassage.objects.bulk_create(rows)
    return link, len(rows)


def _link_note(passages: list[SharedPassage]) -> str:
    words = sum(p.words for p in passages)
    count = len(passages)
    return (
        f"Found by text-reuse detection: {count} shared passage{'s' * (count != 1)}, "
        f"{words} words in common."
    )


def _evidence(
    link: SourceLink,
    p: SharedPassage,
    revision: SourceText,
    other: SourceText,
    *,
    this_is_subject: bool,
    user,
) -> SourceLinkPassage:
    this_side = (revision, p.start, p.end)
    other_side = (other, p.other_start, p.other_end)
    subject, obj = (this_side, other_side) if this_is_subject else (other_side, this_side)
    return SourceLinkPassage(
        link=link,
        subject_text=subject[0],
        subject_start=subject[1],
        subject_end=subject[2],
        object_text=obj[0],
        object_start=obj[1],
        object_end=obj[2],
        words=p.words,
        similarity=p.similarity,
        created_by=user if user and user.is_authenticated else None,
    )
