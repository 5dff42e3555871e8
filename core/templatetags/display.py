"""Display filters shared by every page: dates and languages as readers write them.

`{{ source.issued|edtf }}` shows an EDTF date as words in the page's language with the EDTF
in a tooltip (`<time title="EDTF: 1950?-01-01">1 January 1950 (uncertain)</time>`);
`{{ source.language|language }}` a language tag as its name, with the tag in a tooltip
("af-ZA" → "Afrikaans (South Africa)"), from babel's CLDR data.
"""

from __future__ import annotations

import datetime as dt

from babel import Locale, UnknownLocaleError
from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.dates import bounds_in_words, edtf_bounds_or_none, edtf_in_words

register = template.Library()


@register.filter
def edtf_words(value: str | None) -> str:
    """The EDTF string as words only ("the 1960s"), for titles and option labels."""
    return edtf_in_words(value or "")


@register.filter
def edtf(value: str | None) -> SafeString | str:
    """The date as words in a <time>, the EDTF in its tooltip; the machine-readable
    `datetime` is the first day when the date is one day."""
    value = (value or "").strip()
    if not value:
        return ""
    words = edtf_in_words(value)
    bounds = edtf_bounds_or_none(value)
    exact = bounds and bounds[0] == bounds[1] and bounds[0]
    if isinstance(exact, dt.date):
        return format_html(
            '<time datetime="{}" title="EDTF: {}" data-edtf="{}">{}</time>',
            exact.isoformat(),
            value,
            value,
            words,
        )
    return format_html('<time title="EDTF: {}" data-edtf="{}">{}</time>', value, value, words)


@register.filter
def date_span(earliest: dt.date | None, latest: dt.date | None = None) -> str:
    """Two calendar days (a search hit's bounds) as words: "1950", "1958–1962"."""
    return bounds_in_words(earliest, latest)


def language_display_name(code: str, display: str | None = None) -> str | None:
    """ "af-ZA" → "Afrikaans (South Africa)", in the page's language; None if unknown."""
    parts = code.strip().replace("_", "-").split("-")
    if not parts[0] or parts[0].lower() == "und":
        return None
    try:
        names = Locale.parse((display or get_language() or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        names = Locale("en")
    name = names.languages.get(parts[0].lower())
    if name is None:
        return None
    details = [
        names.scripts.get(part.title()) if len(part) == 4 else names.territories.get(part.upper())
        for part in parts[1:]
    ]
    if any(detail is None for detail in details):
        return name  # a variant CLDR does not name: the language alone, the tag in the tooltip
    return f"{name} ({', '.join(details)})" if details else name


@register.filter
def language(code: str | None) -> SafeString | str:
    """A language tag as its name with the tag in a tooltip; an unknown tag as written."""
    code = (code or "").strip()
    if not code:
        return ""
    name = language_display_name(code)
    if name is None:
        return code
    return format_html('<span class="lang-name" title="{}">{}</span>', code, name)


@register.filter
def language_text(code: str | None) -> str:
    """The language's name as plain text (for option labels and attributes)."""
    code = (code or "").strip()
    return (language_display_name(code) or code) if code else ""
