"""How an export is written (the options: format, content, style, locale) and the file or
preview it gives for a selection (`citations.selection`). A malformed option is an
`ExportRequestError` naming it and what is accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from citations import engine, exports, notes
from citations.selection import ExportRequestError, Selection

# --- Options ---------------------------------------------------------------------------

CONTENTS = {
    "bibliography": "Bibliography",
    "notes": "Notes: a full note for each source",
    "document": "Research notes: quotations with footnotes and a bibliography",
}
FORMAT_NAMES = {
    "html": "Formatted, web page (.html)",
    "text": "Formatted, plain text (.txt)",
    "markdown": "Formatted, Markdown (.md)",
    "csl-json": "CSL-JSON (.json): Zotero, pandoc, citeproc-js",
    "biblatex": "BibLaTeX (.bib): biber, pandoc, Better BibTeX",
    "bibtex": "BibTeX (.bib)",
    "ris": "RIS (.ris): Zotero, EndNote",
}
CITATION_FORMATS = tuple(engine.FORMATS)  # html, text, markdown


@dataclass(frozen=True)
class ExportOptions:
    fmt: str
    content: str = "bibliography"
    style: str = engine.DEFAULT_STYLE
    locale: str = engine.DEFAULT_LOCALE


def formats_for(content: str) -> dict[str, str]:
    """Format id → description of the formats a content can be written in."""
    return notes.NOTES_FORMAT_NAMES if content == "document" else FORMAT_NAMES


def export_options(data: Mapping[str, Any]) -> ExportOptions:
    """Format (required), content, style and locale of an export; ExportRequestError
    naming the parameter and what is accepted."""
    content = choice(data, "content", CONTENTS, default="bibliography")
    fmt = choice(data, "format", formats_for(content), default=None, context=content)
    return ExportOptions(fmt, content, style_option(data), locale_option(data))


def choice(
    data: Mapping[str, Any],
    name: str,
    accepted: Iterable[str],
    *,
    default: str | None,
    context: str = "",
) -> str:
    value = str(data.get(name) or "").strip() or default
    accepted = list(accepted)
    if value not in accepted:
        where = f" for content={context}" if context else ""
        given = f"Unknown {name} {value!r}" if value else f"Choose a {name}"
        raise ExportRequestError(name, f"{given}. Accepted{where}: {', '.join(accepted)}.")
    return value


def style_option(data: Mapping[str, Any]) -> str:
    style = str(data.get("style") or "").strip() or engine.DEFAULT_STYLE
    try:
        engine.resolve_style(style)
    except ValueError as error:
        raise ExportRequestError("style", str(error)) from None
    return style


def locale_option(data: Mapping[str, Any]) -> str:
    """The CSL locale for a BCP 47 tag ("ru" → "ru-RU")."""
    try:
        return engine.resolve_locale(str(data.get("locale") or "").strip() or None)
    except ValueError as error:
        raise ExportRequestError("locale", str(error)) from None


def citation_options(data: Mapping[str, Any]) -> ExportOptions:
    """Options of a single citation: a formatted note in html, text or markdown."""
    fmt = choice(data, "format", CITATION_FORMATS, default="html")
    return ExportOptions(fmt, "notes", style_option(data), locale_option(data))


def locator_option(data: Mapping[str, Any]) -> tuple[str | None, str]:
    """(locator, label) of a cited passage: "12" and "page" (the default label)."""
    locator = " ".join(str(data.get("locator") or "").split())[:100] or None
    label = choice(data, "label", engine.LOCATOR_LABELS, default="page")
    return locator, label


@cache
def _style_index() -> list[tuple[str, str, str, bool]]:
    """(id, title, folded "id title", built-in) for every style, built-ins first."""
    return [
        (style_id, title, f"{style_id} {title}".casefold(), style_id in engine.BUILTIN_STYLES)
        for style_id, title in engine.available_styles().items()
    ]


def search_styles(query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Styles whose id or title holds every word of `query`: built-ins first, then ids
    that start with the query (words joined by "-"), then titles that do, shorter ids
    (usually the current edition) before longer ones."""
    words = query.casefold().split()
    as_id, as_title = "-".join(words), " ".join(words)
    builtins = {style_id: n for n, style_id in enumerate(engine.BUILTIN_STYLES)}
    found = [entry for entry in _style_index() if all(word in entry[2] for word in words)]

    def rank(entry: tuple[str, str, str, bool]) -> tuple:
        style_id, title, _, builtin = entry
        return (
            not builtin,
            builtins.get(style_id, 0),  # the default first among the built-ins
            style_id != as_id,
            not style_id.startswith(as_id),
            not title.casefold().startswith(as_title),
            len(style_id),
            title.casefold(),
        )

    best = sorted(found, key=rank)[: max(1, min(limit, 100))]
    return [{"id": e[0], "title": e[1], "builtin": e[3]} for e in best]


# --- The file --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    filename: str

    def response(self) -> HttpResponse:
        """The file as a download (Content-Disposition: attachment)."""
        response = HttpResponse(self.content, content_type=self.content_type)
        response["Content-Disposition"] = content_disposition_header(True, self.filename)
        return response


def export_file(
    user: Any, selection: Selection, options: ExportOptions, *, today: dt.date | None = None
) -> ExportFile:
    """The download for a selection: a bibliography, notes or research-notes document."""
    if options.content == "document":
        doc = notes.build_notes_document(
            user, selection, style=options.style, locale=options.locale, today=today
        )
        return ExportFile(
            notes.render_notes_document(doc, options.fmt),
            notes.NOTES_CONTENT_TYPES[options.fmt],
            notes.notes_filename(selection, options.fmt, today=today),
        )
    name = selection.name if options.content == "bibliography" else f"{selection.name} notes"
    text = exports.export_items(
        selection.items,
        options.fmt,
        style=options.style,
        locale=options.locale,
        content=options.content,
        title=f"{CONTENTS[options.content].split(':')[0]}: {selection.name}",
    )
    return ExportFile(
        text.encode("utf-8"),
        exports.CONTENT_TYPES[options.fmt],
        exports.export_filename(name, options.fmt, today=today),
    )


def preview(
    user: Any, selection: Selection, options: ExportOptions, *, limit: int
) -> dict[str, Any]:
    """What a preview page shows: the research-notes document as an HTML fragment, or the
    first `limit` formatted entries (bibliography or notes) and how many there are. A
    selection too large to format in a request is previewed from its first
    EXPORT_JOB_THRESHOLD sources (`sampled` says how many of how many)."""
    style = {"style": options.style, "locale": options.locale}
    if options.content == "document":
        doc = notes.build_notes_document(user, selection, **style)
        return {"document": notes.notes_html_body(doc)}
    items = selection.items[: settings.EXPORT_JOB_THRESHOLD]
    sampled = (len(items), len(selection.items)) if len(items) < len(selection.items) else None
    left_out: list = []
    if options.content == "notes":
        rendered = engine.render_notes([engine.Citation(i) for i in items], **style)
        printed = [full for full, _ in rendered if full.strip()]
    else:
        # A style may leave an item out of the bibliography (Chicago: personal
        # communications, manuscripts held in no archive): named here with the reason.
        printed, left_out = exports.bibliography(items, fmt="html", **style)
    return {
        "entries": printed[:limit],
        "total": len(printed),
        "omitted": len(left_out),
        "left_out": left_out,
        "sampled": sampled,
    }


# --- Large exports ---------------------------------------------------------------------


def runs_as_job(selection: Selection, options: ExportOptions) -> bool:
    """Is this export too long for a request? Formatting runs pandoc over every entry the
    first time (~1.3 ms each); files of data (CSL-JSON, BibTeX, RIS) are written in
    milliseconds, and a research-notes document is bounded by its number of quotations."""
    formatted = options.fmt in exports.FORMATTED and options.content != "document"
    return formatted and len(selection.sources) > settings.EXPORT_JOB_THRESHOLD


def job_params(selection: Selection, options: ExportOptions) -> dict[str, Any]:
    """What `citations.jobs.export_job` needs to write the same file later. A large export
    is of one library: its sources, or the ones the selection picked in it."""
    if selection.library is None:
        raise ExportRequestError(
            selection.kind if selection.kind in ("sources", "search") else "library",
            f"Exports of more than {settings.EXPORT_JOB_THRESHOLD:,} sources are made in the "
            "background for one library at a time; export each library on its own.",
        )
    picked = None if selection.kind == "library" else [s.pk for s in selection.sources]
    name = selection.name if options.content == "bibliography" else f"{selection.name} notes"
    return {
        "format": options.fmt,
        "content": options.content,
        "style": options.style,
        "locale": options.locale,
        "title": f"{CONTENTS[options.content].split(':')[0]}: {selection.name}",
        "name": name,
        "sources": picked,
    }
