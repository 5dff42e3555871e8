"""Background load for a benchmark: the load test's annotation writers, kept running.

    .venv/bin/python bench/busy.py [--connections 3] [--duration 900]

What a busy server does besides the request being measured: `bench/load.py`'s write scenario
(POST /api/annotations/ with a comment and a tag, each write indexed for search) through
gunicorn in the production configuration against PostgreSQL, on its own database
(`marginalia_load`, made by `bench/load.py` the first time), from wrk with `--connections`
connections kept busy for `--duration` seconds. Each connection keeps one write in flight,
which alternates between a gunicorn thread and a PostgreSQL backend: on 2 cores three
connections hold the load average near 4 (it prints the load average every 10 s; the 1-minute
figure needs a minute to settle). `bench/search.py --busy N` starts it, waits for the load
to settle and stops it after its runs; it can also run on its own beside anything else.
Everything goes to 127.0.0.1; it stops by itself after `--duration`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import load  # noqa: E402


def prepare(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """The load test's database, migrated and seeded, and the server's environment."""
    env = load.server_env(args)
    load.ensure_database(args.database_url, fresh=False)
    for command in (["migrate"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "-v0"], cwd=BASE_DIR, env=env, check=True
        )
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "SECRET_KEY", "STATIC_ROOT"):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/marginalia_load"
    )
    parser.add_argument("--connections", type=int, default=3, help="writes kept in flight")
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
    server = load.start_server(env, log, args.port)
    wrk = None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(writers_script(ids))
    try:
        command = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.duration}s",
                   "--timeout", "10s", "-s", lua.name,
                   f"http://127.0.0.1:{args.port}/api/annotations/"]  # fmt: skip
        wrk = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        database = urlparse(args.database_url).path.lstrip("/")
        print(f"busy: {args.connections} writers on {database} for {args.duration} s", flush=True)
        while not stop and wrk.poll() is None:
            time.sleep(10)
            loads = ", ".join(f"{v:.2f}" for v in os.getloadavg())
            print(f"busy: load average {loads}", flush=True)
    finally:
        if wrk is not None:
            wrk.terminate()
            wrk.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        os.unlink(lua.name)


if __name__ == "__main__":
    main()
