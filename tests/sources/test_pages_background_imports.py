"""Large uploads through the pages run as background jobs and end on the job page."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import Job, JobState


def test_a_large_text_upload_becomes_a_job_that_adds_the_revision(as_user, bob, source, settings):
    settings.JOB_THRESHOLD_BYTES = 100
    body = ("Mao arrived in Moscow on 16 December 1949. " * 10).encode()
    response = as_user(bob).post(
        reverse("text-create", args=[source.pk]),
        {"file": SimpleUploadedFile("long.txt", body), "encoding": "", "note": "big"},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert source.current_text.revision == 2 and source.current_text.note == "big"


def test_a_large_metadata_file_becomes_a_job_with_outcomes(as_user, bob, library, settings):
    settings.JOB_THRESHOLD_BYTES = 10
    data = b'[{"id": "k1", "type": "book", "title": "Brothers in Arms", "issued": "1998"}]'
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": SimpleUploadedFile("zotero.json", data), "format": ""},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert library.sources.filter(title="Brothers in Arms").exists()


def test_a_small_file_of_many_records_becomes_a_job_too(as_user, bob, library, settings):
    settings.JOB_THRESHOLD_RECORDS = 2
    items = ",".join(f'{{"id": "r{n}", "type": "book", "title": "Record {n}"}}' for n in range(3))
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": SimpleUploadedFile("zotero.json", f"[{items}]".encode()), "format": ""},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.total == 3
    assert library.sources.count() == 3


def test_a_ris_file_at_the_record_threshold_is_imported_in_the_request(
    as_user, bob, library, settings
):
    settings.JOB_THRESHOLD_RECORDS = 2
    ris = b"TY  - BOOK\nTI  - One\nER  - \nTY  - BOOK\nTI  - Two\nER  - \n"
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": SimpleUploadedFile("export.ris", ris), "format": "ris"},
    )
    assert response.status_code == 302 and "/imports/" in response["Location"]
    assert not Job.objects.exists() and library.sources.count() == 2


def test_an_empty_upload_on_the_page_is_refused_on_the_file_field(as_user, bob, library):
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": SimpleUploadedFile("empty.json", b""), "format": ""},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert not Job.objects.exists()


def test_html_or_markdown_of_many_elements_is_imported_by_a_job_however_small(
    as_user, bob, source, settings
):
    """bleach cleans ~20,000 elements a second: 1 MB of dense markup held a request 6 s."""
    settings.JOB_THRESHOLD_ELEMENTS = 100
    dense = "<p>Stalin received Mao.</p>" * 101
    as_user(bob).post(
        reverse("text-create", args=[source.pk]),
        {"file": SimpleUploadedFile("dense.html", dense.encode()), "encoding": "", "note": ""},
    )
    job = Job.objects.get()
    assert job.state == JobState.SUCCEEDED, job.error
    as_user(bob).post(
        reverse("text-create", args=[source.pk]),
        {
            "file": SimpleUploadedFile("list.md", ("- item\n" * 120).encode()),
            "encoding": "",
            "note": "",
        },
    )
    assert Job.objects.count() == 2  # 120 items and their list: 121 elements
    as_user(bob).post(
        reverse("text-create", args=[source.pk]),
        {
            "file": SimpleUploadedFile("short.md", ("- item\n" * 40).encode()),
            "encoding": "",
            "note": "",
        },
    )
    assert Job.objects.count() == 2  # 41 elements: in the request
    assert source.current_text.revision == 4
