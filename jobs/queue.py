"""Background jobs: long work (large imports, re-anchoring, big exports, search re-indexing,
library backups) as plain functions that a task queue runs.

A view calls `enqueue(kind, library=…, user=…, upload=…, **params)`: the input is checked at
once by the kind's `prepare` (a bad file or option is the user's error, named by field,
before anything is queued), stored on a `Job` row with the uploaded bytes, and run either in
the request (TASK_QUEUE=inline: development and tests) or by a Celery worker on any machine
(TASK_QUEUE=celery; `jobs.tasks`). The page `/jobs/<id>/` shows its progress, result or
error; `jobs.runner` says what is guaranteed however it runs. A failed job keeps its input,
so its owner can retry it (`retry`).

Who sees a job: whoever started it, the owners of its library, staff for site-wide jobs
(`Job.objects.visible_to`; 404 for anyone else). Who downloads its file: only whoever
started it, and only while they may still start that kind of job there (`may_download`;
403 for the others who see the job), since the file was made with the starter's view
(an export) or holds everything (a backup).

The kinds of work are registered by the packages that enqueue them (`jobs.registry`):
jobs imports none of them.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from core.uploads import read_upload, safe_file_name
from jobs import registry
from jobs.models import Job, JobState
from jobs.runner import run_job

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger("marginalia.jobs")

RUN_JOB = "marginalia.run_job"  # the Celery task's name (`jobs.tasks`)


def runs_in_background(upload: UploadedFile | None) -> bool:
    """Is this upload large enough to be imported as a job rather than in the request?"""
    return upload is not None and (upload.size or 0) > settings.JOB_THRESHOLD_BYTES


def enqueue(
    kind: str,
    *,
    library: Any | None,
    user: Any,
    upload: UploadedFile | None = None,
    **params: Any,
) -> Job:
    """Check and record a job, then run it (inline) or queue it (celery).

    Raises PermissionDenied when `user` may not start it, Http404 for a library they cannot
    see, UploadError (field, status) for an unusable file and ValidationError (by field) for
    unusable options.
    """
    work = registry.get(kind)
    check_allowed(work, library, user)
    data = read_upload(upload) if upload is not None else b""
    upload_name = safe_file_name(upload.name or "") if upload is not None else ""
    checked = work.prepare(library, data, upload_name, params)
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


def check_allowed(work: registry.Kind, library: Any | None, user: Any) -> None:
    """Signed-in users only; site-wide jobs (no library) are for staff; in a library, the
    kind's own rule (`Kind.may_start`)."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to start a job.")
    if library is None:
        if not user.is_staff:
            raise PermissionDenied("Only administrators may start site-wide jobs.")
        return
    work.may_start(library, user)


def may_retry(job: Job, user: Any) -> bool:
    """Who started the job, while still allowed to start it; whoever the kind lets manage
    the library's jobs (its owners); staff for site-wide jobs."""
    if not user.is_authenticated:
        return False
    if job.library is None:
        return user.is_staff
    try:
        work = registry.get(job.kind)
    except ValidationError:
        return False
    if work.may_manage(job.library, user):
        return True
    try:
        check_allowed(work, job.library, user)
    except (PermissionDenied, Http404):
        return False
    return job.user_id == user.pk


def may_download(job: Job, user: Any) -> bool:
    """Only who started the job, while still allowed to start its kind there: the file
    holds what they could see (their private notes) or everything (a backup)."""
    if not user.is_authenticated or job.user_id != user.pk:
        return False
    try:
        check_allowed(registry.get(job.kind), job.library, user)
    except (PermissionDenied, Http404, ValidationError):
        return False
    return True


def output_of(job: Job, user: Any) -> bytes | None:
    """The job's file for `user` (None when it has none); PermissionDenied for anyone but
    whoever may download it (`may_download`)."""
    if not may_download(job, user):
        raise PermissionDenied("Only the person who started this job may download its file.")
    data = Job.objects.filter(pk=job.pk).values_list("output", flat=True).first()
    return bytes(data) if job.output_name and data else None


def dispatch(job: Job) -> None:
    if settings.TASK_QUEUE == "inline":
        run_job(job.pk)
        job.refresh_from_db()
        return
    # The worker must find the row: send once the transaction that created it commits.
    transaction.on_commit(partial(send_to_queue, job.pk, job.task_id))


def send_to_queue(job_id: int, task_id: str) -> None:
    """Give the job to the Celery application that settings name (JOBS_CELERY_APP)."""
    try:
        app = import_string(settings.JOBS_CELERY_APP)
        app.send_task(RUN_JOB, args=[job_id], task_id=task_id)
    except Exception as error:  # the broker is down: say so on the page, allow a retry
        logger.exception("job %s could not be queued", job_id)
        Job.objects.filter(pk=job_id).update(
            state=JobState.FAILED,
            error=f"The job queue could not be reached ({error.__class__.__name__}); retry.",
            finished=timezone.now(),
        )


def retry(job: Job, user: Any) -> Job:
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


def get_job_for_user(user: Any, pk: int) -> Job:
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


def job_status(job: Job, user: Any) -> dict[str, Any]:
    """The JSON the job page polls (`/jobs/<id>.json`), as `user` may see it."""
    downloadable = bool(job.output_name) and may_download(job, user)
    return {
        "id": job.pk,
        "kind": job.kind,
        "kind_label": job.kind_label,
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
        "download_url": reverse("job-download", args=[job.pk]) if downloadable else None,
    }
