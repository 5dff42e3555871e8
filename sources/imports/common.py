"""What every reader shares: one record's failure kept that record's, errors for people."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

logger = logging.getLogger("marginalia.imports")


def describe_error(error: BaseException) -> str:
    """The errors on one line, each after its field: "issued: '1950-13' is not an EDTF …";
    never empty (an exception without a message is named by its kind)."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        parts = []
        for field, messages in error.message_dict.items():
            text = " ".join(messages)
            parts.append(text if field == NON_FIELD_ERRORS else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    text = str(error).strip()
    return text or f"{error.__class__.__name__} (no message)"


def unreadable(error: BaseException) -> str:
    """Why a parser gave up, for a person: nesting past the stack rather than its jargon."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply to read."
    return f"{describe_error(error)} ({error.__class__.__name__})."


def record_or_error(read: Any, raw: Any, where: str = "The record") -> dict | Exception:
    """`read(raw)`, or the reason it failed: one record's fault stays that record's."""
    try:
        return read(raw)
    except ValueError as error:
        return error
    except Exception as error:  # the parser's own failure (out of stack, a bug) on this record
        logger.warning("%s could not be read", where, exc_info=True)
        return ValueError(f"{where} cannot be read: {unreadable(error)}")
