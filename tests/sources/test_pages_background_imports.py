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
