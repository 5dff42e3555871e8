"""The one mapping between our Source/Creator models and CSL-JSON (CSL 1.0.2 data schema).

`source_to_csl` writes every model field: a CSL variable where CSL has one (every variable
we keep no column for comes back from `Source.variables`, the typed store), and the
schema's free-form `custom` object for the rest (kind, original language, identifiers
without a CSL variable, the EDTF strings, interviewees), so that the output validates
against `csl-data.json` and `csl_to_fields(source_to_csl(s))` gives back every field.

`csl_to_fields` also reads what other tools write: Zotero's date-parts with string years
and "ca." seasons, raw and literal dates, negative (BCE) years, particles and suffixes in
names, `static-ordering` (a name written family name first), Zotero's Extra lines in the
note. Given a `warnings` list it never refuses a record for one variable: what it cannot
read is kept as written (a date as a literal date, anything else as a line of the note)
and the list says what was kept aside; without one it raises ValidationError naming the
variable, as the API's strict callers want.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.dates import SIMPLE_DATE
from sources.imports.dates import DateReading, csl_year_to_edtf, edtf_year_to_csl, read_date
from sources.imports.extra import read_extra
from sources.imports.languages import language_tag
from sources.models import CreatorRole, SourceKind, SourceType, written_family_first

if TYPE_CHECKING:
    from sources.models import Creator, Source

__all__ = ["language_tag"]  # re-exported: the readers' and the forms' language tags

# Model field → CSL variable, for every plain text field.
TEXT_VARIABLES: dict[str, str] = {
    "title": "title",
    "container_title": "container-title",
    "collection_title": "collection-title",
    "publisher": "publisher",
    "publisher_place": "publisher-place",
    "volume": "volume",
    "issue": "issue",
    "page": "page",
    "edition": "edition",
    "archive": "archive",
    "archive_place": "archive-place",
    "archive_collection": "archive_collection",
    "archive_location": "archive_location",
    "call_number": "call-number",
    "genre": "genre",
    "medium": "medium",
    "url": "URL",
    "language": "language",
    "abstract": "abstract",
    "note": "note",
}
MULTILINE_FIELDS = {"abstract", "note"}
IDENTIFIER_VARIABLES = ("DOI", "ISBN", "ISSN", "PMID", "PMCID")
# Every CSL name variable is a creator role of the same name; interviewee (which CSL has no
# variable for) travels in `custom`.
NAME_VARIABLES: dict[str, str] = {
    role.value: role.value for role in CreatorRole if role != CreatorRole.INTERVIEWEE
}
# CSL variables kept in `Source.variables`: text and numbers as written, dates as EDTF
# (or {"literal": …} when EDTF cannot hold them), categories as a list of strings.
STORED_TEXT = (
    "annote", "authority", "chapter-number", "citation-label", "citation-number",
    "collection-number", "container-title-short", "dimensions", "division", "event-place",
    "event-title", "first-reference-note-number", "jurisdiction", "locator", "number",
    "number-of-pages", "number-of-volumes", "original-publisher", "original-publisher-place",
    "original-title", "page-first", "part", "part-title", "printing", "references",
    "reviewed-genre", "reviewed-title", "scale", "section", "source", "status", "supplement",
    "title-short", "version", "volume-title", "volume-title-short", "year-suffix",
)  # fmt: skip
STORED_DATES = ("available-date", "event-date", "original-date", "submitted")
STORED_LISTS = ("categories",)
STORED_VARIABLES = frozenset(STORED_TEXT + STORED_DATES + STORED_LISTS)
# Older or tool-specific spellings of CSL variables (citeproc-js, Zotero, CSL 1.0.1).
VARIABLE_ALIASES = {
    "shortTitle": "title-short",
    "journalAbbreviation": "container-title-short",
    "event": "event-title",
    "archive_place": "archive-place",
    "call_number": "call-number",
    "publisher_place": "publisher-place",
}
# What `custom` holds of ours; anything else in it is kept (variables["custom"]).
OUR_CUSTOM = {
    "kind", "original_language", "rights", "identifiers", "edtf", "interviewee", "type", "genre",
}  # fmt: skip
PRIMARY_TYPES = {
    SourceType.MANUSCRIPT,
    SourceType.LETTER,
    SourceType.INTERVIEW,
    SourceType.SPEECH,
    SourceType.TREATY,
    SourceType.LEGISLATION,
    SourceType.MAP,
    SourceType.PERSONAL_COMMUNICATION,
    SourceType.DOCUMENT,
    SourceType.BILL,
    SourceType.HEARING,
    SourceType.LEGAL_CASE,
    SourceType.REGULATION,
    SourceType.GRAPHIC,
    SourceType.MOTION_PICTURE,
    SourceType.SONG,
    SourceType.BROADCAST,
    SourceType.COLLECTION,
    SourceType.PATENT,
}
SEASONS = {"spring": 1, "summer": 2, "autumn": 3, "fall": 3, "winter": 4}
CIRCA_WORDS = {"?", "ca", "ca.", "c.", "circa", "approx.", "approximately", "about"}
CITATION_KEY = re.compile(r"\w[\w:.#$%&+?<>~/-]*")
# Controls no text field may hold (NUL above all: PostgreSQL cannot store it).
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL = URLValidator(schemes=["http", "https", "ftp", "ftps"])


# --- Model → CSL -----------------------------------------------------------------------


def source_to_csl(source: Source) -> dict[str, Any]:
    """A CSL-JSON item for `source` that validates against the CSL 1.0.2 data schema.
    Exporting many sources? `prefetch_related("creators")`: the creators are read from it."""
    item: dict[str, Any] = {
        "id": source.citation_key or f"source-{source.pk}",
        "type": source.csl_type,
    }
    if source.citation_key:
        item["citation-key"] = source.citation_key
    for field, variable in TEXT_VARIABLES.items():
        if value := getattr(source, field):
            item[variable] = value
    if _genre_in_title(source.genre, source.title):
        del item["genre"]  # "Record of conversation" twice in a note: kept in custom.genre
    if source.issued:
        item["issued"] = edtf_to_csl_date(source.issued)
    elif source.issued_literal:
        item["issued"] = {"literal": source.issued_literal}
    if source.accessed:
        item["accessed"] = edtf_to_csl_date(source.accessed)
    if source.keywords:
        item["keyword"] = ", ".join(source.keywords)
    item |= _stored_variables(source.variables or {})
    csl_ids, other_ids = split_identifiers(source.identifiers)
    item |= csl_ids
    names, interviewees = _csl_names(source)
    item |= names
    item["custom"] = _custom_for(source, other_ids, interviewees)
    return item


def _genre_in_title(genre: str, title: str) -> bool:
    """Does the title already say the genre ("Record of conversation of …")? Styles print
    both, one after the other."""
    return bool(genre) and title.casefold().startswith(genre.casefold())


def _stored_variables(variables: dict) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for variable, value in variables.items():
        if variable in STORED_DATES and isinstance(value, str):
            result[variable] = edtf_to_csl_date(value)
        elif variable in STORED_VARIABLES:
            result[variable] = value
    return result


def split_identifiers(identifiers: dict) -> tuple[dict[str, str], dict[str, str]]:
    """({"DOI": …} with a CSL variable, {"wilson_center": …} without one)."""
    csl_ids: dict[str, str] = {}
    other: dict[str, str] = {}
    for key, value in (identifiers or {}).items():
        canonical = key.upper()
        if canonical in IDENTIFIER_VARIABLES and value not in (None, ""):
            csl_ids[canonical] = str(value)
        elif value not in (None, ""):
            other[key] = str(value)
    return csl_ids, other


def _csl_names(source: Source) -> tuple[dict[str, list[dict]], list[dict]]:
    names: dict[str, list[dict]] = {}
    interviewees: list[dict] = []
    creators = sorted(source.creators.all(), key=lambda c: (c.order, c.pk or 0))
    for creator in creators:
        if creator.role == CreatorRole.INTERVIEWEE:
            interviewees.append(csl_name(creator))
        else:
            variable = NAME_VARIABLES.get(creator.role, "contributor")
            names.setdefault(variable, []).append(csl_name(creator))
    return names, interviewees


def csl_name(creator: Creator) -> dict[str, Any]:
    """A CSL name; one written family name first says so (`static-ordering`), which
    citeproc-js and pandoc print as "Mao Zedong", never "Zedong Mao"."""
    if creator.literal:
        return {"literal": creator.literal}
    name: dict[str, Any] = {"family": creator.family}
    if creator.given:
        name["given"] = creator.given
    if creator.suffix:
        name["suffix"] = creator.suffix
    if creator.family_first:
        # pandoc's citeproc ignores static-ordering for Latin-script names ("Zedong Mao"):
        # the literal beside the parts prints as written; readers of the parts keep them.
        name["static-ordering"] = True
        name["literal"] = creator.natural_name
    return name


def _custom_for(source: Source, other_ids: dict, interviewees: list[dict]) -> dict[str, Any]:
    kept = (source.variables or {}).get("custom")
    custom: dict[str, Any] = dict(kept) if isinstance(kept, dict) else {}
    custom["kind"] = source.kind
    if _genre_in_title(source.genre, source.title):
        custom["genre"] = source.genre
    if source.rights:  # CSL 1.0.2 has no variable for it (Zotero's "license" is 1.0.3's)
        custom["rights"] = source.rights
    if source.original_language:
        custom["original_language"] = source.original_language
    if other_ids:
        custom["identifiers"] = other_ids
    edtf = {field: getattr(source, field) for field in ("issued", "accessed")}
    edtf |= {
        variable: value
        for variable, value in (source.variables or {}).items()
        if variable in STORED_DATES and isinstance(value, str)
    }
    if edtf := {field: value for field, value in edtf.items() if value}:
        custom["edtf"] = edtf
    if interviewees:
        custom["interviewee"] = interviewees
    return custom


def edtf_to_csl_date(value: str) -> dict[str, Any]:
    """A CSL date: date-parts (two for an interval), `circa` for ?/~/%, `season` for
    EDTF seasons 21–24, negative years for BCE; a date qualified in its parts
    (`1950?-01-01`) as its days with `circa`; `raw` only for what date-parts cannot say
    (196X, open ends, sets)."""
    value = value.strip()
    ends = [_edtf_end(end) for end in value.split("/")]
    if len(ends) > 2 or None in ends or (len(ends) == 2 and (ends[0][1] or ends[1][1])):
        return {"raw": value}
    date: dict[str, Any] = {"date-parts": [parts for parts, _, _ in ends]}
    if ends[0][1]:
        date["season"] = ends[0][1]
    if any(circa for _, _, circa in ends):
        date["circa"] = True
    return date


# A simple date, maybe BCE, with qualifiers anywhere in it: 1950?-01-01, -0043-03-15~.
_QUALIFIED = re.compile(
    r"(?P<year>-?\d{4})(?P<q1>[?~%])?(?:-(?P<month>\d{2})(?P<q2>[?~%])?"
    r"(?:-(?P<day>\d{2}))?)?(?P<q3>[?~%])?"
)


def _edtf_end(value: str) -> tuple[list[int], int | None, bool] | None:
    """([year, month, day], season, circa) for one simple EDTF date, else None."""
    match = _QUALIFIED.fullmatch(value)
    if not match:
        return None
    parts = [edtf_year_to_csl(match["year"])]
    season = None
    month = int(match["month"]) if match["month"] else None
    if month and 21 <= month <= 24 and not match["day"]:
        season = month - 20
    elif month:
        if not 1 <= month <= 12:
            return None
        parts.append(month)
        if match["day"]:
            parts.append(int(match["day"]))
    return parts, season, bool(match["q1"] or match["q2"] or match["q3"])


# --- CSL → model -----------------------------------------------------------------------


class _Reading:
    """What reading one item gathers besides its fields: the warnings, and the values
    kept aside as note lines. Strict (no warnings list) raises instead."""

    def __init__(self, warnings: list[str] | None) -> None:
        self.warnings = warnings
        self.kept: list[str] = []

    def refuse(self, variable: str, message: str, value: Any) -> None:
        if self.warnings is None:
            raise ValidationError({variable: message})
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        self.kept.append(f"{variable}: {shown}")
        self.warnings.append(f"{variable} kept in the note: {message}")


def csl_to_fields(
    item: dict, warnings: list[str] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Model field values and creators (`{"role","family","given","literal","suffix",
    "family_first"}`) for a CSL item. Without `warnings`, raises ValidationError naming
    the variable for data of the wrong shape; with it, keeps such values in the note and
    appends a warning for each."""
    if not isinstance(item, dict):
        raise ValidationError("A record must be a JSON object.")
    reading = _Reading(warnings)
    item = _canonical_keys(item)
    note = _guarded(reading, "note", lambda: _text(item.get("note"), "note", True), "")
    extra = read_extra(note)  # Zotero's Extra: "Citation Key: …", "original-date: 1950"
    item = _canonical_keys(_with_extra(item, extra.variables) | {"note": extra.note})
    custom = _guarded(reading, "custom", lambda: _mapping(item.get("custom"), "custom"), {})
    fields: dict[str, Any] = {
        field: _guarded(
            reading,
            variable,
            lambda v=variable, f=field: _text(item.get(v), v, multiline=f in MULTILINE_FIELDS),
            "",
        )
        for field, variable in TEXT_VARIABLES.items()
    }
    if not fields["genre"] and isinstance(custom.get("genre"), str):
        fields["genre"] = _text(custom["genre"], "custom.genre")
    fields["csl_type"] = csl_type(custom.get("type") or item.get("type"))
    fields["kind"] = _text(custom.get("kind"), "custom.kind") or default_kind(fields["csl_type"])
    fields["citation_key"] = extra.citation_key or citation_key_of(item)
    fields |= _dates(item, custom, reading)
    fields["language"] = language_tag(fields["language"])
    original_language = _text(custom.get("original_language"), "custom.original_language")
    original_language = original_language or extra.original_language
    fields["original_language"] = language_tag(original_language)
    rights = item.get("license") or custom.get("rights")
    fields["rights"] = _guarded(reading, "license", lambda: _text(rights, "license", True), "")
    fields["identifiers"] = _identifiers(item, custom)
    fields["url"] = _checked_url(fields["url"], fields["identifiers"], reading)
    fields["keywords"] = _keywords(item)
    fields["variables"] = _variables(item, custom, reading)
    creators = csl_creators(item, custom, reading)
    if reading.kept:
        fields["note"] = _join(fields["note"], "\n".join(reading.kept))
    return fields, creators


def _with_extra(item: dict, variables: dict) -> dict:
    """Extra's lines fill what the item leaves empty; a date there says what the item's
    date field could not (`issued: 1950-01-01?` beside a bare 1950), so it wins."""
    result = dict(item)
    for variable, value in variables.items():
        if variable in ("issued", "original-date") or result.get(variable) in (None, "", []):
            result[variable] = value
    return result


def _guarded(reading: _Reading, variable: str, read: Any, default: Any) -> Any:
    try:
        return read()
    except ValidationError as error:
        reading.refuse(variable, " ".join(error.messages), _raw_value(error, variable))
        return default


def _raw_value(error: ValidationError, variable: str) -> Any:
    return getattr(error, "raw_value", variable)


def _canonical_keys(item: dict) -> dict:
    """Older and tool-specific spellings under their CSL 1.0.2 names."""
    result = dict(item)
    for alias, variable in VARIABLE_ALIASES.items():
        if alias in result:
            value = result.pop(alias)
            if result.get(variable) in (None, ""):
                result[variable] = value
    return result


def csl_type(value: Any) -> str:
    """Our type for a CSL type: the same name (every CSL 1.0.2 type is one of ours,
    and so is "letter"), else "document"."""
    if isinstance(value, str):
        value = value.strip()
        if value in SourceType.values:
            return value
    return SourceType.DOCUMENT


def default_kind(source_type: str) -> str:
    return SourceKind.PRIMARY if source_type in PRIMARY_TYPES else SourceKind.SECONDARY


def citation_key_of(item: dict) -> str:
    """The item's citation key: `citation-key`, or an `id` that looks like one (Better
    BibTeX writes keys there; Zotero writes item URIs, which are not keys)."""
    key = item.get("citation-key")
    if isinstance(key, str) and CITATION_KEY.fullmatch(key.strip()):
        return key.strip()[:100]
    key = item.get("id")
    if isinstance(key, str) and CITATION_KEY.fullmatch(key) and "/" not in key:
        return key[:100] if not key.isdigit() else ""
    return ""


def _dates(item: dict, custom: dict, reading: _Reading) -> dict[str, str]:
    edtf = _guarded(reading, "custom.edtf", lambda: _mapping(custom.get("edtf"), "edtf"), {})
    result = {"issued": "", "issued_literal": "", "accessed": ""}
    if ours := _text(edtf.get("issued"), "custom.edtf.issued"):
        result["issued"] = ours
    else:
        date = _guarded(reading, "issued", lambda: read_csl_date(item.get("issued")), None)
        if date is not None:
            result["issued"], result["issued_literal"] = date.edtf, date.literal
            if date.warning and reading.warnings is not None:
                reading.warnings.append(date.warning)
    if ours := _text(edtf.get("accessed"), "custom.edtf.accessed"):
        result["accessed"] = ours
    else:
        accessed = _guarded(reading, "accessed", lambda: read_csl_date(item.get("accessed")), None)
        if accessed is not None and accessed.literal:
            reading.refuse("accessed", "not a date EDTF can hold", accessed.literal)
        elif accessed is not None:
            result["accessed"] = accessed.edtf
    return result


def read_csl_date(date: Any, *, variable: str = "issued") -> Any:
    """A `DateReading` for a CSL date: date-parts (with Zotero's string years and "ca."
    seasons, negative years for BCE), `raw` and `literal` dates read leniently."""
    if date in (None, "", {}):
        return DateReading()
    if isinstance(date, str | int):
        return read_date(str(date))
    if not isinstance(date, dict):
        raise _shape_error(variable, "A date must be an object with date-parts.", date)
    if parts := date.get("date-parts"):
        return DateReading(edtf=_parts_to_edtf(parts, date, variable))
    for key in ("raw", "literal"):
        if isinstance(date.get(key), str | int) and str(date[key]).strip():
            return read_date(str(date[key]))
    return DateReading()


def csl_date_to_edtf(date: Any, *, variable: str = "issued") -> str:
    """An EDTF string for a CSL date: [[1949,12,16]] → 1949-12-16, circa → 1950-01~,
    two date-parts → 1958/1962, season 1 → 1950-21; raw and literal dates are read
    leniently ("16 December 1949", "ca. 1950"). An unreadable date comes back as it is."""
    reading = read_csl_date(date, variable=variable)
    return reading.edtf or reading.literal


def _shape_error(variable: str, message: str, value: Any) -> ValidationError:
    error = ValidationError({variable: message})
    error.raw_value = value  # type: ignore[attr-defined]
    return error


def _parts_to_edtf(parts: Any, date: dict, variable: str) -> str:
    if not isinstance(parts, list) or not all(isinstance(p, list) for p in parts):
        raise _shape_error(variable, "date-parts must be a list of [year, month, day].", date)
    season = date.get("season")
    circa = date.get("circa") not in (None, False, 0, "", "0", "false")
    if isinstance(season, str) and season.strip().casefold() in CIRCA_WORDS:
        season, circa = None, True  # Zotero writes "ca. 1950" as year + season "ca."
    ends = [_end_to_edtf(p, season, variable, date) for p in parts[:2] if p]
    ends = [end + ("~" if circa else "") for end in ends if end]
    if len(ends) == 2 and ends[0] == ends[1]:
        ends = ends[:1]
    return "/".join(ends)


def _end_to_edtf(parts: list, season: Any, variable: str, date: dict) -> str:
    try:
        numbers = [int(str(p).strip()) for p in parts[:3]]
    except ValueError:
        raise _shape_error(variable, f"date-parts {parts!r} are not numbers.", date) from None
    year, month, day = (numbers + [0, 0])[:3]
    if not year:
        return ""
    text = csl_year_to_edtf(year)
    if not month and (season_number := _season_number(season)):
        return f"{text}-{20 + season_number}"
    if 13 <= month <= 16 or 21 <= month <= 24:  # citeproc-js seasons as months
        return f"{text}-{month + 8 if month <= 16 else month}"
    if month:
        text += f"-{month:02d}" + (f"-{day:02d}" if day else "")
    return text


def _season_number(season: Any) -> int | None:
    if isinstance(season, int) and 1 <= season <= 4:
        return season
    if isinstance(season, str):
        season = season.strip().casefold()
        if season.isdigit() and 1 <= int(season) <= 4:
            return int(season)
        return SEASONS.get(season)
    return None


def loose_edtf(text: str) -> str:
    """EDTF for a date as people and exporters write it, else the text unchanged."""
    reading = read_date(text)
    return reading.edtf or reading.literal


def is_simple_date(value: str) -> bool:
    return bool(SIMPLE_DATE.fullmatch(value))


def _identifiers(item: dict, custom: dict) -> dict[str, str]:
    identifiers = {
        key: value
        for key, value in _mapping(custom.get("identifiers"), "custom.identifiers").items()
        if isinstance(key, str) and key.strip() and isinstance(value, str | int) and value != ""
    }
    identifiers = {
        key.strip(): clean_text(str(value)).strip() for key, value in identifiers.items()
    }
    for variable in IDENTIFIER_VARIABLES:
        if isinstance(item.get(variable), str | int) and (value := _text(item[variable], variable)):
            identifiers[variable] = value
    if doi := identifiers.get("DOI"):
        identifiers["DOI"] = strip_doi(doi)
    return identifiers


def strip_doi(doi: str) -> str:
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.I)


def _checked_url(url: str, identifiers: dict, reading: _Reading) -> str:
    """A web address as our URL field holds it. A DOI written as a URL-like `doi:…` goes
    to the identifiers; `www.jstor.org/…` gets its missing scheme; anything else that is
    not a web address (internal-pdf://…) is kept in the note."""
    if not url:
        return ""
    if re.match(r"(?i)doi:\s*10\.", url):
        identifiers.setdefault("DOI", strip_doi(url))
        if reading.warnings is not None:
            reading.warnings.append(f"the URL “{url}” is a DOI; kept as the DOI")
        return ""
    candidate = f"http://{url}" if re.match(r"(?i)www\.", url) else url
    try:
        _URL(candidate)
    except ValidationError:
        reading.refuse("URL", "not a web address", url)
        return ""
    if candidate != url and reading.warnings is not None:
        reading.warnings.append(f"the URL “{url}” had no scheme; read as {candidate}")
    return candidate[:2000]


def _keywords(item: dict) -> list[str]:
    """CSL's `keyword` (one string, comma-separated, as Zotero and pandoc write it)."""
    value = item.get("keyword")
    words = value if isinstance(value, list) else str(value or "").split(",")
    return unique_words(clean_text(str(word)).strip() for word in words)


def unique_words(words: Any) -> list[str]:
    seen, result = set(), []
    for word in words:
        word = " ".join(str(word).split())[:200]
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            result.append(word)
    return result


def _variables(item: dict, custom: dict, reading: _Reading) -> dict[str, Any]:
    """Every CSL variable we keep no column for, typed as the schema types it."""
    result: dict[str, Any] = {}
    for variable in STORED_TEXT:
        value = item.get(variable)
        if value not in (None, "", []):
            text = _guarded(reading, variable, lambda v=variable, x=value: _text(x, v, True), "")
            if text:
                result[variable] = text
    for variable in STORED_DATES:
        date = _guarded(
            reading, variable, lambda v=variable: read_csl_date(item.get(v), variable=v), None
        )
        if date is not None and (date.edtf or date.literal):
            result[variable] = date.edtf or {"literal": date.literal}
    if categories := item.get("categories"):
        listed = categories if isinstance(categories, list) else [categories]
        result["categories"] = [clean_text(str(c)) for c in listed if str(c).strip()]
    if others := {k: v for k, v in custom.items() if k not in OUR_CUSTOM}:
        result["custom"] = others
    return result


def csl_creators(
    item: dict, custom: dict | None = None, reading: _Reading | None = None
) -> list[dict[str, Any]]:
    """Creators in role order (authors first, so the citation key takes the first author)."""
    reading = reading or _Reading(None)
    creators: list[dict[str, Any]] = []
    for role, variable in NAME_VARIABLES.items():
        creators += _guarded(
            reading, variable, lambda r=role, v=variable: _names(item.get(v), r, v), []
        )
    interviewees = (custom or {}).get("interviewee")
    creators += _guarded(
        reading,
        "custom.interviewee",
        lambda: _names(interviewees, CreatorRole.INTERVIEWEE, "custom.interviewee"),
        [],
    )
    return creators


def _names(names: Any, role: str, variable: str) -> list[dict[str, Any]]:
    if names in (None, ""):
        return []
    if not isinstance(names, list):
        raise _shape_error(variable, "Names must be a list.", names)
    result = []
    for name in names:
        if creator := creator_from_csl(name, role, variable):
            result.append(creator)
    return result


def creator_from_csl(name: Any, role: str, variable: str = "author") -> dict[str, Any] | None:
    """A creator dict for a CSL name; particles join the family name ("de Gaulle"),
    the suffix is kept apart, `static-ordering` (or a name in a script written family
    first) sets `family_first`. None for an empty name."""
    if isinstance(name, str):
        name = {"literal": name}
    if not isinstance(name, dict):
        raise _shape_error(variable, f"{name!r} is not a name.", name)
    part = {key: _text(name.get(key), variable) for key in _NAME_PARTS}
    family = " ".join(p for p in (part["non-dropping-particle"], part["family"]) if p)
    given = " ".join(p for p in (part["given"], part["dropping-particle"]) if p)
    ordering = name.get("static-ordering") not in (None, False, 0, "", "false")
    literal = part["literal"] or ("" if family else given)
    if ordering and family:
        literal = ""  # ours: the parts beside the literal written for pandoc (csl_name)
    creator: dict[str, Any] = {"role": role, "family": "", "given": "", "literal": "", "suffix": ""}
    if literal:
        return creator | {"literal": literal, "family_first": False}
    if not family:
        return None
    family_first = ordering or written_family_first(family, given)
    return creator | {
        "family": family,
        "given": given,
        "suffix": part["suffix"],
        "family_first": family_first,
    }


_NAME_PARTS = ("family", "given", "literal", "non-dropping-particle", "dropping-particle", "suffix")


def clean_text(text: str) -> str:
    """NFC, no control characters (line breaks and tabs stay)."""
    return CONTROLS.sub("", unicodedata.normalize("NFC", text))


def _text(value: Any, variable: str, multiline: bool = False) -> str:
    """A CSL variable as text: strings trimmed (one line unless `multiline`), numbers as
    written, and the one-element lists some tools (CrossRef) write for titles."""
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = value[0] if value else ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _shape_error(variable, "Must be text.", value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(str(value))
    if multiline:
        lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(text.split())


def _mapping(value: Any, variable: str) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise _shape_error(variable, "Must be an object.", value)
    return value


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


MAX_VARIABLES = 100
MAX_KEYWORDS = 200


def checked_variables(value: Any) -> dict[str, Any]:
    """A `Source.variables` store as a form or the API gives it: CSL variables we keep no
    column for, text (or a date, {"literal": …}, categories a list). ValidationError
    saying what is wrong."""
    if not isinstance(value, dict):
        raise ValidationError('Give an object of CSL variables, e.g. {"number": "12"}.')
    if len(value) > MAX_VARIABLES:
        raise ValidationError(f"At most {MAX_VARIABLES} variables.")
    unknown = sorted(k for k in value if k not in STORED_VARIABLES and k != "custom")
    if unknown:
        raise ValidationError(f"Not a CSL variable kept here: {', '.join(unknown)}.")
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key in STORED_LISTS or key == "custom":
            result[key] = item
        elif (
            isinstance(item, dict) and key in STORED_DATES and isinstance(item.get("literal"), str)
        ):
            result[key] = {"literal": clean_text(item["literal"])[:200]}
        elif isinstance(item, str | int) and not isinstance(item, bool) and len(str(item)) <= 2000:
            result[key] = clean_text(str(item)).strip()
        else:
            raise ValidationError(f"{key}: give text of at most 2,000 characters.")
    return {k: v for k, v in result.items() if v not in ("", None)}


def checked_keywords(value: Any) -> list[str]:
    """Keywords as a list of strings (at most MAX_KEYWORDS, each under 200 characters)."""
    if isinstance(value, str):
        value = re.split(r"[\n;]|, ", value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Give a list of keywords.")
    if len(value) > MAX_KEYWORDS or any(len(v) > 200 for v in value):
        raise ValidationError(f"At most {MAX_KEYWORDS} keywords of under 200 characters each.")
    return unique_words(clean_text(v) for v in value)
