"""Structured logs: one JSON object per line, for journald, Loki, CloudWatch and the like.

Django, the application, gunicorn and Celery workers all log through `JsonFormatter`, so a
log pipeline parses one shape. `LOG_FORMAT=text` keeps the plain lines for development.
This module imports nothing from Django: the settings and gunicorn's config load it early.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Django attaches the request and a server socket to some records; they are not JSON.
_SKIPPED = frozenset({"request", "server_time"})


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the `extra=` fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        entry.update(_extras(record))
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "method"):
            entry.setdefault("method", request.method)
            entry.setdefault("path", getattr(request, "path", ""))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and key not in _SKIPPED and not key.startswith("_")
    }


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """The LOGGING dict for Django: everything to stderr, as JSON or as text."""
    formatter = (
        {"()": "config.logging.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own request logger propagates to the root; keep it from logging twice.
            "django": {"handlers": [], "level": level, "propagate": True},
        },
    }
