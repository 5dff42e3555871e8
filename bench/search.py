"""Benchmark: ten representative searches through /api/search/, next to their SQL time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marginalia_bench \\
        .venv/bin/python bench/search.py [--runs 40] [--busy 3]

Run `bench/search_corpus.py` first. Each query goes through the real stack in-process
(Django's test client: URL routing, session authentication as the user `historian`, DRF,
the search, JSON rendering), `--runs` times after two warm-up runs. For every request
the time spent inside the database (every statement the search issued, measured with
`connection.execute_wrapper`) is recorded too: "SQL" is that part of "API", and "API/SQL"
their ratio at the median. So is the CPU each request cost: this process's (`CPU`, median)
and its PostgreSQL backend's (`PG CPU`, mean; from /proc, in clock ticks, so only the mean
over the runs means anything), which a busy machine does not inflate the way it inflates
wall times. Prints p50/p95/p99 per query, the count as the API gives it ("about N" when
estimated), the machine it ran on and the load average: before, after, and sampled every
second during the runs; and the host's speed before and after, as the CPU time of a fixed
Python loop (this VM's host drifts by up to 1.7x, and a busy sibling hyperthread slows it).

As gunicorn's workers do after the fork (`config/gunicorn.conf.py`), the objects made while
starting up (the app, the warm-up's caches) are frozen out of the garbage collector's full
collections before the runs (`--no-gc-freeze` leaves them in).

`--busy N` measures beside a busy server: it starts `bench/busy.py` (the load test's
annotation writers, N connections, through gunicorn on the `marginalia_load` database),
waits `--settle` seconds for the load average to rise, runs, then stops it (`--load 4`: it adds
writers until the load average is 4; give it a `--settle` of several minutes). `--jobs N`
(with or without `--busy`) adds N OCR jobs at once, run by a real Celery worker at its
configured priority (`bench/busy.py --jobs`; JOB_NICENESS=0 in the environment runs them at
the benchmark's own), in a session of its own unless `--shared-session`.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

QUERIES = [
    ("frequent word, relevance", {"q": "soviet"}),
    ("two frequent words, relevance", {"q": "treaty delegation"}),
    ("phrase", {"q": '"mutual security"'}),
    ("prefix", {"q": "negotiat*"}),
    ("Russian word (stemmed)", {"q": "Сталина"}),
    ("Chinese substring", {"q": "毛泽东"}),
    (
        "example: face, primary, 1950",
        {
            "q": "treaty",
            "tag": "theme:face",
            "source_kind": "primary",
            "from": "1950",
            "to": "1950",
        },
    ),
    ("namespace person:*, newest", {"tag": "person:*", "sort": "-date"}),
    (
        "claims: OR, exclusion, status",
        {"q": "stalin OR mao -korea", "in": "claim", "status": "disputed"},
    ),
    ("browse all, oldest first", {"sort": "date"}),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]


def load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def host_speed() -> float:
    """Seconds a pure-Python loop of 10 million additions takes: this VM's host drifts (0.65
    to 1.2 s within an hour, nothing else running), and every figure with it."""
    started, total = time.process_time(), 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - started


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
        memory = f", {total} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}"


def database() -> str:
    """The server's version and its cache (shared_buffers: a server setting, 128 MB by
    default, a quarter of the RAM on a production server)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        return f"PostgreSQL {version}, shared_buffers {cursor.fetchone()[0]}"


class LoadSampler:
    """The 1-minute load average, read every second while the runs go on."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        if not self.samples:
            return "not sampled"
        low, high = min(self.samples), max(self.samples)
        return f"{statistics.fmean(self.samples):.1f} on average ({low:.1f}–{high:.1f})"


def backend_cpu_seconds(pid: int) -> float:
    """CPU seconds a local process (the PostgreSQL backend) has used, from /proc; 0 when it
    is not local."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    utime, stime = (int(v) for v in stat[stat.rindex(")") + 2 :].split()[11:13])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def start_busy(args: argparse.Namespace) -> subprocess.Popen:
    """`bench/busy.py` with `--busy` connections and `--jobs` OCR jobs at once, once the load
    average has had `--settle` seconds to rise."""
    shared = ["--shared-session"] if args.shared_session else []
    busy = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "busy.py"), "--connections", str(args.busy),
         "--jobs", str(args.jobs), *shared, "--load", str(args.load), "--duration", "3600"],
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        if busy.poll() is not None:
            raise SystemExit("bench/busy.py stopped; see its output above")
        time.sleep(1)
    return busy


def beside(args: argparse.Namespace) -> str:
    parts = [f"{args.busy} busy writers"] if args.busy else []
    if args.busy and args.load:
        parts = [f"{args.busy} busy writers and more added to reach load {args.load:g}"]
    if args.jobs:
        from django.conf import settings

        niceness = settings.JOB_NICENESS  # what the worker reads too: the same environment
        session = "this session" if args.shared_session else "a session of its own"
        parts.append(f"{args.jobs} OCR jobs at once (worker niceness {niceness}, in {session})")
    return ("; beside " + " and ".join(parts)) if parts else ""


def measure(client, params: dict, runs: int, sql_time: list[float], backend: int) -> tuple:
    """(count, API ms, SQL ms, CPU ms, PostgreSQL CPU ms per request) over `runs`."""
    api, sql, cpu, count = [], [], [], 0
    for run in range(runs + 2):
        if run == 2:
            database_before = backend_cpu_seconds(backend)
        sql_time[0] = 0.0
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get("/api/search/", params)
        elapsed, spent = time.perf_counter() - started, time.process_time() - started_cpu
        assert response.status_code == 200, response.content[:300]
        if run >= 2:
            api.append(elapsed * 1000)
            sql.append(sql_time[0] * 1000)
            cpu.append(spent * 1000)
        body = response.json()
        count = body["count"] if body["count_exact"] else f"about {body['count']:,}"
    database = (backend_cpu_seconds(backend) - database_before) * 1000 / runs
    return count, api, sql, cpu, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--only", help="run only the queries whose label contains this")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="beside bench/busy.py with N writers")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=0, metavar="N",
                        help="beside N OCR jobs run by a Celery worker")  # fmt: skip
    parser.add_argument("--shared-session", action="store_true",
                        help="the jobs' worker in this session (bench/busy.py)")  # fmt: skip
    parser.add_argument("--load", type=float, default=0,
                        help="with --busy: add writers until the load average is this")  # fmt: skip
    parser.add_argument("--settle", type=int, default=90, help="seconds before the runs")
    parser.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false")
    args = parser.parse_args()
    busy = start_busy(args) if args.busy or args.jobs else None
    try:
        run_all(args)
    finally:
        if busy is not None:
            busy.terminate()
            busy.wait(timeout=60)


def run_all(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from search.models import SearchEntry

    client = Client()
    client.force_login(get_user_model().objects.get(username="historian"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    sql_time = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[0] += time.perf_counter() - started

    chosen = [(label, p) for label, p in QUERIES if not args.only or args.only in label]
    for _label, params in chosen:  # warm-up: imports, caches, prepared statements
        client.get("/api/search/", params)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    rows = []
    speed_before = host_speed()
    load_before = load()
    with connection.execute_wrapper(timed), LoadSampler() as sampler:
        for label, params in chosen:
            rows.append((label, params, *measure(client, params, args.runs, sql_time, backend)))
    speed_after = host_speed()
    entries = SearchEntry.objects.count()
    print(f"\nMachine: {machine()}; {database()}")
    print(f"Load average: {load_before} at the start, {load()} at the end; "
          f"during the runs {sampler.summary()}{beside(args)}.")  # fmt: skip
    print(f"Host speed: 10 million Python additions took {speed_before:.2f} s of CPU before "
          f"the runs, {speed_after:.2f} s after (`host_speed`).")  # fmt: skip
    frozen = ", garbage collector frozen after the warm-up" if args.gc_freeze else ""
    print(f"Index: {entries:,} entries; {args.runs} runs per query after 2 warm-up runs{frozen}.\n")
    print("| query | results | API p50 | API p95 | API p99 | SQL p50 | SQL p95 | SQL p99 "
          "| API/SQL | CPU | PG CPU |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, _params, count, api, sql, cpu, database_cpu in rows:
        shown = count if isinstance(count, str) else f"{count:,}"
        cells = [f"{percentile(v, p):.1f}" for v in (api, sql) for p in (0.5, 0.95, 0.99)]
        ratio = statistics.median(api) / max(statistics.median(sql), 1e-6)
        extra = [f"{ratio:.2f}", f"{statistics.median(cpu):.1f}", f"{database_cpu:.1f}"]
        print(f"| {label} | {shown} | " + " | ".join(cells + extra) + " |")
    everything = [v for *_, api, _, _, _ in rows for v in api]
    print(
        f"\nAll queries: API p50 {statistics.median(everything):.1f} ms, "
        f"p95 {percentile(everything, 0.95):.1f} ms, p99 {percentile(everything, 0.99):.1f} ms."
    )
    for label, params, *_ in rows:
        print(f"- {label}: `{params}`")


if __name__ == "__main__":
    main()
