import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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
