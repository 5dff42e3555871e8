"""Health endpoint and graceful database outages.

`/health/` answers 200 `{"status": "ok", "database": "ok"}` when the primary database
answers a query, 503 otherwise: load balancers and orchestrators take an app server out of
rotation on 503 and put it back by themselves.

`DatabaseUnavailableMiddleware` turns "the database cannot be reached" into 503 with
Retry-After instead of a 500: while PostgreSQL restarts or fails over, clients are told to
come back, and nothing needs restarting afterwards, because Django opens a fresh
connection (CONN_HEALTH_CHECKS) on the next request once the server answers again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import DatabaseError, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.db import is_database_unavailable

logger = logging.getLogger("marginalia.health")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The database is unavailable for a moment; try again shortly."


def database_status(alias: str = "default") -> str:
    """ "ok" when `alias` answers a trivial query, else a short reason (never credentials)."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("health check: database %s unavailable: %s", alias, error.__class__.__name__)
        if not connections[alias].in_atomic_block:
            connections[alias].close()  # the next attempt starts from a fresh connection
        return "unavailable"
    return "ok"


@never_cache
@require_safe
@transaction.non_atomic_requests
def health(request: HttpRequest) -> JsonResponse:
    """200 when the primary database answers; replicas are reported but do not fail it."""
    body = {"database": database_status("default")}
    replicas = {alias: database_status(alias) for alias in connections if alias != "default"}
    if replicas:
        body["replicas"] = replicas
    ok = body["database"] == "ok"
    response = JsonResponse({"status": "ok" if ok else "error", **body}, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After, as JSON for the API and as a self-contained page otherwise
    (the site's templates read the session and the user, which live in the database)."""
    wants_json = request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")
    if wants_json:
        response: HttpResponse = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    else:
        response = HttpResponse(_UNAVAILABLE_PAGE, status=503, content_type="text/html")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


_UNAVAILABLE_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Back in a moment</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Back in a moment</h1>
<p>{UNAVAILABLE_MESSAGE} Nothing you saved is lost.</p>
</body></html>
"""


class DatabaseUnavailableMiddleware:
    """Answer 503, not 500, while the database cannot be reached. Put it first.

    A view's exception reaches `process_exception`. One raised in another middleware
    (loading the session, saving it) is turned into a 500 by Django before any middleware
    sees it; `got_request_exception` marks the request so that `__call__` can correct it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning(
            "database unavailable: %s", exception, extra={"path": request.path, "status": 503}
        )
        return unavailable_response(request)


def _mark_unavailable(sender, request: HttpRequest | None = None, **kwargs) -> None:
    error = sys.exc_info()[1]
    if request is not None and error is not None and is_database_unavailable(error):
        request._database_unavailable = True  # type: ignore[attr-defined]


got_request_exception.connect(_mark_unavailable, dispatch_uid="marginalia.database_unavailable")
