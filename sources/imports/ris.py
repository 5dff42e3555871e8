"""RIS records as CSL items, with Zotero's tag conventions (translators/RIS.js).

RIS is read line by line here rather than through rispy, because a record's meaning
hangs on the order of its lines (`A1` and `AU` interleaved keep their authors' order) and
on tags rispy maps away; and because real files vary: one space before the dash
(`TY - JOUR`), none after it, continuation lines, a last record without `ER`. Every tag
is kept: what has no CSL variable is a `TAG: value` line of the note, and the record's
`_warnings` say so.
"""

from __future__ import annotations

import html
import re
from typing import Any

from sources.imports.common import record_or_error
from sources.imports.dates import to_edtf
from sources.imports.notes import note_text

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
    "CLSWK": "classic",
    "SER": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "RPRT": "report",
    "GOVDOC": "report",
    "STAND": "standard",
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
    "PAT": "patent",
    "COMP": "software",
    "DATA": "dataset",
    "ART": "graphic",
    "SOUND": "song",
    "MUSIC": "musical_score",
    "MPCT": "motion_picture",
    "VIDEO": "motion_picture",
    "ADVS": "motion_picture",
    "GEN": "document",
}
# T2 is the series, not the container, for these (Zotero: book "series", report "seriesTitle").
RIS_T2_IS_SERIES = {"book", "report", "map"}
RIS_ISSN_TYPES = {"article-journal", "article-magazine", "article-newspaper", "periodical"}
RIS_NO_PAGES = {"book", "thesis", "manuscript"}  # SP is the number of pages there
# Tags read into a variable below; any other tag is kept as a line of the note.
READ_TAGS = {
    "TY", "ER", "ID", "TI", "T1", "CT", "BT", "T2", "T3", "JF", "JO", "J2", "JA", "J1",
    "AU", "A1", "A2", "A3", "A4", "ED", "PY", "Y1", "DA", "Y2", "PB", "CY", "PP", "ET",
    "VL", "IS", "DB", "AN", "AV", "CN", "LA", "AB", "N2", "N1", "UR", "L1", "L2", "L4",
    "SP", "EP", "DO", "M3", "SN", "CR", "M2", "KW", "M1", "ST", "NV", "DP",
}  # fmt: skip
# A tag line: two characters, spaces (Zotero two, others one or none), a dash.
_LINE = re.compile(r"^([A-Z][A-Z0-9])[ \t]{0,3}-(?:[ \t]|$)(.*)$")
# A line that starts like a tag but lacks the dash (`TI  Missing dash`): not a continuation.
_MALFORMED = re.compile(r"^[A-Z][A-Z0-9]  \S")
_START = re.compile(r"^\s*TY[ \t]{0,3}-", re.M)


def count_ris(text: str) -> int:
    return len(_START.findall(text))


def ris_lines(text: str) -> list[list[tuple[str, str]]]:
    """Each record's (tag, value) lines in order; a record not closed by ER ends where
    the next TY starts or the file ends, and is marked by its last line not being ER."""
    records: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] | None = None
    for line in text.split("\n"):
        match = _LINE.match(line.lstrip("\ufeff").rstrip())
        if match and match[1] == "TY":
            if current is not None:
                records.append(current)
            current = [("TY", match[2].strip())]
        elif current is None:
            continue
        elif match:
            current.append((match[1], match[2].strip()))
            if match[1] == "ER":
                records.append(current)
                current = None
        elif _MALFORMED.match(line) or (line.strip() and current and current[-1][0] == "TY"):
            current.append(("?", line.strip()))  # a tag without its dash: kept, and said
        elif line.strip() and current:
            tag, value = current[-1]  # a continuation of the line before
            current[-1] = (
                tag,
                f"{value}\n{line.strip()}"
                if tag in ("AB", "N1", "N2")
                else f"{value} {line.strip()}",
            )
    if current is not None:
        records.append(current)
    return records


def ris_records(text: str) -> list[dict | Exception]:
    records: list[dict | Exception] = []
    for lines in ris_lines(text):
        if lines[-1][0] != "ER":
            records.append(ValueError("A record has no closing 'ER  -' line."))
        else:
            records.append(record_or_error(ris_item, lines))
    return records


class _Tags:
    """One record's lines, by tag, in order; the tags read are remembered."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def all(self, *tags: str) -> list[str]:
        return [value for tag, value in self.lines if tag in tags and value]

    def first(self, *tags: str, sep: str = " ") -> str:
        """The first of `tags` present, its repeated lines joined (HTML entities decoded,
        as Zotero does)."""
        for tag in tags:
            if values := self.all(tag):
                text = sep.join(values)
                return text if sep == "\n" else html.unescape(text)
        return ""


def ris_item(lines: list[tuple[str, str]]) -> dict:
    """A CSL item for one RIS record."""
    tags = _Tags(lines)
    csl_type = RIS_TYPES.get(tags.first("TY").strip().upper(), "document")
    value = tags.first
    item: dict[str, Any] = {"type": csl_type, "citation-key": value("ID"), "_warnings": []}
    item["title"] = value("TI", "T1", "CT") or (
        value("BT") if csl_type in ("book", "manuscript") else ""
    )
    _titles(item, value, csl_type)
    item |= _names(tags, csl_type)
    item |= _dates(value)
    item |= {
        "publisher": value("PB"),
        "publisher-place": value("CY", "PP"),
        "edition": value("ET"),
        "volume": value("VL"),
        "issue": value("IS"),
        "archive": value("DB"),
        "archive_location": value("AN", "AV"),
        "call-number": value("CN"),
        "language": value("LA"),
        "abstract": value("AB", "N2", sep="\n"),
        "title-short": value("ST"),
        "number-of-volumes": value("NV"),
        "source": value("DP"),
        "keyword": tags.all("KW"),
    }
    if csl_type not in RIS_NO_PAGES:
        item["page"] = "–".join(p for p in (value("SP"), value("EP")) if p)
    elif value("SP"):
        item["number-of-pages"] = value("SP")
    item |= _identifiers(tags, csl_type)
    _urls(item, tags)
    # M2 is Zotero's Extra (read for its `name: value` lines); N1 are notes, kept after it.
    item["note"] = "\n".join(n for n in _extra(item, tags.all("M2")) if n)
    notes = [note_text("\n".join(tags.all("N1"))), "\n".join(_unknown(item, lines))]
    item["_notes"] = [n for n in notes if n]
    return {key: val for key, val in item.items() if val}


def _titles(item: dict, value, csl_type: str) -> None:
    if csl_type in RIS_T2_IS_SERIES:
        item["collection-title"] = value("T2", "T3")
    else:
        item["container-title"] = value("T2", "JF", "JO", "BT")
        item["container-title-short"] = value("J2", "JA", "J1")
        item["collection-title"] = value("T3")


def _names(tags: _Tags, csl_type: str) -> dict[str, list[dict]]:
    """Names by role, each role's names in the order of the file's lines."""
    secondary = {
        "letter": "recipient",
        "personal_communication": "recipient",
        "interview": "interviewer",
        "book": "collection-editor",
        "report": "collection-editor",
    }.get(csl_type, "editor")
    tertiary = {"book": "editor", "thesis": "contributor"}.get(csl_type, "collection-editor")
    fourth = "contributor" if csl_type == "paper-conference" else "translator"
    roles = {"AU": "author", "A1": "author", "A2": secondary, "ED": "editor"}
    roles |= {"A3": tertiary, "A4": fourth}
    names: dict[str, list[dict]] = {}
    for tag, value in tags.lines:
        if tag in roles and value:
            names.setdefault(roles[tag], []).append(ris_name(value))
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


def _dates(value) -> dict[str, Any]:
    dates = {}
    if issued := value("DA") or value("Y1") or value("PY"):
        dates["issued"] = {"raw": ris_date(issued)}
    if accessed := value("Y2"):
        dates["accessed"] = {"raw": ris_date(accessed)}
    return dates


def ris_date(value: str) -> str:
    """EDTF for RIS dates: Zotero's "1950/01/16/" and "1950/01/01/?" (the last part is
    free text: a time, a season, "?"), "1950///", or any date `to_edtf` reads; what none
    reads comes back as written."""
    parts = value.split("/")
    if len(parts) < 3 or not re.fullmatch(r"\d{1,2}|", parts[1].strip()):
        return to_edtf(value) or value
    year, month, day = (p.strip() for p in parts[:3])
    rest = "/".join(parts[3:]).strip()
    if not re.fullmatch(r"-?\d{4}", year) or not re.fullmatch(r"\d{0,2}", day):
        return to_edtf(value) or value
    date = year + (f"-{int(month):02d}" if month else "")
    date += f"-{int(day):02d}" if month and day else ""
    if not month and rest.casefold() in ("spring", "summer", "autumn", "fall", "winter"):
        return to_edtf(f"{rest} {year}") or value
    if re.search(r"\bca\b|circa|approx", rest, re.I):
        return date + "~"
    return date + ("?" if "?" in rest else "")


def _identifiers(tags: _Tags, csl_type: str) -> dict[str, Any]:
    value = tags.first
    result: dict[str, Any] = {"DOI": value("DO")}
    genre = value("M3")
    if re.match(r"10\.\d{4,}/", genre):
        result["DOI"] = result["DOI"] or genre  # EndNote and others put DOIs in M3
    else:
        result["genre"] = genre
    for serial in tags.all("SN"):
        if csl_type == "report":
            result.setdefault("number", serial)
        elif csl_type in RIS_ISSN_TYPES or re.fullmatch(r"\d{4}-?\d{3}[\dXx]", serial):
            result.setdefault("ISSN", serial)
        else:
            result.setdefault("ISBN", serial)
    if number := value("M1"):
        key = "issue" if csl_type.startswith("article") else "number"
        key = "collection-number" if csl_type == "book" else key
        if not result.get(key) and not tags.first("IS" if key == "issue" else key):
            result[key] = number
        else:
            result.setdefault("_more", []).append(f"M1: {number}")
    if rights := value("CR"):
        result["custom"] = {"rights": rights}
    return result


def _urls(item: dict, tags: _Tags) -> None:
    """The first web address of UR lines is the URL; the others, and file links (L1, L2,
    L4: Zotero's and EndNote's attachments), are kept as note lines."""
    urls = [u for line in tags.all("UR") for u in re.split(r"\s*;\s*|\s+", line) if u]
    web = [u for u in urls if re.match(r"(?i)(https?|ftp)://", u)]
    item["URL"] = web[0] if web else (urls[0] if urls else "")
    others = [u for u in urls if u != item["URL"]] + tags.all("L1", "L2", "L4")
    if others:
        item.setdefault("_more", []).extend(f"Link: {u}" for u in others)
        item["_warnings"].append(f"{len(others)} more link(s) kept in the note")


# Zotero's Extra lines in M2 are read by `sources.imports.extra`; these are our own.
RIS_EXTRA_VARIABLES = {"original-language"}


def _extra(item: dict, lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        key, _, rest = line.partition(":")
        name = key.strip().lower()
        if name == "original-language" and rest.strip():
            item.setdefault("custom", {})["original_language"] = rest.strip()
        elif name.startswith("identifier ") and rest.strip():  # our export's identifiers
            identifiers = item.setdefault("custom", {}).setdefault("identifiers", {})
            identifiers[key.strip()[len("identifier ") :]] = rest.strip()
        elif line.strip():
            kept.append(line.strip())
    return kept + item.pop("_more", [])


def _unknown(item: dict, lines: list[tuple[str, str]]) -> list[str]:
    unreadable = [value for tag, value in lines if tag == "?"]
    if unreadable:
        count = f"{len(unreadable)} line" + ("s" if len(unreadable) > 1 else "")
        item["_warnings"].append(f"{count} without the RIS dash kept in the note")
    lines = [(tag, value) for tag, value in lines if tag != "?"]
    unknown = [f"{tag}: {value}" for tag, value in lines if tag not in READ_TAGS and value]
    if unknown:
        tags = ", ".join(sorted({line[:2] for line in unknown}))
        item["_warnings"].append(f"RIS tag(s) {tags} kept in the note")
    return unreadable + unknown
