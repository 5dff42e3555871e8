"""A captured page becomes a source with a snapshot of its text, or a new revision of the
source that already holds it (never a duplicate).

The snapshot is the page's main text (trafilatura) read by the HTML importer (sanitised,
in paragraphs, bounded as every upload is); its revision says where and when it was
captured. The page's address is matched as the Hypothesis client's are
(`addresses`: scheme and host case, default ports, fragments and tracking parameters do
not count), against the URL and canonical URL the page gives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from sources.csl import csl_to_fields
from sources.importers import import_text_revision
from sources.metadata_import import create_source
from sources.models import Library, Source, SourceText
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


def capture_page(
    library: Library, *, url: str, html: str, user, keywords: list[str] = ()
) -> Captured:
    """Keep the page at `url` (its HTML as the reader's browser had it) in `library`."""
    if not normalised(url):
        raise ValidationError({"url": "Give the page's web address (http or https)."})
    if len(html.encode()) > settings.MAX_UPLOAD_BYTES:
        limit = filesizeformat(settings.MAX_UPLOAD_BYTES).replace("\xa0", " ")
        raise ValidationError({"html": f"The page is larger than {limit}, the upload limit."})
    text = main_text_html(html, url)
    if not text.strip():
        raise ValidationError({"html": "No main text was found on this page to keep."})
    today = dt.date.today().isoformat()
    note = (f"Snapshot of {url} captured {today}; main text by trafilatura "
            f"{trafilatura_module().__version__}.")  # fmt: skip
    snapshot = SimpleUploadedFile("snapshot.html", text.encode(), content_type="text/html")
    with transaction.atomic():
        source = existing_source(library, url, html)
        created = source is None
        if created:
            item = page_metadata(html, url)
            if keywords:
                item["keyword"] = list(keywords)
            warnings: list[str] = []
            fields, creators = csl_to_fields(item, warnings)
            fields.setdefault("kind", "secondary")
            source = create_source(library, fields, creators, user=user, warnings=warnings)
        revision = import_text_revision(source, snapshot, user=user, note=note[:500])
    return Captured(source, revision, created)
