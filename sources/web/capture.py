"""A captured page becomes a source with a snapshot of its text, or a new revision of the
source that already holds it (`held_page` says what is held, so that the reader chooses:
a new revision, or a separate source).

The snapshot is the page's main text (trafilatura) read by the HTML importer (sanitised,
in paragraphs, bounded as every upload is); its revision says where and when it was
captured, and keeps the whole page as it was read as its raw HTML (never shown). The
page's address is matched as the Hypothesis client's are (`addresses`: scheme and host
case, default ports, fragments and tracking parameters do not count), against the URL and
canonical URL the page gives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from sources.csl import csl_to_fields
from sources.importers import (
    ExtractedText,
    Original,
    checked_note,
    extract_text,
    require_editor,
    save_revision,
)
from sources.metadata_import import create_source
from sources.models import Library, Source, SourceText, canonical_text, sha256_hex
from sources.web.addresses import normalised, spellings
from sources.web.extract import main_text_html, page_metadata, trafilatura_module


@dataclass
class Captured:
    source: Source
    revision: SourceText
    created: bool  # a new source, or a new revision of one that held the page


def existing_source(library: Library, url: str, html: str) -> Source | None:
    """The library's source for this page (its address or its canonical one), if any."""
    canonical = page_metadata(html, url).get("URL", "") if html else ""
    wanted = spellings([url, canonical] if canonical else [url])
    return Source.objects.filter(library=library, url__in=wanted).order_by("pk").first()


@dataclass
class Held:
    """What a library already holds of a page the reader is about to save."""

    source: Source
    revision: SourceText | None  # its current text, if any
    differs: bool  # the page's main text now is not that revision's


def held_page(library: Library, *, url: str, html: str) -> Held | None:
    """The library's source for this page and whether the page's text has changed since it
    was last kept (read as a capture would read it, nothing written); None if not held."""
    source = existing_source(library, url, html)
    if source is None:
        return None
    current = source.current_text
    if current is None:
        return Held(source, None, True)
    extracted = _snapshot(url, html)
    return Held(source, current, sha256_hex(canonical_text(extracted.text)) != current.sha256)


def capture_page(
    library: Library,
    *,
    url: str,
    html: str,
    user,
    keywords: list[str] = (),
    known: dict[str, Any] | None = None,
    separate: bool = False,
) -> Captured:
    """Keep the page at `url` (its HTML as the reader's browser had it, or as the server
    fetched it) in `library`: a new revision of the source holding it, or (`separate`, or
    none holds it) a new source. `known`: a CSL item of what the caller already knows of
    the page (what the Hypothesis client read of it), under what its HTML says."""
    extracted = _snapshot(url, html)
    today = dt.date.today().isoformat()
    note = (f"Snapshot of {url} captured {today}; main text by trafilatura "
            f"{trafilatura_module().__version__}.")  # fmt: skip
    # The revision's text and clean HTML are the main text; its raw HTML (never shown) is
    # the page as it was read, so that the capture can be checked, or read again by a
    # better extractor, after the live page has changed.
    snapshot = Original(SNAPSHOT, extracted.html_raw.encode())
    extracted = replace(extracted, html_raw=html)
    with transaction.atomic():
        source = None if separate else existing_source(library, url, html)
        created = source is None
        if created:
            item = {**(known or {}), **page_metadata(html, url)}
            if keywords:
                item["keyword"] = list(keywords)
            warnings: list[str] = []
            fields, creators = csl_to_fields(item, warnings)
            fields.setdefault("kind", "secondary")
            source = create_source(library, fields, creators, user=user, warnings=warnings)
        require_editor(source, user)
        revision = save_revision(
            source, extracted, originals=[snapshot], user=user, note=checked_note(note[:500])
        )
    return Captured(source, revision, created)


SNAPSHOT = "snapshot.html"


def _snapshot(url: str, html: str) -> ExtractedText:
    """The page's main text as the HTML importer reads it (its `html_raw`: that main text)."""
    return extract_text(_main_text(url, html).encode(), file_name=SNAPSHOT)


def _main_text(url: str, html: str) -> str:
    if not normalised(url):
        raise ValidationError({"url": "Give the page's web address (http or https)."})
    if len(html.encode()) > settings.MAX_UPLOAD_BYTES:
        limit = filesizeformat(settings.MAX_UPLOAD_BYTES).replace("\xa0", " ")
        raise ValidationError({"html": f"The page is larger than {limit}, the upload limit."})
    text = main_text_html(html, url)
    if not text.strip():
        raise ValidationError({"html": "No main text was found on this page to keep."})
    return text
