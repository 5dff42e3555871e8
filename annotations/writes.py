"""A new annotation written in one statement, on PostgreSQL.

Creating an annotation writes six tables: the annotation, its tags (the many-to-many
table), its history record and that record's tags (django-simple-history tracks the tags),
its search entry and the entry's new words. Through the ORM that is 16 statements and ~9 ms
of CPU in the Django process per annotation (bench/README.md, *Load test*); here it is one
statement of data-modifying CTEs, prepared once per connection, that writes exactly the
rows the ORM writes: `tests/annotations/test_writes.py` creates the same annotations
both ways and compares every column of every row (docs/decisions/0008).

Only the SQL is written here, from the models' metadata; the values are the ORM's own:
each field's `pre_save` and `get_db_prep_save`, simple_history's user and change reason,
`search_index.annotation_entry` for the entry. SQLite keeps the ORM path (it has no
data-modifying CTEs, and it serves one person at a time).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connections
from django.db.models import Field
from django.utils import timezone

from annotations import search_index
from annotations.models import ANNOTATION_HISTORY, Annotation, SearchEntry, SearchWord, Tag
from sources.rows import fetch, quoter

# The receivers that the ORM path triggers and this one stands in for; a test fails if
# another appears, so that a new receiver is not silently skipped by the fast path.
STANDS_IN_FOR = {
    "post_save": [
        "annotations.search_index._annotation_saved",
        "simple_history.models.HistoricalRecords.post_save",
    ],
    "m2m_changed": [
        "annotations.search_index._annotation_tags_changed",
        "simple_history.models.HistoricalRecords.m2m_changed",
    ],
}


def supported(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def insert_new(annotation: Annotation, tags: list[Tag], using: str) -> None:
    """Insert `annotation` (placed, cleaned, not yet saved) with `tags` (saved, in the
    library), its history record and its search entry. Sets its id."""
    statement = _statement(using)
    connection = connections[using]
    prepared = [field.get_db_prep_save(field.pre_save(annotation, True), connection)
                for field in statement.fields]  # fmt: skip
    history = ANNOTATION_HISTORY  # what its create_historical_record(annotation, "+") writes
    user = history.get_history_user(annotation)
    history_values = [
        getattr(annotation, "_history_date", None) or timezone.now(),
        history.get_change_reason_for_object(annotation, "+", using),
        "+",
        getattr(user, "pk", user),
    ]
    prepared += [
        field.get_db_prep_save(value, connection)
        for field, value in zip(statement.history_fields, history_values, strict=True)
    ]
    prepared.append([tag.pk for tag in tags])
    indexed = search_index.connected()
    entry = _entry(annotation, tags) if indexed else SearchEntry(library_id=annotation.library_id)
    prepared += [field.get_db_prep_save(getattr(entry, field.attname), connection)
                 for field in statement.entry_fields]  # fmt: skip
    prepared += [search_index.ANNOTATION_KEY, indexed]
    words = sorted(search_index.words_of(entry)) if indexed else []
    prepared += [annotation.library_id, words]
    ((pk,),) = fetch(using, statement.sql, prepared)
    annotation.pk = pk
    annotation._state.adding, annotation._state.db = False, using


def _entry(annotation: Annotation, tags: list[Tag]) -> SearchEntry:
    """The entry `search_index` would write; its key and annotation id wait for the id."""
    facts = search_index.facts_of_source(annotation.text.source)
    named = [(tag.pk, tag.name, tag.namespace) for tag in tags]
    return search_index.annotation_entry(annotation, facts, named, set())


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: list[Field]  # the annotation's, in the order of their parameters
    history_fields: list[Field]  # history_date, history_change_reason, history_type, user
    entry_fields: list[Field]  # the search entry's, but its key and annotation


@functools.cache
def _statement(using: str) -> _Insert:
    quote, table = connections[using].ops.quote_name, quoter(using)

    def columns(fields: list[Field]) -> str:
        return ", ".join(quote(field.column) for field in fields)

    def marks(count: int) -> str:
        return ", ".join(["%s"] * count)

    fields = [f for f in Annotation._meta.concrete_fields if not f.primary_key]
    pk = quote(Annotation._meta.pk.column)

    through = Annotation.tags.through
    owner = quote(Annotation.tags.field.m2m_column_name())
    tag = quote(Annotation.tags.field.m2m_reverse_name())

    historical = Annotation.history.model
    tracked = ANNOTATION_HISTORY.fields_included(Annotation)
    history_fields = [
        historical._meta.get_field(name)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    tracked_columns = [historical._meta.get_field(f.name).column for f in tracked]
    history_pk = quote(historical._meta.pk.column)
    tags_history = ANNOTATION_HISTORY.m2m_models[Annotation._meta.get_field("tags")]
    through_fields = list(through._meta.concrete_fields)
    recorded = [tags_history._meta.get_field(f.name).column for f in through_fields]
    recorded.append(tags_history._meta.get_field("history").column)

    entry_fields = [
        f for f in SearchEntry._meta.concrete_fields
        if not f.primary_key and f.name not in ("key", "annotation")
    ]  # fmt: skip
    key, annotated = (quote(SearchEntry._meta.get_field(n).column) for n in ("key", "annotation"))
    word_fields = [SearchWord._meta.get_field(name) for name in ("library", "word")]

    sql = f"""
WITH a AS (
  INSERT INTO {table(Annotation)} ({columns(fields)}) VALUES ({marks(len(fields))})
  RETURNING *
), h AS (
  INSERT INTO {table(historical)} ({", ".join(quote(c) for c in tracked_columns)},
    {columns(history_fields)})
  SELECT {", ".join("a." + quote(f.column) for f in tracked)}, {marks(len(history_fields))}
  FROM a
  RETURNING {history_pk}
), t AS (
  INSERT INTO {table(through)} ({owner}, {tag})
  SELECT a.{pk}, chosen.tag FROM a, unnest(%s::bigint[]) WITH ORDINALITY AS chosen (tag, n)
  ORDER BY chosen.n
  RETURNING *
), ht AS (
  INSERT INTO {table(tags_history)} ({", ".join(quote(c) for c in recorded)})
  SELECT {", ".join("t." + quote(f.column) for f in through_fields)}, h.{history_pk}
  FROM t, h
), s AS (
  INSERT INTO {table(SearchEntry)} ({columns(entry_fields)}, {key}, {annotated})
  SELECT {marks(len(entry_fields))}, %s::text || a.{pk}, a.{pk} FROM a WHERE %s
), w AS (
  INSERT INTO {table(SearchWord)} ({columns(word_fields)})
  SELECT %s, word FROM unnest(%s::varchar[]) AS word
  ON CONFLICT DO NOTHING
)
SELECT a.{pk} FROM a"""
    return _Insert(sql, fields, history_fields, entry_fields)
