"""Background work yields to requests: a Celery worker and its pool processes run jobs at
JOB_NICENESS (jobs/priority.py), a real worker started as `make worker` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.config.test_serving import BASE_DIR, production_env
from tests.jobs.test_faults import broker, pool_children, start_worker, wait_for  # noqa: F401


def niceness(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def lowered(tmp_path, wanted: str, started_at: int = 0) -> int:
    """The niceness `yield_to_requests` leaves a process started at `started_at` with."""
    code = (
        "import django; django.setup()\n"
        "from jobs.priority import yield_to_requests\n"
        "print(yield_to_requests())\n"
    )
    env = production_env(tmp_path, JOB_NICENESS=wanted)
    command = ["nice", "-n", str(started_at), sys.executable, "-c", code]
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_a_worker_process_lowers_its_priority_and_never_raises_it(tmp_path):
    base = niceness(0)  # the test run's own (`nice -n` adds to it)
    assert lowered(tmp_path, "10") == max(10, base)
    assert lowered(tmp_path, "3") == max(3, base)
    assert lowered(tmp_path, "0") == base  # 0: the priority it was started with
    assert lowered(tmp_path, "10", started_at=15) == min(base + 15, 19)  # kept lower


def test_a_real_worker_runs_its_pool_at_the_configured_niceness(broker, tmp_path):  # noqa: F811
    env = production_env(tmp_path, JOB_NICENESS="7") | broker
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        children = wait_for(lambda: pool_children(worker), 30, "the pool's processes")
        wanted = max(7, niceness(0))
        assert niceness(worker.pid) == wanted
        assert [niceness(pid) for pid in children] == [wanted] * len(children)
        # A pool process that replaces a dead one inherits it too.
        os.kill(children[0], signal.SIGKILL)
        replaced = wait_for(
            lambda: [p for p in pool_children(worker) if p not in children], 60, "a new process"
        )
        assert [niceness(pid) for pid in replaced] == [wanted] * len(replaced)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def test_requests_keep_their_priority(client, db):
    """Only workers lower themselves: importing the Celery application (as the web server
    does to queue a job) leaves the process as it was."""
    before = niceness(0)
    import config.celery  # noqa: F401

    assert client.get("/health/").status_code == 200
    assert niceness(0) == before
