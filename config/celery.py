"""The Celery application: `celery -A config.celery worker` (`make worker`).

Used only when TASK_QUEUE=celery. This module only builds the application: its one task,
`marginalia.run_job`, is `jobs.tasks` (found among the installed apps' `tasks` modules), and
`jobs.queue` sends to the application that the JOBS_CELERY_APP setting names (this one). The
settings prefixed CELERY_ in config/settings.py configure it: late acknowledgement and
rejection on worker loss, so that a job whose worker dies is delivered again to another
worker. Before a worker starts its pool, it lowers its CPU priority to JOB_NICENESS
(`jobs.priority`), and the processes that run jobs inherit it: background work yields to
requests.
"""

from __future__ import annotations

import os

from celery import Celery, signals

from jobs.priority import yield_to_requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("marginalia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
signals.worker_init.connect(yield_to_requests)
