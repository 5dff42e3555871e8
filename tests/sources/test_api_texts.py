import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import Job
from sources.models import SourceText
from tests.factories import make_text


def texts_url(source) -> str:
    return f"/api/sources/{source.pk}/texts/"


def revision_url(source, revision: int) -> str:
    return f"/api/sources/{source.pk}/texts/{revision}/"


def upload(name: str = "corrected.txt", content: bytes = b"Mao said the treaty mattered most."):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def post_text(client, source, **fields):
    fields.setdefault("file", upload())
    return client.post(texts_url(source), fields, format="multipart")


# Reading ------------------------------------------------------------------------------


def test_revisions_are_listed_with_checksum_but_without_text(as_user, source, vera):
    make_text(source=source, text="Corrected translation", note="corrected translation")
    response = as_user(vera).get(texts_url(source))
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert (first["revision"], second["revision"]) == (1, 2)
    assert second["sha256"] == source.texts.get(revision=2).sha256
    assert second["verified"] is True
    assert second["note"] == "corrected translation"
    assert second["length"] == len("Corrected translation")
    assert "text" not in second


def test_each_revision_names_its_id_to_annotate_it_with(as_user, source, vera, bob):
    """Creating an annotation, evidence or a claim from a highlight takes the text's id."""
    listed = as_user(vera).get(texts_url(source)).json()["results"][0]
    assert listed["id"] == source.texts.get(revision=1).pk
    assert as_user(vera).get(revision_url(source, 1)).json()["id"] == listed["id"]
    created = post_text(as_user(bob), source).json()
    assert created["id"] == source.texts.get(revision=2).pk
    annotation = as_user(bob).post(
        "/api/annotations/", {"text": created["id"], "start": 0, "end": 3}, format="json"
    )
    assert annotation.status_code == 201, annotation.content


def test_include_text_adds_each_revision_text(as_user, source, vera):
    response = as_user(vera).get(texts_url(source), {"include": "text"})
    assert response.json()["results"][0]["text"] == "Mao said the treaty mattered."


def test_unknown_include_is_a_400_naming_it(as_user, source, vera):
    response = as_user(vera).get(texts_url(source), {"include": "everything"})
    assert response.status_code == 400
    assert "include" in response.json()


def test_tampered_text_is_reported_unverified(as_user, source, vera):
    SourceText.objects.filter(source=source).update(text="Mao said nothing.")
    assert as_user(vera).get(texts_url(source)).json()["results"][0]["verified"] is False


def test_one_revision_has_text_clean_html_and_page_map_but_never_raw_html(as_user, source, vera):
    make_text(
        source=source,
        text="Page one.\n\nPage two.",
        html="<p>Page one.</p><p>Page two.</p>",
        html_raw='<p onclick="steal()">Page one.</p><script>x()</script>',
        page_map=[[0, "1"], [11, "2"]],
    )
    data = as_user(vera).get(revision_url(source, 2)).json()
    assert data["text"] == "Page one.\n\nPage two."
    assert data["html"] == "<p>Page one.</p><p>Page two.</p>"
    assert data["page_map"] == [[0, "1"], [11, "2"]]
    assert "html_raw" not in data
    assert "steal" not in str(data)


def test_missing_revision_is_404(as_user, source, vera):
    assert as_user(vera).get(revision_url(source, 9)).status_code == 404


@pytest.mark.parametrize("persona", ["mallory", None])
def test_outsider_and_anonymous_cannot_read_texts_of_a_private_source(
    as_user, source, persona, request
):
    user = request.getfixturevalue(persona) if persona else None
    assert as_user(user).get(texts_url(source)).status_code == 404
    assert as_user(user).get(revision_url(source, 1)).status_code == 404


def test_texts_of_an_unknown_source_are_404(as_user, alice, db):
    assert as_user(alice).get("/api/sources/999999/texts/").status_code == 404


def test_text_list_is_paginated(as_user, source, vera):
    for n in range(3):
        make_text(source=source, text=f"revision {n + 2}")
    data = as_user(vera).get(texts_url(source), {"limit": 2, "offset": 2}).json()
    assert data["count"] == 4
    assert [r["revision"] for r in data["results"]] == [3, 4]


# Uploading ----------------------------------------------------------------------------


def test_editor_uploads_a_new_revision_and_gets_its_location(as_user, source, bob):
    response = post_text(as_user(bob), source, note="corrected translation")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["revision"] == 2
    assert data["text"] == "Mao said the treaty mattered most."
    assert data["imported_by"] == "bob"
    assert data["file_name"] == "corrected.txt"
    assert response["Location"].endswith(revision_url(source, 2))
    assert as_user(bob).get(response["Location"]).json()["sha256"] == data["sha256"]


def test_upload_in_a_named_encoding(as_user, source, alice):
    cyrillic = upload("zapis.txt", "Запись беседы с Мао Цзэдуном".encode("cp1251"))
    response = post_text(as_user(alice), source, file=cyrillic, encoding="cp1251")
    assert response.status_code == 201, response.content
    assert response.json()["text"] == "Запись беседы с Мао Цзэдуном"
    assert response.json()["encoding"] == "cp1251"


def test_html_upload_is_sanitised(as_user, source, alice):
    page = upload("page.html", b"<p>Quoted <b>here</b>.</p><script>alert(1)</script>")
    response = post_text(as_user(alice), source, file=page)
    assert response.status_code == 201, response.content
    assert "<b>here</b>" in response.json()["html"]
    assert "script" not in response.json()["html"]


def test_viewer_cannot_upload_a_revision(as_user, source, vera):
    assert post_text(as_user(vera), source).status_code == 403
    assert source.texts.count() == 1


def test_outsider_cannot_upload_a_revision(as_user, source, mallory):
    assert post_text(as_user(mallory), source).status_code == 404
    assert source.texts.count() == 1


def test_anonymous_cannot_upload_a_revision(as_user, source):
    assert post_text(as_user(None), source).status_code in (401, 403)
    assert source.texts.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"file": ""}, "file"),
        ({"file": upload("empty.txt", b"")}, "file"),
        ({"file": upload("scan.exe", b"MZ\x90\x00")}, "file"),
        ({"encoding": "rot13"}, "encoding"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_invalid_upload_is_a_400_naming_the_field(as_user, source, bob, fields, field):
    response = post_text(as_user(bob), source, **fields)
    assert response.status_code == 400
    assert field in response.json()
    assert source.texts.count() == 1


def test_oversize_upload_is_413_and_writes_nothing(as_user, source, bob, settings):
    settings.MAX_UPLOAD_BYTES = 10
    response = post_text(as_user(bob), source, file=upload(content=b"x" * 11))
    assert response.status_code == 413
    assert "file" in response.json()
    assert source.texts.count() == 1


def test_json_body_is_refused_with_415(as_user, source, bob):
    response = as_user(bob).post(texts_url(source), {"text": "typed in"}, format="json")
    assert response.status_code == 415
    assert source.texts.count() == 1


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_revisions_are_immutable(as_user, source, alice, method):
    response = getattr(as_user(alice), method)(revision_url(source, 1), {"note": "x"})
    assert response.status_code == 405
    assert source.texts.get(revision=1).note == ""


# Large uploads run as background jobs --------------------------------------------------


def test_a_text_larger_than_the_threshold_is_a_job_202(as_user, source, bob, settings):
    settings.JOB_THRESHOLD_BYTES = 100
    body = ("Mao arrived in Moscow on 16 December 1949. " * 10).encode()
    response = post_text(as_user(bob), source, file=upload("long.txt", body), note="big")
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    data = response.json()
    assert (data["id"], data["kind"], data["state"]) == (job.pk, "import-text", "succeeded")
    assert data["url"] == f"/jobs/{job.pk}/"
    assert response["Location"] == data["status_url"] == f"http://testserver/api/jobs/{job.pk}/"
    result = as_user(bob).get(data["status_url"]).json()["result"]
    text = source.texts.get(revision=2)
    assert (result["text"], result["revision"]) == (text.pk, 2)
    assert text.note == "big" and text.imported_by == bob


def test_a_large_upload_with_a_bad_option_is_a_400_naming_it(as_user, source, bob, settings):
    settings.JOB_THRESHOLD_BYTES = 10
    response = post_text(as_user(bob), source, encoding="rot13")
    assert response.status_code == 400
    assert "encoding" in response.json()
    assert not Job.objects.exists() and source.texts.count() == 1


def test_a_viewer_cannot_start_a_large_text_import(as_user, source, vera, settings):
    settings.JOB_THRESHOLD_BYTES = 10
    assert post_text(as_user(vera), source).status_code == 403
    assert not Job.objects.exists()
