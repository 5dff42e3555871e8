import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Job, JobState
from sources.models import ImportRun, Source
from tests.factories import make_library

LIST = "/api/imports/"

CSL_ITEMS = [
    {
        "id": "item-1",
        "type": "manuscript",
        "title": "Record of Conversation between Stalin and Mao",
        "author": [{"family": "Stalin", "given": "Iosif"}],
        "issued": {"date-parts": [[1949, 12, 16]]},
        "archive": "Archive of the President of the Russian Federation",
    },
    {
        "id": "item-2",
        "type": "article-magazine",
        "title": "Mao's Long March to Moscow",
        "author": [{"family": "Radchenko", "given": "Sergey"}],
        "issued": {"date-parts": [[2009]]},
    },
]


def csl_file(items=None, name: str = "zotero-export.json") -> SimpleUploadedFile:
    data = json.dumps(CSL_ITEMS if items is None else items).encode()
    return SimpleUploadedFile(name, data, content_type="application/json")


def post_import(client, into, **fields):
    fields.setdefault("library", into.slug)
    fields.setdefault("file", csl_file())
    return client.post(LIST, fields, format="multipart")


@pytest.fixture
def run(library, alice):
    return ImportRun.objects.create(
        library=library, user=alice, file_name="old.ris", format="ris", outcomes=[]
    )


def test_editor_imports_a_csl_json_file_with_an_outcome_per_record(as_user, library, bob):
    response = post_import(as_user(bob), library, format="csl-json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["library"] == library.slug
    assert (data["user"], data["format"], data["file_name"]) == (
        "bob",
        "csl-json",
        "zotero-export.json",
    )
    assert data["counts"] == {"created": 2, "duplicate": 0, "failed": 0}
    assert [outcome["status"] for outcome in data["outcomes"]] == ["created", "created"]
    assert response["Location"].endswith(f"/api/imports/{data['id']}/")
    assert Source.objects.filter(library=library).count() == 2


def test_format_is_detected_and_library_may_be_an_id(as_user, library, alice):
    response = post_import(as_user(alice), library, library=library.pk)
    assert response.status_code == 201, response.content
    assert response.json()["format"] == "csl-json"


def test_importing_the_same_file_twice_reports_duplicates(as_user, library, alice):
    post_import(as_user(alice), library)
    response = post_import(as_user(alice), library, file=csl_file())
    assert response.json()["counts"]["duplicate"] == 2
    assert Source.objects.count() == 2


def test_viewer_cannot_import(as_user, library, vera):
    response = post_import(as_user(vera), library)
    assert response.status_code == 403
    assert "library" in response.json()
    assert not ImportRun.objects.exists() and not Source.objects.exists()


def test_outsider_cannot_import_into_a_library_they_cannot_see(as_user, library, mallory):
    response = post_import(as_user(mallory), library)
    assert response.status_code == 400
    assert "library" in response.json()
    assert not ImportRun.objects.exists() and not Source.objects.exists()


def test_anonymous_cannot_import(as_user, library):
    assert post_import(as_user(None), library).status_code in (401, 403)
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"file": ""}, "file"),
        ({"file": csl_file(name="empty.json", items=[])}, "file"),
        ({"file": SimpleUploadedFile("x.json", b"{not json")}, "file"),
        ({"format": "marc21"}, "format"),
        ({"library": ""}, "library"),
    ],
)
def test_invalid_import_is_a_400_naming_the_field_and_writes_nothing(
    as_user, library, alice, fields, field
):
    response = post_import(as_user(alice), library, **fields)
    assert response.status_code == 400
    assert field in response.json()
    assert not ImportRun.objects.exists() and not Source.objects.exists()


def test_oversize_import_is_413_and_writes_nothing(as_user, library, alice, settings):
    settings.MAX_UPLOAD_BYTES = 100
    response = post_import(as_user(alice), library)
    assert response.status_code == 413
    assert "file" in response.json()
    assert not ImportRun.objects.exists() and not Source.objects.exists()


def test_runs_are_listed_to_those_who_see_the_library(as_user, run, vera, mallory, alice):
    data = as_user(vera).get(LIST).json()
    assert [item["id"] for item in data["results"]] == [run.pk]
    assert as_user(vera).get(f"{LIST}{run.pk}/").json()["file_name"] == "old.ris"
    assert as_user(mallory).get(LIST).json()["count"] == 0
    assert as_user(mallory).get(f"{LIST}{run.pk}/").status_code == 404
    assert as_user(None).get(f"{LIST}{run.pk}/").status_code == 404


def test_runs_are_filtered_by_library_and_paginated(as_user, run, alice):
    other = make_library(owner=alice, name="Other")
    ImportRun.objects.create(library=other, user=alice, file_name="b.bib", format="bibtex")
    assert (
        as_user(alice).get(LIST, {"library": other.slug}).json()["results"][0]["format"] == "bibtex"
    )
    page = as_user(alice).get(LIST, {"limit": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_runs_are_a_record_and_cannot_be_changed(as_user, run, alice, method):
    response = getattr(as_user(alice), method)(f"{LIST}{run.pk}/", {"file_name": "x"})
    assert response.status_code == 405
    assert ImportRun.objects.get(pk=run.pk).file_name == "old.ris"


# Large imports run as background jobs ------------------------------------------------


def many_items(count: int) -> list[dict]:
    return [{"id": f"r{n}", "type": "book", "title": f"Record {n}"} for n in range(count)]


def test_a_file_of_more_records_than_the_threshold_is_a_job_202(as_user, library, bob, settings):
    settings.JOB_THRESHOLD_RECORDS = 3
    response = post_import(as_user(bob), library, file=csl_file(many_items(4)))
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    data = response.json()
    assert (data["id"], data["kind"]) == (job.pk, "import-metadata")
    assert data["state"] == "succeeded"  # TASK_QUEUE=inline: it ran before the answer
    assert data["url"] == f"/jobs/{job.pk}/"
    assert response["Location"] == data["status_url"] == f"http://testserver/api/jobs/{job.pk}/"
    status = as_user(bob).get(data["status_url"]).json()
    assert status["result"] == data["result"]
    run = ImportRun.objects.get(pk=status["result"]["import_run"])
    assert run.counts() == {"created": 4, "duplicate": 0, "failed": 0}
    assert (run.user, run.library, run.format) == (bob, library, "csl-json")


def test_a_file_larger_than_the_byte_threshold_is_a_job_202(as_user, library, bob, settings):
    settings.JOB_THRESHOLD_BYTES = 10
    response = post_import(as_user(bob), library, format="csl-json")
    assert response.status_code == 202, response.content
    assert Job.objects.get().state == JobState.SUCCEEDED
    assert Source.objects.filter(library=library).count() == 2


def test_a_file_at_the_record_threshold_stays_in_the_request_201(as_user, library, bob, settings):
    settings.JOB_THRESHOLD_RECORDS = 4
    response = post_import(as_user(bob), library, file=csl_file(many_items(4)))
    assert response.status_code == 201, response.content
    assert not Job.objects.exists()


def test_with_a_queue_the_job_waits_for_a_worker(as_user, library, bob, settings, monkeypatch):
    settings.TASK_QUEUE = "celery"
    settings.JOB_THRESHOLD_RECORDS = 1
    monkeypatch.setattr("jobs.queue.send_to_queue", lambda *args: None)
    response = post_import(as_user(bob), library, file=csl_file())
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued" and not response.json()["result"]
    assert not Source.objects.exists()


def test_a_viewer_cannot_start_a_large_import(as_user, library, vera, settings):
    settings.JOB_THRESHOLD_RECORDS = 1
    response = post_import(as_user(vera), library)
    assert response.status_code == 403
    assert not Job.objects.exists() and not Source.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"file": SimpleUploadedFile("x.json", b"[" * 10)}, "file"),
        ({"file": SimpleUploadedFile("notes.txt", b"x" * 20)}, "file"),
        ({"format": "ris", "file": csl_file()}, "file"),
    ],
)
def test_a_large_unreadable_file_is_still_a_400_naming_the_file(
    as_user, library, alice, settings, fields, field
):
    settings.JOB_THRESHOLD_RECORDS = 0
    response = post_import(as_user(alice), library, **fields)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Job.objects.exists() and not ImportRun.objects.exists()


def test_a_deeply_nested_bibtex_title_fails_one_record_not_the_file(as_user, library, alice):
    title = b"{" * 20_000 + b"x" + b"}" * 20_000
    content = b"@book{deep, title = {" + title + b"}}\n@book{fine, title = {Fine}}\n"
    response = post_import(as_user(alice), library, file=SimpleUploadedFile("d.bib", content))
    assert response.status_code == 201, response.content
    first, second = response.json()["outcomes"]
    assert (first["index"], first["status"]) == (0, "failed")
    assert "title field nests" in first["message"]
    assert second["status"] == "created"


def test_a_csl_json_file_nested_past_the_parser_is_a_400_naming_the_file(as_user, library, alice):
    deep = SimpleUploadedFile("deep.json", b"[" * 100_000 + b"]" * 100_000)
    response = post_import(as_user(alice), library, file=deep)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["file"][0]
    assert not ImportRun.objects.exists() and not Job.objects.exists()
