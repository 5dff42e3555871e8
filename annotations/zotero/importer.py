"""Bring a Zotero data directory into a library: items, files as texts, PDF annotations.

Each item goes through the metadata import (`zotero_item_to_csl` → `import_record`: every
field, creator role and tag kept, duplicates judged as for any import), with its
collections as `collection:` keywords (nested paths kept: "Cold War/Sino-Soviet") and its
child notes in its note. Its stored files (PDFs, HTML snapshots, anything the text
importers read) become its text revisions, those with Zotero annotations last so that the
most annotated file is the current text. Then each highlight and underline of Zotero's
PDF reader becomes an annotation, found by its quote on its page of the imported text
(whitespace and line breaks as the PDF's text layer has them), with its comment, its tags,
its colour as a `colour:` tag and `zotero:underline` for an underline.

Nothing is dropped without a word: a file that cannot be read, a linked file outside the
data directory, an annotation with no text (a note, an image, ink) or a quote not found
in the text is named in the item's outcome line, and what it held (the quote, the
comment, the link) is kept in the source's note.
"""

from __future__ import annotations

import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.anchoring import Anchor, State, locate
from annotations.models import AnchorState
from annotations.writes import create_annotation
from annotations.zotero import database
from annotations.zotero.archive import DataDirectory, open_data_directory
from core.uploads import UploadError, safe_file_name
from sources import importers
from sources.imports.common import unreadable
from sources.imports.notes import note_text
from sources.imports.zotero import zotero_item_to_csl
from sources.metadata_import import CREATED, DUPLICATE, Catalogue, import_record
from sources.models import ImportFormat, ImportRun, Source, SourceText

if TYPE_CHECKING:
    from sources.models import AnyUser, Library

logger = logging.getLogger("marginalia.imports")

# Zotero's annotation colours (its reader's palette), named as the reader names them.
COLOURS = {
    "#ffd400": "yellow",
    "#ff6666": "red",
    "#5fb236": "green",
    "#2ea8e5": "blue",
    "#a28ae5": "purple",
    "#e56eee": "magenta",
    "#f19837": "orange",
    "#aaaaaa": "gray",
}
QUOTED = {"highlight", "underline"}  # the annotation types that carry a quote


@dataclass
class Brought:
    """What one item brought and what it could not, for its outcome line and the report."""

    texts: int = 0
    annotations: int = 0
    missed: list[str] = field(default_factory=list)  # outcome warnings
    kept: list[str] = field(default_factory=list)  # lines for the source's note


def import_data_directory(
    library: Library, data: bytes, *, user: AnyUser, file_name: str, progress: Any = None
) -> ImportRun:
    """Import the Zotero data directory zipped in `data`; an ImportRun with one outcome
    line per item and a `report` summary. UploadError (nothing written) when the archive
    or its database cannot be read."""
    directory = open_data_directory(data)
    connection = database.connect(directory.database())
    try:
        zotero = database.read_library(connection)
    finally:
        connection.close()
    if progress is not None:
        progress.start(len(zotero.items), f"Importing {len(zotero.items)} Zotero items")
    catalogue, outcomes, totals = Catalogue(library), [], Brought()
    for index, item in enumerate(zotero.items):
        outcomes.append(_import_item(library, directory, item, index, user, catalogue, totals))
        if progress is not None:
            progress.advance(index + 1)
    report = _report(zotero, directory, outcomes, totals)
    run = ImportRun.objects.create(
        library=library, user=user, file_name=file_name[:255], format=ImportFormat.ZOTERO_DATA,
        outcomes=outcomes,
    )  # fmt: skip
    run.report = report  # type: ignore[attr-defined]  (for the job's result)
    return run


def _report(zotero: database.Library, directory: DataDirectory, outcomes, totals) -> dict:
    statuses = {"created": 0, "duplicate": 0, "failed": 0}
    for outcome in outcomes:
        statuses[outcome["status"]] += 1
    return {
        "schema": zotero.version,
        "items": statuses,
        "texts": totals.texts,
        "annotations": totals.annotations,
        "not_brought": len(totals.missed),
        "skipped": zotero.skipped,
        "notes": directory.notes,
    }


def _import_item(
    library: Library,
    directory: DataDirectory,
    item: database.Item,
    index: int,
    user: AnyUser,
    catalogue: Catalogue,
    totals: Brought,
) -> dict:
    record = zotero_item_to_csl(item.data, notes=[note_text(note) for note in item.notes])
    keywords = record.get("keyword") or []
    record["keyword"] = [*keywords, *(f"collection:{path}" for path in item.collections)]
    outcome = import_record(library, record, index=index, user=user, catalogue=catalogue)
    outcome["zotero_key"] = item.key
    brought = Brought()
    if outcome["status"] == CREATED:
        source = Source.objects.get(pk=outcome["source"])
        _bring_files(directory, source, item, user, brought)
        if brought.kept:
            kept = "\n".join(["Kept from Zotero:", *brought.kept])
            source.note = "\n\n".join(p for p in (source.note, kept) if p)
            source.save(update_fields=["note"])
    elif item.attachments:
        where = "stay with the copy" if outcome["status"] == DUPLICATE else "were not read"
        brought.missed.append(f"its {len(item.attachments)} file(s) and their annotations {where}")
    _summarise(outcome, brought)
    totals.texts += brought.texts
    totals.annotations += brought.annotations
    totals.missed += brought.missed
    return outcome


def _summarise(outcome: dict, brought: Brought) -> None:
    if brought.texts or brought.annotations:
        outcome["message"] += (
            f" Brought {brought.texts} text(s) and {brought.annotations} annotation(s)."
        )
    if brought.missed:
        outcome["warnings"] = [*outcome.get("warnings", []), *brought.missed]
        outcome["message"] += " Not brought: " + "; ".join(brought.missed) + "."


# --- Files as texts -----------------------------------------------------------------------


def _bring_files(
    directory: DataDirectory, source: Source, item: database.Item, user: AnyUser, brought: Brought
) -> None:
    placed_on: list[tuple[database.Attachment, SourceText]] = []
    for attachment in sorted(item.attachments, key=lambda a: len(a.annotations)):
        revision = _bring_file(directory, source, attachment, user, brought)
        if revision is not None:
            placed_on.append((attachment, revision))
        else:
            _keep_annotations(attachment, attachment.annotations, brought, why="its file")
    for attachment, revision in placed_on:  # after every revision: none carried over again
        for annotation in attachment.annotations:
            _bring_annotation(revision, attachment, annotation, user, brought)


def _bring_file(
    directory: DataDirectory,
    source: Source,
    attachment: database.Attachment,
    user: AnyUser,
    brought: Brought,
) -> SourceText | None:
    label = f"“{attachment.title or attachment.path or attachment.key}”"
    if attachment.link_mode == database.LINKED_URL:
        brought.kept.append(f"Link {label}: {attachment.url}")
        return None
    if attachment.link_mode == database.LINKED_FILE:
        brought.missed.append(f"{label} is a linked file outside the data directory")
        brought.kept.append(f"Linked file {label}: {attachment.path}")
        return None
    member = directory.storage_member(attachment.key, attachment.path)
    if member is None:
        brought.missed.append(f"{label} is not in storage/{attachment.key}/ in the archive")
        return None
    try:
        data = directory.read(member, settings.MAX_UPLOAD_BYTES)
        original = importers.Original(safe_file_name(posixpath.basename(member)), data)
        extracted = importers.read_file(original)
        with transaction.atomic():
            revision = importers.save_revision(
                source, extracted, originals=[original], user=user,
                note=f"Zotero attachment {label}",
            )  # fmt: skip
    except importers.NeedsOcr:
        brought.missed.append(f"{label} is a scan: import it on the source's page to OCR it")
        return None
    except (UploadError, ValidationError, zipfile.BadZipFile, OSError) as error:
        reason = getattr(error, "message", None) or unreadable(error)
        brought.missed.append(f"{label} was not read ({str(reason).rstrip('.')})")
        return None
    except Exception as error:  # a reader's own failure is this file's, not the library's
        logger.warning("a Zotero attachment could not be read", exc_info=True)
        brought.missed.append(f"{label} was not read ({unreadable(error).rstrip('.')})")
        return None
    brought.texts += 1
    return revision


# --- Annotations --------------------------------------------------------------------------


def _bring_annotation(
    revision: SourceText,
    attachment: database.Attachment,
    annotation: database.Annotation,
    user: AnyUser,
    brought: Brought,
) -> None:
    if annotation.kind not in QUOTED or not annotation.text.strip():
        _keep_annotations(attachment, [annotation], brought, why=f"a {annotation.kind}")
        return
    placed = place_quote(revision, annotation.text, annotation.page_index)
    if placed is None:
        _keep_annotations(attachment, [annotation], brought, why="its quote in the text")
        return
    start, end, state, score = placed
    try:
        with transaction.atomic():
            create_annotation(
                text=revision, start=start, end=end, creator=user,
                comment=annotation.comment, tags=_tags(annotation), state=state,
                anchor_score=score,
            )  # fmt: skip
    except ValidationError as error:
        logger.info("a Zotero annotation was refused: %s", error)
        _keep_annotations(attachment, [annotation], brought, why="a place to keep it")
        return
    brought.annotations += 1


def _tags(annotation: database.Annotation) -> list[str]:
    tags = [tag for tag in annotation.tags if tag.strip()]
    if colour := annotation.color.lower():
        tags.append(f"colour:{COLOURS.get(colour, colour)}")
    if annotation.kind == "underline":
        tags.append("zotero:underline")
    return tags[:50]


def _keep_annotations(attachment, annotations, brought: Brought, *, why: str) -> None:
    """Annotations that found no place: named in the outcome, their words in the note."""
    for annotation in annotations:
        page = f"page {annotation.page_label}" if annotation.page_label else "no page"
        brought.missed.append(
            f"a Zotero {annotation.kind} on {page} of “{attachment.title or attachment.key}” "
            f"(no {why.removeprefix('a ').removeprefix('its ')}"
            + (f": “{_short(annotation.text)}”)" if annotation.text else ")")
        )
        words = " — ".join(p for p in (f"“{annotation.text}”" if annotation.text else "",
                                       annotation.comment) if p)  # fmt: skip
        brought.kept.append(f"Zotero {annotation.kind}, {page}: {words or '(no text)'}")


def _short(text: str, most: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def place_quote(
    revision: SourceText, quote: str, page_index: int | None
) -> tuple[int, int, str, float] | None:
    """Where a quote from Zotero's PDF reader lies in the text: its words in order, any
    whitespace between them (the text layer breaks lines where the reader joined them),
    on its page first; else the nearest close match (`anchoring.locate`). None if absent."""
    text = revision.text
    first, last = _page_bounds(revision.page_map or [], page_index, len(text))
    words = quote.split()
    pattern = re.compile(r"[\s\u00ad]+".join(re.escape(w) for w in words))
    found = pattern.search(text, first, last) or pattern.search(text)
    if found and found.end() > found.start():
        return found.start(), found.end(), AnchorState.ANCHORED, 1.0
    exact = " ".join(words)
    placement = locate(text, Anchor(first, first + len(exact), exact), hint=first)
    if placement.state == State.ORPHANED or placement.start is None:
        return None
    state = AnchorState.ANCHORED if placement.score >= 1.0 else AnchorState.FUZZY
    return placement.start, placement.end, state, placement.score


def _page_bounds(page_map: list, page_index: int | None, length: int) -> tuple[int, int]:
    if page_index is None or not 0 <= page_index < len(page_map):
        return 0, length
    start = int(page_map[page_index][0])
    end = int(page_map[page_index + 1][0]) if page_index + 1 < len(page_map) else length
    return start, end
