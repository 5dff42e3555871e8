"""Stable citation keys: `family` + `year` + first significant title word, assigned once."""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Model

from core.dates import edtf_year

STOP_WORDS = {"a", "an", "the", "of", "on", "in", "and", "to", "for", "with", "from", "by"}
CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "i",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "y",
            "_",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits only; Cyrillic transliterated."""
    text = "".join(CYRILLIC.get(ch, ch) for ch in text.lower()).replace("_", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text)


def base_key(*, name: str, year: int | None, title: str) -> str:
    words = [ascii_word(w) for w in re.split(r"\s+", title)]
    word = next((w for w in words if w and w not in STOP_WORDS), "")
    return f"{ascii_word(name) or 'anon'}{year or 'nd'}{word}"[:80]


def assign_citation_key(source: Model, *, first_creator: str = "") -> str:
    """A key unique in the source's library: roshchin1950record, then …a, …b. (`source` is
    a `sources.models.Source`, which imports this module.)"""
    name = first_creator.split()[0] if first_creator.strip() else ""
    key = base_key(name=name, year=edtf_year(source.issued), title=source.title)
    taken = set(
        type(source)
        .objects.filter(library_id=source.library_id, citation_key__startswith=key)
        .order_by()  # a set: no sort, and nothing to keep PostgreSQL off citation_key_prefix
        .values_list("citation_key", flat=True)
    )
    if key not in taken:
        return key
    for suffix in "abcdefghijklmnopqrstuvwxyz":
        if key + suffix not in taken:
            return key + suffix
    n = 2
    while f"{key}-{n}" in taken:
        n += 1
    return f"{key}-{n}"
