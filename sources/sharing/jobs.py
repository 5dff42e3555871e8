"""A library backup as background work: the archive (`sources.sharing.backup`) kept on the
job for its owner to download. Registered with `jobs` by `SourcesConfig.ready()`."""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from jobs import registry
from jobs.models import Job
from jobs.runner import Progress
from sources.access import is_owner, require_role
from sources.models import Library, Role
from sources.sharing import backup

BACKUP = "backup"


def prepare_backup(library: Library | None, data: bytes, name: str, params: dict) -> dict:
    if library is None:
        raise ValidationError({"library": "Choose the library to back up."})
    return {}


def backup_job(job: Job, progress: Progress) -> dict:
    """The whole library as a `sources.sharing.backup` archive (ZIP, checksummed, restorable
    with `manage.py restore_library`), taken in one snapshot and kept on the job."""
    library = job.library
    if job.user is None or library.role_of(job.user) != Role.OWNER:
        raise PermissionDenied("Only an owner of the library may back it up.")
    progress.start(1, f"Writing every record of {library.name}")
    buffer = io.BytesIO()
    manifest = backup.write_archive(library, buffer)
    progress.advance(1)
    job.set_output(
        buffer.getvalue(), name=backup.backup_file_name(library), content_type="application/zip"
    )
    rows = {entry["model"]: entry["rows"] for entry in manifest["files"] if entry["rows"]}
    return {"objects": sum(rows.values()), "counts": rows, "bytes": len(job.output)}


def owners_may_start(library: Library, user: Any) -> None:
    require_role(library, user, (Role.OWNER,), doing="a library backup")


def register() -> None:
    registry.register(
        registry.Kind(
            name=BACKUP,
            label="Library backup",
            run=backup_job,
            prepare=prepare_backup,
            may_start=owners_may_start,
            may_manage=is_owner,
            writes=False,
        )
    )
