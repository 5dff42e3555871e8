"""Uploading a new text revision and importing a metadata file through the pages."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sources.models import ImportRun, Source, SourceText
from tests.factories import make_source

# New revisions of a text


def upload(client, source, content: bytes, name: str = "fixed.txt", **fields):
    data = {"file": SimpleUploadedFile(name, content), "encoding": "", "note": "", **fields}
    return client.post(reverse("text-create", args=[source.pk]), data)


def test_editor_uploads_a_corrected_revision_and_the_old_stays_readable(as_user, bob, source):
    client = as_user(bob)
    response = upload(
        client, source, b"Mao said the treaty mattered greatly.", note="corrected translation"
    )
    assert response.status_code == 302
    assert response["Location"] == source.get_absolute_url()
    latest = source.texts.get(revision=2)
    assert latest.text == "Mao said the treaty mattered greatly."
    assert (latest.note, latest.file_name, latest.imported_by) == (
        "corrected translation",
        "fixed.txt",
        bob,
    )
    current = client.get(source.get_absolute_url()).content.decode()
    assert "mattered greatly." in current and "corrected translation" in current
    old = client.get(source.get_absolute_url(), {"revision": "1"}).content.decode()
    assert "Mao said the treaty mattered.</p>" in old
    diff = client.get(reverse("source-compare", args=[source.pk])).content.decode()
    assert "<ins> greatly</ins>" in diff


def test_a_chosen_encoding_decodes_a_cyrillic_file(as_user, bob, source):
    text = "Запись беседы с Мао Цзэдуном"
    response = upload(as_user(bob), source, text.encode("cp1251"), encoding="cp1251")
    assert response.status_code == 302
    assert source.texts.get(revision=2).text == text


def test_the_form_offers_the_importers_encodings(as_user, bob, source):
    content = as_user(bob).get(reverse("text-create", args=[source.pk])).content.decode()
    assert '<option value="cp1251">' in content
    assert 'enctype="multipart/form-data"' in content
    assert "becomes revision 2" in content


@pytest.mark.parametrize(
    ("content", "name", "fields", "field", "message"),
    [
        (b"", "empty.txt", {}, "file", "empty"),
        (b"MZ\x90\x00\x03\x00", "virus.exe", {}, "file", "not a file type"),
        (b"text", "ok.txt", {"encoding": "rot13"}, "encoding", "valid choice"),
        (b"text", "ok.txt", {"note": "x" * 501}, "note", "at most 500"),
    ],
)
def test_a_bad_upload_is_400_naming_the_field(
    content, name, fields, field, message, as_user, bob, source
):
    response = upload(as_user(bob), source, content, name, **fields)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert source.texts.count() == 1


def test_a_missing_file_is_400_on_the_file_field(as_user, bob, source):
    response = as_user(bob).post(reverse("text-create", args=[source.pk]), {"note": "x"})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_an_oversized_file_is_413(as_user, bob, source, settings):
    settings.MAX_UPLOAD_BYTES = 100
    response = upload(as_user(bob), source, b"x" * 101)
    assert response.status_code == 413
    assert "limit" in " ".join(response.context["form"].errors["file"])
    assert source.texts.count() == 1


def test_viewer_cannot_upload_a_revision(as_user, vera, source):
    response = upload(as_user(vera), source, b"Rewritten by the viewer.")
    assert response.status_code == 403
    assert not SourceText.objects.filter(text__contains="viewer").exists()


# Metadata imports


def csl_file(items: list[dict], name: str = "zotero.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(items).encode(), content_type="application/json")


ITEMS = [
    {
        "id": "new",
        "type": "article-magazine",
        "title": "'Face' and something 'delicious'",
        "author": [{"family": "Radchenko", "given": "Sergey"}],
        "issued": {"date-parts": [[2013, 2, 14]]},
    },
    {
        "id": "again",
        "type": "manuscript",
        "title": "Record of conversation with Mao Zedong",
        "author": [{"family": "Roshchin", "given": "N. V."}],
        "issued": {"date-parts": [[1950, 1, 1]]},
    },
    "not a record: a string where an item belongs",  # one field never fails a record
]


def test_import_creates_sources_and_reports_every_record(as_user, bob, library, source):
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]), {"file": csl_file(ITEMS), "format": ""}
    )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-detail", args=[run.pk])
    created = Source.objects.get(title="'Face' and something 'delicious'")
    page = as_user(bob).get(response["Location"])
    content = page.content.decode()
    assert page.status_code == 200
    assert "3 records: 1 created, 1 duplicate, 1 failed." in content
    assert f'href="{created.get_absolute_url()}"' in content
    assert f'href="{source.get_absolute_url()}"' in content  # the duplicate's original
    assert [row["status"] for row in page.context["rows"]] == ["created", "duplicate", "failed"]
    assert page.context["rows"][2]["message"] in content.replace("&#x27;", "'")
    assert reverse("import-create", args=[library.slug]) in content  # import another file


def test_import_page_lists_past_imports(as_user, bob, vera, library):
    as_user(bob).post(reverse("import-create", args=[library.slug]), {"file": csl_file(ITEMS)})
    content = as_user(bob).get(reverse("import-create", args=[library.slug])).content.decode()
    run = ImportRun.objects.get()
    assert reverse("import-detail", args=[run.pk]) in content
    assert "zotero.json" in content and "CSL-JSON" in content


def test_an_explicit_format_is_used(as_user, bob, library):
    ris = b"TY  - BOOK\nTI  - Brothers in Arms\nAU  - Westad, Odd Arne\nPY  - 1998\nER  - \n"
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": SimpleUploadedFile("export.txt", ris), "format": "ris"},
    )
    assert response.status_code == 302
    assert ImportRun.objects.get().format == "ris"
    assert Source.objects.filter(title="Brothers in Arms").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"file": SimpleUploadedFile("notes.txt", b"just some words")}, "file"),
        ({}, "file"),
        ({"file": SimpleUploadedFile("x.json", b"[]"), "format": "endnote"}, "format"),
    ],
)
def test_an_unreadable_metadata_file_is_400_naming_the_field(data, field, as_user, bob, library):
    response = as_user(bob).post(reverse("import-create", args=[library.slug]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ImportRun.objects.exists()


def test_an_oversized_metadata_file_is_413(as_user, bob, library, settings):
    settings.MAX_UPLOAD_BYTES = 50
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]), {"file": csl_file(ITEMS)}
    )
    assert response.status_code == 413
    assert not ImportRun.objects.exists()


def test_viewer_cannot_import(as_user, vera, library):
    response = as_user(vera).post(
        reverse("import-create", args=[library.slug]), {"file": csl_file(ITEMS)}
    )
    assert response.status_code == 403
    assert not Source.objects.exists()


def test_import_result_of_another_library_is_404(as_user, mallory, alice, library):
    run = ImportRun.objects.create(library=library, user=alice, file_name="a.json", format="ris")
    assert as_user(mallory).get(reverse("import-detail", args=[run.pk])).status_code == 404


def test_import_result_survives_a_deleted_source(as_user, alice, library):
    gone = make_source(library=library, title="Soon gone")
    run = ImportRun.objects.create(
        library=library,
        user=alice,
        file_name="a.json",
        format="csl-json",
        outcomes=[{"index": 0, "status": "created", "title": "Soon gone", "source": gone.pk}],
    )
    gone.delete()
    content = as_user(alice).get(reverse("import-detail", args=[run.pk])).content.decode()
    assert "Soon gone" in content and "since deleted" in content
