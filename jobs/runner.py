"""Running a job to its end, whoever runs it (a Celery worker, or the request when
TASK_QUEUE=inline): its function and its success in one transaction, its progress, its lock.

Guarantees:
- a job's writes and its "succeeded" state commit in one transaction: a failed job, or a
  worker killed mid-job, leaves nothing half-written, and a job is never done twice;
- a worker lost mid-job gets its message back (late acknowledgement); the next delivery
  tries again, up to JOB_MAX_ATTEMPTS, then marks the job failed;
- a PostgreSQL advisory lock, held by a second connection while the job runs, makes a
  duplicate delivery wait and come back; that connection also reports progress, which
  the job's own transaction would otherwise hide until it commits.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from time import monotonic
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.utils import timezone

from core.db import is_database_unavailable
from core.uploads import UploadError
from jobs import registry
from jobs.models import Job, JobState

if TYPE_CHECKING:
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
    try:
        kind = registry.get(job.kind)
        with transaction.atomic() if kind.writes else nullcontext():
            result = kind.run(job, progress)
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

    def relay(self, done: int, total: int) -> None:
        """`advance` for work that reports (done, total) as it goes."""
        self.job.total = total
        self.advance(done)

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
