"""The reading view of a text revision and the comparison of two revisions.

Both work on the canonical text, so the offsets the reading view carries (`data-start`)
are the code-point offsets annotations use.
"""

from __future__ import annotations

import difflib
import re
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
# Above this many tokens per side a changed block is shown as whole lines out and in;
# difflib's matcher is quadratic in the worst case.
MAX_WORD_DIFF_TOKENS = 20_000
EXACT_WORD_DIFF_TOKENS = 2_000


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


def reading_blocks(revision: SourceText) -> list[Block]:
    """Paragraphs with their offsets, each carrying the page breaks that fall in it."""
    pages = sorted((int(start), str(label)) for start, label in revision.page_map or [])
    paragraphs = revision.paragraphs()
    blocks, index = [], 0
    for number, (start, text) in enumerate(paragraphs):
        block, last = Block(start, text), number == len(paragraphs) - 1
        while index < len(pages) and (pages[index][0] < start + len(text) or last):
            at = min(max(pages[index][0] - start, 0), len(text))
            block.breaks.append((at, pages[index][1]))
            index += 1
        blocks.append(block)
    return blocks


def compare_texts(old: str, new: str) -> list[Segment]:
    """A word-level comparison: lines first (fast), then words inside changed lines."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "equal":
            segments.extend(_fold(before))
        elif op == "replace":
            segments.extend(_word_diff(before, after))
        else:
            segments.append(Segment("delete", before) if before else Segment("insert", after))
    return _merge(segments)


def change_count(segments: list[Segment]) -> dict[str, int]:
    """How many runs were inserted and deleted, for the summary line."""
    return {
        "insert": sum(1 for s in segments if s.op == "insert"),
        "delete": sum(1 for s in segments if s.op == "delete"),
    }


def _word_diff(before: str, after: str) -> list[Segment]:
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    if max(len(old), len(new)) > MAX_WORD_DIFF_TOKENS:
        return [Segment("delete", before), Segment("insert", after)]
    # Past a few thousand tokens, spaces and common words stop seeding matches (autojunk):
    # an exact diff of a rewritten 3,000-word paragraph took 4.9 s, of 9,000 words 34 s;
    # with autojunk milliseconds, and a changed name or number is still found as such.
    big = max(len(old), len(new)) > EXACT_WORD_DIFF_TOKENS
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=big)
    segments = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(Segment("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(old[i1:i2])))
        if j2 > j1:
            segments.append(Segment("insert", "".join(new[j1:j2])))
    return segments


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
