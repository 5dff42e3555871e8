"""The import page: warnings named per record, and *Import anyway* for duplicates."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import Job
from sources.jobs import metadata_in_background
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


# Large imports of any format are jobs (issue 17, Deliver 8) -----------------------------

ENTRIES = 3_000


def bibtex_entries(count: int) -> bytes:
    return "".join(
        f"@article{{k{n},\n  author = {{Zubok, Vladislav}},\n  title = {{Telegram {n}}},\n"
        f"  year = {{1950}},\n}}\n"
        for n in range(count)
    ).encode()


def test_three_thousand_bibtex_entries_never_run_in_the_request(as_user, library, bob, monkeypatch):
    """Default settings: 3,000 entries are ~250 kB, under JOB_THRESHOLD_BYTES, and still a job."""
    data = bibtex_entries(ENTRIES)
    assert len(data) < 1_000_000
    monkeypatch.setattr("jobs.queue.send_to_queue", lambda *args: None)
    monkeypatch.setattr("django.conf.settings.TASK_QUEUE", "celery")
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": SimpleUploadedFile("big.bib", data), "format": ""},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.kind == "import-metadata" and job.params == {"format": "bibtex"}
    assert job.state == "queued" and job.total == 0
    assert not Source.objects.exists()  # nothing imported inside the request


RDF = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:z="http://www.zotero.org/namespaces/export#" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:bib="http://purl.org/net/biblio#">'
)
SHAPES = {  # (file name, head, one record, tail)
    "ris": ("x.ris", "", "TY  - BOOK\nTI  - R{i}\nER  - \n", ""),
    "csl-json": ("x.json", "", "", ""),  # written by json.dumps below
    "zotero-rdf": (
        "x.rdf",
        RDF,
        '<bib:Book rdf:about="#i{i}"><z:itemType>book</z:itemType><dc:title>R{i}</dc:title>'
        "</bib:Book>",
        "</rdf:RDF>",
    ),
    "mods": (
        "x.mods",
        '<modsCollection xmlns="http://www.loc.gov/mods/v3">',
        "<mods><titleInfo><title>R{i}</title></titleInfo></mods>",
        "</modsCollection>",
    ),
    "endnote-xml": (
        "x.xml",
        "<xml><records>",
        "<record><ref-type>6</ref-type><titles><title>R{i}</title></titles></record>",
        "</records></xml>",
    ),
}


def records(fmt: str, count: int) -> SimpleUploadedFile:
    """`count` minimal records in each format the importer reads."""
    name, head, one, tail = SHAPES[fmt]
    if fmt == "csl-json":
        items = [{"id": f"r{i}", "type": "book", "title": f"R{i}"} for i in range(count)]
        return SimpleUploadedFile(name, json.dumps(items).encode())
    body = "".join(one.format(i=i) for i in range(count))
    return SimpleUploadedFile(name, (head + body + tail).encode())


@pytest.mark.parametrize("fmt", ["ris", "csl-json", "zotero-rdf", "mods", "endnote-xml"])
def test_more_than_500_records_of_any_format_is_a_job_and_500_is_not(fmt):
    many = records(fmt, 501)
    assert many.size < 1_000_000  # under JOB_THRESHOLD_BYTES: counted, not weighed
    assert metadata_in_background(many)
    assert not metadata_in_background(records(fmt, 500))
