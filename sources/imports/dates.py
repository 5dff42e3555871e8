"""Dates as reference managers, catalogues and people write them, read into EDTF.

`read_date` never refuses: what EDTF can hold becomes EDTF (BCE years, decades, "c." as
approximate, 15.03.1950, month ranges, seasons, "2003 May 12"), and anything else is
kept as written beside an empty EDTF (`DateReading.literal`), which still sorts by any
year it names (`sources.models.issued_bounds`). The EDTF grammar itself is the `edtf`
library's (through `core.dates` and `sources.models.edtf_or_bce_bounds`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from sources.models import edtf_or_bce_bounds

SEASONS = {"spring": 1, "summer": 2, "autumn": 3, "fall": 3, "winter": 4}
# "c." and "ca." say approximate (EDTF ~); a question mark says uncertain (EDTF ?).
APPROXIMATE_WORDS = {"c", "c.", "ca", "ca.", "circa", "approx.", "approximately", "about"}
UNDATED = {"n.d.", "n.d", "nd", "s.d.", "s.d", "sd", "undated", "no date", "o.j.", "b.g."}
MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
} | {"sept": 9}
MONTH_NAME = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))


@dataclass(frozen=True)
class DateReading:
    """A date read: its EDTF (maybe empty) and, when EDTF cannot hold it, the text as
    written. `warning` says what was kept aside, for the record's outcome line."""

    edtf: str = ""
    literal: str = ""

    @property
    def warning(self) -> str:
        if self.literal and self.literal.casefold() not in UNDATED:
            return f"the date “{self.literal}” is not one EDTF can hold; kept as written"
        return ""


def read_date(text: str) -> DateReading:
    """EDTF for a date as written, else the text kept as a literal date."""
    text = " ".join(str(text or "").split())
    if not text:
        return DateReading()
    if edtf := to_edtf(text):
        return DateReading(edtf=edtf)
    return DateReading(literal=text[:200])


def to_edtf(text: str) -> str:
    """EDTF for `text`, or "" when it is no date EDTF can hold."""
    text = " ".join(text.split())
    if is_edtf(text):
        return text
    body, qualifier = _qualifier(text.strip("[]").strip())
    if body.casefold() in UNDATED or not body:
        return ""
    edtf = _interval(body) or _single(body)
    if edtf and qualifier and "/" not in edtf:
        edtf += qualifier
    return edtf if edtf and is_edtf(edtf) else ""


def is_edtf(value: str) -> bool:
    try:
        edtf_or_bce_bounds(value, field="date")
    except ValidationError:
        return False
    return True


def _qualifier(text: str) -> tuple[str, str]:
    """("1950", "~") for "c1950", "c. 1950", "ca. 1950", "circa 1950"; "?" for "1950?"."""
    m = re.fullmatch(r"(?i)(?:circa|approximately|approx\.?|about|ca\.?|c\.?)\s*(.+)", text)
    if m and re.match(r"\d|[A-Za-z]{3}", m[1]):
        body, inner = _qualifier(m[1])
        return body, "%" if inner == "?" else "~"
    if text.endswith("?"):
        return text[:-1].strip(" ,"), "?"
    return text, ""


def _interval(text: str) -> str:
    """ "1958–1962", "May-June 1950", "May 1950 - June 1951", "3-5 May 1950"."""
    if m := re.fullmatch(r"(\d{4})\s*[-–—/]\s*(\d{4})", text):
        return f"{m[1]}/{m[2]}"
    months = rf"({MONTH_NAME})\.?\s*[-–—/]\s*({MONTH_NAME})\.?,?\s+(\d{{4}})"
    if (m := re.fullmatch(months, text, re.I)) and (a := _month(m[1])) and (b := _month(m[2])):
        return f"{m[3]}-{a:02d}/{m[3]}-{b:02d}"
    days = rf"(\d{{1,2}})\s*[-–—]\s*(\d{{1,2}})\s+({MONTH_NAME})\.?,?\s+(\d{{4}})"
    if (m := re.fullmatch(days, text, re.I)) and (month := _month(m[3])):
        return f"{m[4]}-{month:02d}-{int(m[1]):02d}/{m[4]}-{month:02d}-{int(m[2]):02d}"
    if len(parts := re.split(r"\s+[-–—]\s+|\s*[–—]\s*", text)) == 2:
        start, end = _single(parts[0]), _single(parts[1])
        return f"{start}/{end}" if start and end else ""
    return ""


def _single(text: str) -> str:
    for reader in _READERS:
        if edtf := reader(text):
            return edtf
    return ""


def _numeric(text: str) -> str:
    """1950-01-16, 1950/01/16, 1950.1.16, 2024-03-01 14:22:10, 1950-01-16T10:00:00Z."""
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[ T]\d.*)?", text)
    return _ymd(m[1], m[2], m[3]) if m else ""


def _day_first(text: str) -> str:
    """15.03.1950 (day first, as Europe writes it), 03/15/1950 and 15/03/1950 when the
    day cannot be the month; 03/04/1950 reads as Zotero reads it in English, month first."""
    m = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})", text)
    if not m:
        return ""
    first, second = int(m[1]), int(m[3])
    day_first = m[2] == "." or (first > 12 and second <= 12)
    day, month = (first, second) if day_first else (second, first)
    return _ymd(m[4], str(month), str(day))


def _words(text: str) -> str:
    """16 December 1949, December 16, 1949, 2003 May 12, Dec. 1949, Spring 1950."""
    patterns = (
        (rf"(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+({MONTH_NAME})\.?,?\s+(\d{{1,4}})", (3, 2, 1)),
        (rf"({MONTH_NAME})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{1,4}})", (3, 1, 2)),
        (rf"(\d{{4}}),?\s+({MONTH_NAME})\.?\s+(\d{{1,2}})", (1, 2, 3)),
        (rf"({MONTH_NAME})\.?,?\s+(\d{{4}})", (2, 1, None)),
        (rf"(\d{{4}}),?\s+({MONTH_NAME})\.?", (1, 2, None)),
    )
    for pattern, (year, month, day) in patterns:
        if (m := re.fullmatch(pattern, text, re.I)) and (number := _month(m[month])):
            return _ymd(m[year], str(number), m[day] if day else None)
    if m := re.fullmatch(r"([A-Za-z]+),?\s+(\d{4})", text):
        season = SEASONS.get(m[1].casefold())
        return f"{m[2]}-{20 + season}" if season else ""
    return ""


def _decade(text: str) -> str:
    """1950s → 195X; 1900s → 190X (a decade: "the 1900s" as a century is 19XX)."""
    m = re.fullmatch(r"(?:the\s+)?(\d{3})0'?s", text, re.I)
    return f"{m[1]}X" if m else ""


def _bce(text: str) -> str:
    """44 BC, 44 BCE, 500 B.C. → EDTF's astronomical years (-0043: there is a year 0)."""
    m = re.fullmatch(r"(\d{1,4})\s*(?:B\.?\s?C\.?(?:E\.?)?)", text, re.I)
    return f"-{int(m[1]) - 1:04d}" if m and int(m[1]) > 0 else ""


def _year(text: str) -> str:
    return text if re.fullmatch(r"\d{4}", text) else ""


_READERS = (_year, _numeric, _day_first, _words, _decade, _bce)


def _month(name: str) -> int | None:
    return MONTHS.get(name.casefold().rstrip("."))


def _ymd(year: str, month: str | None, day: str | None) -> str:
    if not re.fullmatch(r"\d{1,4}", year):
        return ""
    text = f"{int(year):04d}"
    if month:
        if not 1 <= int(month) <= 12:
            return ""
        text += f"-{int(month):02d}"
        if day:
            text += f"-{int(day):02d}"
    return text


def csl_year_to_edtf(year: int) -> str:
    """CSL writes 44 BC as -44 (no year 0); EDTF, as ISO 8601, as -0043."""
    return f"-{-year - 1:04d}" if year < 0 else f"{year:04d}"


def edtf_year_to_csl(year: str) -> int:
    number = int(year)
    return number - 1 if number <= 0 else number
