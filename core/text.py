"""Words as every package reads them: where a word is, its folded form (case, accents
and combining marks set aside) and whether a character belongs to a script written without
spaces (Chinese, Japanese, Korean). The search index (`search.text`), names across scripts
(`core.transliterate`) and tag matching (`annotations.tags`) all fold alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

# A word: letters and digits with the marks that belong to them; "_" separates.
WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u20d0-\u20ff])+")
_CJK_RANGES = (
    (0x2E80, 0x2FDF),  # radicals
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x312F),  # bopomofo
    (0x3130, 0x318F),  # hangul compatibility jamo
    (0x31A0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),
    (0xAC00, 0xD7AF),  # hangul syllables
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x3134F),  # extensions B–H (outside the BMP)
)


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


@functools.lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """The form a word is indexed and matched in: compatibility-normalised, case-folded,
    without accents or combining marks ("Zhōu" → "zhou", "Ёлка" → "елка")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


class Token(NamedTuple):
    """A word of the original text: where it is and its folded form. A tuple: snippets
    make one for every word they read, and a tuple is made several times faster."""

    start: int
    end: int
    folded: str


def tokens(text: str, start: int = 0) -> Iterator[Token]:
    """The words of `text`, from the word beginning at `start` on."""
    for match in WORD.finditer(text, start):
        folded = fold(match[0])
        if folded:
            yield Token(match.start(), match.end(), folded)
