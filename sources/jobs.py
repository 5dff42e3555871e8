"""Background jobs: long work (large imports, re-anchoring, big exports, search re-indexing,
library backups) as plain functions that a task queue runs.

A view calls `enqueue(kind, library=…, user=…, upload=…, **params)`: the input is checked at
once (a bad file or option is the user's error, named by field, before anything is queued),
stored on a `Job` row with the uploaded bytes, and run either in the request
(TASK_QUEUE=inline: development and tests) or by a Celery worker on any machine
(TASK_QUEUE=celery). The page `/jobs/<id>/` shows its progress, result or error.

Guarantees, whichever runs it:
- a job's writes and its "succeeded" state commit in one transaction: a failed job, or a
  worker killed mid-job, leaves nothing half-written, and a job is never done twice;
- a worker lost mid-job gets its message back (late acknowledgement); the next delivery
  tries again, up to JOB_MAX_ATTEMPTS, then marks the job failed;
- a PostgreSQL advisory lock, held by a second connection while the job runs, makes a
  duplicate delivery wait and come back; that connection also reports progress, which
  the job's own transaction would otherwise hide until it commits;
- a failed job keeps its input, so its owner can retry it (`retry`).
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from config.health import is_database_unavailable
from sources.models import ImportRun, Job, JobKind, JobState, Library, Role, Source, SourceText
from sources.uploads import UploadError, read_upload

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("marginalia.jobs")

# pg_try_advisory_lock(namespace, job id): the namespace keeps clear of other applications'
# locks in a shared database.
LOCK_NAMESPACE = 0x4D41  # "MA"
PROGRESS_INTERVAL = 0.5  # seconds between progress writes


class JobError(Exception):
    """A job cannot be done for a reason its owner should read (not a bug)."""


class JobBusy(Exception):
    """Another worker holds the job's lock: this delivery must come back later, in case that
    worker is a dead one whose session PostgreSQL has not closed yet."""


# --- Starting, running, retrying --------------------------------------------------------


def runs_in_background(upload: UploadedFile | None) -> bool:
    """Is this upload large enough to be imported as a job rather than in the request?"""
    return upload is not None and (upload.size or 0) > settings.JOB_THRESHOLD_BYTES


def enqueue(
    kind: str,
    *,
    library: Library | None,
    user,
    upload: UploadedFile | None = None,
    **params: Any,
) -> Job:
    """Check and record a job, then run it (inline) or queue it (celery).

    Raises PermissionDenied when `user` may not start it, UploadError (field, status) for
    an unusable file and ValidationError (by field) for unusable options.
    """
    if kind not in JobKind.values:
        raise ValidationError({"kind": f"Unknown job kind {kind!r}."})
    check_allowed(kind, library, user)
    data = read_upload(upload) if upload is not None else b""
    upload_name = _upload_name(upload)
    checked = PREPARE[kind](library, data, upload_name, params)
    job = Job.objects.create(
        kind=kind,
        library=library,
        user=user,
        params=checked,
        upload=data,
        upload_name=upload_name,
        task_id=uuid.uuid4().hex,
    )
    dispatch(job)
    return job


def check_allowed(kind: str, library: Library | None, user) -> None:
    """Editors import, re-anchor and re-index; whoever sees a library may export it; owners
    back it up; site-wide jobs (no library) are for staff. 404 for an unseen library."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to start a job.")
    if library is None:
        if not user.is_staff:
            raise PermissionDenied("Only administrators may start site-wide jobs.")
        return
    if not Library.objects.visible_to(user).filter(pk=library.pk).exists():
        raise Http404("No such library.")
    if kind == JobKind.EXPORT:
        return
    needed = (Role.OWNER,) if kind == JobKind.BACKUP else (Role.OWNER, Role.EDITOR)
    if library.role_of(user) not in needed:
        raise PermissionDenied(f"You may not start a {JobKind(kind).label.lower()} here.")


def may_retry(job: Job, user) -> bool:
    """Who started the job, while still allowed to start it; a library's owners; staff for
    site-wide jobs."""
    if not user.is_authenticated:
        return False
    if job.library is None:
        return user.is_staff
    if job.library.role_of(user) == Role.OWNER:
        return True
    try:
        check_allowed(job.kind, job.library, user)
    except (PermissionDenied, Http404):
        return False
    return job.user_id == user.pk


def dispatch(job: Job) -> None:
    if settings.TASK_QUEUE == "inline":
        run_job(job.pk)
        job.refresh_from_db()
        return
    # The worker must find the row: send once the transaction that created it commits.
    transaction.on_commit(partial(send_to_queue, job.pk, job.task_id))


def send_to_queue(job_id: int, task_id: str) -> None:
    from config.celery import RUN_JOB, app

    try:
        app.send_task(RUN_JOB, args=[job_id], task_id=task_id)
    except Exception as error:  # the broker is down: say so on the page, allow a retry
        logger.exception("job %s could not be queued", job_id)
        Job.objects.filter(pk=job_id).update(
            state=JobState.FAILED,
            error=f"The job queue could not be reached ({error.__class__.__name__}); retry.",
            finished=timezone.now(),
        )


def retry(job: Job, user) -> Job:
    """Queue a failed (or lost) job again with its original input."""
    if not may_retry(job, user):
        raise PermissionDenied("Only the person who started this job, or an owner, may retry it.")
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if not locked.is_retryable:
            raise ValidationError(
                {"state": f"A {locked.get_state_display().lower()} job cannot be retried."}
            )
        locked.reset_for_retry(task_id=uuid.uuid4().hex)
    dispatch(locked)
    return locked


def run_job(job_id: int) -> Job | None:
    """Run one job to its end: the entry point of the Celery task and of inline runs.

    Returns the job, or None when there is nothing to do (already finished or deleted).
    Raises JobBusy while another worker runs it, and database outages, for a later retry.
    """
    side = _side_connection()
    try:
        if side is not None and not _try_lock(side, job_id):
            logger.info("job %s is locked by another worker; delivery postponed", job_id)
            raise JobBusy(job_id)
        job = claim(job_id)
        if job is not None:
            execute(job, Progress(job, side))
        return job
    finally:
        if side is not None:
            side.close()  # releases the advisory lock


def claim(job_id: int) -> Job | None:
    """Mark the job running (one more attempt), or None if it must not run."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return None
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            # Earlier attempts ended with their worker (killed, out of memory, machine lost).
            times = "once" if job.attempts == 1 else f"{job.attempts} times"
            job.mark_failed(
                f"The worker running this job stopped {times} before it finished (killed, "
                "out of memory or its machine lost); it was not tried again. Retry it, or "
                "ask an administrator."
            )
            return None
        job.mark_running()
        return job


def execute(job: Job, progress: Progress) -> None:
    """The job's function and its success in one transaction; a failure is recorded.

    Jobs that only read (exports, backups) take their own snapshot instead: their one write
    is the job's success, with its file.
    """
    writes = job.kind not in READ_ONLY_KINDS
    try:
        with transaction.atomic() if writes else nullcontext():
            result = JOB_FUNCTIONS[job.kind](job, progress)
            job.mark_succeeded(result)
    except Exception as error:
        if is_database_unavailable(error):
            raise  # nothing was written; the Celery task tries again later
        job.mark_failed(failure_message(job, error))


def failure_message(job: Job, error: Exception) -> str:
    """What the job's owner reads: the reason for their own errors, a reference for bugs."""
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(error, UploadError | JobError | PermissionDenied):
        return str(error)
    if isinstance(error, ValidationError):
        return (
            "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            if hasattr(error, "error_dict")
            else " ".join(error.messages)
        )
    if isinstance(error, ObjectDoesNotExist):
        return "Something this job works on was deleted while it waited."
    if isinstance(error, SoftTimeLimitExceeded):
        return f"The job took longer than the limit of {settings.JOB_TIME_LIMIT} seconds."
    logger.error("job %s (%s) failed", job.pk, job.kind, exc_info=error)
    return (
        "An internal error stopped the job; the administrators' log has the details "
        f"(job {job.pk})."
    )


# --- Progress ---------------------------------------------------------------------------


class Progress:
    """How far a job is, written at most every PROGRESS_INTERVAL seconds.

    In a worker the writes go through `side`, an autocommit connection of their own, so the
    page sees them while the job's transaction is still open. Run inline (inside the
    request's transaction) they go through the job's own connection.
    """

    def __init__(self, job: Job, side: BaseDatabaseWrapper | None = None) -> None:
        self.job = job
        self.side = side
        self._last_write = 0.0

    def start(self, total: int, message: str = "") -> None:
        self.job.total, self.job.done, self.job.message = total, 0, message[:500]
        self._write(monotonic())

    def advance(self, done: int, message: str | None = None) -> None:
        self.job.done = min(done, self.job.total) if self.job.total else done
        if message is not None:
            self.job.message = message[:500]
        now = monotonic()
        if now - self._last_write >= PROGRESS_INTERVAL:
            self._write(now)

    def _write(self, now: float) -> None:
        self._last_write = now
        values = {
            "done": self.job.done,
            "total": self.job.total,
            "message": self.job.message,
            "heartbeat": timezone.now(),
        }
        if self.side is None:
            Job.objects.filter(pk=self.job.pk).update(**values)
            return
        quote = self.side.ops.quote_name
        assignments = ", ".join(f"{quote(column)} = %s" for column in values)
        sql = f"UPDATE {quote(Job._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
        with self.side.cursor() as cursor:
            cursor.execute(sql, [*values.values(), self.job.pk])


def _side_connection() -> BaseDatabaseWrapper | None:
    """A second PostgreSQL connection for progress and the lock; None when the job runs
    inside a transaction already (inline), where it could wait on that transaction's locks."""
    primary = connections[router.db_for_write(Job)]
    if primary.vendor != "postgresql" or primary.in_atomic_block:
        return None
    return connections.create_connection(router.db_for_write(Job))


def _try_lock(side: BaseDatabaseWrapper, job_id: int) -> bool:
    with side.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_id & 0x7FFFFFFF])
        return bool(cursor.fetchone()[0])


# --- Checking the input (at enqueue) ------------------------------------------------------


def _upload_name(upload: UploadedFile | None) -> str:
    from sources.importers import safe_file_name

    return safe_file_name(upload.name or "") if upload is not None else ""


def _prepare_metadata_import(library, data: bytes, name: str, params: dict) -> dict:
    from sources.metadata_import import checked_format, detect_format

    if not data:
        raise UploadError("Choose a file to upload.")
    fmt = params.get("format") or ""
    return {"format": checked_format(fmt) if fmt else detect_format(data, name)}


def _prepare_text_import(library, data: bytes, name: str, params: dict) -> dict:
    from sources.importers import NOTE_MAX, lookup_encoding, media_type_for

    if not data:
        raise UploadError("Choose a file to upload.")
    source = params.get("source")
    if not isinstance(source, Source) or source.library_id != library.pk:
        raise ValidationError({"source": "Choose a source of this library."})
    media_type_for(name)
    encoding = (params.get("encoding") or "").strip()
    note = (params.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        raise UploadError(
            f"The note is {len(note)} characters; keep it under {NOTE_MAX}.", field="note"
        )
    return {
        "source": source.pk,
        "encoding": lookup_encoding(encoding) if encoding else "",
        "note": note,
    }


def _prepare_reanchor(library, data: bytes, name: str, params: dict) -> dict:
    text = params.get("text")
    if not isinstance(text, SourceText) or text.source.library_id != library.pk:
        raise ValidationError({"text": "Choose a text revision of a source in this library."})
    return {"text": text.pk}


def _prepare_export(library, data: bytes, name: str, params: dict) -> dict:
    from sources import citations, exports

    fmt = params.get("format") or ""
    if fmt not in exports.CONTENT_TYPES:
        raise ValidationError({"format": f"Choose one of {', '.join(exports.CONTENT_TYPES)}."})
    content = params.get("content") or "bibliography"
    if content not in exports.CONTENTS:
        raise ValidationError({"content": f"Choose one of {', '.join(exports.CONTENTS)}."})
    style = params.get("style") or citations.DEFAULT_STYLE
    if fmt in exports.FORMATTED and style not in citations.available_styles():
        raise ValidationError({"style": f"Unknown citation style {style!r}."})
    ids = params.get("sources")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
        raise ValidationError({"sources": "Give a list of source ids."})
    return {
        "format": fmt,
        "content": content,
        "style": style,
        "locale": params.get("locale") or citations.DEFAULT_LOCALE,
        "title": str(params.get("title") or "Bibliography")[:200],
        "name": str(params.get("name") or (library.name if library else "marginalia"))[:200],
        "sources": ids,
    }


def _prepare_reindex(library, data: bytes, name: str, params: dict) -> dict:
    if _search_rebuild() is None:
        raise ValidationError({"kind": "Search re-indexing is not available in this installation."})
    return {}


def _prepare_backup(library, data: bytes, name: str, params: dict) -> dict:
    if library is None:
        raise ValidationError({"library": "Choose the library to back up."})
    return {}


PREPARE: dict[str, Callable[[Library | None, bytes, str, dict], dict]] = {
    JobKind.IMPORT_METADATA: _prepare_metadata_import,
    JobKind.IMPORT_TEXT: _prepare_text_import,
    JobKind.REANCHOR: _prepare_reanchor,
    JobKind.EXPORT: _prepare_export,
    JobKind.REINDEX: _prepare_reindex,
    JobKind.BACKUP: _prepare_backup,
}


# --- The jobs ---------------------------------------------------------------------------


def _editor(job: Job):
    """The job's user, if they may still change its library (roles change while jobs wait)."""
    if job.user is None or job.library is None or not job.library.can_edit(job.user):
        raise PermissionDenied("The person who started this job may no longer change the library.")
    return job.user


def import_metadata_job(job: Job, progress: Progress) -> dict:
    """`metadata_import.import_metadata`, record by record with progress: every record in a
    savepoint of the job's transaction, the ImportRun with one outcome line per record."""
    from sources.metadata_import import Catalogue, import_record, parse_records

    user, library = _editor(job), job.library
    fmt = job.params["format"]
    records = parse_records(bytes(job.upload), fmt)
    progress.start(len(records), f"Importing {len(records)} records from {job.upload_name}")
    outcomes, catalogue = [], Catalogue(library)
    for index, record in enumerate(records):
        outcomes.append(import_record(library, record, index=index, user=user, catalogue=catalogue))
        progress.advance(index + 1)
    run = ImportRun.objects.create(
        library=library, user=user, file_name=job.upload_name, format=fmt, outcomes=outcomes
    )
    return {
        "import_run": run.pk,
        "counts": run.counts(),
        "url": reverse("import-detail", args=[run.pk]),
    }


def import_text_job(job: Job, progress: Progress) -> dict:
    """`importers.import_text_revision`: the new revision, its annotations carried over."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sources.importers import import_text_revision

    user = _editor(job)
    source = Source.objects.select_related("library").get(
        pk=job.params["source"], library=job.library
    )
    progress.start(1, f"Reading {job.upload_name} and carrying the annotations over")
    upload = SimpleUploadedFile(job.upload_name, bytes(job.upload))
    text = import_text_revision(
        source, upload, user=user, encoding=job.params["encoding"] or None, note=job.params["note"]
    )
    progress.advance(1)
    return {
        "source": source.pk,
        "text": text.pk,
        "revision": text.revision,
        "url": f"{source.get_absolute_url()}?revision={text.revision}",
    }


def reanchor_job(job: Job, progress: Progress) -> dict:
    """Carry a source's annotations over to one of its revisions again (after an anchoring
    improvement, or for a revision added without it); orphans get another chance."""
    from annotations.reanchoring import carry_over

    _editor(job)
    text = SourceText.objects.select_related("source").get(
        pk=job.params["text"], source__library=job.library
    )
    progress.start(1, f"Re-anchoring annotations on revision {text.revision}")
    counts = carry_over(text)
    progress.advance(1)
    return {
        "text": text.pk,
        "revision": text.revision,
        "counts": counts,
        "url": f"{text.source.get_absolute_url()}?revision={text.revision}",
    }


def export_job(job: Job, progress: Progress) -> dict:
    """A whole library's (or a selection's) export file, kept on the job for download."""
    from sources import csl, exports

    params = job.params
    if job.user is None:
        raise PermissionDenied("The person who started this export no longer exists.")
    sources = Source.objects.visible_to(job.user).filter(library=job.library)
    if params["sources"] is not None:
        sources = sources.filter(pk__in=params["sources"])
    total = sources.count()
    progress.start(total + 1, f"Collecting {total} sources")
    items = []
    for number, source in enumerate(sources.prefetch_related("creators").iterator(500), 1):
        items.append(csl.source_to_csl(source))
        progress.advance(number)
    progress.advance(total, "Formatting the export")
    options = {key: params[key] for key in ("style", "locale", "content", "title")}
    try:
        text = exports.export_items(items, params["format"], **options)
    except ValueError as error:
        raise JobError(str(error)) from error
    job.set_output(
        text.encode("utf-8"),
        name=exports.export_filename(params["name"], params["format"]),
        content_type=exports.CONTENT_TYPES[params["format"]],
    )
    return {"count": len(items), "format": params["format"], "bytes": len(job.output)}


def reindex_job(job: Job, progress: Progress) -> dict:
    """Rebuild the search index of a library (of every library for a site-wide job) with
    `annotations.search_index.rebuild`, in the job's transaction: searches keep seeing the
    old index until the new one is complete."""
    rebuild = _search_rebuild()
    if rebuild is None:
        raise JobError("Search re-indexing is not available in this installation.")
    if job.library is not None:
        _editor(job)
    progress.start(0, "Re-indexing sources, annotations and claims")
    libraries = None if job.library is None else [job.library]
    entries = rebuild(libraries, progress=partial(_relay, progress))
    return {"entries": entries}


def _relay(progress: Progress, done: int, total: int) -> None:
    progress.job.total = total
    progress.advance(done)


def _search_rebuild() -> Callable[..., int] | None:
    try:
        from annotations.search_index import rebuild
    except ImportError:  # an installation without the search app
        return None
    return rebuild


def backup_job(job: Job, progress: Progress) -> dict:
    """The whole library as a `sources.backup` archive (ZIP, checksummed, restorable with
    `manage.py restore_library`), taken in one snapshot and kept on the job for download."""
    from sources import backup

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


READ_ONLY_KINDS = frozenset({JobKind.EXPORT, JobKind.BACKUP})
JOB_FUNCTIONS: dict[str, Callable[[Job, Progress], dict]] = {
    JobKind.IMPORT_METADATA: import_metadata_job,
    JobKind.IMPORT_TEXT: import_text_job,
    JobKind.REANCHOR: reanchor_job,
    JobKind.EXPORT: export_job,
    JobKind.REINDEX: reindex_job,
    JobKind.BACKUP: backup_job,
}


# --- Reading jobs -----------------------------------------------------------------------


def get_job_for_user(user, pk: int) -> Job:
    """A job the user may see (404 otherwise), without its stored files."""
    job = (
        Job.objects.visible_to(user)
        .select_related("library", "user")
        .defer("upload", "output")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        raise Http404("No such job.")
    return job


def job_status(job: Job) -> dict[str, Any]:
    """The JSON the job page polls (`/jobs/<id>.json`)."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "kind_label": job.get_kind_display(),
        "state": job.state,
        "state_label": job.get_state_display(),
        "finished": job.is_finished,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "error": job.error,
        "result": job.result,
        "attempts": job.attempts,
        "retryable": job.is_retryable,
        "created": job.created.isoformat(),
        "started": job.started.isoformat() if job.started else None,
        "ended": job.finished.isoformat() if job.finished else None,
        "url": job.get_absolute_url(),
        "download_url": reverse("job-download", args=[job.pk]) if job.output_name else None,
    }
