"""A job's status and file through the API, for clients that sign in with a token: what a
202 points them to. The same rules as the pages: seen by its starter and the library's
owners, downloaded by its starter only."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from citations.jobs import EXPORT
from jobs import queue
from jobs.models import JobState
from sources.sharing.tokens import create_token
from tests.factories import make_source


@pytest.fixture(autouse=True)
def no_throttle_left_over():
    cache.clear()
    yield
    cache.clear()


def with_token(user) -> APIClient:
    _, key = create_token(user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def export(library, bob):
    make_source(library=library, title="Record of conversation", csl_type="book", publisher="X")
    return queue.enqueue(EXPORT, library=library, user=bob, format="ris")


def test_a_token_client_polls_its_job_and_downloads_its_file(export, bob):
    client = with_token(bob)
    status = client.get(reverse("api-job-detail", args=[export.pk]))
    assert status.status_code == 200
    body = status.json()
    assert body["state"] == JobState.SUCCEEDED and body["id"] == export.pk
    assert body["download_url"].endswith(reverse("api-job-download", args=[export.pk]))
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert b"Record of conversation" in download.content
    assert download["Cache-Control"] == "private, no-store"


def test_an_owner_sees_the_job_but_may_not_download_its_file(export, alice):
    client = with_token(alice)
    status = client.get(reverse("api-job-detail", args=[export.pk]))
    assert status.status_code == 200 and status.json()["download_url"] is None
    assert client.get(reverse("api-job-download", args=[export.pk])).status_code == 403


@pytest.mark.parametrize("persona", ["vera", "mallory"])
def test_other_members_and_outsiders_do_not_find_the_job(export, persona, request):
    client = with_token(request.getfixturevalue(persona))
    assert client.get(reverse("api-job-detail", args=[export.pk])).status_code == 404
    assert client.get(reverse("api-job-download", args=[export.pk])).status_code == 404


def test_without_credentials_the_api_asks_for_them(export):
    response = APIClient().get(reverse("api-job-detail", args=[export.pk]))
    assert response.status_code in (401, 403)
    assert response.json()["detail"]


def test_posting_to_a_job_is_not_allowed(export, bob):
    response = with_token(bob).post(reverse("api-job-detail", args=[export.pk]))
    assert response.status_code == 405
