"""Which implementation of the index's SQL serves the database in use: PostgreSQL full text
(`search.postgres`) or SQLite FTS5 (`search.sqlite`); both offer the same functions."""

from __future__ import annotations

from types import ModuleType

from django.db import connection

from search import postgres, sqlite


def backend() -> ModuleType:
    """The implementation for the database in use."""
    return postgres if connection.vendor == "postgresql" else sqlite
