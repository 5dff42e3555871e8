"""The reading view of a text revision and the comparison of two revisions.

Both work on the canonical text, so the offsets the reading view carries (`data-start`)
are the code-point offsets annotations use.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sources.models import SourceText

# CJK ideographs and kana have no spaces between words: one character is one token, so a
# corrected character in a Chinese sentence does not mark the whole sentence as changed.
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
    r"|\w+|\s+|[^\w\s]"
)
# Unchanged runs longer than this many lines are folded, keeping CONTEXT lines each side.
FOLD_OVER = 8
CONTEXT = 3
# What one comparison may spend on lines, and again on words: elements looked at once the
# common beginnings and ends are set aside, and pairs of elements difflib compares. Past it
# the changed paragraphs are shown whole, and the page says so.
MAX_COMPARE_WORK = 1_000_000
# Stretches without an element unique to both sides are compared by difflib, which is
# quadratic, when they are small: at most this many pairs of elements.
EXACT_DIFF_PAIRS = 10_000


@dataclass
class Piece:
    """Text of a paragraph, or (with `page` set and no text) the point where a page begins."""

    text: str
    page: str | None = None


@dataclass
class Block:
    """A paragraph of the reading view and the pages that begin in it, at their offsets
    inside it (page breaks in the blank lines before it are placed at its start)."""

    start: int
    text: str
    breaks: list[tuple[int, str]] = field(default_factory=list)

    @property
    def pages(self) -> list[str]:
        return [label for _, label in self.breaks]

    @property
    def pieces(self) -> list[Piece]:
        pieces, done = [], 0
        for at, label in self.breaks:
            if at > done:
                pieces.append(Piece(self.text[done:at]))
                done = at
            pieces.append(Piece("", label))
        if done < len(self.text):
            pieces.append(Piece(self.text[done:]))
        return pieces


@dataclass
class Segment:
    """A run of text in a comparison: equal, insert, delete, or fold (unchanged, hidden)."""

    op: str
    text: str

    @property
    def line_count(self) -> int:
        return self.text.count("\n")


def reading_blocks(
    revision: SourceText, *, first: int = 0, chars: int | None = None
) -> list[Block]:
    """Paragraphs with their offsets, each carrying the page breaks that fall in it; from
    paragraph `first` on and, given `chars`, only as many as hold that many code points
    (at least one): the reading view sends its first screens with the page and streams
    the rest (a 1 MB text is 2.6 MB of HTML that took the browser 1.5 s to parse)."""
    pages = sorted((int(start), str(label)) for start, label in revision.page_map or [])
    paragraphs = revision.paragraphs()
    blocks: list[Block] = []
    index, total = 0, 0
    for number, (start, text) in enumerate(paragraphs):
        if chars is not None and blocks and total + len(text) > chars:
            break  # enough: the rest is neither built nor sent
        block, last = Block(start, text), number == len(paragraphs) - 1
        while index < len(pages) and (pages[index][0] < start + len(text) or last):
            at = min(max(pages[index][0] - start, 0), len(text))
            block.breaks.append((at, pages[index][1]))
            index += 1
        if number >= first:
            blocks.append(block)
            total += len(text)
    return blocks


class Comparison(list[Segment]):
    """The segments of a comparison; `coarse` when some changed paragraphs were too
    different to compare word by word within MAX_COMPARE_WORK and are shown whole."""

    coarse: bool = False


def compare_texts(old: str, new: str) -> Comparison:
    """A word-level comparison: lines first, then words inside changed lines, each by
    `matching_runs` (near-linear in the length of the texts, whatever they hold)."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    line_work, word_work = Work(MAX_COMPARE_WORK), Work(MAX_COMPARE_WORK)
    segments: list[Segment] = []
    complete = True
    for op, i1, i2, j1, j2 in opcodes(old_lines, new_lines, line_work)[0]:
        if op == "equal":
            segments.extend(_fold("".join(old_lines[i1:i2])))
        elif op == "replace":
            for before, after in _pairs(old_lines[i1:i2], new_lines[j1:j2]):
                changed, compared = _word_diff(before, after, word_work)
                segments += changed
                complete = complete and compared
        else:
            text = "".join(old_lines[i1:i2]) or "".join(new_lines[j1:j2])
            segments.append(Segment("delete" if i2 > i1 else "insert", text))
    comparison = Comparison(_merge(segments))
    comparison.coarse = not complete
    return comparison


def change_count(segments: list[Segment]) -> dict[str, int]:
    """How many runs were inserted and deleted, for the summary line."""
    return {
        "insert": sum(1 for s in segments if s.op == "insert"),
        "delete": sum(1 for s in segments if s.op == "delete"),
    }


def _pairs(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """Changed lines to compare word by word: line by line when as many changed on each
    side (a paragraph edited in place), else the stretch as a whole."""
    if len(old) == len(new):
        return list(zip(old, new, strict=True))
    return [("".join(old), "".join(new))]


def _word_diff(before: str, after: str, work: Work) -> tuple[list[Segment], bool]:
    """The segments of one changed stretch, and whether it was compared word by word (else
    it is shown whole). The common beginning and end are found in the characters first,
    back to a word's edge: only what changed is cut into words."""
    head, tail = _common_ends(before, after)
    old, new = (
        _TOKEN.findall(before[head : len(before) - tail]),
        _TOKEN.findall(after[head : len(after) - tail]),
    )
    found, compared = opcodes(old, new, work)
    if not compared:
        return [Segment("delete", before), Segment("insert", after)], False
    segments = [Segment("equal", before[:head])]
    for op, i1, i2, j1, j2 in found:
        if op == "equal":
            segments.append(Segment("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(old[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(new[j1:j2])))
    segments.append(Segment("equal", before[len(before) - tail :]))
    return segments, True


def _common_ends(a: str, b: str) -> tuple[int, int]:
    """How many characters `a` and `b` share at their start and at their end, neither
    ending inside a word. Found by halving (slices compare in C)."""
    most = min(len(a), len(b))
    head = _longest(lambda k: a[:k] == b[:k], most)
    while head and _in_word(a, head):
        head -= 1
    rest = most - head
    tail = _longest(lambda k: a[len(a) - k :] == b[len(b) - k :], rest)
    while tail and _in_word(a, len(a) - tail):
        tail -= 1
    return head, tail


def _longest(holds: Callable[[int], bool], most: int) -> int:
    """The largest k <= most with holds(k), for a `holds` true up to some k and false after."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _in_word(text: str, at: int) -> bool:
    """Whether `at` falls between two characters of one word (a token of `_TOKEN`)."""
    return 0 < at < len(text) and text[at - 1].isalnum() and text[at].isalnum()


# ---------------------------------------------------------------------------
# Matching two sequences (lines, words)
# ---------------------------------------------------------------------------


@dataclass
class Work:
    """What is left to spend on comparing, in elements looked at."""

    left: int

    def spend(self, amount: int) -> bool:
        self.left -= amount
        return self.left >= 0


Opcode = tuple[str, int, int, int, int]


def opcodes(a: Sequence[str], b: Sequence[str], work: Work) -> tuple[list[Opcode], bool]:
    """difflib-style (op, i1, i2, j1, j2) from `matching_runs`: equal, replace, delete,
    insert; and whether everything was compared."""
    runs, complete = matching_runs(a, b, work)
    result, i, j = [], 0, 0
    for ai, bj, size in [*runs, (len(a), len(b), 0)]:
        if i < ai or j < bj:
            op = "replace" if i < ai and j < bj else "delete" if i < ai else "insert"
            result.append((op, i, ai, j, bj))
        if size:
            result.append(("equal", ai, ai + size, bj, bj + size))
        i, j = ai + size, bj + size
    return result, complete


def matching_runs(
    a: Sequence[str], b: Sequence[str], work: Work
) -> tuple[list[tuple[int, int, int]], bool]:
    """(i, j, n) with a[i:i+n] == b[j:j+n], in order on both sides, and whether all was
    compared. A patience diff: the common beginning and end are set aside, the elements
    found once on each side anchor the match (their longest run in the same order), and
    each stretch between anchors is matched the same way; a small stretch with no anchor
    goes to difflib. difflib alone is quadratic (two 40 KB revisions took 52 s); this looks
    at each element once per level, and `work` bounds the levels: a stretch it cannot
    afford, or too large for difflib, stays unmatched (and the answer says so)."""
    runs: list[tuple[int, int, int]] = []
    complete = True
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = _set_ends_aside(a, b, *stack.pop(), runs)
        if alo == ahi or blo == bhi:
            continue
        if not work.spend(ahi - alo + bhi - blo):
            return _joined(sorted(runs)), False  # the rest stays unmatched
        anchors = _unique_anchors(a[alo:ahi], b[blo:bhi])
        pairs = (ahi - alo) * (bhi - blo)
        if anchors:
            runs += [(alo + i, blo + j, 1) for i, j in anchors]
            edges = [(alo - 1, blo - 1), *((alo + i, blo + j) for i, j in anchors), (ahi, bhi)]
            stack += [(i + 1, k, j + 1, m) for (i, j), (k, m) in itertools.pairwise(edges)]
        elif pairs <= EXACT_DIFF_PAIRS and work.spend(pairs):
            matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            runs += [(alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks() if n]
        else:
            complete = False
    return _joined(sorted(runs)), complete


def _set_ends_aside(
    a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int, runs: list
) -> tuple[int, int, int, int]:
    """Record the stretch's common beginning and end as runs; what lies between."""
    start = 0
    while alo + start < ahi and blo + start < bhi and a[alo + start] == b[blo + start]:
        start += 1
    if start:
        runs.append((alo, blo, start))
    alo, blo = alo + start, blo + start
    end = 0
    while alo < ahi - end and blo < bhi - end and a[ahi - end - 1] == b[bhi - end - 1]:
        end += 1
    if end:
        runs.append((ahi - end, bhi - end, end))
    return alo, ahi - end, blo, bhi - end


def _unique_anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of elements found once in `a` and once in `b`, their longest run in the
    same order on both sides (patience sorting, O(k log k))."""
    count_a, count_b = Counter(a), Counter(b)
    where_b = {x: j for j, x in enumerate(b) if count_b[x] == 1}
    pairs = [(i, where_b[x]) for i, x in enumerate(a) if count_a[x] == 1 and x in where_b]
    tails: list[int] = []  # tails[k]: the smallest j ending an increasing run of k + 1 pairs
    ends: list[int] = []  # ends[k]: the index in `pairs` of that pair
    before: list[int] = []  # before[p]: the pair preceding pair p in its run
    for p, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        before.append(ends[k - 1] if k else -1)
        tails[k : k + 1], ends[k : k + 1] = [j], [p]
    chain, p = [], ends[-1] if ends else -1
    while p >= 0:
        chain.append(pairs[p])
        p = before[p]
    return chain[::-1]


def _joined(runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Adjacent runs as one."""
    joined: list[tuple[int, int, int]] = []
    for i, j, n in runs:
        if joined and joined[-1][0] + joined[-1][2] == i and joined[-1][1] + joined[-1][2] == j:
            joined[-1] = (joined[-1][0], joined[-1][1], joined[-1][2] + n)
        else:
            joined.append((i, j, n))
    return joined


def _fold(text: str) -> list[Segment]:
    lines = text.splitlines(keepends=True)
    if len(lines) <= FOLD_OVER:
        return [Segment("equal", text)]
    return [
        Segment("equal", "".join(lines[:CONTEXT])),
        Segment("fold", "".join(lines[CONTEXT:-CONTEXT])),
        Segment("equal", "".join(lines[-CONTEXT:])),
    ]


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if merged and merged[-1].op == segment.op and segment.op != "fold":
            merged[-1] = Segment(segment.op, merged[-1].text + segment.text)
        else:
            merged.append(segment)
    return merged
