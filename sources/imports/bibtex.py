"""BibTeX and BibLaTeX records as CSL items, with Zotero's and Better BibTeX's conventions.

Field names are read in any case (`AUTHOR =` from MathSciNet, `Author =` from JabRef 2);
`@string` macros and `crossref` parents are resolved; LaTeX becomes Unicode
(`sources.imports.latex`); BibLaTeX's EDTF-like dates and every date people write are read
(`sources.imports.dates`); `keywords` become keywords; the archival fields our own
BibLaTeX export writes in standard fields (docs/exports.md) come back as they went out.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

import bibtexparser
from bibtexparser.middlewares import NormalizeFieldKeys, SeparateCoAuthors, SplitNameParts
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)

from sources.imports.common import describe_error, record_or_error
from sources.imports.dates import to_edtf
from sources.imports.languages import language_tag
from sources.imports.latex import latex_text
from sources.models import CreatorRole, SourceType

MARGINALIA_HEADER = "Exported by Marginalia"
BIBTEX_TYPES = {
    "unpublished": "manuscript",
    "letter": "letter",
    "book": "book",
    "mvbook": "book",
    "collection": "book",
    "mvcollection": "book",
    "booklet": "pamphlet",
    "incollection": "chapter",
    "inbook": "chapter",
    "bookinbook": "chapter",
    "online": "webpage",
    "www": "webpage",
    "electronic": "webpage",
    "report": "report",
    "techreport": "report",
    "manual": "report",
    "thesis": "thesis",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "inreference": "entry-encyclopedia",
    "reference": "book",
    "legislation": "legislation",
    "legal": "treaty",  # Better BibLaTeX writes CSL treaties as @legal
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "jurisdiction": "legal_case",
    "patent": "patent",
    "dataset": "dataset",
    "software": "software",
    "artwork": "graphic",
    "image": "graphic",
    "audio": "song",
    "music": "song",
    "video": "motion_picture",
    "movie": "motion_picture",
    "standard": "standard",
    "periodical": "periodical",
    "review": "review",
}
MISC_SUBTYPES = {"interview": "interview", "speech": "speech", "map": "map"}
THESIS_TYPES = {
    "phdthesis": "PhD thesis",
    "mathesis": "Master's thesis",
    "mastersthesis": "Master's thesis",
    "bathesis": "Bachelor's thesis",
}
BIBTEX_NAME_FIELDS = {
    "author": "author",
    "editor": "editor",
    "translator": "translator",
    "recipient": "recipient",
    "bookauthor": "container-author",
    "editora": "contributor",
    "editorb": "contributor",
    "editorc": "contributor",
    "namea": "contributor",
    "nameb": "contributor",
    "namec": "contributor",
    "with": "contributor",
    "holder": "contributor",
    "commentator": "contributor",
    "annotator": "contributor",
    "introduction": "contributor",
    "foreword": "contributor",
    "afterword": "contributor",
}
# The role an `editortype`-style field gives its names (biblatex's editor types).
EDITOR_TYPES = {
    "interviewer": "interviewer",
    "serieseditor": "collection-editor",
    "collaborator": "contributor",
    "compiler": "compiler",
    "director": "director",
    "organizer": "organizer",
    "recipient": "recipient",
    "redactor": "editor",
    "founder": "contributor",
    "continuator": "contributor",
    "reviser": "editor",
}
# Written verbatim by Better BibTeX: LaTeX-decoding them would eat % and ~ in URLs.
VERBATIM_FIELDS = {"url", "doi", "eprint", "file", "verba", "verbb", "verbc"}
# EDTF dates: `~` is approximate there, not LaTeX's tie.
DATE_FIELDS = {"date", "urldate", "origdate", "eventdate", "userf"}
MULTILINE_FIELDS = {"abstract", "note", "annotation", "addendum", "annote"}
# BibLaTeX fields that are CSL variables we keep as they are.
PLAIN_VARIABLES = {
    "eventtitle": "event-title",
    "venue": "event-place",
    "pagetotal": "number-of-pages",
    "volumes": "number-of-volumes",
    "chapter": "chapter-number",
    "shorttitle": "title-short",
    "shortjournal": "container-title-short",
    "journalsubtitle": "container-title-short",
    "version": "version",
    "pubstate": "status",
    "issuetitle": "volume-title",
    "maintitle": "volume-title",
    "part": "part",
    "origtitle": "original-title",
    "origpublisher": "original-publisher",
    "origlocation": "original-publisher-place",
    "division": "division",
}
# Where our BibLaTeX export puts what biber's default data model has no field for.
MARGINALIA_FIELDS = {
    "library": "archive",
    "usera": "archive-place",
    "userb": "archive_collection",
    "userc": "archive_location",
    "userd": "call-number",
}


def bibtex_records(text: str) -> list[dict | Exception]:
    name_fields = tuple(BIBTEX_NAME_FIELDS)
    library = bibtexparser.parse_string(
        text,
        append_middleware=[
            NormalizeFieldKeys(),
            SeparateCoAuthors(name_fields=name_fields),
            SplitNameParts(name_fields=name_fields),
        ],
    )
    ours = MARGINALIA_HEADER in text[:500]
    entries = {block.key: block for block in library.blocks if isinstance(block, Entry)}
    records: list[dict | Exception] = []
    for block in library.blocks:
        if isinstance(block, Entry):
            records.append(_entry_or_error(block, entries, ours=ours))
        elif isinstance(block, ParsingFailedBlock):
            records.append(ValueError(_failed_block_message(block)))
    return records


def _failed_block_message(block: ParsingFailedBlock) -> str:
    where = f" at line {block.start_line + 1}" if block.start_line is not None else ""
    if isinstance(block, DuplicateBlockKeyBlock):
        return f"The BibTeX entry{where} repeats the key {block.key!r} of an earlier entry."
    if isinstance(block, DuplicateFieldKeyBlock):
        fields = ", ".join(sorted(block.duplicate_keys))
        return f"The BibTeX entry{where} has the field(s) {fields} twice."
    if isinstance(block, MiddlewareErrorBlock):
        return f"The BibTeX entry{where} has a name that cannot be read: {block.error}"
    reason = describe_error(block.error) if block.error else "its braces or quotes do not match"
    return f"The BibTeX entry{where} cannot be read: {reason}"


def _entry_or_error(entry: Entry, entries: dict[str, Entry], *, ours: bool) -> dict | Exception:
    where = f" at line {entry.start_line + 1}" if entry.start_line is not None else ""
    read = functools.partial(bibtex_item, entries=entries, ours=ours)
    return record_or_error(read, entry, f"The BibTeX entry {entry.key!r}{where}")


def bibtex_item(
    entry: Entry, *, entries: dict[str, Entry] | None = None, ours: bool = False
) -> dict:
    """A CSL item for one Bib(La)TeX entry; the entry key becomes the citation key."""
    entry_type = entry.entry_type.lower()
    raw = _inherited(entry, entries or {})
    text = {key: _text(key, value) for key, value in raw.items() if isinstance(value, str)}
    value = functools.partial(_first_of, text)
    url = value("url") or _url_in(raw.get("howpublished", ""))
    csl_type = _type(entry_type, text, has_url=bool(url))
    item: dict[str, Any] = {"type": csl_type, "citation-key": entry.key, "URL": url}
    title = value("title")
    if subtitle := value("subtitle"):
        title = f"{title}: {subtitle}" if title else subtitle
    item["title"] = title
    item |= _containers(value, csl_type)
    item |= _creators(raw, text)
    item |= _dates(value, ours=ours)
    item |= _places(value, csl_type, ours=ours)
    item |= _identifiers(value, csl_type, ours=ours)
    item |= {variable: value(field) for field, variable in PLAIN_VARIABLES.items()}
    item["genre"] = _genre(value, csl_type, url)
    item["language"] = value("language") or language_tag(value("langid"))
    item["abstract"] = value("abstract")
    item["note"] = _note(value, item, ours=ours)
    item["keyword"] = [k.strip() for k in re.split(r"[,;]", value("keywords")) if k.strip()]
    custom = {"original_language": language_tag(value("origlanguage")), "rights": value("rights")}
    if ours and value("usere"):
        custom["rights"] = value("usere")
    item["custom"] = {key: val for key, val in custom.items() if val} | item.get("custom", {})
    return {key: val for key, val in item.items() if val}


def _inherited(entry: Entry, entries: dict[str, Entry]) -> dict[str, Any]:
    """The entry's fields (keys lower-cased), with what its `crossref` parent gives: the
    parent's title as the book title, its author as the book's author, and every field
    the child does not set (biblatex's default inheritance)."""
    raw = {field.key.lower(): field.value for field in entry.fields}
    parent = entries.get(str(raw.get("crossref", "")).strip())
    if parent is None or parent is entry:
        return raw
    for key, val in ((f.key.lower(), f.value) for f in parent.fields):
        if key in ("title", "subtitle"):
            raw.setdefault(f"book{key}", val)
        elif key == "author" and "author" in raw:
            raw.setdefault("bookauthor", val)
        elif key not in ("ids", "crossref", "entryset", "xref"):
            raw.setdefault(key, val)
    return raw


def _type(entry_type: str, text: dict, *, has_url: bool) -> str:
    subtype = text.get("entrysubtype", "").strip()
    if subtype in SourceType.values and subtype not in ("magazine", "newspaper"):
        return subtype  # our own export says the exact type where the entry type cannot
    subtype = subtype.lower()
    if entry_type == "article":
        return {"magazine": "article-magazine", "newspaper": "article-newspaper"}.get(
            subtype, "article-journal"
        )
    if entry_type == "misc":
        if subtype in MISC_SUBTYPES:
            return MISC_SUBTYPES[subtype]
        if any(text.get(f) for f in ("archive", "archive_location", "archivelocation", "library")):
            return "manuscript"
        if has_url:
            return "webpage" if not text.get("publisher") else "document"
        return "manuscript" if text.get("howpublished") else "document"
    return BIBTEX_TYPES.get(entry_type, "document")


def _containers(value, csl_type: str) -> dict[str, str]:
    container = value("journaltitle", "journal", "booktitle")
    if (subtitle := value("booksubtitle")) and container:
        container = f"{container}: {subtitle}"
    if csl_type == "webpage":
        container = container or value("organization")
    return {
        "container-title": container,
        "collection-title": value("series"),
        "volume": value("volume"),
        "issue": value("issue") or (value("number") if csl_type.startswith("article") else ""),
        "page": value("pages"),
        "edition": value("edition"),
    }


def _places(value, csl_type: str, *, ours: bool) -> dict[str, str]:
    publisher = value("publisher")
    if csl_type in ("report", "thesis"):
        publisher = publisher or value("institution", "school")
    elif csl_type != "webpage":
        publisher = publisher or value("organization")
    places = {
        "publisher": publisher,
        "publisher-place": value("location", "address"),
        # Better BibTeX writes Zotero's Archive and Loc. in Archive under these names.
        "archive": value("archive", "library"),
        "archive_location": value("archive_location", "archivelocation"),
        "archive-place": value("archive_place", "archiveplace"),
        "archive_collection": value("archive_collection", "archivecollection"),
        "call-number": value("call-number", "callnumber", "lccn"),
    }
    if ours:
        places |= {v: value(f) for f, v in MARGINALIA_FIELDS.items() if value(f)}
    return places


def _dates(value, *, ours: bool) -> dict[str, Any]:
    dates: dict[str, Any] = {}
    if ours and (exact := value("userf")):
        dates["issued"] = {"raw": exact}
    elif date := value("date"):
        dates["issued"] = {"raw": biblatex_date(date)}
    elif year := value("year"):
        month = bibtex_month(value("month"))
        dates["issued"] = {"raw": _ymd(year, month, value("day"))}
    for field, variable in (
        ("urldate", "accessed"),
        ("origdate", "original-date"),
        ("eventdate", "event-date"),
    ):
        if date := value(field):
            dates[variable] = {"raw": biblatex_date(date)}
    return dates


def biblatex_date(value: str) -> str:
    """BibLaTeX dates are EDTF-like; an open end is written "1950/" rather than "1950/.."."""
    value = value.strip()
    if value.endswith("/"):
        value += ".."
    if value.startswith("/"):
        value = ".." + value
    return to_edtf(value) or value


def bibtex_month(month: str) -> str:
    """A month as BibTeX writes it ("jan", "January", "1") as two digits, else ""."""
    month = month.strip().rstrip(".").casefold()
    if month.isdigit() and 1 <= int(month) <= 12:
        return f"{int(month):02d}"
    names = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    for number, name in enumerate(names, start=1):
        if month[:3] == name:
            return f"{number:02d}"
    return ""


def _ymd(year: str, month: str, day: str) -> str:
    if not re.fullmatch(r"\d{4}", year.strip()) or not month:
        return year
    return f"{year.strip()}-{month}" + (f"-{int(day):02d}" if day.isdigit() else "")


def _identifiers(value, csl_type: str, *, ours: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"DOI": value("doi"), "ISBN": value("isbn"), "ISSN": value("issn")}
    result["PMID"] = value("pmid")
    other = {}
    eprint, eprinttype = value("eprint"), value("eprinttype", "archiveprefix").lower()
    if eprint and eprinttype == "pubmed":
        result["PMID"] = result["PMID"] or eprint
    elif eprint and eprinttype:
        other[eprinttype] = eprint
    if (number := value("number")) and not csl_type.startswith("article"):
        result["number"] = number  # a report's or a series' number: kept, not an issue
    for field in ("mrnumber", "zblnumber", "isrn", "eid"):
        if value(field):
            other[field] = value(field)
    for pair in value("verba").split(", ") if ours else []:  # our export's other identifiers
        scheme, sep, number = pair.partition("=")
        if sep and scheme.strip():
            other[scheme.strip()] = number.strip()
    if other:
        result["custom"] = {"identifiers": other}
    return result


def _genre(value, csl_type: str, url: str) -> str:
    kind = value("type")
    if csl_type == "thesis":
        return THESIS_TYPES.get(kind.lower(), kind)
    howpublished = value("howpublished")
    if howpublished and url and url in howpublished:
        howpublished = ""
    return kind or howpublished


def _note(value, item: dict, *, ours: bool) -> str:
    """annotation, note and addendum; the addendum our export composes from the archival
    fields for standard styles to print is not a note of its own."""
    addendum = value("addendum")
    if ours and addendum == archival_addendum(item):
        addendum = ""
    return "\n\n".join(p for p in (value("annotation", "annote"), value("note"), addendum) if p)


def archival_addendum(item: dict) -> str:
    """ "Archive collection, Archive, Archive place, location, call number": the archival
    reference as standard biblatex styles print it from `addendum` (docs/exports.md)."""
    parts = ("archive_collection", "archive", "archive-place", "archive_location", "call-number")
    return ", ".join(str(item[part]) for part in parts if item.get(part))


def _creators(raw: dict, text: dict) -> dict[str, list[dict]]:
    names: dict[str, list[dict]] = {}
    for field, variable in BIBTEX_NAME_FIELDS.items():
        kind = text.get(f"{field}type", "").strip()
        role = EDITOR_TYPES.get(kind.lower()) or (kind if kind in CreatorRole.values else variable)
        for parts in raw.get(field) or []:
            if not isinstance(parts, str):
                names.setdefault(role, []).append(bibtex_name(parts, field=field))
    return names


def bibtex_name(parts, *, field: str = "author") -> dict[str, str]:
    """A CSL name from bibtexparser's NameParts (`von Last, Jr, First`); a name wholly in
    braces is one literal name ("{Ministry of Foreign Affairs of the USSR}")."""
    text = functools.partial(latex_text, field=field)
    last = " ".join(parts.last)
    if not (parts.first or parts.von or parts.jr) and _wholly_braced(last):
        return {"literal": text(last)}
    family = text(" ".join(parts.von + parts.last))
    name = {"family": family, "given": text(" ".join(parts.first))}
    if parts.jr:
        name["suffix"] = text(" ".join(parts.jr))
    return name


def _wholly_braced(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and position < len(text) - 1:
            return False
    return True


def _text(key: str, value: str) -> str:
    if key in DATE_FIELDS:
        return re.sub(r"\\textasciitilde\{\}", "~", value.strip())
    if key in VERBATIM_FIELDS:
        # Better BibTeX escapes these characters even in verbatim fields in BibTeX mode.
        return re.sub(r"\\([#%&_{}~$])", r"\1", value.strip())
    if "<" in value or "&" in value:  # CrossRef writes titles as HTML: <mml:math>, &amp;
        value = html.unescape(_MARKUP.sub("", value))
    return latex_text(value, multiline=key in MULTILINE_FIELDS, field=key)


_MARKUP = re.compile(r"</?(?:mml:\w+|i|b|em|strong|sub|sup|scp|span)\b[^>]*>")


def _first_of(text: dict, *keys: str) -> str:
    return next((text[key] for key in keys if text.get(key)), "")


def _url_in(howpublished: Any) -> str:
    match = re.search(r"\\url\{([^}]*)\}", howpublished) if isinstance(howpublished, str) else None
    return match[1].strip() if match else ""
