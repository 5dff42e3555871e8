"""The search index's part of the one-statement annotation create (`annotations.writes`).

On the ORM path a new annotation reaches the index through its receivers
(`search.index._annotation_saved`, `_annotation_tags_changed`). On PostgreSQL the create is
one statement, and the index joins it as a companion: two CTEs that insert the annotation's
entry (what `search.index.annotation_entry` makes, its key and annotation id taken from the
new row) and the entry's new vocabulary words. `tests/annotations/test_writes.py` compares
every column they write with what the receivers write.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections

from annotations.models import Annotation, Tag
from annotations.writes import Companion
from core.rows import quoter
from search import index
from search.models import SearchEntry, SearchWord


@functools.cache
def _entry_fields() -> list:
    """The entry's columns that the statement's parameters fill: all but its key and
    annotation, which come from the new row."""
    return [
        f for f in SearchEntry._meta.concrete_fields
        if not f.primary_key and f.name not in ("key", "annotation")
    ]  # fmt: skip


def sql(using: str, pk: str) -> str:
    quote, table = connections[using].ops.quote_name, quoter(using)
    entry_fields = _entry_fields()
    columns = ", ".join(quote(field.column) for field in entry_fields)
    marks = ", ".join(["%s"] * len(entry_fields))
    key, annotated = (quote(SearchEntry._meta.get_field(n).column) for n in ("key", "annotation"))
    word_columns = ", ".join(
        quote(SearchWord._meta.get_field(name).column) for name in ("library", "word")
    )
    return f"""search_entry AS (
  INSERT INTO {table(SearchEntry)} ({columns}, {key}, {annotated})
  SELECT {marks}, %s::text || a.{pk}, a.{pk} FROM a WHERE %s
), search_words AS (
  INSERT INTO {table(SearchWord)} ({word_columns})
  SELECT %s, word FROM unnest(%s::varchar[]) AS word
  ON CONFLICT DO NOTHING
)"""


def values(annotation: Annotation, tags: list[Tag], connection: Any) -> list[Any]:
    """The parameters of `sql`: the entry the receivers would write (none while the index
    is disconnected), then the library and the entry's words for the vocabulary."""
    indexed = index.connected()
    entry = _entry(annotation, tags) if indexed else SearchEntry(library_id=annotation.library_id)
    prepared = [
        field.get_db_prep_save(getattr(entry, field.attname), connection)
        for field in _entry_fields()
    ]
    prepared += [index.ANNOTATION_KEY, indexed]
    words = sorted(index.words_of(entry)) if indexed else []
    return [*prepared, annotation.library_id, words]


def _entry(annotation: Annotation, tags: list[Tag]) -> SearchEntry:
    """The entry the index would write; its key and annotation id wait for the id."""
    facts = index.facts_of_source(annotation.text.source)
    named = [(tag.pk, tag.name, tag.namespace) for tag in tags]
    return index.annotation_entry(annotation, facts, named, set())


COMPANION = Companion(
    name="search",
    sql=sql,
    values=values,
    stands_in_for={
        "post_save": ["search.index._annotation_saved"],
        "m2m_changed": ["search.index._annotation_tags_changed"],
    },
)
