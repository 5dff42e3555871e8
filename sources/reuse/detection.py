"""Text reuse: the passages two texts of a library share, verbatim or nearly.

A historian meets secondary sources that copy without saying so. This module finds
the copied passages the way plagiarism detectors do (Schleimer, Wilkerson and Aiken,
"Winnowing: local algorithms for document fingerprinting", SIGMOD 2003, the method of
MOSS), in three steps:

1. Fingerprints. A text becomes normalised words: NFKC, case-folded, accents, digits
   and punctuation dropped (so a scraper's dropped years, "In December , Mao", and
   changed punctuation do not break a match); CJK ideographs and kana count one word
   each. Every run of SHINGLE words is hashed to 64 bits and winnowing keeps the
   smallest hash of each WINDOW consecutive ones: about 2 / (WINDOW + 1) of them, and
   at least one inside any run of SHINGLE + WINDOW - 1 words two texts share. The
   current revision of every source keeps its fingerprints in `ReuseFingerprint`,
   written when the revision is imported.
2. Candidates. The texts holding the query's hashes, looked up by the database over the
   (library, hash) index in batches, no all-pairs scan; a hash weighs the less the more
   texts hold it, and the best-scoring texts go on to alignment.
3. Alignment. Around each cluster of shared hashes the two word sequences are aligned
   (RapidFuzz's Indel alignment, a longest common subsequence in C++); matching runs
   separated by at most MAX_GAP differing words join into one passage, which is kept
   when it is at least `min_words` words long and SIMILARITY of both sides match.

Offsets are code points of the canonical text, like every other offset in Marginalia.
What the pages make of the passages (differences, direction, attribution, links) is in
`sources/reuse/reports.py`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.dispatch import receiver
from rapidfuzz.distance import Indel

from sources.bulk import sources_moved
from sources.models import Source, SourceText
from sources.reuse.models import ReuseFingerprint

SHINGLE = 4  # words hashed together
WINDOW = 6  # winnowing window: a shared run of SHINGLE + WINDOW - 1 = 9 words is always seen
GUARANTEED_WORDS = SHINGLE + WINDOW - 1
# Hashes are personalised with the scheme: after a change of the shingle length or of the
# word normalisation, fingerprints stored before match nothing until `reindex_reuse` runs.
SCHEME = f"reuse-{SHINGLE}-v1".encode()
MAX_GAP = 4  # differing words in a row that may still sit inside one passage
SIMILARITY = 0.75  # share of both sides' words that must match (2·common / (len a + len b))
MAX_CANDIDATES = 30  # texts aligned per query, those sharing the most hashes first…
WORDS_PER_EXTRA_CANDIDATE = 200  # …and one more for every so many words of a long text
COMMON_HASH_TEXTS = 500  # a shingle in more texts than this is a formula, not evidence
LARGE_TEXT = 100_000  # characters: of a candidate this long only the parts near hits are read
MARGIN = 1_000  # characters read on each side of those hits, ample for PAD words
MAX_HITS_PER_HASH = 40  # a formula repeated all over a text must not swamp the alignment
PAD = SHINGLE + WINDOW  # words aligned around a cluster of hits: the passage may reach so far
CLUSTER_GAP = 2 * PAD  # hits further apart (in words) than this start a new cluster


def default_min_words() -> int:
    return int(getattr(settings, "REUSE_MIN_WORDS", 12))


# --- words -----------------------------------------------------------------------------------

# The same CJK ranges as the revision comparison (sources/reading.py): no spaces between words,
# so one character is one word.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
# Combining marks are not \w in Python's re; a Cyrillic stress mark must not split a word.
MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
WORD = re.compile(rf"[{CJK}]|[^\W{CJK}](?:[^\W{CJK}]|[{MARKS}])*")
_DROPPED = {"Mn", "Me", "Nd"}
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")  # paragraphs are separated by blank lines
SENTENCE_END = re.compile(r"[.!?。！？]")


@lru_cache(maxsize=100_000)
def normalise(word: str) -> str:
    """The form words are compared in: "Déc." "DEC" and "dec" agree; "1949" vanishes."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", word).casefold())
    return "".join(c for c in folded if c != "_" and unicodedata.category(c) not in _DROPPED)


@dataclass(frozen=True)
class Words:
    """A text's normalised words with the code-point span of each in the text."""

    words: list[str]
    starts: list[int]
    ends: list[int]
    breaks: frozenset[int] = frozenset()  # indices of words that begin a paragraph
    sentences: frozenset[int] = frozenset()  # indices of words after a full stop

    def __len__(self) -> int:
        return len(self.words)

    def index_at(self, offset: int) -> int:
        """The first word that starts at or after `offset`."""
        return bisect_left(self.starts, offset)

    def between(self, start: int, end: int) -> range:
        """The words lying wholly inside [start, end)."""
        first = self.index_at(start)
        return range(first, max(first, bisect_right(self.ends, end)))


def words_of(text: str, start: int = 0, end: int | None = None) -> Words:
    """The words of `text` (or of text[start:end], offsets still counted from 0)."""
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    breaks: set[int] = set()
    sentences: set[int] = set()
    last_end = start
    for match in WORD.finditer(text, start, len(text) if end is None else end):
        word = normalise(match.group())
        if not word:
            continue
        gap = text[last_end : match.start()]
        if gap != " ":  # most gaps are; the others may end a sentence or a paragraph
            if BLANK_LINE.search(gap):
                breaks.add(len(words))
            if SENTENCE_END.search(gap):
                sentences.add(len(words))
        words.append(word)
        starts.append(match.start())
        ends.append(last_end := match.end())
    return Words(words, starts, ends, frozenset(breaks), frozenset(sentences))


@lru_cache(maxsize=32)
def _cached_words(pk: int, sha256: str, text: str) -> Words:
    return words_of(text)


def words_of_revision(revision: SourceText) -> Words:
    """Revisions never change, so their words are worth keeping for the next query."""
    return _cached_words(revision.pk, revision.sha256, revision.text)


# --- fingerprints ----------------------------------------------------------------------------


def _hash(shingle: str) -> int:
    """A signed 64-bit hash (BigIntegerField), the same in every process and database."""
    digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8, person=SCHEME).digest()
    return int.from_bytes(digest, "big", signed=True)


def shingle_hashes(words: list[str]) -> list[int]:
    """The hash of every run of SHINGLE words, in order."""
    return [_hash("\x1f".join(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)]


def winnow(hashes: list[int], window: int = WINDOW) -> list[int]:
    """Indices of the hashes winnowing keeps: the rightmost minimum of every window."""
    if len(hashes) <= window:
        return [min(reversed(range(len(hashes))), key=hashes.__getitem__)] if hashes else []
    kept: list[int] = []
    queue: deque[int] = deque()  # indices whose hashes increase from left to right
    for i, value in enumerate(hashes):
        while queue and hashes[queue[-1]] >= value:
            queue.pop()
        queue.append(i)
        if queue[0] <= i - window:
            queue.popleft()
        if i >= window - 1 and (not kept or kept[-1] != queue[0]):
            kept.append(queue[0])
    return kept


def fingerprints(words: Words) -> list[tuple[int, int]]:
    """(hash, index of the shingle's first word) pairs winnowing keeps."""
    hashes = shingle_hashes(words.words)
    return [(hashes[i], i) for i in winnow(hashes)]


def index_text(revision: SourceText) -> int:
    """Make `revision` its source's indexed text: store its fingerprints, drop those of the
    source's other revisions. Returns how many fingerprints were stored."""
    words = words_of_revision(revision)
    others = SourceText.objects.filter(source_id=revision.source_id).values("pk")
    ReuseFingerprint.objects.filter(text__in=others).delete()
    library_id = Source.objects.values_list("library_id", flat=True).get(pk=revision.source_id)
    rows = [(library_id, revision.pk, h, words.starts[i]) for h, i in fingerprints(words)]
    _insert(rows)
    return len(rows)


def _insert(rows: list[tuple[int, int, int, int]]) -> None:
    """Store fingerprint rows the fastest way each database offers: a 1 MB text has 60,000
    of them, and a model instance per row (bulk_create) took seconds of every import."""
    meta = ReuseFingerprint._meta
    table = connection.ops.quote_name(meta.db_table)
    names = [meta.get_field(name).column for name in ("library", "text", "hash", "start")]
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: ten times faster than INSERTs here
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:  # SQLite runs one prepared INSERT over all rows, in C
            sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)"
            cursor.executemany(sql, rows)


def index_on_import(sender, instance: SourceText, created: bool, raw: bool = False, **kw) -> None:
    """post_save receiver: fingerprint a new revision in the transaction that imports it."""
    if created and not raw:
        index_text(instance)


@receiver(sources_moved, dispatch_uid="reuse-follow")
def follow_sources(sender, ids: list[int], target, **kwargs) -> None:
    """Sources moved to another library (`sources.bulk`): their fingerprints go along, so
    their passages are compared with their new library's texts only."""
    ReuseFingerprint.objects.filter(text__source_id__in=ids).update(library=target)


# --- candidates ------------------------------------------------------------------------------


def _batches(items: list[int]) -> Iterator[list[int]]:
    size = max((connection.features.max_query_params or 5000) - 10, 100)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def candidate_texts(
    library_id: int, hashes: Iterable[int], *, exclude_source: int | None, limit: int
) -> list[int]:
    """The indexed texts of a library most likely to share passages with `hashes`, best
    first. A shared hash counts 1 / (the number of texts holding it): four words that
    thousands of texts have ("at the end of") say little; a rare run says much. Hashes
    held by more than COMMON_HASH_TEXTS texts are formulae and do not count at all."""
    found = ReuseFingerprint.objects.filter(library_id=library_id)
    if exclude_source is not None:
        own = SourceText.objects.filter(source_id=exclude_source).values_list("pk", flat=True)
        found = found.exclude(text_id__in=list(own))
    spread: Counter[int] = Counter()
    for batch in _batches(sorted(set(hashes))):
        rows = found.filter(hash__in=batch).values("hash").annotate(n=Count("text", distinct=True))
        spread.update({row["hash"]: row["n"] for row in rows})
    telling = sorted(value for value, n in spread.items() if n <= COMMON_HASH_TEXTS)
    score: Counter[int] = Counter()
    for batch in _batches(telling):
        for value, text_id in found.filter(hash__in=batch).values_list("hash", "text").distinct():
            score[text_id] += 1 / spread[value]
    return [text for text, _ in score.most_common(limit)]


def _stored_hits(library_id: int, text_ids: list[int], hashes: list[int]) -> dict:
    """{text id: {hash: [start offsets]}} of the given texts, for the given hashes."""
    hits: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = ReuseFingerprint.objects.filter(library_id=library_id, text_id__in=text_ids)
    for batch in _batches(sorted(set(hashes))):
        for text_id, value, start in rows.filter(hash__in=batch).values_list(
            "text", "hash", "start"
        ):
            hits[text_id][value].append(start)
    return hits


# --- alignment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedPassage:
    """A passage of one text (start, end) found again in another (other_start, other_end)."""

    start: int
    end: int
    other_text_id: int
    other_start: int
    other_end: int
    words: int  # words the two sides have in common
    similarity: float  # 2·words / (words on this side + words on the other)
    length: int = 0  # words of the longer side: what `min_words` is compared with

    @property
    def percent(self) -> int:
        return round(100 * self.similarity)


def _clusters(hits: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Group (word in a, word in b) hits lying near one diagonal: one copied passage each.
    A reordered paragraph lands on another diagonal and makes its own cluster."""
    done: list[list[tuple[int, int]]] = []
    open_: list[list[tuple[int, int]]] = []
    for a, b in sorted(hits):
        still = []
        for cluster in open_:
            (done if a - cluster[-1][0] > CLUSTER_GAP else still).append(cluster)
        open_ = still
        near = [c for c in open_ if abs((b - c[-1][1]) - (a - c[-1][0])) <= CLUSTER_GAP]
        if near:
            min(near, key=lambda c: abs((b - c[-1][1]) - (a - c[-1][0]))).append((a, b))
        else:
            open_.append([(a, b)])
    return done + open_


def _window(cluster: list[tuple[int, int]], side: int, length: int) -> tuple[int, int]:
    first = min(hit[side] for hit in cluster)
    last = max(hit[side] for hit in cluster) + SHINGLE
    return max(first - PAD, 0), min(last + PAD, length)


Block = tuple[int, int, int]  # (word index in this, word index in other, length)


@dataclass(frozen=True)
class _Bounds:
    """The words each side of one alignment may use: [a0, a1) of this, [b0, b1) of other."""

    a0: int
    a1: int
    b0: int
    b1: int


def _bounds(
    cluster: list[tuple[int, int]],
    this: Words,
    other: Words,
    *,
    within: range | None,
    avoid: range | None,
    disjoint: bool,
) -> _Bounds:
    a0, a1 = _window(cluster, 0, len(this))
    b0, b1 = _window(cluster, 1, len(other))
    first_b = min(hit[1] for hit in cluster)
    if within is not None:  # a highlighted passage: this side stays inside it
        a0, a1 = max(a0, within.start), min(a1, within.stop)
    if avoid is not None:  # the same text: the other side must not reach into the passage
        b0, b1 = (max(b0, avoid.stop), b1) if first_b >= avoid.stop else (b0, min(b1, avoid.start))
    if disjoint:  # a text against itself: the two occurrences split the words between them
        split = (max(hit[0] for hit in cluster) + SHINGLE + first_b) // 2
        a1, b0 = min(a1, split), max(b0, split)
    return _Bounds(a0, a1, b0, b1)


def matching_blocks(a: list[str], b: list[str]) -> list[Block]:
    return [
        (op.src_start, op.dest_start, op.src_end - op.src_start)
        for op in Indel.opcodes(a, b)
        if op.tag == "equal"
    ]


def _split_at_breaks(blocks: list[Block], this: Words, other: Words) -> list[Block]:
    """Cut matching blocks where either text starts a paragraph."""
    pieces = []
    for a, b, size in blocks:
        cuts = [k for k in range(1, size) if a + k in this.breaks or b + k in other.breaks]
        edges = [0, *cuts, size]
        pieces.extend((a + s, b + s, e - s) for s, e in pairwise(edges))
    return pieces


def _crosses(breaks: frozenset[int], end: int, start: int) -> bool:
    return any(k in breaks for k in range(end, start + 1))


def _joins(last: Block, block: Block, this: Words, other: Words) -> bool:
    """Do two matching blocks belong to one passage? Yes when few words differ between
    them, and no paragraph begins in between unless the copy runs on without a gap."""
    gap_a, gap_b = block[0] - (last[0] + last[2]), block[1] - (last[1] + last[2])
    if gap_a > MAX_GAP or gap_b > MAX_GAP:
        return False
    if gap_a == gap_b == 0:
        return True
    return not (
        _crosses(this.breaks, last[0] + last[2], block[0])
        or _crosses(other.breaks, last[1] + last[2], block[1])
    )


def _runs(blocks: list[Block], this: Words, other: Words) -> list[list[Block]]:
    runs: list[list[Block]] = []
    for block in blocks:
        if runs and _joins(runs[-1][-1], block, this, other):
            runs[-1].append(block)
        else:
            runs.append([block])
    return runs


def _stray(block: Block, neighbour: Block | None, this: Words, other: Words) -> bool:
    """A short match at a passage's edge: a common word met by chance in the margin, or
    the first words of the next paragraph that happen to agree."""
    if block[2] < 2:
        return True
    if neighbour is None or block[2] >= SHINGLE:
        return False
    later = max(block, neighbour)
    return later[0] in this.breaks or later[1] in other.breaks


def _trim(run: list[Block], this: Words, other: Words) -> list[Block]:
    run = list(run)
    while run and _stray(run[0], run[1] if len(run) > 1 else None, this, other):
        run.pop(0)
    while run and _stray(run[-1], run[-2] if len(run) > 1 else None, this, other):
        run.pop()
    return run


def _run_on(run: list[Block], this: Words, other: Words) -> list[Block]:
    """Drop the word or two a passage runs on into the next sentence by coincidence
    ("…his first trip abroad. And" where both texts go on with "and")."""
    a, b, size = run[-1]
    for k in range(max(size - 2, 1), size):
        if a + k in this.sentences or b + k in other.sentences:
            return [*run[:-1], (a, b, k)]
    return run


def _extend(run: list[Block], this: Words, other: Words, bounds: _Bounds) -> list[Block]:
    """Grow the passage over equal words at both ends (the alignment may have matched a
    repeated word elsewhere), within its paragraph and its bounds."""
    a, b, size = run[0]
    while (
        a > bounds.a0
        and b > bounds.b0
        and a not in this.breaks
        and b not in other.breaks
        and this.words[a - 1] == other.words[b - 1]
    ):
        a, b, size = a - 1, b - 1, size + 1
    run = [(a, b, size), *run[1:]]
    a, b, size = run[-1]
    while (
        a + size < bounds.a1
        and b + size < bounds.b1
        and a + size not in this.breaks
        and b + size not in other.breaks
        and this.words[a + size] == other.words[b + size]
    ):
        size += 1
    return [*run[:-1], (a, b, size)]


def align(
    this: Words,
    other: Words,
    hits: list[tuple[int, int]],
    *,
    other_id: int,
    min_words: int,
    within: range | None = None,
    avoid: range | None = None,
    disjoint: bool = False,
) -> list[SharedPassage]:
    """The passages around `hits` (word index in this, word index in other). `within`
    keeps this side inside a highlighted passage, `avoid` keeps the other side out of it,
    `disjoint` keeps the two occurrences of a repeat within one text apart."""
    found = []
    for cluster in _clusters(hits):
        bounds = _bounds(cluster, this, other, within=within, avoid=avoid, disjoint=disjoint)
        if bounds.a1 - bounds.a0 < 2 or bounds.b1 - bounds.b0 < 2:
            continue
        blocks = matching_blocks(
            this.words[bounds.a0 : bounds.a1], other.words[bounds.b0 : bounds.b1]
        )
        blocks = [(a + bounds.a0, b + bounds.b0, size) for a, b, size in blocks]
        for run in _runs(_split_at_breaks(blocks, this, other), this, other):
            trimmed = _trim(run, this, other)
            if not trimmed:
                continue
            grown = _extend(trimmed, this, other, bounds)
            passage = _passage(this, other, grown, other_id)
            shorter = _passage(this, other, _run_on(grown, this, other), other_id)
            if shorter.length >= min_words:  # the tidier end, unless it costs the passage
                passage = shorter
            if passage.length >= min_words and passage.similarity >= SIMILARITY:
                found.append(passage)
    return _without_overlaps(found)


def _passage(this: Words, other: Words, blocks: list[Block], other_id: int) -> SharedPassage:
    (a_first, b_first, _), (a_last, b_last, size) = blocks[0], blocks[-1]
    a_end, b_end = a_last + size, b_last + size
    common = sum(block[2] for block in blocks)
    return SharedPassage(
        start=this.starts[a_first],
        end=this.ends[a_end - 1],
        other_text_id=other_id,
        other_start=other.starts[b_first],
        other_end=other.ends[b_end - 1],
        words=common,
        similarity=2 * common / ((a_end - a_first) + (b_end - b_first)),
        length=max(a_end - a_first, b_end - b_first),
    )


def _without_overlaps(passages: list[SharedPassage]) -> list[SharedPassage]:
    """Clusters may overlap; of passages overlapping on both sides keep the longest."""
    kept: list[SharedPassage] = []
    for passage in sorted(passages, key=lambda p: (-p.words, p.start)):
        if not any(_overlaps(passage, other) for other in kept):
            kept.append(passage)
    return sorted(kept, key=lambda p: (p.start, p.other_start))


def _overlaps(p: SharedPassage, q: SharedPassage) -> bool:
    return (
        p.other_text_id == q.other_text_id
        and p.start < q.end
        and q.start < p.end
        and p.other_start < q.other_end
        and q.other_start < p.other_end
    )


# --- queries ---------------------------------------------------------------------------------


def _hits_against(
    query: dict[int, list[int]], stored: dict[int, list[int]], other: Words
) -> list[tuple[int, int]]:
    """Word-index pairs for each hash the query and a stored text share."""
    hits = []
    for value, starts in stored.items():
        mine = query.get(value, ())
        theirs = [other.index_at(s) for s in starts[:MAX_HITS_PER_HASH]]
        hits.extend((a, b) for a in mine[:MAX_HITS_PER_HASH] for b in theirs)
    return hits


def _search(
    library_id: int,
    this: Words,
    query: dict[int, list[int]],
    *,
    exclude_source: int | None,
    min_words: int,
    within: range | None = None,
    limit: int = MAX_CANDIDATES,
) -> list[SharedPassage]:
    """Passages of `this` (whose hashes are `query`) found in other indexed texts."""
    candidates = candidate_texts(library_id, query, exclude_source=exclude_source, limit=limit)
    if not candidates:
        return []
    stored = _stored_hits(library_id, candidates, list(query))
    # No ordering: the default one joins the sources and sorts, which cost PostgreSQL 150 ms.
    texts = SourceText.objects.only("pk", "sha256", "text").order_by().in_bulk(candidates)
    found = []
    for text_id in candidates:
        for other, hits_there in _parts(texts[text_id], stored[text_id]):
            hits = _hits_against(query, hits_there, other)
            found.extend(
                align(this, other, hits, other_id=text_id, min_words=min_words, within=within)
            )
    return found


def _parts(revision: SourceText, stored: dict[int, list[int]]) -> list[tuple[Words, dict]]:
    """The words of a candidate to align with, and its hits among them: all its words for
    an ordinary text; for a large one only the stretches around its hits (reading every
    word of a 1 MB text to place one quotation took a third of a second)."""
    text = revision.text
    if len(text) <= LARGE_TEXT:
        return [(words_of_revision(revision), stored)]
    parts = []
    for first, last in _stretches(sorted({s for starts in stored.values() for s in starts})):
        start, end = _word_edge(text, first - MARGIN, -1), _word_edge(text, last + MARGIN, 1)
        inside = {value: [s for s in at if start <= s < end] for value, at in stored.items()}
        parts.append((words_of(text, start, end), {k: v for k, v in inside.items() if v}))
    return parts


def _stretches(offsets: list[int]) -> list[tuple[int, int]]:
    """Group sorted offsets lying within 2 × MARGIN of each other: (first, last) each."""
    groups: list[list[int]] = []
    for offset in offsets:
        if groups and offset - groups[-1][1] <= 2 * MARGIN:
            groups[-1][1] = offset
        else:
            groups.append([offset, offset])
    return [(first, last) for first, last in groups]


def _word_edge(text: str, offset: int, step: int) -> int:
    """`offset` moved (by at most 100 characters) to the space before or after a word."""
    offset = min(max(offset, 0), len(text))
    for _ in range(100):
        if offset in (0, len(text)) or text[offset - 1].isspace():
            break
        offset += step
    return offset


def _query_of(pairs: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    query: dict[int, list[int]] = defaultdict(list)
    for value, index in pairs:
        query[value].append(index)
    return query


def detect(revision: SourceText, *, min_words: int | None = None) -> list[SharedPassage]:
    """Passages of `revision` shared with the indexed texts of other sources in its
    library, ordered by their place in `revision`."""
    return detect_words(
        revision.source.library_id,
        words_of_revision(revision),
        exclude_source=revision.source_id,
        min_words=min_words or default_min_words(),
    )


def detect_words(
    library_id: int, this: Words, *, exclude_source: int | None, min_words: int
) -> list[SharedPassage]:
    """`detect` for any words (a text not stored, in the benchmark)."""
    query = _query_of(fingerprints(this))
    # A long text may draw on many sources: look at more of them.
    limit = MAX_CANDIDATES + len(this) // WORDS_PER_EXTRA_CANDIDATE
    found = _search(
        library_id, this, query, exclude_source=exclude_source, min_words=min_words, limit=limit
    )
    return sorted(found, key=lambda p: (p.start, p.other_text_id))


def internal_repeats(revision: SourceText, *, min_words: int | None = None) -> list[SharedPassage]:
    """Passages a text repeats within itself (a scraper's filler, a formula, a quote quoted
    twice): the earlier occurrence as (start, end), the later as (other_start, other_end)."""
    min_words = min_words or default_min_words()
    this = words_of_revision(revision)
    by_hash = _query_of(fingerprints(this))
    hits = [
        (a, b)
        for places in by_hash.values()
        for a in places[:MAX_HITS_PER_HASH]
        for b in places[:MAX_HITS_PER_HASH]
        if b >= a + SHINGLE
    ]
    found = align(this, this, hits, other_id=revision.pk, min_words=min_words, disjoint=True)
    return [p for p in found if p.end <= p.other_start]


def find_passage(
    library_id: int, revision: SourceText, start: int, end: int, *, min_words: int | None = None
) -> list[SharedPassage]:
    """Other occurrences of the passage [start, end) of `revision`: elsewhere in the same
    text and in the indexed texts of the library's other sources.

    Every shingle of the passage is looked up (not only the winnowed ones), so a run of
    GUARANTEED_WORDS words the library holds is always found, and shorter ones mostly.
    Passages shorter than `min_words` are looked for whole (all their words must match)."""
    this = words_of_revision(revision)
    span = this.between(start, end)
    min_words = min(min_words or default_min_words(), len(span))
    hashes = shingle_hashes(this.words[span.start : span.stop])
    query = _query_of((value, span.start + i) for i, value in enumerate(hashes))
    found = _search(
        library_id,
        this,
        query,
        exclude_source=revision.source_id,
        min_words=min_words,
        within=span,
    )
    found.extend(_elsewhere_in_text(this, revision.pk, query, span, min_words))
    return sorted(found, key=lambda p: (-p.words, -p.similarity, p.other_text_id))


def passage_words(revision: SourceText, start: int, end: int) -> int:
    """How many words lie wholly inside [start, end) of `revision`."""
    return len(words_of_revision(revision).between(start, end))


def _elsewhere_in_text(
    this: Words, text_id: int, query: dict[int, list[int]], span: range, min_words: int
) -> list[SharedPassage]:
    all_hashes = shingle_hashes(this.words)
    hits = [
        (a, b)
        for b, value in enumerate(all_hashes)
        if value in query and not span.start - SHINGLE < b < span.stop
        for a in query[value][:MAX_HITS_PER_HASH]
    ]
    return align(this, this, hits, other_id=text_id, min_words=min_words, within=span, avoid=span)
