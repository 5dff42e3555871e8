"""Background jobs (jobs.queue, jobs.runner) and the kinds the packages register: run inline,
their failures and retries, and the queueing contract with Celery (the broker itself is in
test_faults.py)."""

from __future__ import annotations

import dataclasses
import io
import json
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections
from django.http import Http404

from annotations.jobs import REANCHOR
from citations.jobs import EXPORT
from core.uploads import UploadError
from jobs import queue, registry, runner
from jobs.models import Job, JobState
from search.jobs import REINDEX
from sources.jobs import IMPORT_METADATA, IMPORT_TEXT
from sources.models import ImportRun, Library, Source, SourceText
from sources.sharing.jobs import BACKUP
from tests.factories import make_annotation, make_source, make_text, make_user

TELEGRAM = "Stalin received Mao Zedong in the Kremlin. The treaty was not discussed."


def csl_records(count: int, *, start: int = 0) -> bytes:
    items = [
        {
            "id": f"item{n}",
            "type": "manuscript",
            "title": f"Telegram number {n} from Moscow to Beijing",
            "issued": {"date-parts": [[1900 + n % 97, 1 + n % 12, 1 + n % 28]]},
            "author": [{"family": f"Roshchin-{n % 89}", "given": "N. V."}],
            "archive": "AVPRF",
        }
        for n in range(start, start + count)
    ]
    return json.dumps(items).encode()


def running(kind: str, run):
    """The registered `kind`, doing `run` instead of its work, for the block."""
    replaced = dataclasses.replace(registry.get(kind), run=run)
    return mock.patch.dict(registry._kinds, {kind: replaced})


def upload(data: bytes, name: str = "zotero.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def import_job(library, user, count: int = 5) -> Job:
    return queue.enqueue(
        IMPORT_METADATA, library=library, user=user, upload=upload(csl_records(count))
    )


@pytest.fixture
def failing_after_two(monkeypatch):
    """The third record's import raises as a bug would (after two records were written)."""
    from sources import metadata_import

    real = metadata_import.import_record

    def flaky(library, record, *, index, user, **kwargs):
        if index == 2:
            raise RuntimeError("disk on fire")
        return real(library, record, index=index, user=user, **kwargs)

    monkeypatch.setattr(metadata_import, "import_record", flaky)
    return monkeypatch


# --- Running inline -----------------------------------------------------------------------


def test_metadata_import_job_imports_every_record_and_links_the_run(library, alice):
    job = import_job(library, alice, count=7)
    assert job.state == JobState.SUCCEEDED
    assert (job.done, job.total, job.percent, job.attempts) == (7, 7, 100, 1)
    run = ImportRun.objects.get(pk=job.result["import_run"])
    assert run.counts() == {"created": 7, "duplicate": 0, "failed": 0} == job.result["counts"]
    assert run.file_name == "zotero.json" and run.user == alice and run.format == "csl-json"
    assert Source.objects.filter(library=library).count() == 7
    assert job.result["url"] == f"/imports/{run.pk}/"
    assert bytes(Job.objects.get(pk=job.pk).upload) == b""  # the input is not kept after success


def test_a_job_failing_midway_writes_nothing_and_keeps_its_input(library, alice, failing_after_two):
    before = Source.objects.count()
    job = import_job(library, alice, count=5)
    assert job.state == JobState.FAILED
    assert "internal error" in job.error and f"job {job.pk}" in job.error
    assert Source.objects.count() == before
    assert not ImportRun.objects.exists()
    assert bytes(Job.objects.get(pk=job.pk).upload) == csl_records(5)
    assert job.is_retryable


def test_retrying_a_failed_job_runs_it_again_with_the_same_input(library, alice, failing_after_two):
    job = import_job(library, alice, count=4)
    failing_after_two.undo()
    retried = queue.retry(job, alice)
    assert retried.state == JobState.SUCCEEDED
    assert retried.error == "" and retried.attempts == 1
    assert Source.objects.filter(library=library).count() == 4
    assert ImportRun.objects.count() == 1


def test_a_succeeded_job_cannot_be_retried(library, alice):
    job = import_job(library, alice, count=1)
    with pytest.raises(ValidationError) as caught:
        queue.retry(job, alice)
    assert "state" in caught.value.message_dict


def test_an_unreadable_file_is_refused_before_any_job_is_recorded(library, alice):
    with pytest.raises(UploadError) as caught:
        queue.enqueue(
            IMPORT_METADATA, library=library, user=alice, upload=upload(b"hello", "a.txt")
        )
    assert caught.value.field == "file"
    assert not Job.objects.exists()


def test_an_unknown_format_is_refused_naming_the_field(library, alice):
    with pytest.raises(UploadError) as caught:
        queue.enqueue(
            IMPORT_METADATA,
            library=library,
            user=alice,
            upload=upload(csl_records(1)),
            format="endnote",
        )
    assert caught.value.field == "format"


def test_a_file_over_the_upload_limit_is_refused_with_413(library, alice, settings):
    settings.MAX_UPLOAD_BYTES = 100
    with pytest.raises(UploadError) as caught:
        import_job(library, alice, count=10)
    assert caught.value.status == 413


def test_a_viewer_cannot_start_an_import_job(library, vera):
    with pytest.raises(PermissionDenied):
        import_job(library, vera)


def test_an_outsider_cannot_see_that_the_library_exists(library, mallory):
    with pytest.raises(Http404):
        import_job(library, mallory)


def test_an_unknown_kind_is_refused(library, alice):
    with pytest.raises(ValidationError) as caught:
        queue.enqueue("defragment", library=library, user=alice)
    assert "kind" in caught.value.message_dict


def test_only_staff_start_site_wide_jobs(alice, db):
    with pytest.raises(PermissionDenied):
        queue.enqueue(BACKUP, library=None, user=alice)


def test_an_editor_removed_while_the_job_waited_makes_it_fail_cleanly(library, bob, settings):
    settings.TASK_QUEUE = "celery"
    with mock.patch("jobs.queue.transaction.on_commit"):
        job = import_job(library, bob)
    library.memberships.filter(user=bob).update(role="viewer")
    runner.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "may no longer change the library" in job.error
    assert not Source.objects.filter(library=library).exists()


def test_large_uploads_run_in_the_background(settings):
    settings.JOB_THRESHOLD_BYTES = 10
    assert queue.runs_in_background(upload(b"x" * 11))
    assert not queue.runs_in_background(upload(b"x" * 10))
    assert not queue.runs_in_background(None)


def test_text_import_job_adds_a_revision_and_carries_annotations_over(library, alice, bob):
    source = make_source(library=library)
    first = make_text(source=source, text=TELEGRAM)
    note = make_annotation(text=first, creator=bob, quote="the Kremlin")
    revised = ("[Translated for CWIHP.]\n\n" + TELEGRAM).encode("cp1251")
    job = queue.enqueue(
        IMPORT_TEXT,
        library=library,
        user=alice,
        upload=upload(revised, "telegram.txt"),
        source=source,
        encoding="cp1251",
        note="Corrected translation",
    )
    assert job.state == JobState.SUCCEEDED, job.error
    text = SourceText.objects.get(pk=job.result["text"])
    assert (text.revision, text.encoding, text.note) == (2, "cp1251", "Corrected translation")
    note.refresh_from_db()
    assert note.text_id == text.pk and note.exact == "the Kremlin"
    assert job.result["url"] == f"/sources/{source.pk}/?revision=2"


def test_text_import_job_checks_the_file_type_and_encoding_first(library, alice, source):
    with pytest.raises(UploadError) as caught:
        queue.enqueue(
            IMPORT_TEXT,
            library=library,
            user=alice,
            upload=upload(b"x", "letter.docx"),
            source=source,
        )
    assert caught.value.field == "file"
    with pytest.raises(UploadError) as caught:
        queue.enqueue(
            IMPORT_TEXT,
            library=library,
            user=alice,
            upload=upload(b"x", "a.txt"),
            source=source,
            encoding="rot13",
        )
    assert caught.value.field == "encoding"


def test_text_import_job_refuses_a_source_of_another_library(library, alice):
    other = make_source(library=Library.objects.create_for(alice, name="Other"))
    with pytest.raises(ValidationError) as caught:
        queue.enqueue(
            IMPORT_TEXT,
            library=library,
            user=alice,
            upload=upload(b"x", "a.txt"),
            source=other,
        )
    assert "source" in caught.value.message_dict


def test_reanchor_job_counts_the_annotations_by_state(library, alice, bob):
    source = make_source(library=library)
    first = make_text(source=source, text=TELEGRAM)
    make_annotation(text=first, creator=bob, quote="the Kremlin")
    make_annotation(text=first, creator=bob, quote="was not discussed")
    with mock.patch("annotations.signals.carry_over"):  # a revision added without carrying over
        second = make_text(source=source, text="Stalin received Mao in the Kremlin.")
    assert not second.annotations.exists()
    job = queue.enqueue(REANCHOR, library=library, user=alice, text=second)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["counts"]["anchored"] + job.result["counts"]["moved"] == 1
    assert job.result["counts"]["orphaned"] == 1


def test_export_job_keeps_the_file_for_download(library, vera):
    make_source(library=library, title="Record of conversation with Zhou Enlai")
    job = queue.enqueue(EXPORT, library=library, user=vera, format="csl-json")
    assert job.state == JobState.SUCCEEDED, job.error
    stored = Job.objects.get(pk=job.pk)
    assert stored.output_name.endswith(".json")
    assert stored.output_type.startswith("application/vnd.citationstyles.csl+json")
    items = json.loads(bytes(stored.output))
    assert [item["title"] for item in items] == ["Record of conversation with Zhou Enlai"]
    assert job.result == {"count": 1, "format": "csl-json", "bytes": len(bytes(stored.output))}


def test_export_job_refuses_an_unknown_format_naming_the_field(library, alice):
    with pytest.raises(ValidationError) as caught:
        queue.enqueue(EXPORT, library=library, user=alice, format="docx")
    assert "format" in caught.value.message_dict


def test_backup_job_keeps_a_verified_archive_of_the_library(library, alice, bob):
    from sources.sharing import backup

    source = make_source(library=library, title="Записи беседы")
    text = make_text(source=source, text=TELEGRAM)
    make_annotation(text=text, creator=bob, quote="the Kremlin", comment="Where exactly?")
    job = queue.enqueue(BACKUP, library=library, user=alice)
    assert job.state == JobState.SUCCEEDED, job.error
    stored = Job.objects.get(pk=job.pk)
    assert stored.output_name == backup.backup_file_name(library)
    assert stored.output_type == "application/zip"
    archive, manifest = backup.open_archive(io.BytesIO(bytes(stored.output)))  # checksums
    assert manifest["library"]["slug"] == library.slug
    assert "Записи беседы" in archive.read("data/sources.source.jsonl").decode()
    counts = job.result["counts"]
    assert counts["sources.source"] == Source.objects.filter(library=library).count()
    assert counts["annotations.annotation"] == 1
    assert "jobs.job" not in counts


def test_a_job_made_backup_is_the_commands_archive_and_restores_identically(
    library, alice, bob, tmp_path
):
    """One archive format, one writer: the job's file has the checksums of the management
    command's, and restore_library brings the library back with the same content checksums
    (ids change; `content_checksums` compares on their ranks)."""
    from django.core.management import call_command

    from sources.sharing import backup
    from tests.factories import make_claim, make_event, make_evidence
    from tests.sources.sharing.test_backup import empty_instance

    text = make_text(source=make_source(library=library, title="Записи беседы"), text=TELEGRAM)
    note = make_annotation(text=text, creator=bob, quote="the Kremlin", tags=["place:Kremlin"])
    claim = make_claim(library=library, creator=alice, statement="They met in the Kremlin.")
    make_evidence(claim=claim, annotation=note, creator=alice)
    make_event(library=library, creator=alice, name="Mao in Moscow")
    job = queue.enqueue(BACKUP, library=library, user=alice)
    archive = tmp_path / "from-the-job.zip"
    archive.write_bytes(bytes(Job.objects.get(pk=job.pk).output))
    by_command = tmp_path / "from-the-command.zip"
    call_command("backup_library", library.slug, output=str(by_command), stdout=io.StringIO())
    with archive.open("rb") as made_by_job, by_command.open("rb") as made_by_command:
        before = backup.content_checksums(made_by_job)
        assert backup.content_checksums(made_by_command) == before

    empty_instance()
    call_command("restore_library", str(archive), stdout=io.StringIO())

    restored = Library.objects.get(slug=library.slug)
    assert backup.content_checksums(io.BytesIO(backup.archive_bytes(restored))) == before
    assert restored.claims.get().evidence.get().annotation.exact == "the Kremlin"


def test_only_an_owner_backs_up_a_library(library, bob):
    with pytest.raises(PermissionDenied):
        queue.enqueue(BACKUP, library=library, user=bob)


def test_reindex_is_refused_where_the_search_app_is_missing(library, alice, monkeypatch):
    monkeypatch.delitem(registry._kinds, REINDEX)  # as if `search` were not installed
    with pytest.raises(ValidationError) as caught:
        queue.enqueue(REINDEX, library=library, user=alice)
    assert "kind" in caught.value.message_dict


def test_reindex_job_rebuilds_the_librarys_search_entries(library, alice, bob):
    from search.models import SearchEntry

    source = make_source(library=library, title="Record of conversation with Zhou Enlai")
    make_annotation(text=make_text(source=source, text=TELEGRAM), creator=bob, quote="the Kremlin")
    before = SearchEntry.objects.filter(library=library).count()
    SearchEntry.objects.filter(library=library).delete()
    job = queue.enqueue(REINDEX, library=library, user=alice)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {"entries": before} and before > 0
    assert SearchEntry.objects.filter(library=library).count() == before
    assert job.done == job.total > 0


def test_only_editors_reindex_and_only_staff_reindex_everything(library, vera, alice):
    with pytest.raises(PermissionDenied):
        queue.enqueue(REINDEX, library=library, user=vera)
    with pytest.raises(PermissionDenied):
        queue.enqueue(REINDEX, library=None, user=alice)
    staff = make_user(username="root", is_staff=True)
    assert queue.enqueue(REINDEX, library=None, user=staff).state == JobState.SUCCEEDED


# --- Deliveries, attempts, failures -----------------------------------------------------------


@pytest.fixture
def queued(library, alice, settings):
    """An import job recorded for Celery but not sent: the tests deliver it by hand."""
    settings.TASK_QUEUE = "celery"
    with mock.patch("jobs.queue.transaction.on_commit"):
        return import_job(library, alice, count=3)


def test_a_second_delivery_of_a_finished_job_does_nothing(queued, library):
    assert runner.run_job(queued.pk).state == JobState.SUCCEEDED
    assert runner.run_job(queued.pk) is None
    assert Source.objects.filter(library=library).count() == 3
    assert ImportRun.objects.count() == 1


def test_a_job_whose_worker_died_runs_again_as_a_new_attempt(queued, library):
    Job.objects.filter(pk=queued.pk).update(state=JobState.RUNNING, attempts=1, done=1, total=3)
    job = runner.run_job(queued.pk)
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    assert Source.objects.filter(library=library).count() == 3


def test_a_job_lost_too_often_is_marked_failed_without_running(queued, library, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    Job.objects.filter(pk=queued.pk).update(state=JobState.RUNNING, attempts=2)
    assert runner.run_job(queued.pk) is None
    queued.refresh_from_db()
    assert queued.state == JobState.FAILED
    assert "stopped 2 times before it finished" in queued.error
    assert not Source.objects.filter(library=library).exists()


def test_a_deleted_job_is_skipped(queued):
    Job.objects.filter(pk=queued.pk).delete()
    assert runner.run_job(queued.pk) is None


def test_a_database_outage_mid_job_is_left_for_the_queue_to_retry(queued, library):
    outage = OperationalError("server closed the connection unexpectedly")
    with (
        running(IMPORT_METADATA, mock.Mock(side_effect=outage)),
        pytest.raises(OperationalError),
    ):
        runner.run_job(queued.pk)
    queued.refresh_from_db()
    assert queued.state == JobState.RUNNING and queued.error == ""


def test_a_job_past_its_time_limit_says_so(queued, settings):
    settings.JOB_TIME_LIMIT = 60
    slow = mock.Mock(side_effect=SoftTimeLimitExceeded())
    with running(IMPORT_METADATA, slow):
        runner.run_job(queued.pk)
    queued.refresh_from_db()
    assert queued.error == "The job took longer than the limit of 60 seconds."


def test_the_users_own_errors_are_shown_as_they_are(queued):
    refused = mock.Mock(side_effect=ValidationError({"issued": "Not an EDTF date."}))
    with running(IMPORT_METADATA, refused):
        runner.run_job(queued.pk)
    queued.refresh_from_db()
    assert queued.error == "issued: Not an EDTF date."


def test_a_job_silent_for_too_long_is_stale_and_may_be_retried(queued, alice, settings):
    settings.JOB_TIME_LIMIT = 10
    Job.objects.filter(pk=queued.pk).update(
        state=JobState.RUNNING, heartbeat="2000-01-01T00:00:00Z", attempts=1
    )
    queued.refresh_from_db()
    assert queued.is_stale and queued.is_retryable
    settings.TASK_QUEUE = "inline"
    assert queue.retry(queued, alice).state == JobState.SUCCEEDED


def test_progress_is_written_at_start_and_then_at_most_twice_a_second(queued, monkeypatch):
    clock = iter([100.0, 100.1, 100.2, 100.7])
    monkeypatch.setattr(runner, "monotonic", lambda: next(clock))
    progress = runner.Progress(queued)
    progress.start(10, "Importing")  # written (100.0)
    progress.advance(1)  # 100.1: too soon
    progress.advance(2)  # 100.2: too soon
    assert Job.objects.values_list("done", "total").get(pk=queued.pk) == (0, 10)
    progress.advance(3, "Still importing")  # 100.7: written
    stored = Job.objects.get(pk=queued.pk)
    assert (stored.done, stored.total, stored.message) == (3, 10, "Still importing")
    assert stored.heartbeat is not None


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker's second connection is PostgreSQL's"
)


def read_on_another_connection(sql: str, params: list) -> tuple:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    finally:
        other.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_in_a_worker_progress_shows_while_the_jobs_transaction_is_open(queued):
    seen = {}

    def working(job, progress):
        progress.start(10, "Importing 10 records")
        seen["in_transaction"] = connection.in_atomic_block
        seen["row"] = read_on_another_connection(
            "SELECT state, done, total, message FROM sources_job WHERE id = %s", [job.pk]
        )
        raise RuntimeError("stop here")

    with running(IMPORT_METADATA, working):
        runner.run_job(queued.pk)
    assert seen == {"in_transaction": True, "row": ("running", 0, 10, "Importing 10 records")}
    queued.refresh_from_db()
    assert queued.state == JobState.FAILED


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_delivery_waits_while_another_worker_runs_the_job(queued, library):
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [runner.LOCK_NAMESPACE, queued.pk])
        with pytest.raises(runner.JobBusy):
            runner.run_job(queued.pk)
        queued.refresh_from_db()
        assert (queued.state, queued.attempts) == (JobState.QUEUED, 0)
    finally:
        holder.close()  # the other worker is gone: the next delivery runs the job
    assert runner.run_job(queued.pk).state == JobState.SUCCEEDED
    assert Source.objects.filter(library=library).count() == 3


# --- Queueing with Celery -----------------------------------------------------------------


def test_with_celery_the_job_is_sent_once_the_transaction_commits(
    library, alice, settings, django_capture_on_commit_callbacks
):
    settings.TASK_QUEUE = "celery"
    with mock.patch("config.celery.app.send_task") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = import_job(library, alice)
        assert send.call_count == 0  # not before the commit: the worker must find the row
        for callback in callbacks:
            callback()
    send.assert_called_once_with("marginalia.run_job", args=[job.pk], task_id=job.task_id)
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    assert not Source.objects.filter(library=library).exists()


def test_an_unreachable_broker_fails_the_job_so_it_can_be_retried(
    library, alice, settings, django_capture_on_commit_callbacks
):
    settings.TASK_QUEUE = "celery"
    with (
        mock.patch("config.celery.app.send_task", side_effect=ConnectionRefusedError()),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = import_job(library, alice)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "job queue could not be reached" in job.error
    assert job.is_retryable


def test_the_celery_task_runs_the_job_function(queued, library):
    from jobs.tasks import run_job_task

    run_job_task.apply(args=[queued.pk]).get()
    queued.refresh_from_db()
    assert queued.state == JobState.SUCCEEDED
    assert Source.objects.filter(library=library).count() == 3


def test_the_celery_task_comes_back_later_while_another_worker_holds_the_job(queued):
    from celery.exceptions import Retry

    from jobs.tasks import BUSY_RETRY_SECONDS, run_job_task

    with (
        mock.patch("jobs.tasks.run_job", side_effect=runner.JobBusy(queued.pk)),
        mock.patch.object(run_job_task, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        run_job_task.run(queued.pk)
    assert retry.call_args.kwargs["countdown"] == BUSY_RETRY_SECONDS
    assert retry.call_args.kwargs["max_retries"] is None
    assert Job.objects.get(pk=queued.pk).state == JobState.QUEUED


def test_the_celery_task_is_acknowledged_late_and_rejected_when_its_worker_dies():
    from config.celery import app
    from jobs.tasks import run_job_task

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
    assert run_job_task.name == "marginalia.run_job"


# --- Visibility -------------------------------------------------------------------------------


def test_jobs_are_visible_to_their_starter_and_the_librarys_owners_only(
    library, alice, bob, vera, mallory
):
    from django.contrib.auth.models import AnonymousUser

    alices = queue.enqueue(BACKUP, library=library, user=alice)
    bobs = import_job(library, bob)
    veras = queue.enqueue(EXPORT, library=library, user=vera, format="ris")
    assert set(Job.objects.visible_to(alice)) == {alices, bobs, veras}  # she owns the library
    assert set(Job.objects.visible_to(bob)) == {bobs}
    assert set(Job.objects.visible_to(vera)) == {veras}
    assert not Job.objects.visible_to(mallory).exists()
    staff = make_user(username="root", is_staff=True)
    assert not Job.objects.visible_to(staff).exists()  # staff see site-wide jobs only
    site_wide = queue.enqueue(REINDEX, library=None, user=staff)
    assert set(Job.objects.visible_to(staff)) == {site_wide}
    assert site_wide not in Job.objects.visible_to(alice)
    assert not Job.objects.visible_to(AnonymousUser()).exists()


def test_only_the_starter_downloads_and_only_while_they_may_start_the_kind(
    library, alice, bob, vera
):
    from sources.models import Role

    backup = queue.enqueue(BACKUP, library=library, user=alice)
    export = queue.enqueue(EXPORT, library=library, user=vera, format="ris")
    assert queue.may_download(backup, alice) and queue.may_download(export, vera)
    assert not queue.may_download(backup, bob) and not queue.may_download(backup, vera)
    assert not queue.may_download(export, alice)  # she sees the job, not vera's view
    with pytest.raises(PermissionDenied):
        queue.output_of(export, alice)
    library.memberships.filter(user=bob).update(role=Role.OWNER)
    library.memberships.filter(user=alice).update(role=Role.EDITOR)
    assert not queue.may_download(backup, alice)  # no longer an owner: no backup
    library.memberships.filter(user=vera).delete()
    assert not queue.may_download(export, vera)  # no longer a reader
