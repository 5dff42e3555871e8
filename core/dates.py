"""EDTF dates (https://www.loc.gov/standards/datetime/): their bounds, parsed by the `edtf`
library, and their reading as words in the page's language (`edtf_in_words`, babel's CLDR
data), which pages show with the EDTF itself in a tooltip."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import time

import babel
import edtf
from babel.dates import format_skeleton
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, time.struct_time):
        return dt.date(value.tm_year, value.tm_mon, value.tm_mday)
    return None  # an open end ("../1950") has no bound


# Plain dates (1949, 1949-12, 1949-12-16, each maybe qualified ?, ~ or %) are most of
# what users type and imports carry; the edtf grammar costs 15-30 ms a string
# (pyparsing), the calendar microseconds.
SIMPLE_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?(?P<qualifier>[?~%])?"
)
Bounds = tuple[dt.date | None, dt.date | None]


def edtf_bounds(value: str, *, field: str = "date") -> Bounds:
    """Earliest and latest calendar days an EDTF string can mean.

    Raises ValidationError naming `field` when the string is not EDTF. The bounds are
    the strict ones: "1960-07?" spans July 1960, "196X" spans 1960-01-01 … 1969-12-31.
    """
    bounds = _bounds(value.strip())
    if bounds is None:
        raise ValidationError(
            {field: f"{value!r} is not an EDTF date (e.g. 1949-12-16, 1960-07?, 1958/1962, 196X)."}
        )
    earliest, latest = bounds
    if earliest and latest and earliest > latest:
        raise ValidationError({field: f"{value!r} ends before it starts."})
    return bounds


def is_edtf(value: str) -> bool:
    """Is `value` an EDTF date whose bounds we can place?"""
    try:
        edtf_bounds(value)
    except ValidationError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _bounds(value: str) -> Bounds | None:
    # What the calendar cannot place (seasons: 1950-21 is spring 1950) goes to the grammar.
    match = SIMPLE_DATE.fullmatch(value)
    if match and (bounds := _simple_bounds(int(match["year"]), match["month"], match["day"])):
        return bounds
    try:
        parsed = edtf.parse_edtf(value)
        return _as_date(parsed.lower_strict()), _as_date(parsed.upper_strict())
    except (edtf.EDTFParseException, ValueError, TypeError, OverflowError):
        return None


def _simple_bounds(year: int, month: str | None, day: str | None) -> Bounds | None:
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            last = calendar.monthrange(year, int(month))[1]
            return dt.date(year, int(month), 1), dt.date(year, int(month), last)
        exact = dt.date(year, int(month), int(day))
    except (ValueError, calendar.IllegalMonthError):
        return None
    return exact, exact


def edtf_year(value: str) -> int | None:
    """The first year an EDTF string can mean, for citation keys and display."""
    try:
        earliest, _ = edtf_bounds(value)
    except ValidationError:
        return None
    return earliest.year if earliest else None


# ---------------------------------------------------------------------------------------
# EDTF in words, as a reader writes dates ("1 January 1950 (uncertain)", "the 1960s",
# "1958–1962"), in the page's language through babel's CLDR patterns.
# ---------------------------------------------------------------------------------------

# English pages write day, month, year (as most historical writing and Chicago's notes do);
# other languages use their own CLDR patterns.
_BABEL_LOCALES = {"en": "en_GB"}
_QUALIFIERS = {"?": "uncertain", "~": "approximate", "%": "uncertain, approximate"}
_SEASONS = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}
_EDTF_DATE = re.compile(
    r"(?P<year>\d{4}|\d{3}X|\d{2}XX)(?:-(?P<month>\d{2}|XX)(?:-(?P<day>\d{2}|XX))?)?"
)


def edtf_in_words(value: str, language: str | None = None) -> str:
    """An EDTF string as words in `language` (the page's, by default); what it cannot
    put into words (times, BCE, exponents) is given back as written."""
    value = (value or "").strip()
    if not value:
        return ""
    locale = _babel_locale(language or get_language() or "en")
    try:
        return _words(value, locale) or value
    except (ValueError, KeyError, babel.UnknownLocaleError):
        return value


def bounds_in_words(
    earliest: dt.date | None, latest: dt.date | None, language: str | None = None
) -> str:
    """The span of two calendar days as words: a day, a whole month or year, or a range."""
    if earliest is None:
        return ""
    latest = latest or earliest
    locale = _babel_locale(language or get_language() or "en")
    return _span_words(earliest, latest, locale)


def _babel_locale(language: str) -> str:
    base = language.replace("-", "_")
    main = base.split("_")[0].lower()
    return _BABEL_LOCALES.get(main, base if "_" in base else main)


def _words(value: str, locale: str) -> str | None:
    if value.startswith(("[", "{")) and value.endswith(("]", "}")):
        return _set_words(value, locale)
    if "/" in value:
        start, _, end = value.partition("/")
        return _interval_words(start, end, locale)
    return _date_words(value, locale)


def _interval_words(start: str, end: str, locale: str) -> str | None:
    open_ = ("", "..")
    if start in open_ and end in open_:
        return None
    if start in open_:
        last = _date_words(end, locale)
        return last and f"{_('until')} {last}"
    if end in open_:
        first = _date_words(start, locale)
        return first and f"{_('from')} {first}"
    first, last = _date_words(start, locale), _date_words(end, locale)
    if first is None or last is None:
        return None
    # Years join with a plain en dash (1958–1962); longer dates with spaces around it.
    dash = "–" if " " not in first + last else " – "
    return f"{first}{dash}{last}"


def _set_words(value: str, locale: str) -> str | None:
    """[a,b] is one of them ("a or b"); {a,b} all of them ("a and b"); "x..y" a range."""
    conjunction = _("or") if value.startswith("[") else _("and")
    parts = [_set_item_words(item.strip(), locale) for item in value[1:-1].split(",")]
    if not parts or None in parts:
        return None
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {conjunction} {parts[-1]}"


def _set_item_words(item: str, locale: str) -> str | None:
    if item.startswith("..") and len(item) > 2:
        day = _date_words(item[2:], locale)
        return day and f"{_('on or before')} {day}"
    if item.endswith("..") and len(item) > 2:
        day = _date_words(item[:-2], locale)
        return day and f"{_('on or after')} {day}"
    if ".." in item:
        low, _sep, high = item.partition("..")
        return _interval_words(low, high, locale)
    return _date_words(item, locale)


def _date_words(value: str, locale: str) -> str | None:
    """One EDTF date (qualified, with unspecified digits, a season) as words."""
    qualifiers = {char for char in value if char in _QUALIFIERS}
    match = _EDTF_DATE.fullmatch(re.sub(r"[?~%]", "", value))
    if match is None:
        return None
    words = _calendar_words(match["year"], match["month"], match["day"], locale)
    if words is None:
        return None
    return f"{words} ({_qualifier(qualifiers)})" if qualifiers else words


def _qualifier(qualifiers: set[str]) -> str:
    if "%" in qualifiers or qualifiers == {"?", "~"}:
        return _(_QUALIFIERS["%"])
    return _(_QUALIFIERS[qualifiers.pop()])


def _calendar_words(year: str, month: str | None, day: str | None, locale: str) -> str | None:
    if "X" in year:
        return _decade_words(year, locale)
    number = int(year)
    if month is None or month == "XX":
        return format_skeleton("y", dt.date(number, 1, 1), locale=locale)
    if int(month) in _SEASONS:
        year = format_skeleton("y", dt.date(number, 1, 1), locale=locale)
        return f"{_(_SEASONS[int(month)])} {year}"
    if day is None or day == "XX":
        return format_skeleton("yMMMM", dt.date(number, int(month), 1), locale=locale)
    return format_skeleton("yMMMMd", dt.date(number, int(month), int(day)), locale=locale)


def _decade_words(year: str, locale: str) -> str:
    """196X → "the 1960s", 19XX → "the 1900s"; other languages get the years' range."""
    low = int(year.replace("X", "0"))
    high = int(year.replace("X", "9"))
    if locale.startswith("en"):
        return _("the %(years)ss") % {"years": low}
    return f"{low}–{high}"


def _span_words(earliest: dt.date, latest: dt.date, locale: str) -> str:
    year_span = earliest.month == 1 and earliest.day == 1 and (latest.month, latest.day) == (12, 31)
    if year_span:
        first, last = str(earliest.year), str(latest.year)
        return first if first == last else f"{first}–{last}"
    last_day = calendar.monthrange(latest.year, latest.month)[1]
    if (
        earliest.day == 1
        and latest.day == last_day
        and earliest.replace(day=1) == latest.replace(day=1)
    ):
        return format_skeleton("yMMMM", earliest, locale=locale)
    first = format_skeleton("yMMMMd", earliest, locale=locale)
    if earliest == latest:
        return first
    return f"{first} – {format_skeleton('yMMMMd', latest, locale=locale)}"


def edtf_bounds_or_none(value: str) -> Bounds | None:
    """The bounds of an EDTF string, or None when it is not one (for display)."""
    return _bounds(value.strip())
