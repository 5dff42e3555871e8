"""The library's background work: metadata and text imports too large for a request.

Registered with `jobs` by `SourcesConfig.ready()`; the pages and the API enqueue them
(`jobs.queue.enqueue(IMPORT_METADATA, …)`) when an upload passes JOB_THRESHOLD_BYTES, a
metadata file holds more than JOB_THRESHOLD_RECORDS records (`metadata_in_background`), or
an HTML or Markdown text would make more than JOB_THRESHOLD_ELEMENTS elements to clean, or
a text is a scan that only OCR reads (`text_in_background`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.urls import reverse

from core import sanitize
from core.uploads import UploadError, read_upload
from jobs import queue, registry
from jobs.models import Job
from jobs.runner import Progress
from sources import importers, metadata_import
from sources.access import is_owner, require_role
from sources.models import WRITE_ROLES, ImportRun, Library, Source

IMPORT_METADATA = "import-metadata"
IMPORT_TEXT = "import-text"
IMPORT_ZOTERO_DATA = "import-zotero-data"  # registered by annotations.zotero.jobs


def editor_of(job: Job) -> Any:
    """The job's user, if they may still change its library (roles change while jobs wait)."""
    if job.user is None or job.library is None or not job.library.can_edit(job.user):
        raise PermissionDenied("The person who started this job may no longer change the library.")
    return job.user


def editors_may_start(label: str):
    def may_start(library: Library, user: Any) -> None:
        require_role(library, user, WRITE_ROLES, doing=f"a {label.lower()}")

    return may_start


def text_in_background(upload: UploadedFile | None) -> bool:
    """Is this text imported by a job rather than in the request: larger than
    JOB_THRESHOLD_BYTES, or HTML or Markdown that makes more than JOB_THRESHOLD_ELEMENTS
    elements? bleach cleans about 20,000 a second: 1 MB of dense markup took 6 s. Counted,
    not parsed (Markdown is rendered by cmark-gfm, in milliseconds); a file of another type
    or one that cannot be read stays in the request, which says what is wrong with it."""
    if queue.runs_in_background(upload):
        return True
    try:
        media_type = importers.media_type_for(upload.name or "") if upload else ""
    except UploadError:
        return False
    if media_type.startswith("image/"):
        return True  # a scanned page: OCR takes seconds a page
    if media_type == "application/pdf":
        return _is_scan(upload)
    if media_type not in ("text/html", "text/markdown"):
        return False
    markup = read_upload(upload).decode("utf-8", errors="replace")
    upload.seek(0)  # the import reads it again
    if media_type == "text/markdown":
        markup = sanitize.markdown_html(markup)
    limit = settings.JOB_THRESHOLD_ELEMENTS
    return sanitize.count_elements(markup, stop_past=limit) > limit


def _is_scan(upload: UploadedFile) -> bool:
    data = read_upload(upload)
    upload.seek(0)
    return importers.is_scan(data, upload.name or "")


# --- Metadata import ----------------------------------------------------------------------


def metadata_in_background(upload: UploadedFile | None, fmt: str = "") -> bool:
    """Is this metadata file imported by a job rather than in the request: larger than
    JOB_THRESHOLD_BYTES, or of more than JOB_THRESHOLD_RECORDS records? Records are counted,
    not read (`metadata_import.count_records`); an unreadable file stays in the request,
    which says what is wrong with it. UploadError for a missing, empty or oversized file."""
    if queue.runs_in_background(upload):
        return True
    data = read_upload(upload)
    upload.seek(0)  # the import reads it again
    try:
        fmt = fmt or metadata_import.detect_format(data, upload.name or "")
    except UploadError:
        return False
    return metadata_import.count_records(data, fmt) > settings.JOB_THRESHOLD_RECORDS


def prepare_metadata_import(library: Library, data: bytes, name: str, params: dict) -> dict:
    if not data:
        raise UploadError("Choose a file to upload.")
    fmt = params.get("format") or ""
    return {
        "format": metadata_import.checked_format(fmt)
        if fmt
        else metadata_import.detect_format(data, name)
    }


def import_metadata_job(job: Job, progress: Progress) -> dict:
    """`metadata_import.import_metadata`, record by record with progress: every record in a
    savepoint of the job's transaction, the ImportRun with one outcome line per record."""
    user, library = editor_of(job), job.library
    fmt = job.params["format"]
    records = metadata_import.parse_records(bytes(job.upload), fmt)
    progress.start(len(records), f"Importing {len(records)} records from {job.upload_name}")
    outcomes, catalogue = [], metadata_import.Catalogue(library)
    for index, record in enumerate(records):
        outcome = metadata_import.import_record(
            library, record, index=index, user=user, catalogue=catalogue
        )
        outcomes.append(outcome)
        progress.advance(index + 1)
    run = ImportRun.objects.create(
        library=library, user=user, file_name=job.upload_name, format=fmt, outcomes=outcomes
    )
    return {
        "import_run": run.pk,
        "counts": run.counts(),
        "url": reverse("import-detail", args=[run.pk]),
    }


# --- Text import --------------------------------------------------------------------------


def prepare_text_import(library: Library, data: bytes, name: str, params: dict) -> dict:
    if not data:
        raise UploadError("Choose a file to upload.")
    source = params.get("source")
    if not isinstance(source, Source) or source.library_id != library.pk:
        raise ValidationError({"source": "Choose a source of this library."})
    importers.media_type_for(name)
    if importers.is_scan(data, name) and (why := importers.ocr_unavailable()):
        raise UploadError(f"{name} is a scan, which only OCR reads. {why}")
    encoding = (params.get("encoding") or "").strip()
    note = (params.get("note") or "").strip()
    if len(note) > importers.NOTE_MAX:
        raise UploadError(
            f"The note is {len(note)} characters; keep it under {importers.NOTE_MAX}.", field="note"
        )
    return {
        "source": source.pk,
        "encoding": importers.lookup_encoding(encoding) if encoding else "",
        "note": note,
    }


def import_text_job(job: Job, progress: Progress) -> dict:
    """`importers.import_text_revision`: the new revision, its annotations carried over."""
    user = editor_of(job)
    source = Source.objects.select_related("library").get(
        pk=job.params["source"], library=job.library
    )
    progress.start(1, f"Reading {job.upload_name} and carrying the annotations over")
    upload = SimpleUploadedFile(job.upload_name, bytes(job.upload))
    text = importers.import_text_revision(
        source,
        upload,
        user=user,
        encoding=job.params["encoding"] or None,
        note=job.params["note"],
        ocr=importers.OcrRequest(source=source, progress=progress),  # a scan: its pages
    )
    progress.advance(progress.job.total or 1)  # OCR counts its pages instead
    return {
        "source": source.pk,
        "text": text.pk,
        "revision": text.revision,
        "url": f"{source.get_absolute_url()}?revision={text.revision}",
    }


def register() -> None:
    for name, label, run, prepare in (
        (IMPORT_METADATA, "Metadata import", import_metadata_job, prepare_metadata_import),
        (IMPORT_TEXT, "Text import", import_text_job, prepare_text_import),
    ):
        registry.register(
            registry.Kind(
                name=name,
                label=label,
                run=run,
                prepare=prepare,
                may_start=editors_may_start(label),
                may_manage=is_owner,
            )
        )
