"""Zotero's Extra field: `name: value` lines that say what its item form cannot.

Zotero (and Better BibTeX) read these lines as CSL variables or Zotero fields:
`Citation Key: roshchin1950record` pins the key, `original-date: 1949`,
`issued: 1950-01-01?` (the "cheater syntax" for a date the Date field cannot hold),
`event-place: Geneva`, `Publisher: Foreign Languages Press`, `tex.howpublished: …`,
`original-author: Mao || Zedong` for a name. `read_extra` takes them out of the note and
gives them back as CSL-JSON; every other line stays in the note as it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sources.imports.zotero import DATE_VARIABLES, variable_for
from sources.models import SourceType

# CSL variables (and our own archival ones) an Extra line may set.
CSL_TEXT = {
    "abstract", "annote", "archive", "archive_collection", "archive_location",
    "archive-place", "authority", "call-number", "chapter-number", "collection-number",
    "collection-title", "container-title", "container-title-short", "dimensions", "division",
    "DOI", "edition", "event-place", "event-title", "genre", "ISBN", "ISSN", "issue",
    "jurisdiction", "language", "license", "medium", "number", "number-of-pages",
    "number-of-volumes", "original-publisher", "original-publisher-place", "original-title",
    "page", "part", "part-title", "PMCID", "PMID", "publisher", "publisher-place",
    "references", "reviewed-genre", "reviewed-title", "scale", "section", "source", "status",
    "supplement", "title-short", "URL", "version", "volume", "volume-title", "type",
}  # fmt: skip
CSL_DATES = {"accessed", "available-date", "event-date", "issued", "original-date", "submitted"}
CSL_NAMES = {
    "author", "chair", "collection-editor", "compiler", "composer", "container-author",
    "contributor", "curator", "director", "editor", "editorial-director",
    "executive-producer", "guest", "host", "illustrator", "interviewer", "narrator",
    "organizer", "original-author", "performer", "producer", "recipient", "reviewed-author",
    "script-writer", "series-creator", "translator",
}  # fmt: skip
KEY_NAMES = {"citation key", "citation-key", "citationkey", "bibtex", "tex.key"}
_CASE_FOLDED = {name.casefold(): name for name in CSL_TEXT | CSL_DATES | CSL_NAMES}
_LINE = re.compile(r"^\s*([A-Za-z][\w .-]{0,40}?)\s*:\s*(\S.*?)\s*$")


@dataclass
class Extra:
    note: str
    citation_key: str = ""
    original_language: str = ""
    variables: dict[str, Any] = field(default_factory=dict)


def read_extra(text: str) -> Extra:
    """The note without the lines that set a variable or the citation key, and those."""
    extra = Extra(note="")
    head, blank, rest = text.partition("\n\n")  # Extra comes first; child notes after it
    kept: list[str] = []
    for line in head.split("\n"):
        match = _LINE.match(line)
        if not (match and _take(extra, match[1], match[2])):
            kept.append(line)
    extra.note = ("\n".join(kept).strip("\n") + blank + rest).strip("\n")
    return extra


def _take(extra: Extra, name: str, value: str) -> bool:
    """Set what the line `name: value` says; False when it says nothing we know."""
    folded = name.strip().casefold()
    if folded in KEY_NAMES or folded.removeprefix("tex.") in ("ids",):
        if folded in KEY_NAMES:
            extra.citation_key = extra.citation_key or value.split()[0]
        return folded in KEY_NAMES
    if folded in ("original-language", "original language", "origlanguage"):
        if not re.fullmatch(r"[A-Za-z][A-Za-z_ -]{1,34}", value):
            return False  # a sentence that starts "Original language: Russian. Translated…"
        extra.original_language = value
        return True
    variable = _variable(name)
    if variable is None or variable == "note":
        return False
    if variable == "type":  # "type: article-journal" sets the type; "Type: Memo" is a genre
        variable = "type" if value in SourceType.values else "genre"
    if variable in CSL_NAMES:
        extra.variables.setdefault(variable, []).append(_name(value))
    elif variable in CSL_DATES or variable in DATE_VARIABLES:
        extra.variables[variable] = {"raw": value}
    elif variable not in extra.variables:
        extra.variables[variable] = value
    return True


def _variable(name: str) -> str | None:
    """A CSL variable for a line's name: itself ("original-date", "Original Date"), or the
    variable of a Zotero field ("Publisher", "numPages", "Loc. in Archive")."""
    folded = name.strip().casefold()
    if folded in _CASE_FOLDED:
        return _CASE_FOLDED[folded]
    hyphenated = re.sub(r"\s+", "-", folded)
    if hyphenated in _CASE_FOLDED:
        return _CASE_FOLDED[hyphenated]
    camel = re.sub(r"[\s.-]+(\w)", lambda m: m[1].upper(), name.strip())
    camel = camel[:1].lower() + camel[1:]
    return variable_for(camel) or _ZOTERO_LABELS.get(folded)


# Zotero's English labels that are not its field names.
_ZOTERO_LABELS = {
    "loc. in archive": "archive_location",
    "# of pages": "number-of-pages",
    "# of volumes": "number-of-volumes",
    "library catalog": "source",
    "accessed": "accessed",
}


def _name(value: str) -> dict[str, str]:
    """ "Family || Given" (Zotero's two-field form), else one literal name."""
    family, sep, given = value.partition("||")
    if sep:
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": value.strip()}
