"""Where an annotation lands on a new revision of its text (pure functions over strings).

An annotation keeps a W3C TextPositionSelector (start, end in code points: Python str indices)
and a TextQuoteSelector (exact, prefix, suffix). When a source gets a new SourceText revision,
`reanchor(old_text, new_text, anchors)` places every annotation of the old revision at once;
`locate(text, anchor)` places one quote in a text when no old revision is at hand.

Each anchor is tried, in order:

1. the same offsets with the same quote: ANCHORED;
2. the exact quote where the old position now is: MOVED (or ANCHORED if the offsets did not
   change). One diff of the two revisions maps every old offset at once, so 10,000 annotations
   cost one diff, not 10,000 searches. A quote the diff cannot carry (a moved paragraph) is
   searched with `str.find` in the parts of the new text that the diff marks as changed, the
   only places where an old passage can have gone: an occurrence inside unchanged text is by
   construction another passage. Prefix/suffix similarity, then the distance to the old
   position, choose between repeats;
3. a fuzzy match for quotes of at least MIN_FUZZY_QUOTE code points, whose Levenshtein
   similarity (rapidfuzz) reaches FUZZY_QUOTE_SIMILARITY: where the diff carried both ends of
   the quote (edited in place; there a quote of MIN_EDITED_WORDS words or more with one word
   inserted, dropped or replaced is fuzzy too), else in a window around the old position,
   else in the changed parts of the text, seeded by exact pieces of the quote. Score = the
   quote's similarity;
4. otherwise ORPHANED (start and end None): shown to the reader, never deleted.

Never a misplaced anchor; a doubtful match is an orphan:
- a place the diff vouches for needs one side of its context about right
  (CARRIED_CONTEXT_SIMILARITY); a place found by searching needs both sides, as far as the
  nearest line break (a moved paragraph keeps its own words, not its neighbours), with the
  same numbers, and one side touching the quote exactly. Archival texts repeat formulae
  ("[Source: APRF, f. 45, op. 1, d. 329 ...]") that differ only in their digits;
- a fuzzy match found by searching never changes a number in the quote;
- a quote the diff shows edited in place stays there (FUZZY) or is orphaned: an exact copy
  elsewhere, such as a duplicated paragraph, is another passage;
- a found place whose surroundings repeat old text that the diff carried somewhere else is a
  copy of a passage since cut (`_Target.is_copy`), not the passage;
- a quote of LONG_QUOTE code points or more that occurs once in each revision needs no context.

Why this diff. Characters are the unit we map, but one character diff of two 1 MB texts is
too slow: measured on the benchmark's revision (bench/README.md), diff-match-patch needs 5.3 s
of CPU to finish (with its 1 s timeout it returns a useless three-part diff), and difflib's
SequenceMatcher took 4.7 s on the lines and 18 s on the sentences (without autojunk, which
would discard the most frequent lines). rapidfuzz's bit-parallel LCS (`Indel.opcodes`) aligns
the 7,000 lines in about 10 ms, but keeps an n×m/64 bit matrix, so it only sees bounded
pieces. The diff is therefore hierarchical: lines, then sentences inside the lines that
changed, then words, then characters inside the small blocks that still differ: 40–90 ms, and
it finds as many equal characters as the unbounded diff-match-patch (99.2 %). Blocks too large
for one matrix are split on tokens that occur once in each side (patience diff) before what
lies between is aligned. Tiny equal runs inside a rewritten block are dropped: they are
coincidences, not the same passage.
Alignments of small blocks use difflib's longest-match-first SequenceMatcher, which keeps words
that stand together together where an LCS may scatter them into an inserted passage.

Measured with bench/anchoring.py (figures and machine in bench/README.md): 10,000 annotations
on a 1 MB multilingual text with about 1,300 edits re-anchor in about 0.24 s of CPU, the diff
taking 40–90 ms of it; 100 % right, none misplaced, and none misplaced at ten times the edits.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Levenshtein

CONTEXT = 32  # code points of prefix/suffix
MIN_FUZZY_QUOTE = 12  # shorter quotes are never fuzzy-matched (never land on a wrong passage)
FUZZY_QUOTE_SIMILARITY = 0.85  # normalised Levenshtein similarity a fuzzy quote must reach
MIN_EDITED_WORDS = 4  # a quote edited in place by one word is fuzzy from this many words
CONTEXT_SIMILARITY = 0.9  # a side of the context of a quote found by search (random: < 0.66)
CARRIED_CONTEXT_SIMILARITY = 0.75  # the same, for a quote the diff carried to its new place
LONG_QUOTE = 32  # a quote this long, unique in both texts, needs no context to move
PARAGRAPH_CONTEXT = 16  # the part of a context inside the quote's paragraph may vouch alone
TOUCHING_CONTEXT = 16  # code points next to a quote found by search that must match exactly
COPY_CHECK = 64  # code points compared to tell a copy from the original (formulae repeat)
MIN_RUN = 8  # shorter equal runs inside a changed block are coincidences
SMALL_CELLS = 20_000  # below this n×m, difflib's longest-match alignment (microseconds)
MAX_CELLS = 100_000_000  # n×m bound of one LCS matrix (12.5 MB of bits, ~20 ms)
MAX_OCCURRENCES = 200  # exact occurrences scored per anchor, nearest to the expected place
SEED_PIECES = 4  # exact pieces of a quote looked for in a fuzzy search (each one scan)
SEED_HITS = 50  # occurrences of one piece of a quote followed in a fuzzy search
FUZZY_CANDIDATES = 12  # places verified per fuzzy search
BOUNDARY = 16  # code points either side of a boundary compared when refining a fuzzy match
EDGE_SLACK = 3  # code points at an end of a quote a typo fix may have replaced
SEPARATOR = "\x00"  # between the changed regions searched as one string
_DIGITS = re.compile(r"\d+")

# Tokens keep the whitespace that follows them, so that a blank line is never a token of its
# own: a token that common would pair the wrong changed blocks with each other.
_TOKENS = (
    re.compile(r"[^\n]*\n\s*|[^\n]+"),  # lines
    re.compile(r"[^.!?;。！？\n]*(?:[.!?;。！？]+|\n|$)\s*"),  # sentences
    re.compile(r"\S*\s*"),  # words
)


class State(StrEnum):
    ANCHORED = "anchored"
    MOVED = "moved"
    FUZZY = "fuzzy"
    ORPHANED = "orphaned"


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    exact: str
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Placement:
    state: State
    start: int | None
    end: int | None
    score: float  # similarity of the quote: 1.0 exact, 0.0 orphaned


ORPHAN = Placement(State.ORPHANED, None, None, 0.0)


def quote_selector(text: str, start: int, end: int, context: int = CONTEXT) -> tuple[str, str, str]:
    """The (exact, prefix, suffix) of a TextQuoteSelector for text[start:end]."""
    if not 0 <= start < end <= len(text):
        raise ValueError(f"selection {start}–{end} is empty or outside the text (0–{len(text)})")
    return text[start:end], text[max(0, start - context) : start], text[end : end + context]


def locate(text: str, anchor: Anchor, *, hint: int | None = None) -> Placement:
    """Place one quote in `text`, expected near `hint` (default: its old start)."""
    expected = anchor.start if hint is None else hint
    if not anchor.exact:
        return ORPHAN
    if _holds(text, anchor, anchor.start, anchor.end):
        return Placement(State.ANCHORED, anchor.start, anchor.end, 1.0)
    return _search(_Target.whole(text), anchor, min(max(expected, 0), len(text)))


def reanchor(old_text: str, new_text: str, anchors: Sequence[Anchor]) -> list[Placement]:
    """Place each anchor of `old_text` in `new_text`; one Placement per anchor, same order."""
    if old_text == new_text:
        return [locate(new_text, anchor) for anchor in anchors]
    runs = _Runs.between(old_text, new_text)
    target = _Target.changed(new_text, runs, old_text)
    return [_reanchor_one(old_text, target, runs, anchor) for anchor in anchors]


# --- one anchor ------------------------------------------------------------------------------


def _reanchor_one(old_text: str, target: _Target, runs: _Runs, anchor: Anchor) -> Placement:
    start, end, exact = anchor.start, anchor.end, anchor.exact
    if not exact or start < 0 or old_text[start:end] != exact:
        return locate(target.text, anchor)  # the stored offsets never matched: search
    first, last = runs.containing(start), runs.containing(end - 1)
    if first is not None and first == last:
        moved = runs.to_new(first, start)
        if _accept_exact(target, anchor, moved, moved + len(exact), carried=True):
            state = State.ANCHORED if moved == start else State.MOVED
            return Placement(state, moved, moved + len(exact), 1.0)
    if _holds(target.text, anchor, start, end):
        return Placement(State.ANCHORED, start, end, 1.0)
    reach = min(EDGE_SLACK, (end - start - 1) // 2)
    head, tail = runs.carried_near(start, 1, reach), runs.carried_near(end - 1, -1, reach)
    if head is not None and tail is not None and (first is None or first != last):
        # Both ends survive: the passage is still there, edited inside. An exact copy elsewhere
        # (a duplicated paragraph) is another passage, so this one is fuzzy here or orphaned.
        return _edited_in_place(target.text, anchor, head, tail)
    return _search(target, anchor, runs.approx(start))


def _edited_in_place(
    text: str, anchor: Anchor, head: tuple[int, bool], tail: tuple[int, bool]
) -> Placement:
    """The quote between the new places of its ends, if it is still like itself there."""
    (start, start_carried), (last, end_carried), exact = head, tail, anchor.exact
    if not start_carried:  # a typo fix replaced the first code point: find the boundary
        start = _boundary(text, anchor.prefix[-BOUNDARY:], exact[:BOUNDARY], start, EDGE_SLACK)
    end = last + 1
    if not end_carried:
        end = _boundary(text, exact[-BOUNDARY:], anchor.suffix[:BOUNDARY], end, EDGE_SLACK)
    found = text[start:end]
    similarity = Levenshtein.normalized_similarity(exact, found)
    close = similarity >= FUZZY_QUOTE_SIMILARITY or _one_word_edited(exact, found)
    fuzzy = len(exact) >= MIN_FUZZY_QUOTE and close
    alike = fuzzy or _squash(found) == _squash(exact)  # whitespace only: any length
    if start < end and alike and _context_agrees(text, anchor, start, end):
        return Placement(State.FUZZY, start, end, similarity)
    return ORPHAN


def _one_word_edited(exact: str, found: str) -> bool:
    """A quote of MIN_EDITED_WORDS words or more with one word inserted, dropped or
    replaced. In place (both ends carried, the context agreeing) that is the same passage,
    though a word is a large share of a short quote: «Товарищ Сталин принял нас вечером»
    with «радушно» inserted is 0.80 similar by characters."""
    words, edited = exact.split(), found.split()
    return len(words) >= MIN_EDITED_WORDS and Levenshtein.distance(words, edited) <= 1


def _search(target: _Target, anchor: Anchor, hint: int) -> Placement:
    """Steps 2 to 4 for one anchor that the diff could not carry."""
    if not anchor.exact:
        return ORPHAN
    best = _best_exact(target, anchor, hint)
    if best is not None:
        start, end = best
        state = State.ANCHORED if (start, end) == (anchor.start, anchor.end) else State.MOVED
        return Placement(state, start, end, 1.0)
    found = _fuzzy(target, anchor, hint)
    if found is None:
        return ORPHAN
    start, end, similarity = found
    return Placement(State.FUZZY, start, end, similarity)


def _holds(text: str, anchor: Anchor, start: int, end: int) -> bool:
    """The exact quote at start..end, with context that agrees."""
    return (
        start >= 0 and text[start:end] == anchor.exact and _context_agrees(text, anchor, start, end)
    )


# --- judging a candidate ---------------------------------------------------------------------


def _context(text: str, anchor: Anchor, start: int, end: int) -> list[tuple[int, float]]:
    """(weight, similarity) of each stored side of the context, against the text around."""
    sides = []
    if anchor.prefix:
        sides.append((len(anchor.prefix), _prefix_similarity(text, anchor.prefix, start)))
    if anchor.suffix:
        sides.append((len(anchor.suffix), _suffix_similarity(text, anchor.suffix, end)))
    return sides


def _prefix_similarity(text: str, prefix: str, start: int) -> float:
    similarity = _similarity(prefix, text[max(0, start - len(prefix)) : start])
    inside = prefix[prefix.rfind("\n") + 1 :]  # a paragraph moves with its own words only
    if similarity < 1 and PARAGRAPH_CONTEXT <= len(inside) < len(prefix):
        similarity = max(similarity, _similarity(inside, text[max(0, start - len(inside)) : start]))
    return similarity


def _suffix_similarity(text: str, suffix: str, end: int) -> float:
    similarity = _similarity(suffix, text[end : end + len(suffix)])
    inside = suffix.split("\n", 1)[0]
    if similarity < 1 and PARAGRAPH_CONTEXT <= len(inside) < len(suffix):
        similarity = max(similarity, _similarity(inside, text[end : end + len(inside)]))
    return similarity


def _similarity(stored: str, found: str) -> float:
    return 1.0 if stored == found else Indel.normalized_similarity(stored, found)


def _context_agrees(text: str, anchor: Anchor, start: int, end: int) -> bool:
    """For a place the diff vouches for: one side of the stored context is about there."""
    sides = _context(text, anchor, start, end)
    return not sides or max(similarity for _, similarity in sides) >= CARRIED_CONTEXT_SIMILARITY


def _context_found(text: str, anchor: Anchor, start: int, end: int) -> bool:
    """For a place found by searching rather than carried by the diff: each side of the stored
    context, as far as the nearest line break (a paragraph moves with its own words only), is
    there, with the same numbers; and one side touches the quote exactly. Repeated formulae
    ("[Source: APRF, f. 30, op. 7, d. 12 ...]") differ by a few digits, which similarity alone
    would forgive."""
    for stored, found in _paragraph_context(text, anchor, start, end):
        if _DIGITS.findall(stored) != _DIGITS.findall(found):
            return False
        near_enough = _similarity(stored, found) >= CONTEXT_SIMILARITY
        if not (near_enough if len(stored) >= PARAGRAPH_CONTEXT else stored == found):
            return False
    return _touching_context_exact(text, anchor, start, end)


def _paragraph_context(text: str, anchor: Anchor, start: int, end: int) -> list[tuple[str, str]]:
    """(stored, found) for each side of the context, cut after/before its nearest line break."""
    sides = []
    if anchor.prefix:
        stored = anchor.prefix[max(anchor.prefix.rfind("\n"), 0) :]
        if stored.startswith("\n") and start == len(stored) - 1:
            stored = stored[1:]  # the start of the text is a line break too
        sides.append((stored, text[max(0, start - len(stored)) : start]))
    if anchor.suffix:
        stored = anchor.suffix[: anchor.suffix.find("\n") + 1 or None]
        if stored.endswith("\n") and end + len(stored) - 1 == len(text):
            stored = stored[:-1]  # and so is its end
        sides.append((stored, text[end : end + len(stored)]))
    return sides


def _touching_context_exact(text: str, anchor: Anchor, start: int, end: int) -> bool:
    if not anchor.prefix and not anchor.suffix:
        return True
    before = anchor.prefix[-TOUCHING_CONTEXT:]
    after = anchor.suffix[:TOUCHING_CONTEXT]
    return bool(before and text[max(0, start - len(before)) : start] == before) or bool(
        after and text[end : end + len(after)] == after
    )


def _rank(text: str, anchor: Anchor, start: int, end: int, quote: float, hint: int) -> float:
    """Hypothesis' weights: quote 50, prefix 20, suffix 20, nearness to the old place 2."""
    sides = _context(text, anchor, start, end)
    weight = 50 + 20 * len(sides)
    score = 50 * quote + sum(20 * similarity for _, similarity in sides)
    return score / weight + 0.02 * (1 - abs(start - hint) / max(len(text), 1))


def _accept_exact(
    target: _Target, anchor: Anchor, start: int, end: int, *, carried: bool = False
) -> bool:
    """The exact quote at start..end is the passage annotated, placed by the diff or found."""
    if carried and _context_agrees(target.text, anchor, start, end):
        return True
    if not carried and _context_found(target.text, anchor, start, end):
        return True
    return len(anchor.exact) >= LONG_QUOTE and target.unique(anchor.exact)


# --- step 2: the exact quote -----------------------------------------------------------------


def _best_exact(target: _Target, anchor: Anchor, hint: int) -> tuple[int, int] | None:
    exact, text = anchor.exact, target.text
    ranked = [
        (_rank(text, anchor, start, start + len(exact), 1.0, hint), start)
        for start in _exact_candidates(target, anchor, hint)
        if _accept_exact(target, anchor, start, start + len(exact))
        and not target.is_copy(anchor, start, start + len(exact))
    ]
    if not ranked:
        return None
    start = max(ranked)[1]
    return start, start + len(exact)


def _exact_candidates(target: _Target, anchor: Anchor, hint: int) -> set[int]:
    """Occurrences nearest the expected place, and anywhere with a few code points of context."""
    exact = anchor.exact
    found = target.find_all(exact)
    nearest = sorted(found, key=lambda start: abs(start - hint))[:MAX_OCCURRENCES]
    candidates = set(nearest)
    if len(found) > MAX_OCCURRENCES and anchor.prefix:
        tail = anchor.prefix[-8:]
        candidates.update(start + len(tail) for start in target.find_all(tail + exact))
    if len(found) > MAX_OCCURRENCES and anchor.suffix:
        candidates.update(target.find_all(exact + anchor.suffix[:8]))
    return candidates


# --- step 3: a bounded fuzzy match -----------------------------------------------------------


def _fuzzy(target: _Target, anchor: Anchor, hint: int) -> tuple[int, int, float] | None:
    """Near the expected place first, then wherever the new text changed."""
    if len(anchor.exact) < MIN_FUZZY_QUOTE:
        return None
    found = _best_fuzzy(target, anchor, _window_guesses(target.text, anchor.exact, hint), hint)
    if found is None:
        found = _best_fuzzy(target, anchor, _seed_guesses(target, anchor.exact), hint)
    return found


def _best_fuzzy(
    target: _Target, anchor: Anchor, guesses: list[int], hint: int
) -> tuple[int, int, float] | None:
    best: tuple[float, int, int, float] | None = None
    for start, end in {_refine(target.text, anchor, guess) for guess in guesses}:
        similarity = _fuzzy_similarity(target.text, anchor, start, end)
        if similarity is None or target.is_copy(anchor, start, end):
            continue
        rank = _rank(target.text, anchor, start, end, similarity, hint)
        if best is None or rank > best[0]:
            best = (rank, start, end, similarity)
    return None if best is None else best[1:]


def _fuzzy_similarity(text: str, anchor: Anchor, start: int, end: int) -> float | None:
    """The quote's similarity at start..end if it passes the threshold and the context agrees."""
    if not 0 <= start < end <= len(text):
        return None
    found = text[start:end]
    similarity = Levenshtein.normalized_similarity(
        anchor.exact, found, score_cutoff=FUZZY_QUOTE_SIMILARITY
    )
    if not similarity or _DIGITS.findall(anchor.exact) != _DIGITS.findall(found):
        return None  # a number that changed is another fact, or another document
    if not _context_found(text, anchor, start, end):
        return None
    return similarity


def _window_guesses(text: str, exact: str, hint: int) -> list[int]:
    """Likely starts of the quote near the expected place."""
    slack = len(exact) // 2 + CONTEXT
    low, high = max(0, hint - slack), min(len(text), hint + len(exact) + slack)
    if high - low < len(exact):
        return []
    if len(exact) <= 64:  # rapidfuzz's bit-parallel sliding match: microseconds
        cutoff = 100 * FUZZY_QUOTE_SIMILARITY - 10
        aligned = fuzz.partial_ratio_alignment(exact, text[low:high], score_cutoff=cutoff)
        return [] if aligned is None else [low + aligned.dest_start - aligned.src_start]
    return _seed_guesses(_Target.window(text, low, high), exact)


def _seed_guesses(target: _Target, exact: str) -> list[int]:
    """Starts implied by exact pieces of the quote: one typo cannot hide every piece."""
    size = max(6, min(32, len(exact) // 4))
    count = min(SEED_PIECES, len(exact) // size)
    step = (len(exact) - size) / max(count - 1, 1)
    votes: Counter[int] = Counter()
    for k in range(count):
        offset = round(k * step)
        for start in target.find_all(exact[offset : offset + size], limit=SEED_HITS):
            votes[start - offset] += 1
    return [start for start, _ in votes.most_common(FUZZY_CANDIDATES)]


def _refine(text: str, anchor: Anchor, guess: int) -> tuple[int, int]:
    """Move the ends of a guessed span to where the stored context and quote ends fit best."""
    exact, reach = anchor.exact, max(4, min(32, len(anchor.exact) * 3 // 20))
    start = _boundary(text, anchor.prefix[-BOUNDARY:], exact[:BOUNDARY], guess, reach)
    end_guess = start + len(exact)
    end = _boundary(text, exact[-BOUNDARY:], anchor.suffix[:BOUNDARY], end_guess, reach)
    return start, end


def _boundary(text: str, left: str, right: str, guess: int, reach: int) -> int:
    """The position near `guess` where `left` ends and `right` begins, best matched."""
    best, best_score = guess, -1.0
    for distance in range(2 * reach + 1):
        position = guess + (distance + 1) // 2 * (1 if distance % 2 else -1)
        if not 0 <= position <= len(text):
            continue
        score = Indel.normalized_similarity(left, text[max(0, position - len(left)) : position])
        score += Indel.normalized_similarity(right, text[position : position + len(right)])
        if score > best_score:
            best, best_score = position, score
        if score == 2.0:  # both sides exact: nothing nearer can beat it
            break
    return best


def _squash(quote: str) -> str:
    return " ".join(quote.split())


# --- where to search -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """The text to anchor in, and the regions of it where a lost passage may be."""

    text: str
    regions: list[tuple[int, int]]  # sorted, disjoint (start, end) in text
    haystack: str  # the regions joined by SEPARATOR (the text itself when it is one region)
    starts: list[int]  # where each region begins in the haystack
    old_text: str | None = None
    runs: _Runs | None = None

    @classmethod
    def whole(cls, text: str) -> _Target:
        return cls(text, [(0, len(text))], text, [0])

    @classmethod
    def window(cls, text: str, low: int, high: int) -> _Target:
        return cls(text, [(low, high)], text[low:high], [0])

    @classmethod
    def changed(cls, new_text: str, runs: _Runs, old_text: str) -> _Target:
        regions = runs.changed_regions(len(new_text), pad=CONTEXT)
        pieces = [new_text[start:end] for start, end in regions]
        starts, offset = [], 0
        for piece in pieces:
            starts.append(offset)
            offset += len(piece) + len(SEPARATOR)
        return cls(new_text, regions, SEPARATOR.join(pieces), starts, old_text, runs)

    def find_all(self, needle: str, limit: int | None = None) -> list[int]:
        """Start offsets (in the text) of `needle` in the regions, at most `limit` of them."""
        found: list[int] = []
        at = self.haystack.find(needle)
        while at != -1 and (limit is None or len(found) < limit):
            region = bisect_right(self.starts, at) - 1
            found.append(self.regions[region][0] + at - self.starts[region])
            at = self.haystack.find(needle, at + 1)
        return found

    def is_copy(self, anchor: Anchor, start: int, end: int) -> bool:
        """Is start..end in a copy of the annotated passage, made before the passage was cut?

        The diff tells where the old text just outside the vanished passage went. If the text
        just as far from start..end repeats that old text, but the diff put it somewhere else,
        then start..end sits in a copy: the original passage was cut and the copy survives.
        A moved paragraph is no copy: its old neighbours stayed where they were.
        """
        if self.runs is None or self.old_text is None:
            return False
        old, new = self.old_text, self.text
        before = self.runs.last_carried_before(anchor.start)
        if before is not None:
            old_at, new_at = before
            here = start - (anchor.start - old_at)
            window = old[max(0, old_at - COPY_CHECK) : old_at]
            window = window[window.rfind("\n") + 1 :]  # neighbours in the same paragraph
            copied = new[max(0, here - len(window)) : here] == window
            if here != new_at and len(window) >= PARAGRAPH_CONTEXT and copied:
                return True
        after = self.runs.first_carried_after(anchor.end)
        if after is not None:
            old_at, new_at = after
            here = end + (old_at - anchor.end)
            window = old[old_at : old_at + COPY_CHECK].split("\n", 1)[0]
            copied = new[here : here + len(window)] == window
            if here != new_at and len(window) >= PARAGRAPH_CONTEXT and copied:
                return True
        return False

    def unique(self, quote: str) -> bool:
        """Once in the text, and once in the old revision if there is one."""
        once = self.text.count(quote) == 1
        return once and (self.old_text is None or self.old_text.count(quote) == 1)


# --- the diff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Runs:
    """Equal runs of the old and new text, in increasing order of both."""

    old: list[int]
    new: list[int]
    size: list[int]

    @classmethod
    def between(cls, old_text: str, new_text: str) -> _Runs:
        blocks: list[tuple[int, int, int]] = []
        _align(old_text, new_text, (0, len(old_text)), (0, len(new_text)), 0, blocks)
        return cls.merged(sorted(blocks))

    @classmethod
    def merged(cls, blocks: list[tuple[int, int, int]]) -> _Runs:
        joined: list[list[int]] = []
        for old, new, size in blocks:
            if (
                joined
                and joined[-1][0] + joined[-1][2] == old
                and joined[-1][1] + joined[-1][2] == new
            ):
                joined[-1][2] += size
            else:
                joined.append([old, new, size])
        kept = [run for run in joined if run[2] >= MIN_RUN]
        return cls([r[0] for r in kept], [r[1] for r in kept], [r[2] for r in kept])

    def containing(self, position: int) -> int | None:
        """The run holding old `position`, if any."""
        k = bisect_right(self.old, position) - 1
        return k if k >= 0 and position < self.old[k] + self.size[k] else None

    def to_new(self, run: int, position: int) -> int:
        return self.new[run] + position - self.old[run]

    def carried_near(self, position: int, inward: int, reach: int) -> tuple[int, bool] | None:
        """Where old `position` went (carried: True), or would be if the code points next to
        it towards the inside of the quote (`inward`: +1 or -1) were carried, up to `reach`."""
        for distance in range(reach + 1):
            run = self.containing(position + inward * distance)
            if run is not None:
                moved = self.to_new(run, position + inward * distance) - inward * distance
                return moved, distance == 0
        return None

    def last_carried_before(self, position: int) -> tuple[int, int] | None:
        """(old, new) just past the last carried code point before old `position`."""
        k = bisect_left(self.old, position) - 1
        if k < 0:
            return None
        old_end = min(position, self.old[k] + self.size[k])
        return old_end, self.to_new(k, old_end - 1) + 1

    def first_carried_after(self, position: int) -> tuple[int, int] | None:
        """(old, new) of the first carried code point at or after old `position`."""
        k = bisect_right(self.old, position) - 1
        if k >= 0 and position < self.old[k] + self.size[k]:
            return position, self.to_new(k, position)
        if k + 1 < len(self.old):
            return self.old[k + 1], self.new[k + 1]
        return None

    def approx(self, position: int) -> int:
        """Where old `position` is about in the new text, even inside a change."""
        k = bisect_right(self.old, position) - 1
        if k < 0:
            return min(position, self.new[0]) if self.new else position
        mapped = self.new[k] + position - self.old[k]
        return mapped if k + 1 == len(self.new) else min(mapped, self.new[k + 1])

    def changed_regions(self, length: int, pad: int) -> list[tuple[int, int]]:
        """The parts of the new text outside every run, widened by `pad`, merged."""
        regions: list[tuple[int, int]] = []
        covered = 0
        for new, size in zip([*self.new, length], [*self.size, 0], strict=True):
            if new > covered:
                low, high = max(0, covered - pad), min(length, new + pad)
                if regions and low <= regions[-1][1]:
                    regions[-1] = (regions[-1][0], high)
                else:
                    regions.append((low, high))
            covered = max(covered, new + size)
        return regions


def _align(
    old: str,
    new: str,
    span_old: tuple[int, int],
    span_new: tuple[int, int],
    level: int,
    out: list[tuple[int, int, int]],
) -> None:
    """Append the equal blocks of old[span_old] and new[span_new], finer level by level."""
    (a0, a1), (b0, b1) = span_old, span_new
    if a0 == a1 or b0 == b1:
        return
    if level == len(_TOKENS):
        out.extend((a0 + i, b0 + j, size) for i, j, size in _blocks(old[a0:a1], new[b0:b1]))
        return
    tokens_old, at_old = _tokens(old, a0, a1, level)
    tokens_new, at_new = _tokens(new, b0, b1, level)
    i0 = j0 = 0
    for i, j, size in [*_blocks(tokens_old, tokens_new), (len(tokens_old), len(tokens_new), 0)]:
        if size and at_old[i + size] - at_old[i] < MIN_RUN:
            continue  # too short to vouch for a place: leave it to the finer level
        _align(old, new, (at_old[i0], at_old[i]), (at_new[j0], at_new[j]), level + 1, out)
        if size:
            out.append((at_old[i], at_new[j], at_old[i + size] - at_old[i]))
        i0, j0 = i + size, j + size


def _tokens(text: str, start: int, end: int, level: int) -> tuple[list[str], list[int]]:
    """The tokens of text[start:end] at `level`, and where each begins (plus the end)."""
    tokens = [token for token in _TOKENS[level].findall(text, start, end) if token]
    offsets = [start]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))
    return tokens, offsets


def _blocks(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, size) of two sequences: LCS when bounded, patience splits if not."""
    if len(a) * len(b) <= MAX_CELLS:  # rapidfuzz strips the common ends itself
        return _inner_blocks(a, b, (0, len(a)), (0, len(b)))
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    blocks = [(0, 0, head)] if head else []
    blocks += _inner_blocks(a, b, (head, len(a) - tail), (head, len(b) - tail))
    if tail:
        blocks.append((len(a) - tail, len(b) - tail, tail))
    return blocks


def _inner_blocks(
    a: Sequence[Hashable], b: Sequence[Hashable], span_a: tuple[int, int], span_b: tuple[int, int]
) -> list[tuple[int, int, int]]:
    (a0, a1), (b0, b1) = span_a, span_b
    if a0 == a1 or b0 == b1:
        return []
    if (a1 - a0) * (b1 - b0) <= SMALL_CELLS:
        # Longest contiguous match first: of two equally long alignments it keeps words that
        # stand together ("this with;") rather than scattering them into an inserted passage.
        matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
        return [(a0 + i, b0 + j, size) for i, j, size in matcher.get_matching_blocks() if size]
    if (a1 - a0) * (b1 - b0) <= MAX_CELLS:
        matches = Indel.opcodes(a[a0:a1], b[b0:b1]).as_matching_blocks()
        return [(a0 + m.a, b0 + m.b, m.size) for m in matches if m.size]
    anchors = _patience_anchors(a, b, span_a, span_b)
    if not anchors:
        return []  # too large to align and nothing safe to split on: leave it changed
    blocks: list[tuple[int, int, int]] = []
    i0, j0 = a0, b0
    for i, j in [*anchors, (a1, b1)]:
        blocks += _inner_blocks(a, b, (i0, i), (j0, j))
        if i < a1:
            blocks.append((i, j, 1))
        i0, j0 = i + 1, j + 1
    return blocks


def _patience_anchors(
    a: Sequence[Hashable], b: Sequence[Hashable], span_a: tuple[int, int], span_b: tuple[int, int]
) -> list[tuple[int, int]]:
    """Pairs of tokens unique in both spans, longest increasing in both: safe split points."""
    count_a = Counter(a[span_a[0] : span_a[1]])
    count_b = Counter(b[span_b[0] : span_b[1]])
    where_b = {b[j]: j for j in range(*span_b) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(*span_a) if count_a[a[i]] == 1 and a[i] in where_b]
    return _increasing(pairs)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of `pairs` (sorted by i) that is increasing in j."""
    tails: list[int] = []  # tails[k]: smallest j ending an increasing run of length k + 1
    tail_index: list[int] = []
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[k], tail_index[k] = j, index
        previous.append(tail_index[k - 1] if k else -1)
    chain, index = [], tail_index[-1] if tail_index else -1
    while index != -1:
        chain.append(pairs[index])
        index = previous[index]
    return chain[::-1]
