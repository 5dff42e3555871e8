"""The Zotero data directory import as background work, registered with `jobs` by
`AnnotationsConfig.ready()`; the import page enqueues it (`sources.jobs.IMPORT_ZOTERO_DATA`)
for a .zip of the data directory, whatever its size: reading PDFs takes seconds a file."""

from __future__ import annotations

from django.urls import reverse

from annotations.zotero import database
from annotations.zotero.archive import open_data_directory
from annotations.zotero.importer import import_data_directory
from core.uploads import UploadError
from jobs import registry
from jobs.models import Job
from jobs.runner import Progress
from sources.access import is_owner
from sources.jobs import IMPORT_ZOTERO_DATA, editor_of, editors_may_start
from sources.models import Library

LABEL = "Zotero library import"


def prepare_zotero_import(library: Library, data: bytes, name: str, params: dict) -> dict:
    """Refuse at once what is no data directory (not a zip, no zotero.sqlite or not Zotero's,
    a member outside the folder, too many members): the user's error, on the file field."""
    if not data:
        raise UploadError("Choose a file to upload.")
    database.connect(open_data_directory(data).database()).close()
    return {}


def import_zotero_job(job: Job, progress: Progress) -> dict:
    user = editor_of(job)
    run = import_data_directory(
        job.library, bytes(job.upload), user=user, file_name=job.upload_name, progress=progress
    )
    return {
        "import_run": run.pk,
        "counts": run.counts(),
        "report": run.report,
        "url": reverse("import-detail", args=[run.pk]),
    }


def register() -> None:
    registry.register(
        registry.Kind(
            name=IMPORT_ZOTERO_DATA,
            label=LABEL,
            run=import_zotero_job,
            prepare=prepare_zotero_import,
            may_start=editors_may_start(LABEL),
            may_manage=is_owner,
        )
    )
