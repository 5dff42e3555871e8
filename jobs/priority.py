"""Background work yields the processor to readers: a Celery worker lowers its own CPU
priority (its `nice` value) to JOB_NICENESS before it starts running jobs, and every process it
forks (its pool, Tesseract, pandoc) inherits it.

On a small server the heavy work is the background's: OCR keeps a core busy for minutes,
an import or a bibliography for seconds. Where the worker and the web server share a
scheduling group (one container, one session, a kernel that does not group by session),
four OCR processes at the same priority get four shares of the processor to a request's
one; at niceness 10 each weighs about a tenth of a request, and still gets all of the
processor when nobody reads. Measured: search p95 at load 4 beside four OCR jobs in the same
session, all ten benchmark queries, 46.4 ms at the same priority and 30.8 ms at niceness 10
(bench/README.md, search, "Session 12"). A worker in a session or cgroup of its own (a
systemd service of its own) is already kept to its group's share by the kernel.

Only lowered, never raised: raising needs privileges a worker should not have, and a worker
started under `nice -n 15` (or systemd's `Nice=`) keeps what it was given. PostgreSQL's
backends keep their own priority: a job's queries are a small part of its time.
"""

from __future__ import annotations

import os

from django.conf import settings


def yield_to_requests(**_signal: object) -> int:
    """Lower this process's priority to JOB_NICENESS if it is higher; its niceness after.

    A Celery signal handler (`config/celery.py`: `worker_init`, in the worker's main thread
    before its pool starts; the pool's processes, and those that replace them, inherit it)."""
    wanted = settings.JOB_NICENESS
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if wanted > current:
        os.setpriority(os.PRIO_PROCESS, 0, wanted)  # 0–19, checked by the settings
    return os.getpriority(os.PRIO_PROCESS, 0)
