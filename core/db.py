"""Telling a database outage (try again later) from a bug."""

from __future__ import annotations

import sqlite3

from django.db import InterfaceError, OperationalError

# PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong": connection exception,
# transaction rollback (serialization failure, deadlock), insufficient resources (too many
# connections), operator intervention (shutdown, starting up, statement timeout).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")
# SQLite's "database is locked" and I/O errors; "no such table" is a bug, not an outage.
_TRANSIENT_SQLITE_ERRORS = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN"}


def is_database_unavailable(error: BaseException) -> bool:
    """Is `error` the database being unreachable or overloaded (retry later), not a bug?"""
    if isinstance(error, InterfaceError):  # the connection is already closed
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorname", "") in _TRANSIENT_SQLITE_ERRORS
    sqlstate = getattr(cause, "sqlstate", None)
    # psycopg gives no SQLSTATE when it cannot connect or the server went away.
    return sqlstate is None or sqlstate.startswith(_TRANSIENT_SQLSTATE_CLASSES)
