"""EDTF dates (https://www.loc.gov/standards/datetime/) parsed by the `edtf` library."""

from __future__ import annotations

import datetime as dt
import time

import edtf
from django.core.exceptions import ValidationError


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, time.struct_time):
        return dt.date(value.tm_year, value.tm_mon, value.tm_mday)
    return None  # an open end ("../1950") has no bound


def edtf_bounds(value: str, *, field: str = "date") -> tuple[dt.date | None, dt.date | None]:
    """Earliest and latest calendar days an EDTF string can mean.

    Raises ValidationError naming `field` when the string is not EDTF. The bounds are
    the strict ones: "1960-07?" spans July 1960, "196X" spans 1960-01-01 … 1969-12-31.
    """
    try:
        parsed = edtf.parse_edtf(value.strip())
        earliest, latest = _as_date(parsed.lower_strict()), _as_date(parsed.upper_strict())
    except (edtf.EDTFParseException, ValueError, TypeError, OverflowError):
        raise ValidationError(
            {field: f"{value!r} is not an EDTF date (e.g. 1949-12-16, 1960-07?, 1958/1962, 196X)."}
        ) from None
    if earliest and latest and earliest > latest:
        raise ValidationError({field: f"{value!r} ends before it starts."})
    return earliest, latest


def edtf_year(value: str) -> int | None:
    """The first year an EDTF string can mean, for citation keys and display."""
    try:
        earliest, _ = edtf_bounds(value)
    except ValidationError:
        return None
    return earliest.year if earliest else None
