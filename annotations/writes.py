"""Creating an annotation: its invariants on every database, in one statement on PostgreSQL.

`create_annotation` places the annotation (the quote is derived from the offsets), cleans
its comment, finds or creates its tags and writes it with its tags and one history record,
all or nothing. On SQLite it goes through the ORM. On PostgreSQL it is one statement of
data-modifying CTEs, prepared once per connection, that writes exactly the rows the ORM
writes: `tests/annotations/test_writes.py` creates the same annotations both ways and
compares every column of every row (docs/decisions/0008). Through the ORM that was 16
statements and ~9 ms of CPU in the Django process per annotation (bench/README.md).

Only the SQL is written here, from the models' metadata; the values are the ORM's own: each
field's `pre_save` and `get_db_prep_save`, simple_history's user and change reason.

A package that keeps rows of its own for every new annotation, written by signal receivers
on the ORM path, joins the statement as a `Companion` (`register_companion`, called from its
app's `ready()`): the search index adds its entry and the entry's new words. This module
knows nothing of them; the statement stands in for exactly the receivers they name.

A source deleted while an annotation (or evidence, `hold`) is written on it: a deletion
locks the source's row FOR UPDATE before it gathers what goes with it, and a write here
holds the row FOR KEY SHARE (the statement takes it before it inserts anything). So either
the deletion waits and takes the new rows with it, or the write waits and finds the source
gone: DeletedMeanwhile, which the API answers with 409. Never a foreign key broken at
commit (a 500 for one of the two). SQLite runs one writer at a time: nothing to lock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import Field, Model
from django.utils import timezone

from annotations.models import (
    ANNOTATION_HISTORY,
    KNOWN_RELATIONS,
    TAGS_PER_ANNOTATION,
    AnchorState,
    Annotation,
    Tag,
    Visibility,
    wanted_tags,
)
from core import batching
from core.rows import fetch, quoter
from sources.models import Source, SourceText

# The receivers that the ORM path triggers and this statement stands in for (with those its
# companions name); a test fails if another appears, so that a new receiver is not silently
# skipped by the fast path.
STANDS_IN_FOR = {
    "post_save": ["simple_history.models.HistoricalRecords.post_save"],
    "m2m_changed": ["simple_history.models.HistoricalRecords.m2m_changed"],
}


class DeletedMeanwhile(Exception):
    """What a write was for (its source, highlight, claim) was deleted by someone else while
    it was being written; nothing was written. `str()` says what to do."""

    def __init__(self, what: str, doing: str) -> None:
        super().__init__(
            f"The {what} was deleted while {doing}; nothing was saved. Reload to see what is left."
        )
        self.what = what


@dataclass(frozen=True)
class Companion:
    """Rows another package writes for each new annotation, in the annotation's statement.

    `sql(using, pk)` gives the package's CTEs (`name AS (…), …`), which may read the new
    row from the CTE `a` (its id is `a.<pk>`); `values(annotation, tags, connection)` their
    parameters in order; `stands_in_for` the signal receivers they replace, by signal name.
    """

    name: str
    sql: Callable[[str, str], str]
    values: Callable[[Annotation, list[Tag], Any], list[Any]]
    stands_in_for: dict[str, list[str]] = field(default_factory=dict)


_companions: dict[str, Companion] = {}


def register_companion(companion: Companion) -> None:
    _companions[companion.name] = companion


def stands_in_for() -> dict[str, list[str]]:
    """Every receiver the one statement stands in for: ours and the companions'."""
    names = {signal: list(receivers) for signal, receivers in STANDS_IN_FOR.items()}
    for companion in _companions.values():
        for signal, receivers in companion.stands_in_for.items():
            names.setdefault(signal, []).extend(receivers)
    return names


def create_annotation(
    *,
    text: SourceText,
    start: int | None = None,
    end: int | None = None,
    creator: Any,
    page: int | None = None,
    region: dict | None = None,
    reply_to: Annotation | None = None,
    whole_text: bool = False,
    exact: str | None = None,
    comment: str = "",
    motivation: str = "",
    visibility: str = Visibility.LIBRARY,
    tags: Iterable[str] = (),
    state: str = AnchorState.ANCHORED,
    anchor_score: float = 1.0,
    hold_tags: bool = False,
    using: str | None = None,
) -> Annotation:
    """Create an annotation on a passage (start, end: the quote is derived from the offsets;
    a given `exact` must equal it), on a region of a page (page, region), in reply to
    another annotation (reply_to) or on the whole text (whole_text). Raises ValidationError
    naming the field; writes nothing then. `hold_tags`: the annotation holds its tags as
    `prefetch_related` would, for a caller that represents it at once (not read back)."""
    annotation = Annotation(
        library=text.source.library,
        text=text,
        creator=creator,
        visibility=visibility,
        state=state,
        anchor_score=anchor_score,
    )
    place(annotation, start=start, end=end, exact=exact, page=page, region=region,
          reply_to=reply_to, whole_text=whole_text)  # fmt: skip
    annotation.set_comment(comment)
    annotation.motivation = motivation or annotation.default_motivation()
    annotation.full_clean(exclude=KNOWN_RELATIONS, validate_constraints=False)
    using = using or router.db_for_write(Annotation)
    if supported(using):
        wanted = wanted_tags(tags, most=TAGS_PER_ANNOTATION)  # before anything is written
        with transaction.atomic(using=using, savepoint=False):
            found = Tag.objects.for_keys(annotation.library, wanted)
            insert_new(annotation, found, using)
    else:
        found = _create_through_the_orm(annotation, tags, using)
    if hold_tags:
        annotation.hold_tags(sorted(found, key=lambda tag: tag.name_key))
    return annotation


def place(
    annotation: Annotation,
    *,
    start: int | None,
    end: int | None,
    exact: str | None,
    page: int | None,
    region: dict | None,
    reply_to: Annotation | None,
    whole_text: bool = False,
) -> None:
    """Put a new annotation on exactly one thing: a passage, a region, an annotation or the
    whole text."""
    targets = [
        name
        for name, given in (
            ("start", start is not None or end is not None),
            ("region", page is not None or region is not None),
            ("reply_to", reply_to is not None),
            ("whole_text", whole_text),
        )
        if given
    ]
    if len(targets) != 1:
        field = targets[-1] if targets else "start"
        raise ValidationError(
            {
                field: "Give one of: start and end (a passage), page and region, reply_to, "
                "or whole_text (a note on the whole text)."
            }
        )
    if targets == ["whole_text"]:
        annotation.on_whole_text()
    elif targets == ["reply_to"]:
        annotation.answer(reply_to)
    elif targets == ["region"]:
        if page is None or region is None:
            raise ValidationError({"page" if page is None else "region": "A region needs both."})
        annotation.set_region(page, region)
    else:
        if start is None or end is None:
            raise ValidationError({"start" if start is None else "end": "This field is required."})
        annotation.set_anchor(start, end, exact=exact)


def _create_through_the_orm(annotation: Annotation, tags: Iterable[str], using: str) -> list[Tag]:
    with transaction.atomic(using=using), batching.batch():
        # One history record, "created", with its tags; not "created" and then "changed"
        # for the tags set a moment later (half the history's cost).
        annotation.skip_history_when_saving = True
        try:
            annotation.save(using=using)
            found = annotation.set_tags(tags, new=True)
        finally:
            del annotation.skip_history_when_saving
        ANNOTATION_HISTORY.create_historical_record(annotation, "+", using=using)
    return found


def supported(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def insert_new(annotation: Annotation, tags: list[Tag], using: str) -> None:
    """Insert `annotation` (placed, cleaned, not yet saved) with `tags` (saved, in the
    library), its history record and its companions' rows. Sets its id."""
    companions = tuple(_companions.values())
    statement = _statement(using, tuple(c.name for c in companions))
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
    for companion in companions:
        prepared += companion.values(annotation, tags, connection)
    prepared.append(annotation.text.source_id)  # held FOR KEY SHARE before the inserts
    rows = fetch(using, statement.sql, prepared)
    if not rows:  # the source was deleted first: what was inserted is rolled back
        raise DeletedMeanwhile("source", "the annotation was being saved")
    ((pk,),) = rows
    annotation.pk = pk
    annotation._state.adding, annotation._state.db = False, using


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: list[Field]  # the annotation's, in the order of their parameters
    history_fields: list[Field]  # history_date, history_change_reason, history_type, user


@functools.cache
def _statement(using: str, companions: tuple[str, ...]) -> _Insert:
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

    others = "".join(f",\n{_companions[name].sql(using, pk)}" for name in companions)
    # A one-time filter: PostgreSQL locks the source (or finds it gone) before it runs the
    # inserts, which then still run to their end but return no row if it is gone.
    source_id = table(Source, Source._meta.pk.name)
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
){others}
SELECT a.{pk} FROM a
WHERE EXISTS (SELECT 1 FROM {table(Source)} WHERE {source_id} = %s FOR KEY SHARE)"""
    return _Insert(sql, fields, history_fields)


def hold(
    text_id: int,
    also: list[tuple[type[Model], int, str]],
    *,
    doing: str,
    using: str | None = None,
) -> None:
    """Hold the source of text `text_id` FOR KEY SHARE until the transaction ends, then
    each row of `also` (`(model, pk, what)`): a deletion of any of them, which locks it FOR
    UPDATE first, waits for this write to commit and then deletes what it wrote too.
    DeletedMeanwhile naming the first found gone. One statement; PostgreSQL only."""
    using = using or router.db_for_write(Source)
    if not supported(using):
        return
    q = quoter(using)
    text_source = (
        f"(SELECT {q(SourceText, 'source')} FROM {q(SourceText)} WHERE {q(SourceText, 'id')} = %s)"
    )
    locks = [f"(SELECT 1 FROM {q(Source)} WHERE {q(Source, 'id')} = {text_source} FOR KEY SHARE)"]
    locks += [
        f"(SELECT 1 FROM {q(model)} WHERE {q(model, model._meta.pk.name)} = %s FOR KEY SHARE)"
        for model, _, _ in also
    ]
    ((*found,),) = fetch(using, f"SELECT {', '.join(locks)}", [text_id, *(pk for _, pk, _ in also)])
    for what, held in zip(["source", *(what for _, _, what in also)], found, strict=True):
        if held is None:
            raise DeletedMeanwhile(what, doing)
