"""A source's history: its own records, its creators' and links', its text revisions, and
reverting it (`core.history` reads and describes; this says what belongs to a source)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from core import history
from core.history import Change, Entry, end_of, rows_as_of
from sources.models import Creator, Source, SourceLink, SourceText

# Fields a revert restores; the rest (the library, who created it, the citation key) stays.
SOURCE_FIELDS = (
    "csl_type",
    "kind",
    "title",
    "container_title",
    "collection_title",
    "publisher",
    "publisher_place",
    "volume",
    "issue",
    "page",
    "edition",
    "issued",
    "archive",
    "archive_place",
    "archive_collection",
    "archive_location",
    "call_number",
    "genre",
    "medium",
    "url",
    "accessed",
    "language",
    "original_language",
    "rights",
    "identifiers",
    "abstract",
    "note",
)
CREATOR_FIELDS = ("role", "family", "given", "literal", "order")


def revert_source(source: Source, record: Any, user: Any) -> Source:
    for name in SOURCE_FIELDS:
        setattr(source, name, getattr(record, name))
    source.full_clean(exclude=["citation_key"])
    source.version += 1
    source.save()
    restore_creators(source, end_of(source, record))
    return source


def restore_creators(source: Source, moment: dt.datetime) -> None:
    """The source's creators as they were at `moment`: kept rows updated, others
    removed, vanished ones created again."""
    then = {c.id: c for c in rows_as_of(Creator.history.filter(source_id=source.pk), moment)}
    for creator in list(source.creators.all()):
        old = then.pop(creator.pk, None)
        if old is None:
            creator.delete()
            continue
        if any(getattr(creator, n) != getattr(old, n) for n in CREATOR_FIELDS):
            for name in CREATOR_FIELDS:
                setattr(creator, name, getattr(old, name))
            creator.save()
    for old in then.values():
        Creator.objects.create(source=source, **{n: getattr(old, n) for n in CREATOR_FIELDS})


def revision_entries(source: Source) -> list[Entry]:
    """Text revisions are immutable rows, not history records: each import is an entry."""
    texts = SourceText.objects.filter(source=source).select_related("imported_by")
    return [
        Entry(
            what="Text",
            action=f"revision {text.revision} imported",
            when=text.imported_at,
            user=text.imported_by,
            changes=[Change("File", "", text.file_name or "—"), Change("SHA-256", "", text.sha256)],
            reason=text.note,
        )
        for text in texts.defer("text", "html", "html_raw")
    ]


def creator_records(source: Source, viewer: Any) -> QuerySet:
    return Creator.history.filter(source_id=source.pk).order_by("-history_date")


def link_records(source: Source, viewer: Any) -> QuerySet:
    return SourceLink.history.filter(Q(subject_id=source.pk) | Q(object_id=source.pk))


def register() -> None:
    history.track(Source, revert=revert_source, extra=revision_entries)
    history.also_show(Source, "Creator", creator_records)
    history.also_show(Source, "Link between sources", link_records)
