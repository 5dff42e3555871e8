"""Checks every uploaded file passes before anything reads it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

FILE_NAME_MAX = 255


class UploadError(Exception):
    """A file the user sent cannot be used. `field` names the form/API field at fault;
    `status` is the HTTP status to answer with (400, or 413 for an oversized file)."""

    def __init__(self, message: str, *, field: str = "file", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def read_upload(upload: UploadedFile | None, *, field: str = "file") -> bytes:
    """The file's bytes, once its presence and size are checked (413 past the limit)."""
    if upload is None:
        raise UploadError("Choose a file to upload.", field=field)
    limit = settings.MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        raise UploadError(
            f"{upload.name} is {upload.size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB.",
            field=field,
            status=413,
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadError(
            f"{upload.name} is over the {limit / 1e6:.0f} MB limit.", field=field, status=413
        )
    if not data:
        raise UploadError(f"{upload.name} is empty.", field=field)
    return data


def safe_file_name(name: str) -> str:
    """The base name only, without control or bidi-override characters, at most 255 long."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf"))
    base = unicodedata.normalize("NFC", base).strip()
    if base in ("", ".", ".."):
        return "untitled"
    if len(base) > FILE_NAME_MAX:
        suffix = PurePosixPath(base).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        base = base[: FILE_NAME_MAX - len(suffix)] + suffix
    return base
