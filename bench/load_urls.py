"""Marginalia's URLs plus `/bench/floor/`, a view that touches neither the database nor a
template: the floor that every other endpoint of the load test (bench/load.py) is compared with."""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


@transaction.non_atomic_requests  # no transaction either: Django and gunicorn alone
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("config.urls")),
]
