"""Model instances from hand-written SELECTs, for the few hot reads where the ORM's query
building costs more than the query (bench/README.md, *Load test*: 1.7 ms of ORM around a
0.1 ms statement for one annotation, 0.3 ms around a token lookup).

`Selected` names a model's columns in a statement and turns its slice of a row back into an
instance, each value converted as the ORM converts it (SQLite's datetimes become aware,
JSON is decoded), so the instances are those a queryset would have given; `Layout` puts
several models side by side in one row. Everything else
keeps using the ORM; rules about who sees what stay in the QuerySet methods, and each hot
read has a test that compares it with its queryset.

`fetch` runs such a statement; on PostgreSQL as a prepared statement, because planning the
annotation read's six-table join cost 0.65 ms of PostgreSQL's CPU against 0.07 ms to run it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model


class Selected:
    """Some (default: all concrete) fields of `model`, read from table alias `alias`."""

    def __init__(
        self, model: type[Model], alias: str, fields: tuple[str, ...] = (), *, using: str
    ) -> None:
        connection = connections[using]
        chosen = [model._meta.get_field(name) for name in fields] or list(
            model._meta.concrete_fields
        )
        quote = connection.ops.quote_name
        self.model, self.using = model, using
        self.columns = ", ".join(f"{alias}.{quote(field.column)}" for field in chosen)
        self.attnames = [field.attname for field in chosen]
        self.width = len(chosen)
        self.converters: list[tuple[int, list, Any]] = []
        for position, field in enumerate(chosen):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((position, found, column))

    def instance(self, row: tuple, start: int) -> Model | None:
        """The instance in `row[start:start + width]`; None when its key is NULL (an outer
        join that found nothing)."""
        values = list(row[start : start + self.width])
        if values[0] is None:
            return None
        connection = connections[self.using]
        for position, converters, column in self.converters:
            for convert in converters:
                values[position] = convert(values[position], column, connection)
        return self.model.from_db(self.using, self.attnames, values)


@functools.cache
def selected(
    model: type[Model], alias: str, fields: tuple[str, ...] = (), *, using: str
) -> Selected:
    """`Selected`, made once per process for each model, alias and set of fields."""
    return Selected(model, alias, fields, using=using)


class Layout:
    """Several models' columns side by side in one SELECT (`columns`), and each model's
    instance back from a row by its position among them."""

    def __init__(self, *parts: Selected) -> None:
        self.parts = parts
        self.starts = [sum(part.width for part in parts[:n]) for n in range(len(parts))]
        self.columns = ", ".join(part.columns for part in parts)

    def instance(self, row: tuple, index: int) -> Model | None:
        return self.parts[index].instance(row, self.starts[index])

    def instances(self, row: tuple) -> list[Model | None]:
        return [self.instance(row, index) for index in range(len(self.parts))]


def quoter(using: str) -> Callable[..., str]:
    """`quoted` for the database `using`: q(Model) is its table, q(Model, "field") a column."""
    return functools.partial(quoted, using)


def quoted(using: str, model: type[Model], name: str = "") -> str:
    """A model's table, or one of its fields' column, quoted for the database `using`."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    return quote(meta.get_field(name).column if name else meta.db_table)


def fetch(using: str, sql: str, params: list) -> list[tuple]:
    """The rows of one hand-written statement. On PostgreSQL (psycopg 3) the statement is
    prepared once per connection and then only bound and run; Django prepares nothing (its
    queries are not written to be prepared, and poolers in transaction mode lose prepared
    statements: `DB_PREPARED_STATEMENTS=false` turns this off for them). Logged like any
    query, so `CaptureQueriesContext` and DEBUG see it."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    # What `connection.cursor()` does before it hands out a cursor: the health check
    # (`CONN_HEALTH_CHECKS`: a connection PostgreSQL dropped is replaced, not failed on),
    # the connection itself, one thread per connection, database errors as Django's.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    if connection.connection.prepare_threshold is None:  # Django's default: nothing prepared
        # psycopg then refuses even `prepare=True`; a threshold never reached lets that one
        # through and still prepares nothing on its own.
        connection.connection.prepare_threshold = NEVER
    with connection.wrap_database_errors:
        prepared = _prepared_cursor_class()(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(prepared) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.queries_logged and connection.queries_log[-1]["sql"] is None:
        # Django cannot recover a prepared statement's text from psycopg; write it out.
        connection.queries_log[-1]["sql"] = connection.ops.compose_sql(sql, params)
    return rows


NEVER = 2**31 - 1


@functools.cache
def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Django's server-side binding cursor, preparing every statement it runs."""

        def execute(self, query, params=None, *, prepare=None, binary=None):  # noqa: ANN001
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor
