"""gunicorn for Marginalia: `gunicorn -c config/gunicorn.conf.py config.wsgi` (`make serve`).

Configured by environment like the rest of Marginalia; docs/deploy.md explains each knob.
The app is loaded once in the master (preload) and forked, so workers start fast and share
memory; database connections are opened by each worker after the fork, never before.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:  # config.logging below, config.wsgi in the workers
    sys.path.insert(0, str(BASE_DIR))

from config.logging import JsonFormatter  # noqa: E402


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be an integer, not {raw!r}") from None


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY is the name platforms (Heroku, Render, Dokku) already set.
# One threaded worker per core by default: a request spends part of its time waiting for
# PostgreSQL (a write for its commit), another thread computes meanwhile, and the client's
# connection is kept alive (sync workers close it after every response). More processes
# than cores cost more CPU per request than they gain: measured with bench/load.py on 2
# cores, 2 workers × 2 threads served 1,029 annotation reads/s and 83 writes/s, 4 × 2 only
# 431 and 72 (bench/README.md). GUNICORN_THREADS=1 gives sync workers again.
workers = _int("WEB_CONCURRENCY", os.cpu_count() or 1)
threads = _int("GUNICORN_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
preload_app = True
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5  # seconds an idle client connection stays open (threaded workers only)
# All workers accept from one socket, and the one that wakes first takes every connection
# waiting at that moment: kept-alive connections opened at once (a proxy's upstream pool, a
# load generator) can all stay on one worker while the others idle (bench/load.py saw 15 of
# 16). GUNICORN_REUSE_PORT=true gives each worker a socket of its own and lets the kernel
# spread connections; off by default because connections the kernel queued on a worker
# being restarted are then reset (docs/deploy.md).
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "false") == "true"
# Recycle workers now and then: a slow leak in any library never grows without bound. Not
# too often: a new worker starts with cold caches and a new database connection, and at
# 500 requests/s per worker 5,000 meant a restart every 10 s.
max_requests = _int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = max_requests // 10
# The proxy's address: only it may say that the client spoke HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = None if os.environ.get("GUNICORN_ACCESS_LOG", "true") == "false" else "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "marginalia"


class JsonLogger(Logger):
    """gunicorn's access and error logs as JSON lines, in the shape `config.logging` writes."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if os.environ.get("LOG_FORMAT", "json") != "json":
            return
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not getattr(self, "access_log_enabled", True):  # gunicorn ≥ 23.1 knows
            return
        if os.environ.get("LOG_FORMAT", "json") != "json":
            super().access(resp, req, environ, request_time)
            return
        try:
            self.access_log.info("request", extra=_access_fields(resp, environ, request_time))
        except Exception:  # a log line must never take a worker down
            self.error("could not write the access log line", exc_info=True)


def _access_fields(resp, environ: dict, request_time) -> dict:
    # gunicorn also logs requests it could not parse: every key may be missing.
    status = str(getattr(resp, "status", "") or "").split(None, 1)[0]
    query = environ.get("QUERY_STRING") or ""
    return {
        "remote_addr": environ.get("REMOTE_ADDR") or "-",
        "method": environ.get("REQUEST_METHOD") or "-",
        "path": (environ.get("PATH_INFO") or "") + (f"?{query}" if query else ""),
        "status": int(status) if status.isdigit() else status,
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 2),
        "user_agent": environ.get("HTTP_USER_AGENT") or "-",
        "request_id": environ.get("HTTP_X_REQUEST_ID") or "",
    }


logger_class = JsonLogger


def post_fork(server, worker) -> None:
    """Never share a database connection between processes (preload runs before the fork).
    And leave the preloaded app's objects, which live as long as the worker, out of the
    garbage collector's full collections: each walked all of them, ~90 ms, the search
    benchmark's p99 (bench/README.md, *Search*)."""
    from django.db import connections

    connections.close_all()
    gc.freeze()
