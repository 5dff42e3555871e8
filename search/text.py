"""Text analysis shared by the search index and the search query: one tokenizer for both
(`core.text`: words and their folded forms, which tag matching shares).

The index never sees raw text. Python folds it first (NFKC, case-folded, accents and
combining marks removed: "Ста́лин" and "СТАЛИН" are both "сталин") and writes the words
separated by single spaces; both backends then only split on spaces, so PostgreSQL and
SQLite index exactly the same words.

Chinese, Japanese and Korean have no spaces between words. A run of CJK characters is
written as overlapping bigrams ("毛泽东同志" → "毛泽 泽东 东同 同志 志"), as Lucene's CJK
analyser does: a two-character query is one token, a longer one a phrase of bigrams,
a single character the prefix of a token (the run's last character is added alone so
that every character starts some token). Substrings of any length match exactly.

Stems: PostgreSQL stems with its `russian` configuration, which sends ASCII words to the
English Snowball stemmer and other words to the Russian one; SQLite has no stemmer, so
`stems()` runs the same two Snowball algorithms in Python for its FTS5 table.
"""

from __future__ import annotations

import functools
import re

import snowballstemmer

from core.text import is_cjk, tokens

MAX_INDEXED_CHARS = 200_000  # per entry; passages are far shorter


def split_cjk(word: str) -> list[tuple[bool, str]]:
    """A folded word cut into runs: [(is_cjk, run), …] ("毛泽东1950" → CJK, then digits)."""
    runs: list[tuple[bool, str]] = []
    for char in word:
        cjk = is_cjk(char)
        if runs and runs[-1][0] == cjk:
            runs[-1] = (cjk, runs[-1][1] + char)
        else:
            runs.append((cjk, char))
    return runs


def bigrams(run: str) -> list[str]:
    """Overlapping bigrams of a CJK run, then its last character alone."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def index_words(word: str) -> list[str]:
    """The tokens one folded word is indexed as."""
    if not any(is_cjk(c) for c in word):
        return [word]
    result: list[str] = []
    for cjk, run in split_cjk(word):
        result += bigrams(run) if cjk else [run]
    return result


def query_words(word: str) -> list[str]:
    """The tokens a folded query word is looked for as: like `index_words`, but a CJK run
    at the end drops its trailing single character, which the index only has at the end
    of its own runs ("泽东" must also be found inside "毛泽东同志")."""
    if not any(is_cjk(c) for c in word):
        return [word]
    runs = split_cjk(word)
    result: list[str] = []
    for position, (cjk, run) in enumerate(runs):
        pieces = bigrams(run) if cjk else [run]
        if cjk and len(run) > 1 and position == len(runs) - 1:
            pieces = pieces[:-1]
        result += pieces
    return result


def terms(*texts: str) -> str:
    """The folded, space-separated words the index holds for some texts."""
    words: list[str] = []
    for text in texts:
        for token in tokens(text[:MAX_INDEXED_CHARS]):
            words += index_words(token.folded)
    return " ".join(words)


_ENGLISH = snowballstemmer.stemmer("english")
_RUSSIAN = snowballstemmer.stemmer("russian")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@functools.lru_cache(maxsize=131_072)
def stem(word: str) -> str:
    """The Snowball stem PostgreSQL's `russian` configuration would give a folded word."""
    if word.isascii():
        return _ENGLISH.stemWord(word) if not word.isdigit() else word
    if _CYRILLIC.search(word):
        return _RUSSIAN.stemWord(word)
    return word


def stems(folded_terms: str) -> str:
    """Stems of the words that have one (CJK bigrams and numbers stay as they are out)."""
    result = []
    for word in folded_terms.split():
        stemmed = stem(word)
        if stemmed != word:
            result.append(stemmed)
    return " ".join(result)
