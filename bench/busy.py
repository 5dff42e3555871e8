"""Background load for a benchmark: the load test's annotation writers, or OCR jobs, kept running.

    .venv/bin/python bench/busy.py [--connections 3] [--jobs 0] [--duration 900]

What a busy server does besides the request being measured: `bench/load.py`'s write scenario
(POST /api/annotations/ with a comment and a tag, each write indexed for search) through
gunicorn in the production configuration against PostgreSQL, on its own database
(`marginalia_load`, made by `bench/load.py` the first time), from wrk with `--connections`
connections kept busy for `--duration` seconds. Each connection keeps one write in flight,
which alternates between a gunicorn thread and a PostgreSQL backend: on 2 cores three
connections hold the load average near 4 (it prints the load average every 10 s; the 1-minute
figure needs a minute to settle). `bench/search.py --busy N` starts it, waits for the load
to settle and stops it after its runs; it can also run on its own beside anything else.
Everything goes to 127.0.0.1; it stops by itself after `--duration`. How many writers make
a load of 4 differs from host to host and hour to hour (eight gave 4.1 on one, 3.4 on the
next, twelve 4.4): `--load 4` starts with `--connections` and adds two more, at most every
30 s, while the load they made in the last 30 s (what the load average counts, read from
/proc/stat) was below 3.8.

`--jobs N` adds the server's own background work instead of (with `--connections 0`) or
beside the writers: a real Celery worker (`celery -A config.celery worker`, as `make worker`
starts it, `--concurrency N`, Redis at 127.0.0.1:6379 database 12) kept busy with OCR jobs,
each reading a typed three-page English scan (`bench/ocr.py`'s pages) into a new revision
of one source; N + 1 jobs are kept queued or running. The worker runs them at its
configured priority (JOB_NICENESS, 10 unless the environment says otherwise; 0 for the
worker's own priority, as before that setting), in a session of its own as a service of its
own would be, or with `--shared-session` in this one, as in one container or one terminal:
where the kernel schedules by session (autogroup, on by default in Debian's kernels), only
then do the worker and the process measured compete process by process.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import load  # noqa: E402

JOBS_BROKER = "redis://127.0.0.1:6379/12"
# --load: writers are added RAMP_STEP at a time, at most every RAMP_SECONDS, while the load
# they make is below the target by more than RAMP_MARGIN. The load is read as what the load
# average counts, right now: processes running or waiting to run and those waiting on the
# disk (/proc/stat's procs_running and procs_blocked, less this reader), averaged over
# RAMP_SECONDS. The 1-minute load average itself lags by minutes, and a ramp led by it
# overshoots.
RAMP_STEP, RAMP_SECONDS, RAMP_MARGIN = 2, 30, 0.2


def counted_by_load() -> int:
    """Processes running, waiting for a processor or waiting on the disk now, this one aside."""
    with open("/proc/stat") as stat:
        found = dict(line.split()[:2] for line in stat if line.startswith("procs_"))
    return int(found["procs_running"]) + int(found["procs_blocked"]) - 1


def prepare(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """The load test's database, migrated and seeded, and the server's environment."""
    env = load.server_env(args)
    if args.jobs:
        queue = f"marginalia-busy-{os.getpid()}"
        env |= {"TASK_QUEUE": "celery", "CELERY_BROKER_URL": JOBS_BROKER, "JOB_QUEUE_NAME": queue}
    load.ensure_database(args.database_url, fresh=False)
    for command in (["migrate"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "-v0"], cwd=BASE_DIR, env=env, check=True
        )
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "SECRET_KEY", "STATIC_ROOT",
                 "TASK_QUEUE", "CELERY_BROKER_URL", "JOB_QUEUE_NAME"):  # fmt: skip
        if name in env:
            os.environ[name] = env[name]
    import django

    django.setup()
    ids = load.seed(sources=200, per_text=100, text_chars=8000)
    from django.db import connections

    connections.close_all()  # gunicorn's workers open their own
    return env, ids


def writers_script(ids: dict) -> str:
    """The write scenario of `bench/load.py`, as wrk runs it."""
    for name, _path, script in load.scenarios(ids, None):
        if name.startswith("annotation write"):
            return script
    raise RuntimeError("bench/load.py has no write scenario")


class OcrJobs:
    """OCR jobs kept coming for a real Celery worker of `concurrency` processes."""

    def __init__(self, env: dict[str, str], concurrency: int, shared_session: bool) -> None:
        from django.contrib.auth import get_user_model

        from bench.ocr import page_texts, scan
        from sources.models import Library, Source

        self.user = get_user_model().objects.get(username=load.USERNAME)
        self.library = Library.objects.get(name=load.LIBRARY_NAME)
        self.source, _ = Source.objects.get_or_create(
            library=self.library, title="A scan read again and again (bench/busy.py)"
        )
        self.scan = scan(page_texts("English", 3))
        self.concurrency = concurrency
        command = [sys.executable, "-m", "celery", "-A", "config.celery", "worker",
                   "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "WARNING",
                   "--without-mingle", "--without-gossip", "-Q", env["JOB_QUEUE_NAME"],
                   "-n", f"busy-{os.getpid()}@%h"]  # fmt: skip
        # A session of its own, as a service of its own has: Linux's autogroup scheduling
        # then shares the processor between sessions before processes. --shared-session
        # keeps it in this one (a process group of its own, to stop it whole).
        session = {"process_group": 0} if shared_session else {"start_new_session": True}
        self.worker = subprocess.Popen(command, cwd=BASE_DIR, env=env, **session)
        self.done = 0
        self.enqueued: list[int] = []

    def top_up(self) -> None:
        """Enqueue jobs until `concurrency` + 1 of those enqueued here are queued or running
        (an earlier run's unfinished jobs, their queue gone, are not counted)."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from jobs import queue
        from jobs.models import Job, JobState

        mine = Job.objects.filter(pk__in=self.enqueued)
        waiting = mine.filter(state__in=[JobState.QUEUED, JobState.RUNNING]).count()
        self.done = mine.filter(state=JobState.SUCCEEDED).count()
        for _ in range(self.concurrency + 1 - waiting):
            upload = SimpleUploadedFile("scan.pdf", self.scan, content_type="application/pdf")
            job = queue.enqueue("ocr", library=self.library, user=self.user, upload=upload,
                                source=self.source, languages=["eng"], note="")  # fmt: skip
            self.enqueued.append(job.pk)

    def stop(self) -> None:
        os.killpg(self.worker.pid, signal.SIGTERM)
        try:
            self.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
        import redis

        redis.Redis.from_url(JOBS_BROKER).delete(os.environ["JOB_QUEUE_NAME"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/marginalia_load"
    )
    parser.add_argument("--connections", type=int, default=3, help="writes kept in flight")
    parser.add_argument("--jobs", type=int, default=0, help="OCR jobs running at once")
    parser.add_argument("--shared-session", action="store_true",
                        help="the jobs' worker in this session, not one of its own")  # fmt: skip
    parser.add_argument("--load", type=float, default=0,
                        help="add writers until the load average is this")  # fmt: skip
    parser.add_argument("--duration", type=int, default=900, help="seconds")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # What `bench.load.server_env` reads besides these: the production gunicorn defaults.
    args.workers, args.threads, args.access_log = os.cpu_count() or 1, 2, False
    args.port = args.port or load.free_port()
    stop = False

    def finish(*_: object) -> None:
        nonlocal stop
        stop = True

    # Before the server starts: a stop asked for while it starts must still stop it.
    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    env, ids = prepare(args)
    log = Path(tempfile.mkdtemp()) / "gunicorn.log"
    server = load.start_server(env, log, args.port) if args.connections else None
    jobs = OcrJobs(env, args.jobs, args.shared_session) if args.jobs else None
    writers: list[subprocess.Popen] = []
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(writers_script(ids))

    def add_writers(connections: int) -> None:
        command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{args.duration}s",
                   "--timeout", "10s", "-s", lua.name,
                   f"http://127.0.0.1:{args.port}/api/annotations/"]  # fmt: skip
        writers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))

    try:
        if server is not None:
            add_writers(args.connections)
        database = urlparse(args.database_url).path.lstrip("/")
        print(f"busy: {args.connections} writers, {args.jobs} OCR jobs at once on {database} "
              f"for {args.duration} s", flush=True)  # fmt: skip
        ends = time.monotonic() + args.duration
        last = added = time.monotonic()
        connections = args.connections
        recent: deque[int] = deque(maxlen=RAMP_SECONDS // 2)  # one sample every 2 s
        while not stop and time.monotonic() < ends and all(w.poll() is None for w in writers):
            if jobs is not None:
                jobs.top_up()
            time.sleep(2)
            now = time.monotonic()
            if args.load and server is not None:
                recent.append(counted_by_load())
                steady = sum(recent) / len(recent)
                ready = now - added >= RAMP_SECONDS and len(recent) == recent.maxlen
                if ready and steady < args.load - RAMP_MARGIN:
                    add_writers(RAMP_STEP)
                    connections += RAMP_STEP
                    added = now
                    recent.clear()
                    print(f"busy: {connections} writers now (load {steady:.1f})", flush=True)
            if now - last >= 10:
                last = now
                loads = ", ".join(f"{v:.2f}" for v in os.getloadavg())
                done = f"; {jobs.done} OCR jobs done" if jobs is not None else ""
                print(f"busy: load average {loads}{done}", flush=True)
    finally:
        for writer in writers:
            writer.terminate()
            writer.wait(timeout=30)
        if jobs is not None:
            jobs.stop()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        os.unlink(lua.name)


if __name__ == "__main__":
    main()
