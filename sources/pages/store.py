"""Keeping a revision's original files and pages, in the transaction that adds it.

Registered with `sources.importers` at start-up (`register`): the importer reads a PDF's
pages (`layout.pdf_layout`) or a scan (`ocr.read_scan`) before its transaction, and this
module stores what they found with the new revision (`keep`).
"""

from __future__ import annotations

import hashlib
import logging

from sources import importers
from sources.models import SourceText
from sources.pages import layout, ocr
from sources.pages.models import OriginalFile, Page, Reading

logger = logging.getLogger("marginalia.pages")


def register() -> None:
    importers.register_page_hooks(
        importers.PageHooks(
            layout=layout.pdf_layout,
            ocr=ocr.read_scan,
            keep=keep,
            ocr_unavailable=ocr.unavailable,
        )
    )


def keep(
    revision: SourceText,
    originals: list[importers.Original],
    extracted: importers.ExtractedText,
) -> None:
    """The revision's files, its pages with their words, and how it was read."""
    found = extracted.layout
    if not isinstance(found, layout.Layout) or not originals:
        return
    if revision.text != extracted.text:
        # add_revision canonicalises; what was read is canonical already, so this is a bug
        # to hear of, not a reason to refuse the text: it is kept without its pages.
        logger.error("revision %s: its text is not the one read; pages not kept", revision.pk)
        return
    files = [_original(revision, position, o) for position, o in enumerate(originals)]
    spans = layout.page_spans(revision.text, extracted.page_map)
    labels = [str(label) for _, label in extracted.page_map]
    Page.objects.bulk_create(
        _page(revision, index, page, files, spans[index], labels[index])
        for index, page in enumerate(found.pages)
    )
    Reading.objects.create(
        text=revision,
        method=found.method,
        engine=found.engine,
        languages=found.languages,
        confidence=found.confidence,
    )


def _original(revision: SourceText, position: int, original: importers.Original) -> OriginalFile:
    return OriginalFile.objects.create(
        text=revision,
        position=position,
        name=original.name,
        media_type=importers.media_type_for(original.name),
        size=len(original.data),
        sha256=hashlib.sha256(original.data).hexdigest(),
        data=original.data,
    )


def _page(revision, index, page: layout.PageLayout, files, span, label) -> Page:
    start, end = span
    return Page(
        text=revision,
        index=index,
        label=label[: Page._meta.get_field("label").max_length],
        original=files[page.original],
        original_page=page.page,
        width=page.width,
        height=page.height,
        start=start,
        end=end,
        words=[[start + w[0], start + w[1], *w[2:]] for w in page.words],
        confidence=page.confidence,
    )
