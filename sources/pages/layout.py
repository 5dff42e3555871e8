"""Where each word of a revision stands on its pages.

A revision's canonical text comes from pypdf (`sources.importers`, within its limits); the
boxes come from PDFium, which reads the same content streams into characters with boxes.
The two readings differ in white space, line ends, ligatures (ﬁ and fi) and now and then
in order, so each page's canonical text is aligned to PDFium's characters: their non-space
characters compared after NFKC and case folding, equal at once in the usual case, else by
an edit alignment (rapidfuzz's Indel). A word (a run of non-space code points of the
canonical text) gets the box of its aligned characters; a word nothing aligns with gets
none, and is simply not selectable on the page image.

Boxes are in ten-thousandths of the page as shown (`models.BOX_UNITS`), from its top-left.
"""

from __future__ import annotations

import itertools
import re
import time
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
from django.conf import settings
from rapidfuzz.distance import Indel

from core.uploads import UploadError
from sources.pages import pdf
from sources.pages.models import BOX_UNITS, ReadingMethod, describe_reading

if TYPE_CHECKING:
    from sources.importers import ExtractedText, Original

WORD = re.compile(r"\S+")
# Past this many non-space characters a page is aligned only where the two readings agree
# at once: the edit alignment's memory grows with the product of the lengths.
ALIGN_MAX = 30_000

Word = tuple[int, ...]  # (start, end, left, top, right, bottom[, confidence])


@dataclass
class PageLayout:
    """One page: which file (`original`, its position) and page of it shows it, its size in
    points, its text's length, and its words with offsets counted from the page's start."""

    original: int
    page: int
    width: float
    height: float
    length: int
    words: list[Word] = field(default_factory=list)
    confidence: float | None = None


@dataclass
class Layout:
    """A revision's pages, and how their text was read (`models.Reading`)."""

    pages: list[PageLayout]
    method: str = ReadingMethod.TEXT_LAYER
    engine: str = ""
    languages: str = ""
    confidence: float | None = None

    def describe(self) -> str:
        return describe_reading(self.method, self.engine, self.languages, self.confidence)


def page_spans(text: str, page_map: list) -> list[tuple[int, int]]:
    """(start, end) of each page's text in the revision, from the page map that
    `importers.join_pages` made: pages are joined by a blank line, an empty page begins
    where the next text would (past the end, for empty pages at the end)."""
    starts = [int(start) for start, _ in page_map]
    ends = [
        following - 2 if following > start else start
        for start, following in itertools.pairwise(starts)
    ]
    ends.append(len(text))
    return [
        (min(start, len(text)), min(max(start, end), len(text)))
        for start, end in zip(starts, ends, strict=True)
    ]


def pdf_layout(original: Original, extracted: ExtractedText) -> ExtractedText:
    """A text-layer PDF's reading with its pages' word boxes (`ExtractedText.layout`);
    without them when PDFium counts other pages than pypdf read."""
    pdf.check_images(original.data, original.name)
    spans = page_spans(extracted.text, extracted.page_map)
    deadline = time.monotonic() + settings.PDF_READ_SECONDS
    layouts = []
    with pdf.opened(original.data, original.name) as document:
        if len(document) != len(spans):
            return extracted  # PDFium sees other pages than pypdf did: no boxes to trust
        for index, (start, end) in enumerate(spans):
            _check_time(deadline, original.name, index + 1)
            page_text = extracted.text[start:end]
            layouts.append(_page_layout(document[index], index, page_text))
    return replace(extracted, layout=Layout(pages=layouts))


def _check_time(deadline: float, name: str, number: int) -> None:
    if time.monotonic() > deadline:
        raise UploadError(
            f"{name} is too large to read: finding its words on its pages passed the limit "
            f"of {settings.PDF_READ_SECONDS} seconds (PDF_READ_SECONDS), at page {number}.",
            status=413,
        )


def _page_layout(page: pdfium.PdfPage, index: int, text: str) -> PageLayout:
    width, height = page.get_size()
    layout = PageLayout(original=0, page=index, width=width, height=height, length=len(text))
    textpage = page.get_textpage()
    try:
        found = align(text, _characters(textpage))
        transform = pdf.to_fractions(page)
        for match in WORD.finditer(text):
            indexes = [found[i] for i in range(match.start(), match.end()) if found[i] >= 0]
            if indexes:
                box = _box(textpage, indexes, transform)
                layout.words.append((match.start(), match.end(), *box))
    finally:
        textpage.close()
    return layout


def _characters(textpage: pdfium.PdfTextPage) -> str:
    """PDFium's characters, one per index (its text range merges surrogates and may
    drop characters, so it is used only when its length says it did not)."""
    count = textpage.count_chars()
    if count <= 0:
        return ""
    text = textpage.get_text_range()
    if len(text) == count:
        return text
    unicode = pdfium.raw.FPDFText_GetUnicode
    return "".join(chr(unicode(textpage.raw, i) or 0xFFFD) for i in range(count))


def align(text: str, other: str) -> list[int]:
    """For each code point of `text`, the index of the character of `other` it reads as
    (-1 for white space and for what `other` does not have). Equal readings pair at once;
    else lines that read alike pair wherever they stand (one reader may put a rotated
    page's or a column's lines in another order), and the rest by an edit alignment."""
    found = [-1] * len(text)
    ours, theirs = _keys(text), _keys(other)
    if ours[0] == theirs[0]:
        _pair(found, ours, theirs, zip(range(len(ours[0])), range(len(theirs[0])), strict=True))
        return found
    ours, theirs = _pair_lines(found, text, other)
    if max(len(ours[0]), len(theirs[0])) <= ALIGN_MAX:
        pairs = _aligned_pairs(ours[0], theirs[0])
    else:
        pairs = _common_ends(ours[0], theirs[0])
    _pair(found, ours, theirs, pairs)
    return found


Keyed = tuple[str, list[int]]  # characters as compared, and where each comes from


def _pair(found: list[int], ours: Keyed, theirs: Keyed, pairs) -> None:
    for mine, yours in pairs:
        if found[ours[1][mine]] < 0:
            found[ours[1][mine]] = theirs[1][yours]


def _pair_lines(found: list[int], text: str, other: str) -> tuple[Keyed, Keyed]:
    """Pair the lines of the two readings that read alike; what is left of each."""
    waiting: dict[str, list[Keyed]] = {}
    for line in reversed(_lines(other)):
        waiting.setdefault(line[0], []).append(line)
    rest: list[Keyed] = []
    for line in _lines(text):
        match = waiting.get(line[0])
        if line[0] and match:
            theirs = match.pop()
            _pair(found, line, theirs, zip(range(len(line[0])), range(len(theirs[0])), strict=True))
        else:
            rest.append(line)
    left = [line for lines in waiting.values() for line in lines]
    left.sort(key=lambda line: line[1][0] if line[1] else -1)
    return _joined(rest), _joined(left)


def _lines(text: str) -> list[Keyed]:
    lines, offset = [], 0
    for line in re.split(r"(?<=\n)|(?<=\r)(?!\n)", text):
        keys, origin = _keys(line)
        lines.append((keys, [offset + i for i in origin]))
        offset += len(line)
    return lines


def _joined(lines: list[Keyed]) -> Keyed:
    return "".join(k for k, _ in lines), [i for _, origin in lines for i in origin]


def _keys(text: str) -> tuple[str, list[int]]:
    """The non-space characters of `text` as compared (`_folded`), with the index in
    `text` each comes from."""
    keys, origin = [], []
    for index, char in enumerate(text):
        if char.isspace() or char in "\x00\ufffd\ufffe":
            continue
        key = char.lower() if char.isascii() else _folded(char)
        for part in key:
            if not part.isspace():
                keys.append(part)
                origin.append(index)
    return "".join(keys), origin


def _folded(char: str) -> str:
    """A character as compared: compatibility forms and accents away, case folded, so
    that "ﬁ" is "fi" and a composed "é" matches an "e" drawn with its accent apart."""
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _aligned_pairs(ours: str, theirs: str):
    """Positions that an edit alignment pairs: equal runs, and replaced runs of one length."""
    for tag, a0, a1, b0, b1 in Indel.opcodes(ours, theirs):
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            yield from zip(range(a0, a1), range(b0, b1), strict=True)


def _common_ends(ours: str, theirs: str):
    """The common beginning and end of two long readings (no alignment between)."""
    head = 0
    while head < min(len(ours), len(theirs)) and ours[head] == theirs[head]:
        yield head, head
        head += 1
    tail = 1
    while tail <= min(len(ours), len(theirs)) - head and ours[-tail] == theirs[-tail]:
        yield len(ours) - tail, len(theirs) - tail
        tail += 1


def _box(textpage: pdfium.PdfTextPage, indexes: list[int], transform) -> tuple[int, ...]:
    """The word's box in BOX_UNITS: its characters' loose boxes (the font's height, so that
    the words of a line line up), those on the first character's line. Lines are judged
    in the page's own space, where text runs across whatever the page's rotation."""
    boxes = [textpage.get_charbox(indexes[0], loose=True)]
    if indexes[-1] != indexes[0]:
        last = textpage.get_charbox(indexes[-1], loose=True)
        if _same_line(boxes[0], last):
            boxes.append(last)
        else:  # the word breaks across lines (a hyphen): its first line's characters
            for i in indexes[1:]:
                box = textpage.get_charbox(i, loose=True)
                if not _same_line(boxes[0], box):
                    break
                boxes.append(box)
    union = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return tuple(_units(v) for v in _fractions(union, transform))


def _fractions(box: tuple[float, float, float, float], t) -> tuple[float, float, float, float]:
    """A box (left, bottom, right, top) of the page's space in fractions of the page shown:
    (left, top, right, bottom) from its top-left corner, whatever its rotation."""
    a, b, c, d, e, f = t
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[3])):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return min(xs), min(ys), max(xs), max(ys)


def _same_line(one: tuple[float, ...], other: tuple[float, ...]) -> bool:
    """Do two boxes (left, bottom, right, top) share most of their height?"""
    overlap = min(one[3], other[3]) - max(one[1], other[1])
    return overlap > 0.5 * min(one[3] - one[1], other[3] - other[1])


def _units(value: float) -> int:
    return max(0, min(BOX_UNITS, round(value * BOX_UNITS)))
