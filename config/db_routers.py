"""Reads from PostgreSQL replicas, writes to the primary (on when DATABASE_REPLICA_URLS is set).

Only the reads of a safe request (GET, HEAD, OPTIONS) go to a replica, and only when the
client has not written anything in the last REPLICA_PIN_SECONDS: after a POST the browser
is pinned to the primary for a few seconds, so a historian who saves an annotation sees it
on the page they are sent to, whatever the replication lag. Everything else, the workers
included, reads from the primary.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PIN_COOKIE = "marginalia_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Rows read to be changed at once, or that must never lag: progress of a running job,
# the session a login just created.
PRIMARY_ONLY = frozenset({"jobs.job", "sessions.session", "authtoken.token"})

reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != "default"]


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if not reads_from_replica.get() or model._meta.label_lower in PRIMARY_ONLY:
            return "default"
        replicas = replica_aliases()
        return random.choice(replicas) if replicas else "default"

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == "default"


def may_read_from_replica(request: HttpRequest) -> bool:
    pinned_until = request.COOKIES.get(PIN_COOKIE, "")
    recently_wrote = pinned_until.isdigit() and int(pinned_until) > time.time()
    return request.method in SAFE_METHODS and not recently_wrote


class ReplicaReadsMiddleware:
    """Decides per request whether reads may go to a replica; pins writers to the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = reads_from_replica.set(may_read_from_replica(request))
        try:
            response = self.get_response(request)
        finally:
            reads_from_replica.reset(token)
        if request.method not in SAFE_METHODS:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
