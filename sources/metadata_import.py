"""Import bibliographic records from reference-manager exports into a library.

Formats: CSL-JSON, Zotero's web API JSON, RIS, BibTeX/BibLaTeX, Zotero RDF, MODS and
EndNote XML. Every format is first read into CSL-JSON-shaped items by its reader in
`sources.imports` (RIS and BibTeX with Zotero's and Better BibTeX's conventions), so that
`csl.csl_to_fields` is the one place that knows our model. A problem with the whole file
raises UploadError and writes nothing; each record is then created in its own savepoint.

A record is never refused for one field: a value that cannot be read or stored (a date
EDTF cannot hold, a URL that is no web address, a name too long for its column) is kept
as it was written (a literal date, a line of the note) and the outcome line says so:
"Created as key, with 2 warnings: …". Whatever else goes wrong with one record (a LaTeX
value nested past MAX_LATEX_NESTING, a parser out of stack, any exception) is that
record's outcome, "failed" with the reason, at its index. A record the library already
holds is a duplicate, with every reason named; `import_record(force=True)` imports it
anyway (the import page's *Import anyway*).
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import bibtexparser  # noqa: F401  (tests make its parser fail on purpose, through here)
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from core.uploads import UploadError, read_upload
from sources.csl import csl_to_fields
from sources.imports import bibtex, ris, xml_formats
from sources.imports.bibtex import bibtex_records
from sources.imports.common import describe_error, unreadable
from sources.imports.duplicates import Catalogue
from sources.imports.json_formats import csl_json_records, is_zotero_json, json_items, load_json
from sources.imports.latex import latex_text
from sources.imports.ris import ris_records
from sources.models import Creator, ImportFormat, ImportRun, Source

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from sources.models import AnyUser, Library

__all__ = [
    "Catalogue",
    "bibtex_records",
    "describe_error",
    "latex_text",
    "ris_records",
]

logger = logging.getLogger("marginalia.imports")

CREATED, DUPLICATE, FAILED = "created", "duplicate", "failed"
EXTENSIONS = {
    ".json": ImportFormat.CSL_JSON,
    ".csljson": ImportFormat.CSL_JSON,
    ".ris": ImportFormat.RIS,
    ".bib": ImportFormat.BIBTEX,
    ".bibtex": ImportFormat.BIBTEX,
    ".biblatex": ImportFormat.BIBTEX,
    ".rdf": ImportFormat.ZOTERO_RDF,
    ".mods": ImportFormat.MODS,
    ".xml": ImportFormat.ENDNOTE_XML,
}
FORMAT_NAMES = "CSL-JSON, Zotero JSON, RIS, BibTeX/BibLaTeX, Zotero RDF, MODS or EndNote XML"
# What a value kept aside is called in the note ("Archive location: …").
FIELD_LABELS = {
    "title": "Title",
    "url": "URL",
    "issued": "Date",
    "accessed": "Accessed",
    "language": "Language",
    "original_language": "Original language",
}
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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
    if fmt not in ImportFormat.values or fmt == ImportFormat.ZOTERO_DATA:
        choices = ", ".join(v for v in ImportFormat.values if v != ImportFormat.ZOTERO_DATA)
        raise UploadError(f"Unknown format {fmt!r}; choose one of {choices}.", field="format")
    return fmt


def decode_text(data: bytes, file_name: str = "The file") -> str:
    """UTF-8 text (a BOM is dropped), NFC so that titles compare and search as they read."""
    try:
        text = data.decode(_xml_encoding(data) or "utf-8-sig")
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


def _xml_encoding(data: bytes) -> str | None:
    """The encoding an XML file declares (JabRef's MODS: ISO-8859-1), if Python knows it."""
    match = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([\w.-]+)[\"']", data[:200])
    if not match:
        return None
    try:
        return codecs.lookup(match[1].decode("ascii")).name
    except LookupError:
        return None


def detect_format(data: bytes, file_name: str) -> str:
    """The ImportFormat of an upload, from its content first and its extension second."""
    text = decode_text(data, file_name)
    found = sniff_format(text) or EXTENSIONS.get(os.path.splitext(file_name)[1].lower())
    if not found:
        raise UploadError(f"{file_name} is not a {FORMAT_NAMES} file.")
    return found


def sniff_format(text: str) -> str | None:
    head = text.lstrip()
    lines = [line.strip() for line in head.split("\n", 20)[:20]]
    if head[:1] in ("[", "{"):
        return ImportFormat.ZOTERO_JSON if '"itemType"' in head[:20000] else ImportFormat.CSL_JSON
    if head[:1] == "<":
        return xml_formats.sniff_xml(head[:5000])
    if any(re.match(r"TY[ \t]{0,3}- ?\S", line) for line in lines if line):
        return ImportFormat.RIS
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text, re.M):
        return ImportFormat.BIBTEX
    return None


READERS = {
    ImportFormat.CSL_JSON: csl_json_records,
    ImportFormat.ZOTERO_JSON: csl_json_records,
    ImportFormat.RIS: ris_records,
    ImportFormat.BIBTEX: bibtex_records,
    ImportFormat.ZOTERO_RDF: xml_formats.zotero_rdf_records,
    ImportFormat.MODS: xml_formats.mods_records,
    ImportFormat.ENDNOTE_XML: xml_formats.endnote_records,
}


def parse_records(data: bytes, fmt: str) -> list[dict | Exception]:
    """CSL-JSON-shaped items, or for a record that cannot be read the error saying why.
    UploadError when the file as a whole is not in `fmt` or holds no records."""
    text = decode_text(data)
    label = ImportFormat(checked_format(fmt)).label
    try:
        records = READERS[fmt](text)
    except UploadError:
        raise
    except Exception as error:  # the parser's own failure on the file's structure
        logger.warning("a %s file could not be read", label, exc_info=True)
        raise UploadError(f"The file cannot be read as {label}: {unreadable(error)}") from None
    if not records:
        raise UploadError(f"The file holds no {label} records.")
    return records


def count_records(data: bytes, fmt: str) -> int:
    """About how many records the file holds, without reading them (0 when it cannot be
    read: the import then says why). Decides whether an import runs as a job."""
    try:
        text = decode_text(data)
    except UploadError:
        return 0
    if fmt == ImportFormat.RIS:
        return ris.count_ris(text)
    if fmt == ImportFormat.BIBTEX:
        return len(_BIBTEX_ENTRY.findall(text))
    if fmt in xml_formats.COUNTERS:
        return xml_formats.COUNTERS[fmt](text)
    try:
        items = json_items(load_json(text))
    except (UploadError, RecursionError):
        return 0
    return len(items)


# An entry's start; @comment, @string and @preamble blocks are not records.
_BIBTEX_ENTRY = re.compile(
    r"^\s*@\s*(?!(?:comment|string|preamble)\b)[A-Za-z]+\s*[{(]", re.M | re.I
)


def is_zotero_file(text: str) -> bool:
    try:
        return is_zotero_json(json_items(load_json(text)))
    except UploadError:
        return False


# --- One record ------------------------------------------------------------------------


def import_record(
    library: Library,
    record: dict | Exception,
    *,
    index: int,
    user: AnyUser,
    catalogue: Catalogue | None = None,
    force: bool = False,
) -> dict:
    """Create one source from a CSL item, or say why not: a duplicate (unless `force`),
    or unreadable. Give the `catalogue` of the library when importing many records (it is
    kept up to date)."""
    outcome: dict[str, Any] = {
        "index": index,
        "status": FAILED,
        "title": _record_title(record),
        "message": "",
        "warnings": [],
        "source": None,
        "duplicate_of": None,
    }
    if isinstance(record, Exception):
        outcome["message"] = describe_error(record)
        return outcome
    try:
        original, record = record, dict(record)
        warnings = [str(w) for w in record.pop("_warnings", [])]
        child_notes = [str(n) for n in record.pop("_notes", [])]
        fields, creators = csl_to_fields(record, warnings)
        fields["note"] = "\n\n".join(p for p in (fields["note"], *child_notes) if p)
        outcome["title"] = fields["title"]
        with transaction.atomic():  # a savepoint: a failing record writes nothing
            catalogue = catalogue or Catalogue(library)
            result = _duplicate_or_created(
                library, fields, creators, user, catalogue, warnings, force=force
            )
        if result["status"] == DUPLICATE:
            result["record"] = original  # what *Import anyway* creates
        return outcome | result
    except (ValidationError, ValueError, DatabaseError) as error:
        outcome["message"] = describe_error(error)
    except Exception as error:  # anything else is still this record's, not the file's
        logger.warning("record %s of an import could not be read", index, exc_info=True)
        outcome["message"] = f"The record cannot be read: {unreadable(error)}"
    return outcome


def import_anyway(run: ImportRun, indexes: list[int], *, user: AnyUser) -> int:
    """Create the run's duplicates at `indexes` (all of them when empty) after all, as the
    import page's *Import anyway* asks; their outcome lines say so. The number created."""
    if not run.library.can_edit(user):
        raise PermissionDenied("You may read this library but not change it.")
    wanted = set(indexes)
    outcomes, created = [], 0
    with transaction.atomic():
        catalogue = Catalogue(run.library)
        for outcome in run.outcomes:
            if (
                outcome.get("status") == DUPLICATE
                and outcome.get("record")
                and (not wanted or outcome.get("index") in wanted)
            ):
                again = import_record(
                    run.library, outcome["record"], index=outcome["index"], user=user,
                    catalogue=catalogue, force=True,
                )  # fmt: skip
                if again["status"] == CREATED:
                    created += 1
                    again["message"] = f"Imported anyway: {again['message']}"
                outcome = again
            outcomes.append(outcome)
        run.outcomes = outcomes
        run.save(update_fields=["outcomes"])
    return created


def _duplicate_or_created(
    library: Library,
    fields: dict,
    creators: list[dict],
    user: AnyUser,
    catalogue: Catalogue,
    warnings: list[str],
    *,
    force: bool,
) -> dict[str, Any]:
    """The outcome of a readable record: a source already there, or a new one."""
    if not force and (match := catalogue.find(fields, creators)):
        duplicate, reasons = match
        message = f"Duplicate of {duplicate.citation_key} (same {'; same '.join(reasons)})"
        return {
            "status": DUPLICATE,
            "message": message + "; not imported.",
            "duplicate_of": duplicate.pk,
            "reasons": reasons,
        }
    source = create_source(library, fields, creators, user=user, warnings=warnings)
    catalogue.add(source, creators)
    message = f"Created as {source.citation_key}"
    if warnings:
        count = f"{len(warnings)} warning" + ("s" if len(warnings) > 1 else "")
        message += f", with {count}: " + "; ".join(warnings)
    return {"status": CREATED, "message": message + ".", "source": source.pk, "warnings": warnings}


def create_source(
    library: Library,
    fields: dict,
    creators: list[dict],
    *,
    user: AnyUser,
    warnings: list[str] | None = None,
) -> Source:
    """The source and its creators, validated; an imported key is kept when it is free.
    Given `warnings`, a field or creator that does not validate is kept in the note (a
    date as a literal date) and the record created all the same."""
    fields = dict(fields)
    key = fields.pop("citation_key", "")
    if key and Source.objects.filter(library=library, citation_key=key).exists():
        if warnings is not None:
            warnings.append(f"the citation key {key} is taken in this library; a new one given")
        key = ""
    if warnings is not None:
        creators = _salvaged_creators(creators, fields, warnings)
        _salvage_fields(library, fields, warnings)
    validate_creators(creators)
    return Source.objects.create_with_creators(
        library=library, creators=creators, citation_key=key, created_by=user, **fields
    )


def _salvage_fields(library: Library, fields: dict, warnings: list[str]) -> None:
    """Keep aside every field the model refuses, until it accepts the rest."""
    for _attempt in range(len(fields)):
        try:
            Source(library=library, **fields).full_clean(exclude=["citation_key", "library"])
            return
        except ValidationError as error:
            refused = [name for name in error.message_dict if name in fields]
            if not refused:
                return  # not a field's fault: create_with_creators says why
            for name in refused:
                _keep_aside(fields, name, " ".join(error.message_dict[name]), warnings)


def _keep_aside(fields: dict, name: str, reason: str, warnings: list[str]) -> None:
    value = fields[name]
    if name == "issued" and value and not fields.get("issued_literal"):
        fields["issued"], fields["issued_literal"] = "", str(value)[:200]
        warnings.append(f"the date “{value}” is not one EDTF can hold; kept as written")
        return
    label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
    fields["note"] = "\n\n".join(p for p in (fields.get("note", ""), f"{label}: {shown}") if p)
    fields[name] = Source._meta.get_field(name).get_default()
    warnings.append(f"{label.lower()} kept in the note ({reason.rstrip('.')})")


def _salvaged_creators(creators: list[dict], fields: dict, warnings: list[str]) -> list[dict]:
    kept = []
    for number, creator in enumerate(creators, start=1):
        try:
            Creator(**creator).full_clean(exclude=["source"])
            kept.append(creator)
        except ValidationError as error:
            name = creator.get("literal") or ", ".join(
                p for p in (creator.get("family"), creator.get("given")) if p
            )
            line = f"{creator['role'].capitalize()}: {name}"
            fields["note"] = "\n\n".join(p for p in (fields.get("note", ""), line) if p)
            warnings.append(f"creator {number} kept in the note ({describe_error(error)})")
    return kept


def validate_creators(creators: list[dict]) -> None:
    # The manager creates creators without full_clean, so names are checked here.
    for number, creator in enumerate(creators, start=1):
        try:
            Creator(**creator).full_clean(exclude=["source"])
        except ValidationError as error:
            raise ValidationError(
                {"creators": f"creator {number}: {describe_error(error)}"}
            ) from None


def _record_title(record: dict | Exception) -> str:
    title = record.get("title") if isinstance(record, dict) else None
    return " ".join(title.split()) if isinstance(title, str) else ""


# The readers, by their old names here (`bibtex.bibtex_item`, `ris.ris_item`).
bibtex_item = bibtex.bibtex_item
ris_item = ris.ris_item
