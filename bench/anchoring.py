"""Benchmark: re-anchor 10,000 annotations on a revised 1 MB text, against ground truth.

    .venv/bin/python bench/anchoring.py [--size 1000000] [--annotations 10000] [--seed N]
                                        [--edits 1.0] [--repeat 3]

Generates a multilingual text (bench/corpus.py), annotations of varied lengths on it, then a
revision with a generated set of edits: insertions (some at the very beginning), typo fixes all
over the text and inside quotes, whitespace changes, deleted sentences and paragraphs,
paragraphs duplicated earlier in the text, paragraphs moved. Every edit keeps track of which old
characters survive and where they go, so each annotation has a known answer: its new span,
an edited span that a fuzzy match should find, or nothing (it should be orphaned). Then it
times `reanchor` and checks every placement. Exit status 1 if an anchor is misplaced or fewer
than 99 % are right.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

# Run as a script from anywhere: the repository root holds `bench` and the Django apps.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotations.anchoring import (  # noqa: E402
    FUZZY_QUOTE_SIMILARITY,
    MIN_FUZZY_QUOTE,
    Anchor,
    Placement,
    State,
    quote_selector,
    reanchor,
)
from bench.corpus import english_sentence, make_text, paragraph  # noqa: E402


class Progress:
    """A one-line progress bar on a terminal; silent when the output is not one."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.live = sys.stderr.isatty()
        self.update(0)

    def update(self, step: int = 1) -> None:
        self.done += step
        if self.live and (self.done % max(self.total // 100, 1) == 0 or self.done >= self.total):
            filled = 30 * self.done // self.total
            bar = "█" * filled + "·" * (30 - filled)
            sys.stderr.write(f"\r{self.label:<24} {bar} {self.done:>7,}/{self.total:,}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


# --- the revision and its ground truth -------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    kind: str
    start: int  # old range replaced (start == end: an insertion at start)
    end: int
    text: str = ""  # what replaces it
    source: tuple[int, int] | None = None  # old range carried here (a paragraph move)
    copy_of: tuple[int, int] | None = None  # old range copied here (a duplicated paragraph)


@dataclass
class Plan:
    old: str
    rng: random.Random
    edits: list[Edit] = field(default_factory=list)
    taken: list[tuple[int, int]] = field(default_factory=list)  # sorted old ranges in use
    # A passage copied elsewhere and then cut from its place has moved: the ground truth could
    # not tell the copy from the original, so copied passages are never cut, nor cut ones copied.
    copied: list[tuple[int, int]] = field(default_factory=list)
    cut: list[tuple[int, int]] = field(default_factory=list)

    def take(self, start: int, end: int) -> bool:
        """Reserve old[start:end] (and one code point around it) for one edit only."""
        k = bisect_right(self.taken, (start, end))
        neighbours = self.taken[max(0, k - 1) : k + 1]
        if any(start - 1 < b and a < end + 1 for a, b in neighbours):
            return False
        self.taken.insert(k, (start, end))
        return True

    def add(self, edit: Edit, *also: tuple[int, int]) -> bool:
        """Plan `edit` if its range (and the other ranges it touches) are still free."""
        source = edit.source or (edit.start, edit.end)
        if edit.kind in ("delete", "move-in") and _overlaps(source, self.copied):
            return False
        if edit.copy_of and _overlaps(edit.copy_of, self.cut):
            return False
        reserved: list[tuple[int, int]] = []
        for start, end in [(edit.start, edit.end), *also]:
            if not self.take(start, end):
                for taken in reserved:
                    self.taken.remove(taken)
                return False
            reserved.append((start, end))
        self.edits.append(edit)
        if edit.kind in ("delete", "move-in"):
            self.cut.append(source)
        if edit.copy_of:
            self.copied.append(edit.copy_of)
        return True


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


@dataclass(frozen=True)
class Revision:
    text: str
    old_starts: list[int]  # pieces of old text carried over, sorted by old start
    new_starts: list[int]
    sizes: list[int]

    def piece(self, position: int) -> int | None:
        k = bisect_right(self.old_starts, position) - 1
        return k if k >= 0 and position < self.old_starts[k] + self.sizes[k] else None

    def to_new(self, position: int) -> int | None:
        k = self.piece(position)
        return None if k is None else self.new_starts[k] + position - self.old_starts[k]

    def surviving(self, start: int, end: int) -> list[tuple[int, int]]:
        """New spans of the old characters of start..end that survive."""
        spans = []
        for k, old in enumerate(self.old_starts):
            low, high = max(start, old), min(end, old + self.sizes[k])
            if low < high:
                spans.append((self.new_starts[k] + low - old, self.new_starts[k] + high - old))
        return spans


def paragraph_starts(text: str) -> list[int]:
    starts, at = [0], text.find("\n\n")
    while at != -1:
        starts.append(at + 2)
        at = text.find("\n\n", at + 2)
    return starts


def sentence_starts(text: str) -> list[int]:
    starts, at = [], text.find(". ")
    while at != -1:
        starts.append(at + 2)
        at = text.find(". ", at + 2)
    return starts


SCRIPTS = (
    ("abcdefghijklmnopqrstuvwxyz", str.isascii),
    ("абвгдежзиклмнопрстуфхцчшщыэюя", lambda c: "а" <= c.lower() <= "я"),
    ("的一是不了人我在有他这中大来上国个到说们", lambda c: "\u4e00" <= c <= "\u9fff"),
)


def typo(rng: random.Random, char: str) -> str:
    """Another character of the same script: what an OCR fix or a transcriber changes."""
    for alphabet, belongs in SCRIPTS:
        if belongs(char):
            return rng.choice([c for c in alphabet if c != char.lower()])
    return "x"


def plan_edits(old: str, anchors: list[Anchor], rng: random.Random, scale: float) -> Plan:
    """About 1,300 edits per million code points, of every kind a new revision brings."""
    plan = Plan(old, rng)

    def count(n: int) -> int:
        return max(1, round(n * scale))

    plan_insertions(plan, count)
    plan_typos(plan, anchors, count)
    plan_cuts_copies_and_moves(plan, count)
    return plan


def plan_insertions(plan: Plan, count: Callable[[int], int]) -> None:
    old, rng = plan.old, plan.rng
    paragraphs, sentences = paragraph_starts(old), sentence_starts(old)
    for start in paragraphs[:5]:  # before everything else
        plan.add(Edit("insert", start, start, paragraph(rng) + "\n\n"))
    for _ in range(count(200)):
        at = rng.choice(paragraphs)
        plan.add(Edit("insert", at, at, paragraph(rng) + "\n\n"))
    for _ in range(count(100)):
        at = rng.choice(sentences)
        plan.add(Edit("insert", at, at, english_sentence(rng) + " "))


def plan_typos(plan: Plan, anchors: list[Anchor], count: Callable[[int], int]) -> None:
    """Typo fixes anywhere, inside quotes, and doubled spaces between sentences."""
    old, rng = plan.old, plan.rng
    for _ in range(count(1000)):
        at = rng.randrange(len(old))
        if old[at].isalpha():
            plan.add(Edit("typo", at, at + 1, typo(rng, old[at])))
    for anchor in rng.sample(anchors, count(100)):
        if anchor.end - anchor.start >= 3:
            at = rng.randrange(anchor.start + 1, anchor.end - 1)
            kind = rng.choice(["typo", "typo", "typo", "typo-insert", "typo-delete"])
            text = {"typo-insert": typo(rng, "a"), "typo-delete": ""}.get(kind, typo(rng, old[at]))
            plan.add(Edit(kind, at, at if kind == "typo-insert" else at + 1, text))
    for at in rng.sample(sentence_starts(old), count(100)):
        plan.add(Edit("whitespace", at - 1, at, "  "))


def plan_cuts_copies_and_moves(plan: Plan, count: Callable[[int], int]) -> None:
    old, rng = plan.old, plan.rng
    paragraphs, sentences = paragraph_starts(old), sentence_starts(old)
    spans = list(zip(paragraphs, paragraphs[1:], strict=False))
    for _ in range(count(20)):  # deleted sentences
        k = rng.randrange(len(sentences) - 1)
        start, end = sentences[k], sentences[k + 1]
        if end - start < 400 and "\n" not in old[start:end]:
            plan.add(Edit("delete", start, end))
    for _ in range(count(20)):  # deleted paragraphs
        start, end = rng.choice(spans)
        plan.add(Edit("delete", start, end))
    for _ in range(count(30)):  # a paragraph duplicated earlier in the text
        k = rng.randrange(3, len(spans))
        start, end = spans[k]
        at = paragraphs[rng.randrange(0, k - 1)]
        plan.add(Edit("duplicate", at, at, old[start:end], copy_of=(start, end)))
    for _ in range(count(30)):  # a paragraph moved at least five paragraphs away
        k, to = rng.randrange(len(spans)), rng.randrange(len(spans))
        if abs(to - k) > 5:
            start, end = spans[k]
            at = paragraphs[to]
            plan.add(Edit("move-in", at, at, source=(start, end)), (start, end))


def apply(plan: Plan) -> Revision:
    old, pieces, carried = plan.old, [], []
    length = cursor = 0

    def copy(start: int, end: int) -> None:
        nonlocal length
        if start < end:
            carried.append((start, length, end - start))
            pieces.append(old[start:end])
            length += end - start

    def emit(text: str) -> None:
        nonlocal length
        pieces.append(text)
        length += len(text)

    moved_out = {edit.source for edit in plan.edits if edit.source}
    cuts = [Edit("move-out", a, b) for a, b in moved_out]
    for edit in sorted(plan.edits + cuts, key=lambda e: (e.start, e.end)):
        copy(cursor, edit.start)
        cursor = max(cursor, edit.start)
        if edit.source:
            copy(*edit.source)
        else:
            emit(edit.text)
        cursor = max(cursor, edit.end)
    copy(cursor, len(old))
    carried.sort()
    return Revision(
        "".join(pieces), [c[0] for c in carried], [c[1] for c in carried], [c[2] for c in carried]
    )


@dataclass(frozen=True)
class Truth:
    kind: str  # "exact": span expected; "edited": fuzzy span expected; "lost": orphan expected
    span: tuple[int, int] | None
    surviving: list[tuple[int, int]]


def truth(revision: Revision, anchor: Anchor) -> Truth:
    start, end = anchor.start, anchor.end
    k = revision.piece(start)
    if k is not None and end <= revision.old_starts[k] + revision.sizes[k]:
        moved = revision.to_new(start)
        return Truth("exact", (moved, moved + end - start), [])
    first, last = _edge(revision, start, 1), _edge(revision, end - 1, -1)
    surviving = revision.surviving(start, end)
    if first is not None and last is not None and first <= last < first + 2 * (end - start):
        found = revision.text[first : last + 1]
        if " ".join(found.split()) == " ".join(anchor.exact.split()):
            return Truth("edited", (first, last + 1), surviving)
        similarity = Levenshtein.normalized_similarity(anchor.exact, found)
        if len(anchor.exact) >= MIN_FUZZY_QUOTE and similarity >= FUZZY_QUOTE_SIMILARITY:
            return Truth("edited", (first, last + 1), surviving)
    return Truth("lost", None, surviving)


def _edge(revision: Revision, position: int, step: int) -> int | None:
    """Where an end of a quote went, even if a typo fix replaced the code point at the end."""
    for distance in range(3):
        moved = revision.to_new(position + step * distance)
        if moved is not None:
            return moved - step * distance
    return None


# --- annotations and verdicts ----------------------------------------------------------------

LENGTHS = ((0.15, 2, 11), (0.45, 12, 120), (0.30, 121, 600), (0.10, 601, 3000))


def make_anchors(text: str, count: int, rng: random.Random) -> list[Anchor]:
    """Selections as a reader makes them: whole words where there are spaces, varied lengths."""
    anchors = []
    progress = Progress("annotations", count)
    while len(anchors) < count:
        _, low, high = rng.choices(LENGTHS, weights=[w for w, _, _ in LENGTHS])[0]
        start = rng.randrange(len(text) - high - 1)
        space = text.find(" ", start, start + 12)
        start = space + 1 if space != -1 else start
        end = start + rng.randint(low, high)
        space = text.rfind(" ", end - 12, end)
        end = space if space > start + low else end
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 2 and not text[start].isspace():
            anchors.append(Anchor(start, end, *quote_selector(text, start, end)))
            progress.update()
    progress.close()
    return anchors


def verdict(expected: Truth, placed: Placement) -> str:
    span = (placed.start, placed.end)
    if placed.state is State.ORPHANED:
        return "orphaned as expected" if expected.kind == "lost" else "orphaned, unexpected"
    if expected.span is not None and span == expected.span:
        return "correct"
    if expected.kind == "edited" and span == (expected.surviving[0][0], expected.surviving[-1][1]):
        return "correct"  # an end code point was deleted: the quote now ends one sooner
    targets = [expected.span] if expected.span else expected.surviving
    overlaps = any(placed.start < b and a < placed.end for a, b in targets)
    if expected.kind == "lost":
        return "placed on surviving text" if overlaps else "MISPLACED"
    return "ends off" if overlaps else "MISPLACED"


GOOD = {"correct", "orphaned as expected", "placed on surviving text"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="code points of text")
    parser.add_argument("--annotations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is reported)")
    parser.add_argument(
        "--edits", type=float, default=1.0, help="edit rate: 1 is ~1,300 edits per 1M code points"
    )
    args = parser.parse_args()
    rng = random.Random(f"{args.seed}:annotations and edits")  # not the text's stream

    old = make_text(args.size, seed=args.seed)
    anchors = make_anchors(old, args.annotations, rng)
    plan = plan_edits(old, anchors, rng, scale=args.edits * args.size / 1_000_000)
    revision = apply(plan)
    truths = [truth(revision, anchor) for anchor in anchors]

    timings, placements = [], []
    progress = Progress("reanchor (timed runs)", args.repeat)
    for _ in range(args.repeat):
        started, cpu = time.perf_counter(), time.process_time()
        placements = reanchor(old, revision.text, anchors)
        timings.append((time.perf_counter() - started, time.process_time() - cpu))
        progress.update()
    progress.close()

    verdicts: Counter[str] = Counter()
    by_kind: Counter[tuple[str, str]] = Counter()
    progress = Progress("checking", len(anchors))
    for expected, placed in zip(truths, placements, strict=True):
        result = verdict(expected, placed)
        verdicts[result] += 1
        by_kind[expected.kind, result] += 1
        progress.update()
    progress.close()
    report(args, old, revision, plan, timings, placements, verdicts, by_kind)
    good = sum(verdicts[v] for v in GOOD) / len(anchors)
    return 1 if verdicts["MISPLACED"] or good < 0.99 else 0


def report(
    args: argparse.Namespace,
    old: str,
    revision: Revision,
    plan: Plan,
    timings: list[tuple[float, float]],
    placements: list[Placement],
    verdicts: Counter[str],
    by_kind: Counter[tuple[str, str]],
) -> None:
    edits = Counter(edit.kind for edit in plan.edits)
    states = Counter(placement.state.value for placement in placements)
    total = len(placements)
    good = sum(verdicts[v] for v in GOOD)
    print(f"text: {len(old):,} code points, revised: {len(revision.text):,}; seed {args.seed}")
    print("edits: " + ", ".join(f"{kind} {n}" for kind, n in sorted(edits.items())))
    print(f"annotations: {total:,}")
    wall, cpu = zip(*timings, strict=True)
    print(
        f"reanchor: best {min(wall):.3f} s wall ({min(cpu):.3f} s CPU), "
        f"median {statistics.median(wall):.3f} s wall, over {len(timings)} runs"
    )
    print("states: " + ", ".join(f"{state} {n}" for state, n in sorted(states.items())))
    for kind in ("exact", "edited", "lost"):
        rows = {v: n for (k, v), n in by_kind.items() if k == kind}
        expected = sum(rows.values())
        detail = ", ".join(f"{v} {n}" for v, n in sorted(rows.items()))
        print(f"expected {kind:<6} {expected:>6,}: {detail}")
    share = 100 * good / total
    print(f"right: {good:,} of {total:,} ({share:.2f} %), misplaced: {verdicts['MISPLACED']}")


if __name__ == "__main__":
    raise SystemExit(main())
