"""A formatted export of more sources than EXPORT_JOB_THRESHOLD runs as a background job
(pandoc formats ~1.3 ms per entry the first time: 10,000 entries would hold a request for
13 s); data formats and small selections stay in the request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import Job, JobState
from tests.factories import make_library, make_source

TITLES = ["Telegram from Roshchin", "Record of Conversation", "Minutes of the Politburo"]


@pytest.fixture
def many(library, settings):
    settings.EXPORT_JOB_THRESHOLD = 2
    # Books with a publisher: Chicago prints every one (it leaves out manuscripts held in no
    # archive), so that the files can be read for every title.
    return [
        make_source(library=library, title=title, csl_type="book", publisher="Progress")
        for title in TITLES
    ]


def test_a_large_formatted_export_from_the_page_becomes_a_job_with_the_file(
    as_user, vera, library, many
):
    response = as_user(vera).get(
        reverse("export-download"), {"library": library.slug, "format": "html"}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.user == vera and job.params["format"] == "html"
    download = as_user(vera).get(reverse("job-download", args=[job.pk]))
    body = download.content.decode()
    assert all(title in body for title in TITLES)


def test_a_large_formatted_export_through_the_api_answers_202_with_the_job(
    as_user, vera, library, many
):
    response = as_user(vera).get("/api/export/", {"library": library.slug, "format": "text"})
    job = Job.objects.get()
    assert response.status_code == 202
    assert response.json()["id"] == job.pk and response.json()["state"] == JobState.SUCCEEDED
    assert response["Location"].endswith(reverse("api-job-detail", args=[job.pk]))
    assert response.json()["download_url"].endswith(reverse("api-job-download", args=[job.pk]))


def test_data_formats_and_small_selections_stay_in_the_request(as_user, vera, library, many):
    ris = as_user(vera).get(reverse("export-download"), {"library": library.slug, "format": "ris"})
    assert ris.status_code == 200 and b"Minutes of the Politburo" in ris.content
    one = as_user(vera).get(
        reverse("export-download"), {"sources": str(many[0].pk), "format": "html"}
    )
    assert one.status_code == 200 and b"Telegram from Roshchin" in one.content
    assert not Job.objects.exists()


def test_the_job_keeps_the_order_of_the_selection_for_notes(as_user, vera, library, many):
    ids = ",".join(str(source.pk) for source in reversed(many))
    as_user(vera).get(
        reverse("export-download"), {"sources": ids, "format": "text", "content": "notes"}
    )
    text = bytes(Job.objects.get().output).decode()
    positions = [text.index(title) for title in reversed(TITLES)]
    assert positions == sorted(positions)


def test_a_large_export_across_libraries_is_refused_with_what_to_do(as_user, alice, library, many):
    other = make_library(owner=alice, name="Korean War")
    extra = make_source(library=other, title="Cable from Pyongyang")
    ids = ",".join(str(pk) for pk in [*(s.pk for s in many), extra.pk])
    response = as_user(alice).get(reverse("export-download"), {"sources": ids, "format": "html"})
    assert response.status_code == 400
    assert "one library at a time" in response.content.decode()
    assert not Job.objects.exists()


def test_an_anonymous_reader_is_asked_to_sign_in_for_a_large_export(as_user, library, many):
    library.is_public = True
    library.save()
    response = as_user(None).get("/api/export/", {"library": library.slug, "format": "html"})
    assert response.status_code == 400
    assert "Sign in" in str(response.json())
    assert not Job.objects.exists()


def test_the_preview_of_a_large_selection_formats_only_its_first_sources(
    as_user, vera, library, many
):
    response = as_user(vera).get(
        reverse("export-preview"), {"library": library.slug, "format": "html"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "The first 2 of the 3 sources are previewed" in page
    assert sum(title in page for title in TITLES) == 2
