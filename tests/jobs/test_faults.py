"""Faults with real services: PostgreSQL restarted under load, a Celery worker killed mid-job.

These start their own PostgreSQL cluster (initdb in a temporary directory, on a free port),
gunicorn and Celery workers, and use Redis at 127.0.0.1:6379 (a database and a queue of their
own), so restarting or killing them disturbs no other test or developer. They take about a
minute and run when CI=true (in the PostgreSQL pass of `make test`) or RUN_FAULT_TESTS=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.config.test_serving import (
    BASE_DIR,
    PYTHON,
    free_port,
    get,
    production_env,
    start_gunicorn,
    stop,
)
from tests.jobs.test_queue import csl_records

IN_CI = os.environ.get("CI") == "true"
ENABLED = os.environ.get("RUN_FAULT_TESTS") == "1" or (IN_CI and connection.vendor == "postgresql")
pytestmark = pytest.mark.skipif(
    not ENABLED, reason="fault tests run with CI=true (PostgreSQL pass) or RUN_FAULT_TESTS=1"
)
REDIS = ("127.0.0.1", 6379)
REDIS_DB = 11  # the fault tests' own Redis database
RECORDS = 600  # a metadata import of several seconds (~8 s here): the kill lands mid-job


def need(condition: bool, reason: str) -> None:
    """In CI a missing service is a failure; elsewhere the test is skipped."""
    if not condition:
        (pytest.fail if IN_CI else pytest.skip)(reason)


# --- A PostgreSQL cluster of our own ------------------------------------------------------------


@dataclass
class Postgres:
    data: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        binary = str(Path(self.data).parent / "bin" / "pg_ctl")
        command = [*self.as_postgres, binary, "-D", str(self.data), "-w", "-t", "60", *args]
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.data.parent / "postgres.log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    need(bool(found), "PostgreSQL server binaries (initdb) are not installed")
    root = Path(tempfile.mkdtemp(prefix="marginalia-faults-"))
    (root / "bin").symlink_to(Path(found[-1]).parent)
    as_postgres = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    cluster = Postgres(data=root / "data", port=free_port(), as_postgres=as_postgres)
    initdb = [*as_postgres, str(root / "bin" / "initdb"), "-D", str(cluster.data)]
    subprocess.run(
        [*initdb, "-U", "postgres", "--auth=trust", "-E", "UTF8"], check=True, capture_output=True
    )
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {cluster.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{root}'\nfsync = off\nfull_page_writes = off\n"
        )
    cluster.start()
    try:
        env = production_env(root, DATABASE_URL=cluster.url)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
        yield cluster
    finally:
        subprocess.run(
            [
                *as_postgres,
                str(root / "bin" / "pg_ctl"),
                "-D",
                str(cluster.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def django_shell(env: dict[str, str], code: str) -> dict:
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


SEED = """
import json
from django.contrib.auth import get_user_model
from sources.models import Library, Source, SourceText
from annotations.writes import create_annotation
name = "{name}"
user = get_user_model().objects.create_user(name, password="x" * 20)
library = Library.objects.create_for(user, name=name, is_public=True)
source = Source.objects.create_with_creators(library=library, title="Record of conversation",
    creators=[{{"family": "Roshchin"}}], csl_type="manuscript", issued="1950-01-22")
text = SourceText.objects.add_revision(source, text="Stalin received Mao Zedong in the Kremlin.")
start = text.text.index("the Kremlin")
note = create_annotation(text=text, creator=user, start=start, end=start + 11)
ids = {{"user": user.pk, "library": library.pk, "source": source.pk, "annotation": note.pk}}
print(json.dumps(ids))
"""


# --- PostgreSQL restarted under load ------------------------------------------------------------


def hammer(urls: list[str], results: list, stop_event: threading.Event) -> None:
    """GET the URLs round and round until told to stop (at most 90 s)."""
    deadline = time.monotonic() + 90
    while not stop_event.is_set() and time.monotonic() < deadline:
        for url in urls:
            try:
                status, headers, _ = get(url)
                results.append((time.monotonic(), url, status, headers.get("Retry-After")))
            except OSError as error:  # the server itself must never stop answering
                results.append((time.monotonic(), url, f"error: {error}", None))


def test_postgres_restart_under_load_answers_503_then_recovers_by_itself(postgres, tmp_path):
    env = production_env(tmp_path, DATABASE_URL=postgres.url, DB_CONN_MAX_AGE="600")
    ids = django_shell(env, SEED.format(name=f"restart{uuid.uuid4().hex[:8]}"))
    port = free_port()
    server = start_gunicorn(env, port, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    urls = [
        f"{base}/health/",
        f"{base}/api/sources/{ids['source']}/",
        f"{base}/api/annotations/{ids['annotation']}/",
    ]
    results: list = []
    stop_event = threading.Event()
    threads = [threading.Thread(target=hammer, args=(urls, results, stop_event)) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(2)
        went_down = time.monotonic()
        postgres.stop()
        time.sleep(3)
        came_back = time.monotonic()
        postgres.start()
        time.sleep(6)
    finally:
        stop_event.set()
        for thread in threads:
            thread.join()
        stop(server)
    statuses = {status for _, _, status, _ in results}
    assert statuses <= {200, 503}, statuses  # never a 500, never a dropped connection
    before = [s for t, _, s, _ in results if t < went_down]
    down = [(s, retry) for t, _, s, retry in results if went_down + 0.5 < t < came_back]
    recovered = [s for t, _, s, _ in results if t > came_back + 3]
    assert before and set(before) == {200}
    assert len(down) >= 10 and set(down) == {(503, "5")}
    assert len(recovered) >= 10 and set(recovered) == {200}  # no restart of gunicorn needed


# --- A worker killed mid-job --------------------------------------------------------------------


@pytest.fixture
def broker():
    try:
        socket.create_connection(REDIS, timeout=2).close()
    except OSError:
        need(False, "Redis is not running at 127.0.0.1:6379")
    queue = f"marginalia-faults-{uuid.uuid4().hex[:8]}"
    yield {
        "CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}",
        "JOB_QUEUE_NAME": queue,
        "TASK_QUEUE": "celery",
    }
    import redis

    redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS_DB).delete(queue)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        PYTHON, "-m", "celery", "-A", "config.celery", "worker", "--pool", "prefork",
        "--concurrency", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip",
        "-Q", env["JOB_QUEUE_NAME"], "-n", f"faults-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip
    with log.open("ab") as out:
        worker = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    wait_for(lambda: b" ready." in log.read_bytes(), 60, f"worker ready ({log})")
    return worker


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def pool_children(worker: subprocess.Popen) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def enqueue_import(env: dict[str, str], name: str) -> tuple[int, int]:
    path = Path(tempfile.mkdtemp()) / "big.json"
    path.write_bytes(csl_records(RECORDS))
    code = (
        SEED.format(name=name)
        + f"""
from django.core.files.uploadedfile import SimpleUploadedFile
from jobs import queue
upload = SimpleUploadedFile("big.json", open("{path}", "rb").read())
job = queue.enqueue("import-metadata", library=library, user=user, upload=upload)
print(json.dumps({{"job": job.pk, "library": library.pk}}))
"""
    )
    ids = django_shell(env, code)
    return ids["job"], ids["library"]


def job_row(postgres: Postgres, job_id: int) -> dict:
    columns = ("state", "done", "total", "attempts", "error")
    row = postgres.query(f"SELECT {', '.join(columns)} FROM sources_job WHERE id = %s", (job_id,))
    return dict(zip(columns, row[0], strict=True))


def written(postgres: Postgres, library_id: int) -> tuple[int, int]:
    sources = postgres.query(
        "SELECT count(*) FROM sources_source WHERE library_id = %s", (library_id,)
    )
    runs = postgres.query(
        "SELECT count(*) FROM sources_importrun WHERE library_id = %s", (library_id,)
    )
    return sources[0][0] - 1, runs[0][0]  # the seeded source aside


def kill_mid_job(postgres: Postgres, job_id: int, pids: list[int]) -> None:
    wait_for(lambda: job_row(postgres, job_id)["done"] >= 100, 120, "the job to be under way")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def test_a_worker_process_killed_mid_job_gets_the_job_redelivered_and_written_once(
    postgres, broker, tmp_path
):
    env = production_env(tmp_path, DATABASE_URL=postgres.url) | broker
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        job_id, library_id = enqueue_import(env, f"kill{uuid.uuid4().hex[:8]}")
        kill_mid_job(postgres, job_id, pool_children(worker))
        assert written(postgres, library_id) == (0, 0)  # the killed attempt left nothing
        wait_for(lambda: job_row(postgres, job_id)["state"] == "succeeded", 180, "the retry")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert job_row(postgres, job_id)["attempts"] == 2
    assert written(postgres, library_id) == (RECORDS, 1)  # every record once, one import run


def test_a_whole_worker_killed_mid_job_is_picked_up_by_another_worker(postgres, broker, tmp_path):
    env = production_env(tmp_path, DATABASE_URL=postgres.url) | broker
    first = start_worker(env, tmp_path / "first.log")
    job_id, library_id = enqueue_import(env, f"lost{uuid.uuid4().hex[:8]}")
    kill_mid_job(postgres, job_id, [first.pid, *pool_children(first)])
    first.wait(timeout=10)
    assert written(postgres, library_id) == (0, 0)
    # The message was never acknowledged: once its visibility timeout passes, another
    # worker takes it back from Redis.
    second = start_worker(env | {"JOB_VISIBILITY_TIMEOUT": "3"}, tmp_path / "second.log")
    try:
        wait_for(lambda: job_row(postgres, job_id)["state"] == "succeeded", 180, "the other worker")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    assert job_row(postgres, job_id)["attempts"] == 2
    assert written(postgres, library_id) == (RECORDS, 1)


def test_a_job_whose_worker_dies_too_often_is_marked_failed_with_nothing_written(
    postgres, broker, tmp_path
):
    env = production_env(tmp_path, DATABASE_URL=postgres.url, JOB_MAX_ATTEMPTS="1") | broker
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        job_id, library_id = enqueue_import(env, f"fail{uuid.uuid4().hex[:8]}")
        kill_mid_job(postgres, job_id, pool_children(worker))
        wait_for(lambda: job_row(postgres, job_id)["state"] == "failed", 120, "the job to fail")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    row = job_row(postgres, job_id)
    assert row["attempts"] == 1 and "worker" in row["error"]
    assert written(postgres, library_id) == (0, 0)
