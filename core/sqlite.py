"""SQLite connection setup: LOWER and UPPER that fold every script, not only ASCII.

SQLite's own lower()/upper() change only A–Z, so a search for "жуков" would miss
"Жуков" and a title sort would put "Яблоко" before "апрель". Each new SQLite connection
gets Python's case mapping under the built-in names instead, so that `Lower()` in
filters and sorts behaves as PostgreSQL's does under a UTF-8 locale.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def _lower(value: Any) -> Any:
    return value if value is None else str(value).lower()


def _upper(value: Any) -> Any:
    return value if value is None else str(value).upper()


def fold_case_in_every_script(sender: type, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: replace SQLite's ASCII-only LOWER and UPPER."""
    if connection.vendor != "sqlite":
        return
    # Deterministic, so that SQLite may still use them in indexes and constant folding.
    connection.connection.create_function("lower", 1, _lower, deterministic=True)
    connection.connection.create_function("upper", 1, _upper, deterministic=True)
