"""EDTF dates (https://www.loc.gov/standards/datetime/) parsed by the `edtf` library."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import time

import edtf
from django.core.exceptions import ValidationError


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
