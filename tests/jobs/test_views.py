"""The job pages: progress, result or error, the JSON the page polls, retry, download,
a library's job list and its backup button."""

from __future__ import annotations

import io
import zipfile

import pytest

from citations.jobs import EXPORT
from jobs import queue
from jobs.models import Job, JobState
from search.jobs import REINDEX
from sources.jobs import IMPORT_METADATA
from sources.models import Role, Source
from sources.sharing.jobs import BACKUP
from tests.factories import make_user
from tests.jobs.test_queue import csl_records, import_job


@pytest.fixture
def finished(library, alice):
    return import_job(library, alice, count=3)


@pytest.fixture
def failed(library, alice, monkeypatch):
    from sources import metadata_import

    def broken(library, record, *, index, user, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(metadata_import, "import_record", broken)
    job = import_job(library, alice, count=3)
    monkeypatch.undo()
    return job


@pytest.fixture
def running(library, alice):
    return Job.objects.create(
        kind=IMPORT_METADATA,
        library=library,
        user=alice,
        state=JobState.RUNNING,
        done=40,
        total=160,
        message="Importing 160 records from big.json",
        upload_name="big.json",
        upload=csl_records(1),
        params={"format": "csl-json"},
        attempts=1,
    )


# --- The page -------------------------------------------------------------------------------


def test_a_running_job_shows_a_progress_bar_that_polls_its_json(as_user, alice, running):
    response = as_user(alice).get(f"/jobs/{running.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-job-status-url="/jobs/{running.pk}.json"' in page
    assert (
        '<progress id="job-progress" data-job-progress max="160" value="40">25%</progress>' in page
    )
    assert "Importing 160 records from big.json" in page
    assert "js/jobs.js" in page and "<script>" not in page  # no inline script
    assert "Retry" not in page


def test_a_succeeded_import_links_to_the_outcome_of_every_record(as_user, alice, finished):
    page = as_user(alice).get(f"/jobs/{finished.pk}/").content.decode()
    assert "3 created, 0 duplicates, 0 failed." in page
    assert f'href="/imports/{finished.result["import_run"]}/"' in page
    assert "<progress" not in page


def test_a_failed_job_shows_why_and_offers_its_owner_a_retry(as_user, alice, failed):
    page = as_user(alice).get(f"/jobs/{failed.pk}/").content.decode()
    assert "An internal error stopped the job" in page
    assert "Nothing of this job was saved." in page
    assert f'action="/jobs/{failed.pk}/retry/"' in page


@pytest.mark.parametrize("persona", ["bob", "vera"])
def test_a_member_who_did_not_start_the_job_and_owns_nothing_gets_404(
    as_user, request, persona, failed
):
    client = as_user(request.getfixturevalue(persona))
    for url in (f"/jobs/{failed.pk}/", f"/jobs/{failed.pk}.json", f"/jobs/{failed.pk}/download/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/jobs/{failed.pk}/retry/").status_code == 404


def test_an_owner_sees_an_editors_failed_job_and_may_retry_it(as_user, alice, bob, library):
    from sources import metadata_import

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metadata_import, "import_record", None)  # TypeError: a bug
        job = import_job(library, bob)
    page = as_user(alice).get(f"/jobs/{job.pk}/").content.decode()
    assert "An internal error stopped the job" in page and f"/jobs/{job.pk}/retry/" in page


def test_an_outsider_gets_404_for_a_job(as_user, mallory, finished):
    assert as_user(mallory).get(f"/jobs/{finished.pk}/").status_code == 404


def test_an_anonymous_visitor_is_asked_to_sign_in(as_user, finished):
    response = as_user(None).get(f"/jobs/{finished.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_job_page_answers_only_get(as_user, alice, finished):
    assert as_user(alice).post(f"/jobs/{finished.pk}/").status_code == 405


# --- The JSON it polls ------------------------------------------------------------------------


def test_the_status_json_says_how_far_the_job_is(as_user, alice, running):
    response = as_user(alice).get(f"/jobs/{running.pk}.json")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    status = response.json()
    assert status["state"] == "running" and status["finished"] is False
    assert (status["done"], status["total"], status["percent"]) == (40, 160, 25)
    assert status["message"] == "Importing 160 records from big.json"
    assert status["url"] == f"/jobs/{running.pk}/" and status["download_url"] is None


def test_the_status_json_of_a_finished_job_carries_its_result(as_user, alice, finished):
    status = as_user(alice).get(f"/jobs/{finished.pk}.json").json()
    assert status["finished"] is True and status["percent"] == 100
    assert status["result"]["counts"] == {"created": 3, "duplicate": 0, "failed": 0}


def test_the_status_json_refuses_outsiders_anonymous_and_writes(as_user, mallory, alice, running):
    assert as_user(mallory).get(f"/jobs/{running.pk}.json").status_code == 404
    staff = make_user(username="root", is_staff=True)  # staff see site-wide jobs only
    assert as_user(staff).get(f"/jobs/{running.pk}.json").status_code == 404
    assert as_user(None).get(f"/jobs/{running.pk}.json").status_code == 401
    assert as_user(alice).post(f"/jobs/{running.pk}.json").status_code == 405


# --- Retry ------------------------------------------------------------------------------------


def test_retrying_a_failed_job_runs_it_and_shows_its_result(as_user, alice, failed, library):
    response = as_user(alice).post(f"/jobs/{failed.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{failed.pk}/"
    failed.refresh_from_db()
    assert failed.state == JobState.SUCCEEDED
    assert Source.objects.filter(library=library).count() == 3


def test_an_owner_may_retry_an_editors_job(as_user, alice, bob, library, monkeypatch):
    from sources import metadata_import

    monkeypatch.setattr(metadata_import, "import_record", None)  # TypeError: a bug
    job = import_job(library, bob)
    monkeypatch.undo()
    assert job.state == JobState.FAILED
    assert as_user(alice).post(f"/jobs/{job.pk}/retry/").status_code == 302
    assert as_user(bob).get(f"/jobs/{job.pk}.json").json()["state"] == "succeeded"


def test_a_viewer_cannot_retry_a_job_she_cannot_see(as_user, vera, failed):
    assert as_user(vera).post(f"/jobs/{failed.pk}/retry/").status_code == 404
    failed.refresh_from_db()
    assert failed.state == JobState.FAILED


def test_a_starter_demoted_to_viewer_sees_the_job_but_cannot_retry(as_user, bob, library):
    from sources import metadata_import

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metadata_import, "import_record", None)  # TypeError: a bug
        job = import_job(library, bob)
    library.memberships.filter(user=bob).update(role=Role.VIEWER)
    client = as_user(bob)
    assert "/retry/" not in client.get(f"/jobs/{job.pk}/").content.decode()
    assert client.post(f"/jobs/{job.pk}/retry/").status_code == 403
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED


def test_an_outsider_cannot_retry(as_user, mallory, failed):
    assert as_user(mallory).post(f"/jobs/{failed.pk}/retry/").status_code == 404


def test_retry_answers_only_post(as_user, alice, failed):
    assert as_user(alice).get(f"/jobs/{failed.pk}/retry/").status_code == 405


def test_a_succeeded_job_is_not_retried(as_user, alice, finished):
    response = as_user(alice).post(f"/jobs/{finished.pk}/retry/")
    assert response.status_code == 409
    assert "A succeeded job cannot be retried." in response.content.decode()
    assert Job.objects.get(pk=finished.pk).attempts == 1


# --- Download, list, backup -------------------------------------------------------------------


def test_an_export_is_downloaded_as_an_attachment(as_user, library, vera, source):
    job = queue.enqueue(EXPORT, library=library, user=vera, format="ris")
    response = as_user(vera).get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-research-info-systems")
    assert response["Content-Disposition"] == f'attachment; filename="{job.output_name}"'
    assert b"TY  - MANSCPT" in response.content
    assert (
        f'href="/jobs/{job.pk}/download/"'
        in as_user(vera).get(job.get_absolute_url()).content.decode()
    )


def test_a_job_without_a_file_has_nothing_to_download(as_user, alice, finished):
    assert as_user(alice).get(f"/jobs/{finished.pk}/download/").status_code == 404


def test_a_viewer_cannot_download_or_even_see_the_owners_backup(as_user, library, alice, vera):
    backup = queue.enqueue(BACKUP, library=library, user=alice)
    assert backup.output_name
    client = as_user(vera)
    assert client.get(f"/jobs/{backup.pk}/download/").status_code == 404
    assert client.get(f"/jobs/{backup.pk}/").status_code == 404
    assert client.get(f"/jobs/{backup.pk}.json").status_code == 404
    assert as_user(alice).get(f"/jobs/{backup.pk}/download/").status_code == 200


def test_an_owner_sees_a_viewers_export_but_may_not_download_it(as_user, library, alice, vera):
    export = queue.enqueue(EXPORT, library=library, user=vera, format="ris")
    client = as_user(alice)
    assert client.get(f"/jobs/{export.pk}/download/").status_code == 403
    page = client.get(f"/jobs/{export.pk}/").content.decode()
    assert "/download/" not in page and "Only vera may download its file." in page
    assert client.get(f"/jobs/{export.pk}.json").json()["download_url"] is None
    own = as_user(vera).get(f"/jobs/{export.pk}.json").json()
    assert own["download_url"] == f"/jobs/{export.pk}/download/"


def test_a_starter_who_is_no_longer_an_owner_cannot_download_their_backup(
    as_user, library, alice, bob
):
    backup = queue.enqueue(BACKUP, library=library, user=alice)
    library.memberships.filter(user=bob).update(role=Role.OWNER)
    library.memberships.filter(user=alice).update(role=Role.EDITOR)
    client = as_user(alice)
    assert client.get(f"/jobs/{backup.pk}/").status_code == 200  # still hers to see
    assert client.get(f"/jobs/{backup.pk}/download/").status_code == 403
    assert as_user(bob).get(f"/jobs/{backup.pk}/download/").status_code == 403  # not his


def test_an_anonymous_visitor_is_asked_to_sign_in_to_download(as_user, library, alice):
    backup = queue.enqueue(BACKUP, library=library, user=alice)
    response = as_user(None).get(f"/jobs/{backup.pk}/download/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_outsider_cannot_download(as_user, library, alice, mallory, source):
    job = queue.enqueue(EXPORT, library=library, user=alice, format="ris")
    assert as_user(mallory).get(f"/jobs/{job.pk}/download/").status_code == 404
    assert as_user(alice).post(f"/jobs/{job.pk}/download/").status_code == 405


def test_the_library_lists_every_job_to_owners(as_user, library, alice, bob, finished, failed):
    bobs = import_job(library, bob)
    response = as_user(alice).get(f"/libraries/{library.slug}/jobs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('href="/jobs/') == 3 and f'href="/jobs/{bobs.pk}/"' in page


def test_the_library_lists_to_other_members_only_the_jobs_they_started(
    as_user, library, vera, finished, failed, source
):
    own = queue.enqueue(EXPORT, library=library, user=vera, format="ris")
    response = as_user(vera).get(f"/libraries/{library.slug}/jobs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('href="/jobs/') == 1 and f'href="/jobs/{own.pk}/"' in page
    assert "Back up this library" not in page  # owners only


def test_the_job_list_is_hidden_from_outsiders_and_answers_only_get(
    as_user, library, mallory, alice
):
    assert as_user(mallory).get(f"/libraries/{library.slug}/jobs/").status_code == 404
    assert as_user(alice).post(f"/libraries/{library.slug}/jobs/").status_code == 405


def test_an_owner_backs_up_the_library_from_its_job_list(as_user, library, alice, source):
    client = as_user(alice)
    assert "Back up this library" in client.get(f"/libraries/{library.slug}/jobs/").content.decode()
    response = client.post(f"/libraries/{library.slug}/jobs/backup/")
    job = Job.objects.get(kind=BACKUP)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert "data/sources.source.jsonl" in archive.namelist()


def test_an_editor_cannot_back_up(as_user, library, bob):
    assert as_user(bob).post(f"/libraries/{library.slug}/jobs/backup/").status_code == 403
    assert not Job.objects.exists()


def test_an_outsider_cannot_back_up_and_backup_answers_only_post(as_user, library, mallory, alice):
    assert as_user(mallory).post(f"/libraries/{library.slug}/jobs/backup/").status_code == 404
    assert as_user(alice).get(f"/libraries/{library.slug}/jobs/backup/").status_code == 405


def test_an_editor_rebuilds_the_search_index_from_the_job_list(as_user, library, bob, source):
    client = as_user(bob)
    page = client.get(f"/libraries/{library.slug}/jobs/").content.decode()
    assert "Rebuild the search index" in page and "Back up this library" not in page
    response = client.post(f"/libraries/{library.slug}/jobs/reindex/")
    job = Job.objects.get(kind=REINDEX)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.state == JobState.SUCCEEDED and job.result["entries"] > 0
    assert "The search index was rebuilt" in client.get(job.get_absolute_url()).content.decode()


def test_a_viewer_or_outsider_cannot_reindex_and_reindex_answers_only_post(
    as_user, library, vera, mallory, bob
):
    assert as_user(vera).post(f"/libraries/{library.slug}/jobs/reindex/").status_code == 403
    assert as_user(mallory).post(f"/libraries/{library.slug}/jobs/reindex/").status_code == 404
    assert as_user(bob).get(f"/libraries/{library.slug}/jobs/reindex/").status_code == 405
    assert not Job.objects.exists()
