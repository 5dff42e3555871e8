"""Production serving: the health endpoint, 503 during database outages, JSON logs, the
settings that switch production parts on, the replica router, and gunicorn itself."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, ProgrammingError, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path

from config import db_routers as routers
from config.logging import JsonFormatter, logging_config
from core.db import is_database_unavailable

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


# --- URLs for the outage tests (pytest.mark.urls points here) ------------------------------------


def _outage(cause: Exception) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def _raise_outage(request):
    raise _outage(psycopg.OperationalError("connection failed: Connection refused"))


def _raise_integrity_error(request):
    raise IntegrityError("duplicate key value violates unique constraint")


def _raise_missing_table(request):
    raise _outage(sqlite3.OperationalError("no such table: sources_source"))


def _touch_session(request):
    request.session["seen"] = True
    return HttpResponse("ok")


urlpatterns = [
    path("api/boom/", _raise_outage),
    path("page/boom/", _raise_outage),
    path("bug/", _raise_integrity_error),
    path("missing-table/", _raise_missing_table),
    path("session/", _touch_session),
    path("", include("config.urls")),
]
outage_urls = pytest.mark.urls(__name__)


# --- /health/ -----------------------------------------------------------------------------------


def test_health_answers_ok_when_the_database_answers(as_user, db):
    response = as_user(None).get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_answers_503_when_the_database_is_down(as_user, db):
    refused = OperationalError("connection failed: Connection refused")
    with mock.patch.object(connection, "cursor", side_effect=refused):
        response = as_user(None).get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}
    assert response["Retry-After"] == "5"


def test_health_answers_head_but_not_post(as_user, db):
    assert as_user(None).head("/health/").status_code == 200
    assert as_user(None).post("/health/").status_code == 405


# --- Database outages answer 503 --------------------------------------------------------------


@outage_urls
def test_an_api_request_during_an_outage_gets_503_json_with_retry_after(db):
    response = Client().get("/api/boom/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The database is unavailable for a moment; try again shortly."
    }


@outage_urls
def test_a_page_during_an_outage_gets_a_self_contained_503_page(db):
    response = Client().get("/page/boom/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "Back in a moment" in response.content.decode()


@outage_urls
def test_an_outage_in_a_middleware_also_answers_503(db):
    refused = _outage(psycopg.OperationalError("server closed the connection unexpectedly"))
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.save", side_effect=refused):
        response = Client(raise_request_exception=False).get("/session/")
    assert response.status_code == 503


@outage_urls
def test_a_bug_stays_a_500(db):
    client = Client(raise_request_exception=False)
    assert client.get("/bug/").status_code == 500
    assert client.get("/missing-table/").status_code == 500


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (_outage(psycopg.OperationalError("connection failed")), True),
        (_outage(psycopg.errors.AdminShutdown()), True),  # 57P01: the server restarts
        (_outage(psycopg.errors.CannotConnectNow()), True),  # 57P03: still starting up
        (_outage(psycopg.errors.TooManyConnections()), True),  # 53300
        (_outage(psycopg.errors.SerializationFailure()), True),  # 40001
        (_outage(sqlite3.OperationalError("database is locked")), False),  # no errorname
        (_outage(sqlite3.OperationalError("no such table: x")), False),
        (IntegrityError("duplicate key"), False),
        (ProgrammingError("syntax error"), False),
        (ValueError("not a database error"), False),
    ],
)
def test_which_database_errors_count_as_an_outage(error, unavailable):
    assert is_database_unavailable(error) is unavailable


def test_sqlite_busy_counts_as_an_outage():
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorname = "SQLITE_BUSY"
    assert is_database_unavailable(_outage(locked))


# --- Structured logs --------------------------------------------------------------------------


def test_log_lines_are_json_with_the_extra_fields_and_the_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("marginalia.test.json")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError("Записи беседы")
        except RuntimeError:
            log.error("import %s failed", "telegram.txt", exc_info=True, extra={"job": 7})
    finally:
        log.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "ERROR" and entry["logger"] == "marginalia.test.json"
    assert entry["message"] == "import telegram.txt failed"
    assert entry["job"] == 7
    assert "RuntimeError: Записи беседы" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_a_request_on_a_record_is_summarised_not_dumped():
    record = logging.makeLogRecord({"msg": "Not Found", "levelname": "WARNING"})
    record.request = RequestFactory().get("/sources/9/")
    record.status_code = 404
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["method"], entry["path"], entry["status_code"]) == ("GET", "/sources/9/", 404)
    assert "request" not in entry


def test_logging_config_chooses_json_or_text():
    assert logging_config(level="INFO", fmt="json")["formatters"]["main"] == {
        "()": "config.logging.JsonFormatter"
    }
    assert "format" in logging_config(level="INFO", fmt="text")["formatters"]["main"]


# --- Settings that switch production parts on -------------------------------------------------


def settings_with(**env: str) -> dict:
    """config.settings evaluated in a fresh interpreter with `env`; the values asked for."""
    script = (
        "import json, config.settings as s; print(json.dumps({"
        "'databases': s.DATABASES, 'routers': getattr(s, 'DATABASE_ROUTERS', []), "
        "'middleware': s.MIDDLEWARE, 'logging': s.LOGGING, 'storages': s.STORAGES, "
        "'task_queue': s.TASK_QUEUE, 'static_root': str(s.STATIC_ROOT), "
        "'sessions': s.SESSION_ENGINE}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    done = subprocess.run(
        [PYTHON, "-c", script], env=clean | env, cwd=BASE_DIR, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)


def test_production_logs_json_and_serves_hashed_static_files():
    values = settings_with(DEBUG="false", SECRET_KEY="x" * 50, STATIC_ROOT="/srv/static")
    assert values["logging"]["formatters"]["main"] == {"()": "config.logging.JsonFormatter"}
    assert values["storages"]["staticfiles"]["BACKEND"] == "config.staticfiles.ManifestStorage"
    assert values["static_root"] == "/srv/static"
    assert values["middleware"][0] == "config.health.DatabaseUnavailableMiddleware"
    assert values["task_queue"] == "inline"


def test_postgres_gets_persistent_checked_connections_and_a_connect_timeout():
    default = settings_with(DATABASE_URL="postgres://app@db.internal:5432/marginalia")["databases"][
        "default"
    ]
    assert default["CONN_MAX_AGE"] == 60 and default["CONN_HEALTH_CHECKS"] is True
    assert default["OPTIONS"] == {"connect_timeout": "5"}
    assert default["ATOMIC_REQUESTS"] is True


def test_db_pool_switches_to_psycopgs_pool():
    default = settings_with(
        DATABASE_URL="postgres://app@db.internal/marginalia", DB_POOL="true", DB_POOL_MAX_SIZE="4"
    )["databases"]["default"]
    assert default["CONN_MAX_AGE"] == 0
    assert default["OPTIONS"]["pool"]["max_size"] == 4


def test_replica_urls_add_replicas_the_router_and_its_middleware():
    values = settings_with(
        DATABASE_URL="postgres://app@primary/marginalia",
        DATABASE_REPLICA_URLS="postgres://app@replica-a/marginalia,postgres://app@replica-b/marginalia",
    )
    databases = values["databases"]
    assert set(databases) == {"default", "replica1", "replica2"}
    assert databases["replica2"]["HOST"] == "replica-b"
    assert databases["replica1"]["TEST"] == {"MIRROR": "default"}
    assert values["routers"] == ["config.db_routers.PrimaryReplicaRouter"]
    assert values["middleware"][1] == "config.db_routers.ReplicaReadsMiddleware"


def test_sessions_are_cached_only_in_a_cache_every_process_shares():
    assert settings_with()["sessions"] == "django.contrib.sessions.backends.db"
    shared = settings_with(CACHE_URL="redis://cache.internal:6379/1")
    assert shared["sessions"] == "django.contrib.sessions.backends.cached_db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TASK_QUEUE", "rq"),
        ("LOG_FORMAT", "xml"),
        ("DB_POOL", "maybe"),
        ("JOB_NICENESS", "25"),
        ("JOB_NICENESS", "-5"),
    ],
)
def test_a_malformed_setting_stops_start_up_naming_the_variable(name, value):
    env = {name: value, "DATABASE_URL": "postgres://app@db/marginalia"}
    with pytest.raises(RuntimeError, match=f"ImproperlyConfigured: {name} must be"):
        settings_with(**env)


# --- The replica router -----------------------------------------------------------------------


@pytest.fixture
def two_replicas(settings, monkeypatch):
    monkeypatch.setattr(routers, "replica_aliases", lambda: ["replica1", "replica2"])
    settings.REPLICA_PIN_SECONDS = 10


def test_safe_requests_read_from_a_replica_and_jobs_from_the_primary(two_replicas):
    from jobs.models import Job
    from sources.models import Source

    router = routers.PrimaryReplicaRouter()
    token = routers.reads_from_replica.set(True)
    try:
        assert router.db_for_read(Source) in {"replica1", "replica2"}
        assert router.db_for_read(Job) == "default"
    finally:
        routers.reads_from_replica.reset(token)
    assert router.db_for_read(Source) == "default"  # outside a safe request: the primary
    assert router.db_for_write(Source) == "default"
    assert router.allow_migrate("default", "sources") and not router.allow_migrate("replica1", "x")


def test_a_write_pins_the_client_to_the_primary_for_a_few_seconds(two_replicas):
    seen = []

    def view(request):
        seen.append(routers.reads_from_replica.get())
        return HttpResponse("ok")

    middleware = routers.ReplicaReadsMiddleware(view)
    factory = RequestFactory()
    assert middleware(factory.get("/")).cookies.get(routers.PIN_COOKIE) is None
    pinned = middleware(factory.post("/")).cookies[routers.PIN_COOKIE]
    assert pinned["max-age"] == 10 and pinned["httponly"]
    after_write = factory.get("/")
    after_write.COOKIES[routers.PIN_COOKIE] = pinned.value
    middleware(after_write)
    expired = factory.get("/")
    expired.COOKIES[routers.PIN_COOKIE] = str(int(time.time()) - 1)
    middleware(expired)
    assert seen == [True, False, False, True]
    assert routers.reads_from_replica.get() is False


# --- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path, **env: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    return (
        keep
        | {
            "DEBUG": "false",
            "SECRET_KEY": "test-only-" + "k" * 50,
            "DATABASE_URL": f"sqlite:///{tmp_path}/serving.sqlite3",
            "STATIC_ROOT": str(tmp_path / "static"),
            "SECURE_COOKIES": "false",
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
        }
        | env
    )


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """gunicorn with config/gunicorn.conf.py on 127.0.0.1:port, once /health/ answers."""
    env = env | {"GUNICORN_BIND": f"127.0.0.1:{port}"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
            return server
        except urllib.error.HTTPError:
            return server  # it answers (503 while the database is down)
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_gunicorn_serves_the_production_configuration(tmp_path):
    env = production_env(tmp_path)
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    # The ES modules import each other by their hashed names, the ones the pages preload:
    # an unhashed import would fetch every module a second time.
    imports = re.findall(
        r"""from\s*["']\./([^"']+)["']""",
        (tmp_path / "static" / manifest["js/annotate.js"]).read_text(),
    )
    assert "annotate-api.js" not in imports and len(imports) >= 5
    assert {f"js/{name}" for name in imports} <= set(manifest.values())
    port = free_port()
    server = start_gunicorn(env, port, tmp_path / "gunicorn.log")
    try:
        base = f"http://127.0.0.1:{port}"
        status, _, body = get(f"{base}/health/")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
        hashed = manifest["css/marginalia.css"]
        assert hashed != "css/marginalia.css"
        status, headers, _ = get(f"{base}/static/{hashed}")
        assert status == 200
        assert "immutable" in headers["Cache-Control"]  # hashed names are cached for ever
        status, _, body = get(f"{base}/accounts/login/")
        assert status == 200 and f"/static/{hashed}".encode() in body
    finally:
        stop(server)
    lines = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines()]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    health = next(line for line in access if line["path"] == "/health/")
    assert health["status"] == 200 and health["method"] == "GET" and health["duration_ms"] >= 0
    assert any(line["logger"] == "gunicorn.error" for line in lines)


def test_gunicorn_config_reads_its_environment():
    script = (
        "import runpy, json; c = runpy.run_path('config/gunicorn.conf.py'); "
        "print(json.dumps({k: c[k] for k in ('workers', 'threads', 'worker_class', "
        "'preload_app', 'bind', 'max_requests', 'reuse_port')}))"
    )

    def config(**environ: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")} | environ
        done = subprocess.run(
            [PYTHON, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return json.loads(done.stdout)

    assert config(WEB_CONCURRENCY="3", GUNICORN_THREADS="4", GUNICORN_BIND="0:9") == {
        "workers": 3,
        "threads": 4,
        "worker_class": "gthread",
        "preload_app": True,
        "bind": "0:9",
        "max_requests": 100_000,
        "reuse_port": False,  # one socket shared by the workers unless asked (docs/deploy.md)
    }
    assert config(GUNICORN_REUSE_PORT="true")["reuse_port"] is True


def test_a_gunicorn_worker_keeps_the_preloaded_app_out_of_full_collections():
    script = (
        "import gc, runpy; c = runpy.run_path('config/gunicorn.conf.py'); "
        "before = gc.get_freeze_count(); c['post_fork'](None, None); "
        "print(before == 0 and gc.get_freeze_count() > 10_000)"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [PYTHON, "-c", "import django; django.setup(); " + script],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "True", done.stderr


def test_gunicorn_runs_one_threaded_worker_per_core_by_default():
    script = (
        "import runpy, json; c = runpy.run_path('config/gunicorn.conf.py'); "
        "print(json.dumps([c['workers'], c['threads'], c['worker_class']]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "GUNICORN_THREADS")}
    done = subprocess.run(
        [PYTHON, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == [os.cpu_count(), 2, "gthread"]


@pytest.fixture
def json_access_logger():
    import datetime as dt
    import runpy
    from types import SimpleNamespace

    from gunicorn.config import Config

    logger_class = runpy.run_path(str(BASE_DIR / "config" / "gunicorn.conf.py"))["JsonLogger"]
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = logger_class(cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    response = SimpleNamespace(status="201 Created", sent=512, headers=[])

    def log(environ: dict) -> list[dict]:
        logger.access(response, None, environ, dt.timedelta(milliseconds=12.5))
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    return log


def test_the_access_log_is_one_json_object_per_request(json_access_logger):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/annotations/",
        "QUERY_STRING": "format=json",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_REQUEST_ID": "req-42",
    }
    (line,) = json_access_logger(environ)
    assert line["logger"] == "gunicorn.access" and line["message"] == "request"
    assert line["method"] == "POST" and line["path"] == "/api/annotations/?format=json"
    assert (line["status"], line["bytes"], line["duration_ms"]) == (201, 512, 12.5)
    assert line["request_id"] == "req-42"


def test_a_request_gunicorn_could_not_parse_is_logged_without_crashing(json_access_logger):
    (line,) = json_access_logger({})
    assert (line["method"], line["path"], line["status"]) == ("-", "", 201)


def listening_sockets(port: int) -> int:
    """Sockets listening on 127.0.0.1:port, from /proc/net/tcp (state 0A is LISTEN)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for row in rows if row.split()[1] == f"0100007F:{port:04X}" and row.split()[3] == "0A"
    )


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
@pytest.mark.parametrize("reuse", ["false", "true"])
def test_with_reuse_port_each_worker_listens_on_its_own_socket(tmp_path, reuse):
    env = production_env(tmp_path) | {"WEB_CONCURRENCY": "2", "GUNICORN_REUSE_PORT": reuse}
    port = free_port()
    server = start_gunicorn(env, port, tmp_path / "gunicorn.log")
    try:
        deadline = time.monotonic() + 20  # the second worker may still be booting
        while listening_sockets(port) < (2 if reuse == "true" else 1):
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()[-2000:]
            time.sleep(0.2)
        assert listening_sockets(port) == (2 if reuse == "true" else 1)
        base = f"http://127.0.0.1:{port}"
        assert all(get(f"{base}/health/")[0] == 200 for _ in range(20))  # a connection each
    finally:
        stop(server)
