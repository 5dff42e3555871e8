"""The import page: warnings named per record, and *Import anyway* for duplicates."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sources.metadata_import import import_metadata
from sources.models import Source
from tests.factories import make_source


def duplicate_run(library, user):
    make_source(library=library, title="Telegram", identifiers={"DOI": "10.1/t"})
    items = [
        {"type": "manuscript", "title": "Telegram", "DOI": "10.1/t"},
        {"type": "manuscript", "title": "Dated", "issued": {"raw": "Easter Monday, 1950"}},
    ]
    upload = SimpleUploadedFile("d.json", json.dumps(items).encode())
    return import_metadata(library, upload, user=user)


def test_the_page_names_warnings_and_offers_import_anyway(as_user, library, bob):
    run = duplicate_run(library, bob)
    html = as_user(bob).get(reverse("import-detail", args=[run.pk])).content.decode()
    assert "1 created with warnings" in html
    assert "the date “Easter Monday, 1950” is not one EDTF can hold" in html
    assert reverse("import-anyway", args=[run.pk]) in html and 'name="index" value="0"' in html


def test_import_anyway_creates_the_duplicate_and_says_so(as_user, library, bob):
    run = duplicate_run(library, bob)
    response = as_user(bob).post(reverse("import-anyway", args=[run.pk]), {"index": ["0"]})
    assert response.status_code == 302
    assert Source.objects.filter(library=library, title="Telegram").count() == 2
    run.refresh_from_db()
    assert run.outcomes[0]["status"] == "created"
    assert run.outcomes[0]["message"].startswith("Imported anyway: Created as")


def test_import_anyway_refuses_the_wrong_method_outsiders_viewers_and_bad_input(
    as_user, library, bob, vera, mallory
):
    run = duplicate_run(library, bob)
    url = reverse("import-anyway", args=[run.pk])
    assert as_user(bob).get(url).status_code == 405
    assert as_user(mallory).post(url).status_code == 404
    assert as_user(vera).post(url).status_code == 403
    assert as_user(bob).post(url, {"index": ["first"]}).status_code == 400
    assert Source.objects.filter(library=library, title="Telegram").count() == 1
