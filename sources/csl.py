"""The one mapping between our Source/Creator models and CSL-JSON (CSL 1.0.2 data schema).

`source_to_csl` writes every model field: a CSL variable where CSL has one, and the
schema's free-form `custom` object for the rest (kind, original language, rights,
identifiers without a CSL variable, the EDTF strings, interviewees), so that the output
validates against `csl-data.json` and `csl_to_fields(source_to_csl(s))` gives back every
field. `csl_to_fields` also reads what other tools write: Zotero's date-parts with string
years and "ca." seasons, raw and literal dates, particles and suffixes in names.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from core.dates import SIMPLE_DATE, is_edtf
from sources.models import CreatorRole, SourceKind, SourceType

if TYPE_CHECKING:
    from sources.models import Creator, Source

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

# Our creator roles with a CSL name variable; interviewee has none and goes to `custom`.
NAME_VARIABLES: dict[str, str] = {
    CreatorRole.AUTHOR: "author",
    CreatorRole.EDITOR: "editor",
    CreatorRole.TRANSLATOR: "translator",
    CreatorRole.RECIPIENT: "recipient",
    CreatorRole.INTERVIEWER: "interviewer",
    CreatorRole.CONTRIBUTOR: "contributor",
}
# CSL name variables we keep as contributors rather than drop.
OTHER_NAME_VARIABLES = (
    "container-author",
    "collection-editor",
    "editorial-director",
    "compiler",
    "original-author",
    "reviewed-author",
    "chair",
    "organizer",
    "curator",
    "host",
    "guest",
    "narrator",
    "illustrator",
    "composer",
    "director",
    "performer",
    "producer",
    "executive-producer",
    "script-writer",
    "series-creator",
)

# CSL types we have no type for but which have an obvious home.
TYPE_ALIASES = {
    "post": SourceType.WEBPAGE,
    "post-weblog": SourceType.WEBPAGE,
    "entry": SourceType.ENTRY_ENCYCLOPEDIA,
    "entry-dictionary": SourceType.ENTRY_ENCYCLOPEDIA,
    "bill": SourceType.LEGISLATION,
    "regulation": SourceType.LEGISLATION,
    "pamphlet": SourceType.DOCUMENT,
}
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
}

SEASONS = {"spring": 1, "summer": 2, "autumn": 3, "fall": 3, "winter": 4}
CIRCA_WORDS = {"?", "ca", "ca.", "c.", "circa", "approx.", "approximately", "about"}
MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
} | {"sept": 9}

# Language names (English and babel) → BCP 47, for tools that write "Russian" or "russian".
LANGUAGE_NAMES = {
    "english": "en",
    "american": "en-US",
    "british": "en-GB",
    "ukenglish": "en-GB",
    "usenglish": "en-US",
    "russian": "ru",
    "chinese": "zh",
    "mandarin": "zh",
    "german": "de",
    "ngerman": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "polish": "pl",
    "czech": "cs",
    "slovak": "sk",
    "ukrainian": "uk",
    "belarusian": "be",
    "bulgarian": "bg",
    "serbian": "sr",
    "croatian": "hr",
    "slovenian": "sl",
    "hungarian": "hu",
    "magyar": "hu",
    "romanian": "ro",
    "albanian": "sq",
    "greek": "el",
    "turkish": "tr",
    "japanese": "ja",
    "korean": "ko",
    "vietnamese": "vi",
    "mongolian": "mn",
    "portuguese": "pt",
    "brazil": "pt-BR",
    "dutch": "nl",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "norsk": "no",
    "finnish": "fi",
    "estonian": "et",
    "latvian": "lv",
    "lithuanian": "lt",
    "georgian": "ka",
    "armenian": "hy",
    "arabic": "ar",
    "hebrew": "he",
    "persian": "fa",
    "farsi": "fa",
    "hindi": "hi",
    "latin": "la",
}
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
CITATION_KEY = re.compile(r"\w[\w:.#$%&+?<>~/-]*")


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
    for field in ("issued", "accessed"):
        if value := getattr(source, field):
            item[field] = edtf_to_csl_date(value)
    csl_ids, other_ids = split_identifiers(source.identifiers)
    item |= csl_ids
    names, interviewees = _csl_names(source)
    item |= names
    item["custom"] = _custom_for(source, other_ids, interviewees)
    return item


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


def csl_name(creator: Creator) -> dict[str, str]:
    if creator.literal:
        return {"literal": creator.literal}
    name = {"family": creator.family}
    if creator.given:
        name["given"] = creator.given
    return name


def _custom_for(source: Source, other_ids: dict, interviewees: list[dict]) -> dict[str, Any]:
    custom: dict[str, Any] = {"kind": source.kind}
    if source.original_language:
        custom["original_language"] = source.original_language
    if source.rights:
        custom["rights"] = source.rights
    if other_ids:
        custom["identifiers"] = other_ids
    edtf = {field: getattr(source, field) for field in ("issued", "accessed")}
    if edtf := {field: value for field, value in edtf.items() if value}:
        custom["edtf"] = edtf
    if interviewees:
        custom["interviewee"] = interviewees
    return custom


def edtf_to_csl_date(value: str) -> dict[str, Any]:
    """A CSL date: date-parts (two for an interval), `circa` for ?/~/%, `season` for
    EDTF seasons 21–24; `raw` only for what date-parts cannot say (196X, open ends)."""
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


def _edtf_end(value: str) -> tuple[list[int], int | None, bool] | None:
    """([year, month, day], season, circa) for one simple EDTF date, else None."""
    match = SIMPLE_DATE.fullmatch(value)
    if not match:
        return None
    parts = [int(match["year"])]
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
    return parts, season, bool(match["qualifier"])


# --- CSL → model -----------------------------------------------------------------------


def csl_to_fields(item: dict) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Model field values and creators (`{"role","family","given","literal"}`) for a CSL
    item. Raises ValidationError naming the variable for data of the wrong shape."""
    if not isinstance(item, dict):
        raise ValidationError("A record must be a JSON object.")
    custom = _mapping(item.get("custom"), "custom")
    fields: dict[str, Any] = {
        field: _text(item.get(variable), variable, multiline=field in MULTILINE_FIELDS)
        for field, variable in TEXT_VARIABLES.items()
    }
    fields["csl_type"] = csl_type(item.get("type"))
    fields["kind"] = _text(custom.get("kind"), "custom.kind") or default_kind(fields["csl_type"])
    fields["citation_key"] = citation_key_of(item)
    fields |= _dates(item, custom, note=fields["note"])
    fields["language"] = language_tag(fields["language"])
    original_language = _text(custom.get("original_language"), "custom.original_language")
    fields["original_language"] = language_tag(original_language)
    fields["rights"] = _text(custom.get("rights"), "custom.rights", multiline=True)
    fields["identifiers"] = _identifiers(item, custom)
    return fields, csl_creators(item, custom)


def csl_type(value: Any) -> str:
    """Our type for a CSL type: the same name, an obvious alias, else "document"."""
    if isinstance(value, str):
        value = value.strip()
        if value in SourceType.values:
            return value
        return TYPE_ALIASES.get(value, SourceType.DOCUMENT)
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


def _dates(item: dict, custom: dict, *, note: str) -> dict[str, str]:
    edtf = _mapping(custom.get("edtf"), "custom.edtf")
    result = {}
    for field in ("issued", "accessed"):
        value = _text(edtf.get(field), f"custom.edtf.{field}")
        result[field] = value or csl_date_to_edtf(item.get(field), variable=field)
    # Zotero's "cheater syntax": an `issued: 1950-01-01?` line in Extra (exported as note)
    # says what the Date field cannot.
    if not edtf.get("issued") and (line := re.search(r"^issued:\s*(.+)$", note, re.M)):
        result["issued"] = loose_edtf(line[1])
    if (original := item.get("original-date")) and "original date" not in note.lower():
        result["note"] = _join(note, f"Original date: {csl_date_to_edtf(original)}")
    return result


def csl_date_to_edtf(date: Any, *, variable: str = "issued") -> str:
    """An EDTF string for a CSL date: [[1949,12,16]] → 1949-12-16, circa → 1950-01?,
    two date-parts → 1958/1962, season 1 → 1950-21; raw and literal dates are read
    leniently ("16 December 1949", "ca. 1950"). An unreadable date comes back as it is,
    for validation to reject with the field's name."""
    if date in (None, "", {}):
        return ""
    if isinstance(date, str):
        return loose_edtf(date)
    if not isinstance(date, dict):
        raise ValidationError({variable: "A date must be an object with date-parts."})
    parts = date.get("date-parts")
    if parts:
        return _parts_to_edtf(parts, date, variable)
    for key in ("raw", "literal"):
        if isinstance(date.get(key), str) and date[key].strip():
            return loose_edtf(date[key])
    return ""


def _parts_to_edtf(parts: Any, date: dict, variable: str) -> str:
    if not isinstance(parts, list) or not all(isinstance(p, list) for p in parts):
        raise ValidationError({variable: "date-parts must be a list of [year, month, day]."})
    season = date.get("season")
    circa = date.get("circa") not in (None, False, 0, "", "0", "false")
    if isinstance(season, str) and season.strip().casefold() in CIRCA_WORDS:
        season, circa = None, True  # Zotero writes "ca. 1950" as year + season "ca."
    ends = [_end_to_edtf(p, season, variable) for p in parts[:2] if p]
    ends = [end + ("?" if circa else "") for end in ends if end]
    if len(ends) == 2 and ends[0] == ends[1]:
        ends = ends[:1]
    return "/".join(ends)


def _end_to_edtf(parts: list, season: Any, variable: str) -> str:
    try:
        numbers = [int(str(p).strip()) for p in parts[:3]]
    except ValueError:
        raise ValidationError({variable: f"date-parts {parts!r} are not numbers."}) from None
    year, month, day = (numbers + [0, 0])[:3]
    if not year:
        return ""
    if not month and (season_number := _season_number(season)):
        return f"{year:04d}-{20 + season_number}"
    if 13 <= month <= 16 or 21 <= month <= 24:  # citeproc-js seasons as months
        return f"{year:04d}-{month + 8 if month <= 16 else month}"
    text = f"{year:04d}"
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
    """EDTF for the dates people and exporters write: EDTF itself, 1950/01/16,
    16 December 1949, December 16, 1949, Spring 1950, ca. 1950, [1950?], 1958–1962,
    2024-03-01 14:22:10. Anything else comes back unchanged, for validation to reject."""
    text = " ".join(text.split())
    if not text:
        return ""
    if is_edtf(text):
        return text
    circa = ""
    stripped = text.strip("[]")
    words = stripped.split(" ", 1)
    if len(words) == 2 and words[0].casefold() in CIRCA_WORDS:
        stripped, circa = words[1], "?"
    if stripped.endswith("?"):
        stripped, circa = stripped[:-1].strip(), "?"
    edtf = _human_date(stripped)
    if edtf and is_edtf(edtf + circa):
        return edtf + circa
    return text


def _human_date(text: str) -> str | None:
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[ T]\d.*)?", text):
        return "-".join([m[1], *(f"{int(p):02d}" for p in m.groups()[1:] if p)])
    if m := re.fullmatch(r"(\d{4})\s*[-–—]\s*(\d{4})", text):
        return f"{m[1]}/{m[2]}"
    if m := re.fullmatch(r"(\d{1,2})\.?\s+([A-Za-z]+)\.?,?\s+(\d{4})", text):
        month = MONTHS.get(m[2].casefold())
        return f"{m[3]}-{month:02d}-{int(m[1]):02d}" if month else None
    if m := re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
        month = MONTHS.get(m[1].casefold())
        return f"{m[3]}-{month:02d}-{int(m[2]):02d}" if month else None
    if m := re.fullmatch(r"([A-Za-z]+)\.?,?\s+(\d{4})", text):
        if month := MONTHS.get(m[1].casefold()):
            return f"{m[2]}-{month:02d}"
        season = SEASONS.get(m[1].casefold())
        return f"{m[2]}-{20 + season}" if season else None
    return text if re.fullmatch(r"\d{4}", text) else None


def language_tag(value: str) -> str:
    """BCP 47 for a language as tools write it: "ru", "en_US", "Russian", "russian"."""
    value = value.strip()
    if not value:
        return ""
    if tag := LANGUAGE_NAMES.get(value.casefold()):
        return tag
    if LANGUAGE_TAG.fullmatch(value):
        return value.replace("_", "-")
    first = re.split(r"[;,/]| and ", value)[0].strip()
    return LANGUAGE_NAMES.get(first.casefold(), value)


def _identifiers(item: dict, custom: dict) -> dict[str, str]:
    identifiers = {
        key: value
        for key, value in _mapping(custom.get("identifiers"), "custom.identifiers").items()
        if isinstance(key, str) and key.strip() and isinstance(value, str | int) and value != ""
    }
    identifiers = {key.strip(): str(value).strip() for key, value in identifiers.items()}
    for variable in IDENTIFIER_VARIABLES:
        if value := _text(item.get(variable), variable):
            identifiers[variable] = value
    if doi := identifiers.get("DOI"):
        identifiers["DOI"] = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi, flags=re.I)
    return identifiers


def csl_creators(item: dict, custom: dict | None = None) -> list[dict[str, str]]:
    """Creators in role order (authors first, so the citation key takes the first author)."""
    creators = []
    for role, variable in NAME_VARIABLES.items():
        creators += _names(item.get(variable), role, variable)
    for variable in OTHER_NAME_VARIABLES:
        creators += _names(item.get(variable), CreatorRole.CONTRIBUTOR, variable)
    interviewees = (custom or {}).get("interviewee")
    creators += _names(interviewees, CreatorRole.INTERVIEWEE, "custom.interviewee")
    return creators


def _names(names: Any, role: str, variable: str) -> list[dict[str, str]]:
    if names in (None, ""):
        return []
    if not isinstance(names, list):
        raise ValidationError({variable: "Names must be a list."})
    result = []
    for name in names:
        if creator := creator_from_csl(name, role, variable):
            result.append(creator)
    return result


def creator_from_csl(name: Any, role: str, variable: str = "author") -> dict[str, str] | None:
    """A creator dict for a CSL name; particles join the family name ("de Gaulle"),
    a suffix follows the given name ("Martin Luther, Jr."). None for an empty name."""
    if isinstance(name, str):
        name = {"literal": name}
    if not isinstance(name, dict):
        raise ValidationError({variable: f"{name!r} is not a name."})
    part = {key: _text(name.get(key), variable) for key in _NAME_PARTS}
    family = " ".join(p for p in (part["non-dropping-particle"], part["family"]) if p)
    given = " ".join(p for p in (part["given"], part["dropping-particle"]) if p)
    if part["suffix"]:
        given = f"{given}, {part['suffix']}" if given else part["suffix"]
    literal = part["literal"] or ("" if family else given)
    if literal:
        return {"role": role, "family": "", "given": "", "literal": literal}
    if not family:
        return None
    return {"role": role, "family": family, "given": given, "literal": ""}


_NAME_PARTS = ("family", "given", "literal", "non-dropping-particle", "dropping-particle", "suffix")


def _text(value: Any, variable: str, *, multiline: bool = False) -> str:
    """A CSL variable as text: strings trimmed (one line unless `multiline`), numbers as
    written, and the one-element lists some tools (CrossRef) write for titles."""
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = value[0] if value else ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError({variable: "Must be text."})
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    if multiline:
        lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(text.split())


def _mapping(value: Any, variable: str) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({variable: "Must be an object."})
    return value


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
