"""Import bibliographic records from reference-manager exports: CSL-JSON, RIS, Bib(La)TeX.

Every format is first read into CSL-JSON-shaped items (RIS and BibTeX with Zotero's and
Better BibTeX's conventions), so that `csl.csl_to_fields` is the one place that knows our
model. A problem with the whole file raises UploadError and writes nothing; each record is
then created in its own savepoint, so one bad record is reported and the others imported.

One record can never fail the file: whatever goes wrong while reading or creating it (a
LaTeX value nested past MAX_LATEX_NESTING, a parser running out of stack, any exception) is
that record's outcome, "failed" with the reason, at its index. The work per record is
bounded: LaTeX nesting is measured before the parser sees it, and Zotero's HTML notes are
read in one pass.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import re
import unicodedata
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import bibtexparser
import rispy
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexwalker import LatexWalkerError

from core.dates import edtf_year
from core.uploads import UploadError, read_upload
from sources.csl import csl_to_fields, language_tag, loose_edtf
from sources.models import Creator, ImportFormat, ImportRun, Source

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from sources.models import AnyUser, Library

logger = logging.getLogger("marginalia.imports")

CREATED, DUPLICATE, FAILED = "created", "duplicate", "failed"
EXTENSIONS = {
    ".json": ImportFormat.CSL_JSON,
    ".csljson": ImportFormat.CSL_JSON,
    ".ris": ImportFormat.RIS,
    ".bib": ImportFormat.BIBTEX,
    ".bibtex": ImportFormat.BIBTEX,
    ".biblatex": ImportFormat.BIBTEX,
}
FORMAT_NAMES = "CSL-JSON, RIS or BibTeX/BibLaTeX"
# pylatexenc's parser recurses a few frames per level of braces, environments and \( \[
# groups (a title of 3,000 nested \textbf{ exhausted the stack); titles nest two or three.
MAX_LATEX_NESTING = 20
# Identifiers many distinct works share: a journal's ISSN, a series number; and an ISBN
# is shared by a book's chapters, so it identifies only books.
SHARED_IDENTIFIERS = {"ISSN", "number", "report_number"}


# --- The whole file --------------------------------------------------------------------


def import_metadata(
    library: Library, upload: UploadedFile | None, *, user: AnyUser, fmt: str | None = None
) -> ImportRun:
    """Import every record of an uploaded export into `library`; one outcome per record.

    Raises PermissionDenied unless `user` may edit the library, and UploadError (nothing
    written, no ImportRun) when the file as a whole cannot be read.
    """
    if not library.can_edit(user):
        raise PermissionDenied("You may read this library but not change it.")
    data = read_upload(upload)
    file_name = os.path.basename(upload.name or "upload")[:255]
    fmt = checked_format(fmt) if fmt else detect_format(data, file_name)
    records = parse_records(data, fmt)
    with transaction.atomic():
        catalogue = Catalogue(library)
        outcomes = [
            import_record(library, record, index=i, user=user, catalogue=catalogue)
            for i, record in enumerate(records)
        ]
        return ImportRun.objects.create(
            library=library, user=user, file_name=file_name, format=fmt, outcomes=outcomes
        )


def checked_format(fmt: str) -> str:
    if fmt not in ImportFormat.values:
        choices = ", ".join(ImportFormat.values)
        raise UploadError(f"Unknown format {fmt!r}; choose one of {choices}.", field="format")
    return fmt


def decode_text(data: bytes, file_name: str = "The file") -> str:
    """UTF-8 text (a BOM is dropped), NFC so that titles compare and search as they read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadError(
            f"{file_name} is not UTF-8 text (byte {data[error.start]:#04x} at position "
            f"{error.start}). Export it again with the UTF-8 character encoding."
        ) from None
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Stray controls (NUL above all: PostgreSQL cannot store it) are never part of a title.
    text = _CONTROLS.sub("", text)
    if not text.strip():
        raise UploadError(f"{file_name} is empty.")
    return text


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def detect_format(data: bytes, file_name: str) -> str:
    """The ImportFormat of an upload, from its content first and its extension second."""
    text = decode_text(data, file_name)
    found = sniff_format(text) or EXTENSIONS.get(os.path.splitext(file_name)[1].lower())
    if not found:
        raise UploadError(f"{file_name} is not a {FORMAT_NAMES} file.")
    return found


def sniff_format(text: str) -> str | None:
    lines = [line.strip() for line in text.lstrip().split("\n", 20)[:20]]
    if text.lstrip()[:1] in ("[", "{"):
        return ImportFormat.CSL_JSON
    if any(re.match(r"TY {1,2}- ", line) for line in lines if line):
        return ImportFormat.RIS
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text, re.M):
        return ImportFormat.BIBTEX
    return None


def parse_records(data: bytes, fmt: str) -> list[dict | Exception]:
    """CSL-JSON-shaped items, or for a record that cannot be read the error saying why.
    UploadError when the file as a whole is not in `fmt` or holds no records."""
    text = decode_text(data)
    readers = {
        ImportFormat.CSL_JSON: csl_json_records,
        ImportFormat.RIS: ris_records,
        ImportFormat.BIBTEX: bibtex_records,
    }
    label = ImportFormat(checked_format(fmt)).label
    try:
        records = readers[fmt](text)
    except UploadError:
        raise
    except Exception as error:  # the parser's own failure on the file's structure
        logger.warning("a %s file could not be read", label, exc_info=True)
        raise UploadError(f"The file cannot be read as {label}: {unreadable(error)}") from None
    if not records:
        raise UploadError(f"The file holds no {label} records.")
    return records


def unreadable(error: BaseException) -> str:
    """Why a parser gave up, for a person: nesting past the stack rather than its jargon."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply to read."
    return f"{describe_error(error)} ({error.__class__.__name__})."


def count_records(data: bytes, fmt: str) -> int:
    """About how many records the file holds, without reading them (0 when it cannot be
    read: the import then says why). Decides whether an import runs as a job."""
    try:
        text = decode_text(data)
    except UploadError:
        return 0
    if fmt == ImportFormat.RIS:
        return len(_RIS_START.findall(text))
    if fmt == ImportFormat.BIBTEX:
        return len(_BIBTEX_ENTRY.findall(text))
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        return 0
    return len(items) if isinstance(items, list) else 1


_RIS_START = re.compile(r"^TY  - ", re.M)
# An entry's start; @comment, @string and @preamble blocks are not records.
_BIBTEX_ENTRY = re.compile(
    r"^\s*@\s*(?!(?:comment|string|preamble)\b)[A-Za-z]+\s*[{(]", re.M | re.I
)


def csl_json_records(text: str) -> list[dict | Exception]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UploadError(
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise UploadError("The file is not CSL-JSON: it is nested too deeply.") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise UploadError("The file is not CSL-JSON: expected a list of items.")
    return [
        item if isinstance(item, dict) else ValueError("The record is not a JSON object.")
        for item in data
    ]


# --- One record ------------------------------------------------------------------------


def import_record(
    library: Library,
    record: dict | Exception,
    *,
    index: int,
    user: AnyUser,
    catalogue: Catalogue | None = None,
) -> dict:
    """Create one source from a CSL item, or say why not: a duplicate, or invalid. Give the
    `catalogue` of the library when importing many records (it is kept up to date)."""
    outcome: dict[str, Any] = {
        "index": index,
        "status": FAILED,
        "title": _record_title(record),
        "message": "",
        "source": None,
        "duplicate_of": None,
    }
    if isinstance(record, Exception):
        outcome["message"] = str(record)
        return outcome
    try:
        fields, creators = csl_to_fields(record)
        outcome["title"] = fields["title"]
        with transaction.atomic():  # a savepoint: a failing record writes nothing
            catalogue = catalogue or Catalogue(library)
            return outcome | _duplicate_or_created(library, fields, creators, user, catalogue)
    except (ValidationError, ValueError, DatabaseError) as error:
        outcome["message"] = describe_error(error)
    except Exception as error:  # anything else is still this record's, not the file's
        logger.warning("record %s of an import could not be read", index, exc_info=True)
        outcome["message"] = f"The record cannot be read: {unreadable(error)}"
    return outcome


def _duplicate_or_created(
    library: Library, fields: dict, creators: list[dict], user: AnyUser, catalogue: Catalogue
) -> dict[str, Any]:
    """The outcome of a readable record: a source already there, or a new one."""
    if match := catalogue.find(fields, creators):
        duplicate, reason = match
        message = f"Duplicate of {duplicate.citation_key} (same {reason}); not imported."
        return {"status": DUPLICATE, "message": message, "duplicate_of": duplicate.pk}
    source = create_source(library, fields, creators, user=user)
    catalogue.add(source, creators)
    return {"status": CREATED, "message": f"Created as {source.citation_key}.", "source": source.pk}


def create_source(library: Library, fields: dict, creators: list[dict], *, user: AnyUser) -> Source:
    """The source and its creators, validated; an imported key is kept when it is free."""
    fields = dict(fields)
    key = fields.pop("citation_key", "")
    if key and Source.objects.filter(library=library, citation_key=key).exists():
        key = ""
    validate_creators(creators)
    return Source.objects.create_with_creators(
        library=library, creators=creators, citation_key=key, created_by=user, **fields
    )


def validate_creators(creators: list[dict]) -> None:
    # The manager creates creators without full_clean, so names are checked here.
    for number, creator in enumerate(creators, start=1):
        try:
            Creator(**creator).full_clean(exclude=["source"])
        except ValidationError as error:
            raise ValidationError(
                {"creators": f"creator {number}: {describe_error(error)}"}
            ) from None


class Catalogue:
    """What tells a record already in the library, for all of the library's sources, read
    once: the same DOI (or other identifier), the same URL, or the same title, year and
    first creator once case, accents and punctuation are set aside. An import of N records
    then looks each up instead of scanning the library N times (quadratic: 2,000 records of
    one author and year took 229 s, most of it comparing titles)."""

    def __init__(self, library: Library) -> None:
        self.identifiers: dict[tuple[str, str], Source] = {}
        self.urls: dict[str, Source] = {}
        self.titles: dict[tuple[int | None, str, str], Source] = {}
        sources = Source.objects.filter(library=library).order_by("pk")
        fields = ("pk", "title", "citation_key", "identifiers", "url", "issued_earliest")
        for source in sources.only(*fields).prefetch_related("creators"):
            first = min(source.creators.all(), key=lambda c: (c.order, c.pk), default=None)
            self._remember(source, (first.family or first.literal) if first else "")

    def add(self, source: Source, creators: list[dict]) -> None:
        """A source just created from `creators` (in order)."""
        self._remember(source, first_name(creators))

    def _remember(self, source: Source, first_creator: str) -> None:
        for key, value in (source.identifiers or {}).items():
            self.identifiers.setdefault((key, str(value).casefold()), source)
        if source.url:
            self.urls.setdefault(source.url, source)
        year = source.issued_earliest.year if source.issued_earliest else None
        self.titles.setdefault((year, normalised(first_creator), normalised(source.title)), source)

    def find(self, fields: dict, creators: list[dict]) -> tuple[Source, str] | None:
        """The source this record describes again, and why we think so; None if new."""
        for key, value in fields["identifiers"].items():
            if key in SHARED_IDENTIFIERS or (key == "ISBN" and fields["csl_type"] != "book"):
                continue
            if found := self.identifiers.get((key, str(value).casefold())):
                return found, key if key.isupper() else f"{key} identifier"
        if url := fields["url"]:
            for variant in (url, url.rstrip("/"), url.rstrip("/") + "/"):
                if found := self.urls.get(variant):
                    return found, "URL"
        year = first_year(fields["issued"]) or None
        title = (year, normalised(first_name(creators)), normalised(fields["title"]))
        if found := self.titles.get(title):
            return found, "title, year and first creator"
        return None


def first_name(creators: list[dict]) -> str:
    """The first creator's family name, or the whole name of an institution."""
    return (creators[0]["family"] or creators[0]["literal"]) if creators else ""


def first_year(issued: str) -> int | None:
    """The first year an EDTF date can mean; plain dates without the (slow) EDTF grammar."""
    if re.match(r"\d{4}(?![\dX])", issued):
        return int(issued[:4])
    return edtf_year(issued) if issued else None


def normalised(text: str) -> str:
    """Case, accents, quotes and punctuation set aside: ‘Face’ == 'face'."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def describe_error(error: Exception) -> str:
    """The errors on one line, each after its field: "issued: '1950-13' is not an EDTF …"."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        parts = []
        for field, messages in error.message_dict.items():
            text = " ".join(messages)
            parts.append(text if field == NON_FIELD_ERRORS else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or error.__class__.__name__


def _record_title(record: dict | Exception) -> str:
    title = record.get("title") if isinstance(record, dict) else None
    return " ".join(title.split()) if isinstance(title, str) else ""


# --- RIS (Zotero's tag conventions, translators/RIS.js) ---------------------------------

RIS_TYPES = {
    "MANSCPT": "manuscript",
    "UNPB": "manuscript",
    "UNPD": "manuscript",
    "INPR": "manuscript",
    "PAMP": "pamphlet",
    "LETTER": "letter",
    "PCOMM": "letter",  # Zotero exports letters (and interviews) as PCOMM
    "ICOMM": "personal_communication",
    "MGZN": "article-magazine",
    "CTLG": "article-magazine",
    "NEWS": "article-newspaper",
    "JOUR": "article-journal",
    "JFULL": "article-journal",
    "EJOUR": "article-journal",
    "ABST": "article-journal",
    "ELEC": "webpage",
    "WEB": "webpage",
    "BLOG": "post-weblog",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CLSWK": "book",
    "SER": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "RPRT": "report",
    "GOVDOC": "report",
    "STAND": "report",
    "THES": "thesis",
    "MAP": "map",
    "ENCYC": "entry-encyclopedia",
    "DICT": "entry-dictionary",
    "STAT": "legislation",
    "BILL": "bill",
    "SLIDE": "speech",
    "CONF": "paper-conference",
    "CPAPER": "paper-conference",
    "HEAR": "hearing",
    "CASE": "legal_case",
    "GEN": "document",
}
# T2 is the series, not the container, for these (Zotero: book "series", report "seriesTitle").
RIS_T2_IS_SERIES = {"book", "report", "map"}
RIS_ISSN_TYPES = {"article-journal", "article-magazine", "article-newspaper"}
RIS_NO_PAGES = {"book", "thesis", "manuscript"}  # SP is the number of pages there
# Every possible tag maps to itself and is a list, so repeated tags and continuation
# lines are all kept, and joined below as each tag needs.
RIS_TAGS = {
    a + b: a + b
    for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
}


def ris_records(text: str) -> list[dict | Exception]:
    entries = rispy.loads(
        text,
        mapping=RIS_TAGS,
        list_tags=list(RIS_TAGS),
        delimiter_tags_mapping={},
        skip_unknown_tags=True,
    )
    unclosed = ValueError("A record has no closing 'ER  -' line.")
    records: list[dict | Exception] = [
        unclosed if isinstance(tags.get("TY"), list) else _record_or_error(ris_item, tags)
        for tags in entries
    ]
    # rispy drops a last record without ER and merges one into the next: count them.
    started = len(_RIS_START.findall(text))
    return records + [unclosed] * max(0, started - len(entries))


def _record_or_error(read: Any, raw: Any, where: str = "The record") -> dict | Exception:
    """`read(raw)`, or the reason it failed: one record's fault stays that record's."""
    try:
        return read(raw)
    except ValueError as error:
        return error
    except Exception as error:  # the parser's own failure (out of stack, a bug) on this record
        logger.warning("%s could not be read", where, exc_info=True)
        return ValueError(f"{where} cannot be read: {unreadable(error)}")


def ris_item(tags: dict) -> dict:
    """A CSL item for one RIS record (a dict of tag → list of lines)."""
    csl_type = RIS_TYPES.get(str(tags.get("TY", "")).strip().upper(), "document")
    value = functools.partial(_ris_value, tags)
    item: dict[str, Any] = {"type": csl_type}
    item["title"] = value("TI", "T1", "CT") or (
        value("BT") if csl_type in ("book", "manuscript") else ""
    )
    _ris_titles(item, value, csl_type)
    item |= _ris_names(tags, csl_type)
    item |= _ris_dates(value)
    item |= {
        "publisher": value("PB"),
        "publisher-place": value("CY"),
        "edition": value("ET"),
        "volume": value("VL"),
        "issue": value("IS"),
        "archive": value("DB"),
        "archive_location": value("AN", "AV"),
        "call-number": value("CN"),
        "language": value("LA"),
        "abstract": _ris_value(tags, "AB", "N2", sep="\n"),
        "note": _ris_notes(tags),
        "URL": next(iter(_ris_list(tags, "UR")), ""),
    }
    if csl_type not in RIS_NO_PAGES:
        item["page"] = "–".join(p for p in (value("SP"), value("EP")) if p)
    item |= _ris_identifiers(value, csl_type)
    _ris_extra(item, _ris_list(tags, "M2"))
    return {key: val for key, val in item.items() if val}


# What RIS has no tag for travels as "variable: value" lines in M2 (Zotero's Extra field,
# and what citations.exports writes); other M2 lines are kept in the note.
RIS_EXTRA_VARIABLES = {"archive-place", "archive_collection", "medium"}


def _ris_extra(item: dict, lines: list[str]) -> None:
    kept = []
    for line in lines:
        key, _, rest = line.partition(":")
        key, rest = key.strip().lower(), rest.strip()
        if key in RIS_EXTRA_VARIABLES and rest:
            item[key] = rest
        elif key == "original-language" and rest:
            item.setdefault("custom", {})["original_language"] = rest
        elif key == "issued" and rest:
            item.setdefault("custom", {}).setdefault("edtf", {})["issued"] = rest
        elif line.strip():
            kept.append(line.strip())
    if kept:
        item["note"] = "\n".join(filter(None, [item.get("note", ""), *kept]))


def _ris_titles(item: dict, value, csl_type: str) -> None:
    if csl_type in RIS_T2_IS_SERIES:
        item["collection-title"] = value("T2", "T3")
    else:
        item["container-title"] = value("T2", "JF", "JO", "J2", "BT")
        item["collection-title"] = value("T3")


def _ris_names(tags: dict, csl_type: str) -> dict[str, list[dict]]:
    secondary = {
        "letter": "recipient",
        "personal_communication": "recipient",
        "interview": "interviewer",
        "book": "collection-editor",
        "report": "collection-editor",
    }.get(csl_type, "editor")
    tertiary = {"book": "editor", "thesis": "contributor"}.get(csl_type, "collection-editor")
    fourth = "contributor" if csl_type == "paper-conference" else "translator"
    names: dict[str, list[dict]] = {}
    for tag, variable in (
        ("AU", "author"),
        ("A1", "author"),
        ("A2", secondary),
        ("ED", "editor"),
        ("A3", tertiary),
        ("A4", fourth),
    ):
        for name in _ris_list(tags, tag):
            names.setdefault(variable, []).append(ris_name(name))
    return names


def ris_name(name: str) -> dict[str, str]:
    """RIS writes "Family, Given[, Suffix]"; a name without a comma is one literal name."""
    parts = [part.strip() for part in name.split(",")]
    if len(parts) == 1:
        return {"literal": parts[0]}
    result = {"family": parts[0], "given": parts[1]}
    if len(parts) > 2:
        result["suffix"] = ", ".join(parts[2:])
    return result


def _ris_dates(value) -> dict[str, Any]:
    dates = {}
    if issued := ris_date(value("DA", "Y1")) or ris_date(value("PY")):
        dates["issued"] = {"raw": issued}
    if accessed := ris_date(value("Y2")):
        dates["accessed"] = {"raw": accessed}
    return dates


def ris_date(value: str) -> str:
    """EDTF for RIS dates: Zotero's "1950/01/16/" and "1950/01/01/?" (the last part is
    free text: a time, a season, "?"), or any date `loose_edtf` reads."""
    parts = value.split("/")
    if len(parts) < 3 or not re.fullmatch(r"\d{1,2}|", parts[1].strip()):
        return loose_edtf(value)
    year, month, day = (p.strip() for p in parts[:3])
    rest = "/".join(parts[3:]).strip()
    if not re.fullmatch(r"\d{4}", year) or not re.fullmatch(r"\d{0,2}", day):
        return loose_edtf(value)
    date = year + (f"-{int(month):02d}" if month else "")
    date += f"-{int(day):02d}" if month and day else ""
    if not month and rest.casefold() in ("spring", "summer", "autumn", "fall", "winter"):
        return loose_edtf(f"{rest} {year}")
    return date + ("?" if re.search(r"\?|\bca\b|circa|approx", rest, re.I) else "")


def _ris_identifiers(value, csl_type: str) -> dict[str, Any]:
    result: dict[str, Any] = {"DOI": value("DO")}
    genre = value("M3")
    if re.match(r"10\.\d{4,}/", genre):
        result["DOI"] = result["DOI"] or genre  # EndNote and others put DOIs in M3
    else:
        result["genre"] = genre
    if serial := value("SN"):
        if csl_type == "report":
            result["custom"] = {"identifiers": {"report_number": serial}}
        else:
            result["ISSN" if csl_type in RIS_ISSN_TYPES else "ISBN"] = serial
    if rights := value("CR"):
        result.setdefault("custom", {})["rights"] = rights
    return result


def _ris_value(tags: dict, *names: str, sep: str = " ") -> str:
    """The first tag present, its lines joined (HTML entities decoded, as Zotero does)."""
    for name in names:
        lines = [line for line in _ris_list(tags, name) if line]
        if lines:
            text = sep.join(lines)
            return text if sep == "\n" else html.unescape(text)
    return ""


def _ris_list(tags: dict, name: str) -> list[str]:
    value = tags.get(name) or []
    return [v.strip() for v in ([value] if isinstance(value, str) else value)]


def _ris_notes(tags: dict) -> str:
    """Zotero writes each child note as HTML in an N1 tag; we keep their text."""
    notes = "\n".join(_ris_list(tags, "N1"))
    if "<" not in notes:
        return notes
    reader = _NoteText()
    reader.feed(notes)
    reader.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(reader.parts)).strip()


class _NoteText(HTMLParser):
    """A note's text, a line break after each paragraph, block and <br>. One pass over the
    tags (a tree, as BeautifulSoup builds it, took 2.9 s for 10,000 nested <div>s)."""

    BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3"})
    HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


# --- BibTeX and BibLaTeX (as Better BibTeX writes them) --------------------------------

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
    "legislation": "legislation",
    "legal": "treaty",  # Better BibLaTeX writes CSL treaties as @legal
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "jurisdiction": "legal_case",
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
}
# Written verbatim by Better BibTeX: LaTeX-decoding them would eat % and ~ in URLs.
VERBATIM_FIELDS = {"url", "doi", "eprint", "file", "verba", "verbb", "verbc"}


def bibtex_records(text: str) -> list[dict | Exception]:
    name_fields = tuple(BIBTEX_NAME_FIELDS)
    library = bibtexparser.parse_string(
        text,
        append_middleware=[
            SeparateCoAuthors(name_fields=name_fields),
            SplitNameParts(name_fields=name_fields),
        ],
    )
    records: list[dict | Exception] = []
    for block in library.blocks:
        if isinstance(block, Entry):
            records.append(_bibtex_entry_or_error(block))
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
    return f"The BibTeX entry{where} cannot be read: {describe_error(block.error)}"


def _bibtex_entry_or_error(entry: Entry) -> dict | Exception:
    where = f" at line {entry.start_line + 1}" if entry.start_line is not None else ""
    return _record_or_error(bibtex_item, entry, f"The BibTeX entry {entry.key!r}{where}")


def bibtex_item(entry: Entry) -> dict:
    """A CSL item for one Bib(La)TeX entry; the entry key becomes the citation key."""
    raw = {field.key.lower(): field.value for field in entry.fields}
    text = {key: _bibtex_text(key, value) for key, value in raw.items() if isinstance(value, str)}
    value = functools.partial(_first_of, text)
    url = value("url") or _url_in(raw.get("howpublished", ""))
    csl_type = _bibtex_type(entry.entry_type.lower(), text, has_url=bool(url))
    item: dict[str, Any] = {"type": csl_type, "citation-key": entry.key, "URL": url}
    title = value("title")
    if subtitle := value("subtitle"):
        title = f"{title}: {subtitle}" if title else subtitle
    item["title"] = title
    item |= _bibtex_containers(value, csl_type)
    item |= _bibtex_creators(raw)
    item |= _bibtex_dates(value)
    item |= _bibtex_places(value, csl_type)
    item |= _bibtex_identifiers(value, csl_type)
    item["genre"] = _bibtex_genre(value, csl_type, url)
    item["language"] = value("language") or language_tag(value("langid"))
    item["abstract"] = value("abstract")
    item["note"] = "\n\n".join(
        p for p in (value("annotation"), value("note"), value("addendum")) if p
    )
    custom = {"original_language": language_tag(value("origlanguage")), "rights": value("rights")}
    item["custom"] = {key: val for key, val in custom.items() if val} | item.get("custom", {})
    return {key: val for key, val in item.items() if val}


def _bibtex_type(entry_type: str, text: dict, *, has_url: bool) -> str:
    subtype = text.get("entrysubtype", "").lower()
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


def _bibtex_containers(value, csl_type: str) -> dict[str, str]:
    container = value("journaltitle", "journal", "booktitle")
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


def _bibtex_places(value, csl_type: str) -> dict[str, str]:
    publisher = value("publisher")
    if csl_type in ("report", "thesis"):
        publisher = publisher or value("institution", "school")
    elif csl_type != "webpage":
        publisher = publisher or value("organization")
    return {
        "publisher": publisher,
        "publisher-place": value("location", "address"),
        # Better BibTeX writes Zotero's Archive and Loc. in Archive under these names.
        "archive": value("archive", "library"),
        "archive_location": value("archive_location", "archivelocation"),
        "call-number": value("call-number", "callnumber", "lccn"),
    }


def _bibtex_dates(value) -> dict[str, Any]:
    dates: dict[str, Any] = {}
    if date := value("date"):
        dates["issued"] = {"raw": biblatex_date(date)}
    elif year := value("year"):
        month = bibtex_month(value("month"))
        day = value("day")
        dates["issued"] = {"raw": loose_edtf(_ymd(year, month, day))}
    if accessed := value("urldate"):
        dates["accessed"] = {"raw": biblatex_date(accessed)}
    if original := value("origdate"):
        dates["original-date"] = {"raw": biblatex_date(original)}
    return dates


def biblatex_date(value: str) -> str:
    """BibLaTeX dates are EDTF-like; an open end is written "1950/" rather than "1950/.."."""
    value = value.strip()
    if value.endswith("/"):
        value += ".."
    if value.startswith("/"):
        value = ".." + value
    return loose_edtf(value)


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
    if not re.fullmatch(r"\d{4}", year) or not month:
        return year
    return f"{year}-{month}" + (f"-{int(day):02d}" if day.isdigit() else "")


def _bibtex_identifiers(value, csl_type: str) -> dict[str, Any]:
    result: dict[str, Any] = {"DOI": value("doi"), "ISBN": value("isbn"), "ISSN": value("issn")}
    result["PMID"] = value("pmid")
    other = {}
    eprint, eprinttype = value("eprint"), value("eprinttype", "archiveprefix").lower()
    if eprint and eprinttype == "pubmed":
        result["PMID"] = result["PMID"] or eprint
    elif eprint and eprinttype:
        other[eprinttype] = eprint
    if (number := value("number")) and not csl_type.startswith("article"):
        other["number"] = number  # a report's or a series' number: kept, not an issue
    if other:
        result["custom"] = {"identifiers": other}
    return result


def _bibtex_genre(value, csl_type: str, url: str) -> str:
    kind = value("type")
    if csl_type == "thesis":
        return THESIS_TYPES.get(kind.lower(), kind)
    howpublished = value("howpublished")
    if howpublished and url and url in howpublished:
        howpublished = ""
    return kind or howpublished


def _bibtex_creators(raw: dict) -> dict[str, list[dict]]:
    names: dict[str, list[dict]] = {}
    for field, variable in BIBTEX_NAME_FIELDS.items():
        for parts in raw.get(field) or []:
            if not isinstance(parts, str):
                names.setdefault(variable, []).append(bibtex_name(parts, field=field))
    return names


def bibtex_name(parts, *, field: str = "author") -> dict[str, str]:
    """A CSL name from bibtexparser's NameParts; a name wholly in braces is one literal
    name ("{Ministry of Foreign Affairs of the USSR}")."""
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


def _bibtex_text(key: str, value: str) -> str:
    if key in VERBATIM_FIELDS:
        # Better BibTeX escapes these characters even in verbatim fields in BibTeX mode.
        return re.sub(r"\\([#%&_{}~$])", r"\1", value.strip())
    multiline = key in ("abstract", "note", "annotation", "addendum")
    return latex_text(value, multiline=multiline, field=key)


def _first_of(text: dict, *keys: str) -> str:
    return next((text[key] for key in keys if text.get(key)), "")


def _url_in(howpublished: Any) -> str:
    match = re.search(r"\\url\{([^}]*)\}", howpublished) if isinstance(howpublished, str) else None
    return match[1].strip() if match else ""


@functools.cache
def _latex_decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    # \url{…} as its bare address, not wrapped in <…>
    context.add_context_category(
        "marginalia-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


def latex_text(value: str, *, multiline: bool = False, field: str = "value") -> str:
    """Unicode text for a LaTeX value: accents ({\\"o}, \\'e, \\v{S}), dashes, braces.
    ValueError naming `field` when it nests deeper than MAX_LATEX_NESTING."""
    if (depth := latex_nesting(value)) > MAX_LATEX_NESTING:
        raise ValueError(
            f"The {field} field nests braces or environments {depth} levels deep; "
            f"at most {MAX_LATEX_NESTING} are read."
        )
    # TeX quotes, which pylatexenc leaves alone: ``…'' and `…'
    value = value.replace("``", "“").replace("''", "”")
    value = re.sub(r"`([^`']*)'", "‘\\1’", value)
    try:
        text = _latex_decoder().latex_to_text(value)
    except LatexWalkerError:
        text = value
    text = unicodedata.normalize("NFC", text.replace("\xa0", " "))
    if not multiline:
        return " ".join(text.split())
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


_OPENS, _CLOSES = frozenset({"{", "\\begin", "\\(", "\\["}), frozenset({"}", "\\end", "\\)", "\\]"})
# `\\` (a line break) and `\{` `\}` (literal braces) are read first, so they count for nothing.
_LATEX_GROUPS = re.compile(r"\\\\|\\[{}]|\\(?:begin|end)\b|\\[()\[\]]|[{}]")


def latex_nesting(value: str) -> int:
    """How deep braces, environments and \\( \\[ groups nest in a LaTeX value (one pass)."""
    depth = deepest = 0
    for match in _LATEX_GROUPS.finditer(value):
        token = match[0]
        if token in _OPENS:
            depth += 1
            deepest = max(deepest, depth)
        elif token in _CLOSES:
            depth = max(0, depth - 1)
    return deepest
