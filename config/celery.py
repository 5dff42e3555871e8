"""The Celery application: `celery -A config.celery worker` (`make worker`).

Used only when TASK_QUEUE=celery. There is one task, `marginalia.run_job`: the work itself
is the plain functions of `sources/jobs.py`, and the Job row, not Celery's result backend,
holds each job's state, progress and result. The settings prefixed CELERY_ in
config/settings.py configure it: late acknowledgement and rejection on worker loss, so that
a job whose worker dies is delivered again to another worker.
"""

from __future__ import annotations

import os

from celery import Celery
from django.db import DatabaseError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("marginalia")
app.config_from_object("django.conf:settings", namespace="CELERY")

RUN_JOB = "marginalia.run_job"
BUSY_RETRY_SECONDS = 15


@app.task(
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
    from sources.jobs import JobBusy, run_job

    try:
        run_job(job_id)
    except JobBusy as busy:
        # Another worker holds the job (or did, until PostgreSQL notices it died): look
        # again later. Bounded, since a lock lives only as long as its worker's session.
        raise self.retry(exc=busy, countdown=BUSY_RETRY_SECONDS, max_retries=None) from busy
