"""The one Celery task: run a job (`jobs.runner.run_job`) by its id.

The Celery application is built in `config/celery.py` (`celery -A config.celery worker`),
which finds this module among the apps' `tasks`. The Job row, not Celery's result backend,
holds each job's state, progress and result.
"""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from jobs.queue import RUN_JOB
from jobs.runner import JobBusy, run_job

BUSY_RETRY_SECONDS = 15


@shared_task(
    name=RUN_JOB,
    bind=True,
    # `run_job` records every failure of the job itself on the Job row; what reaches here
    # is the database going away mid-job, which is worth trying again a little later.
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def run_job_task(self, job_id: int) -> None:
    try:
        run_job(job_id)
    except JobBusy as busy:
        # Another worker holds the job (or did, until PostgreSQL notices it died): look
        # again later. Bounded, since a lock lives only as long as its worker's session.
        raise self.retry(exc=busy, countdown=BUSY_RETRY_SECONDS, max_retries=None) from busy
