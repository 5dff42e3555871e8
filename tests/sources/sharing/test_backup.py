"""A whole library to one archive and back into an empty instance, identically."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.claims.models import Claim, Event
from annotations.models import Annotation
from sources.models import Library, Source, SourceLink, SourceText
from sources.sharing import backup
from tests.factories import (
    make_annotation,
    make_claim,
    make_creator,
    make_event,
    make_evidence,
    make_source,
    make_text,
)

TELEGRAM = "Шифротелеграмма. Мао сказал, что договор важнее займа. 毛泽东 🙂 e\u0301"


@pytest.fixture
def rich_library(library, alice, bob):
    """Sources with creators and several revisions, a link, shared and private
    annotations with tags, claims with evidence, nested events, and a deleted source."""
    cable = make_source(library=library, title="Ciphered telegram", identifiers={"DOI": "10/x"})
    make_creator(source=cable, role="translator", family="Chen", given="Jian")
    first = make_text(source=cable, text=TELEGRAM, page_map=[[0, "1"], [10, "2"]])
    second = make_text(source=cable, text=TELEGRAM + "\n\nCorrected.", note="corrected")
    article = make_source(library=library, title="An article", kind="secondary")
    SourceLink.objects.create(library=library, subject=article, relation="quotes", object=cable)
    shared = make_annotation(
        text=second, creator=alice, quote="договор", comment="**Treaty**", tags=["theme:treaty"]
    )
    make_annotation(text=first, creator=bob, quote="Мао", visibility="private")
    claim = make_claim(library=library, creator=alice, statement="The treaty came first.")
    make_evidence(claim=claim, annotation=shared, creator=alice)
    visit = make_event(library=library, name="Mao's visit")
    make_event(library=library, name="Treaty signed", date="1950-02-14", parent=visit)
    claim.statement = "The treaty came before the loan."
    claim.save()
    doomed = make_source(library=library, title="Deleted later")
    doomed.delete()
    return library


def archive_of(library) -> bytes:
    return backup.archive_bytes(library)


def checksums(data: bytes) -> dict[str, str]:
    return backup.content_checksums(io.BytesIO(data))


def empty_instance() -> None:
    """Everything gone: libraries (with all they own), their history, every account."""
    Library.objects.all().delete()
    for part in backup.owned_models():
        if part.history_of is not None:
            part.model._base_manager.all().delete()
    get_user_model().objects.all().delete()


def test_a_library_restores_into_an_empty_instance_identically(rich_library):
    data = archive_of(rich_library)
    before = checksums(data)
    counts = (Source.objects.count(), SourceText.objects.count(), Annotation.objects.count())
    empty_instance()
    assert not Source.objects.exists() and not get_user_model().objects.exists()

    restored = backup.restore_archive(io.BytesIO(data))

    assert restored.library.slug == rich_library.slug
    assert sorted(restored.created_users) == ["alice", "bob", "vera"]
    assert checksums(archive_of(restored.library)) == before
    assert (
        Source.objects.count(),
        SourceText.objects.count(),
        Annotation.objects.count(),
    ) == counts
    assert all(text.verify() for text in SourceText.objects.all())


def test_the_archive_holds_every_revision_history_and_deleted_rows(rich_library):
    with zipfile.ZipFile(io.BytesIO(archive_of(rich_library))) as zf:
        manifest = backup.read_manifest(zf)
        rows = {entry["model"]: entry["rows"] for entry in manifest["files"]}
        history = zf.read("data/sources.historicalsource.jsonl").decode()
        users = zf.read("users.jsonl").decode()
    assert rows["sources.sourcetext"] == 2
    assert rows["annotations.annotation"] == 2
    assert rows["annotations.historicalclaim"] == 2  # created, then changed
    assert rows["annotations.event"] == 2 and rows["annotations.evidence"] == 1
    assert "Deleted later" in history  # its history outlives the source
    assert "password" not in users and '"username": "alice"' in users
    assert "jobs.job" not in rows


def test_restoring_next_to_the_same_library_writes_nothing(rich_library):
    data = archive_of(rich_library)
    sources = Source.objects.count()
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.restore_archive(io.BytesIO(data))
    assert Source.objects.count() == sources


def test_a_damaged_archive_is_refused_before_anything_is_written(rich_library):
    data = archive_of(rich_library)
    empty_instance()
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(damaged, "w") as new:
        for item in old.infolist():
            content = old.read(item)
            if item.filename == "data/sources.source.jsonl":
                content = content.replace(b"Ciphered", b"Tampered")
            new.writestr(item, content)
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore_archive(io.BytesIO(damaged.getvalue()))
    assert not Library.objects.exists()


def test_a_file_that_is_not_a_backup_is_refused_with_a_reason(db):
    with pytest.raises(backup.BackupError, match="not a ZIP"):
        backup.restore_archive(io.BytesIO(b"%PDF-1.7 not a zip"))
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    with pytest.raises(backup.BackupError, match="no manifest"):
        backup.restore_archive(io.BytesIO(empty_zip.getvalue()))


def test_a_restore_killed_half_way_leaves_nothing(rich_library, monkeypatch):
    data = archive_of(rich_library)
    empty_instance()
    inserted = []
    real_insert = backup._insert

    def dies_on_the_fifth_table(model, rows, using):
        inserted.append(model)
        if len(inserted) == 5:
            raise KeyboardInterrupt  # the operator's Ctrl-C, mid-restore
        return real_insert(model, rows, using)

    monkeypatch.setattr(backup, "_insert", dies_on_the_fifth_table)
    with pytest.raises(KeyboardInterrupt):
        backup.restore_archive(io.BytesIO(data))
    assert not Library.objects.exists() and not Source.objects.exists()
    assert not get_user_model().objects.exists()


def test_restored_history_keeps_who_changed_what(rich_library):
    data = archive_of(rich_library)
    before = list(Claim.history.order_by("history_id").values_list("statement", "history_type"))
    empty_instance()
    backup.restore_archive(io.BytesIO(data))
    after = list(Claim.history.order_by("history_id").values_list("statement", "history_type"))
    assert after == before
    assert Event.objects.get(name="Treaty signed").parent.name == "Mao's visit"


# --- Commands ----------------------------------------------------------------------------------


def test_the_commands_back_up_and_restore(rich_library, tmp_path):
    path = tmp_path / "lib.zip"
    call_command("backup_library", rich_library.slug, output=str(path), stdout=io.StringIO())
    assert path.exists() and not (tmp_path / "lib.zip.partial").exists()
    with pytest.raises(CommandError, match="already exists"):
        call_command("restore_library", str(path), stdout=io.StringIO())
    empty_instance()
    out = io.StringIO()
    call_command("restore_library", str(path), stdout=out)
    assert "Restored" in out.getvalue() and "set one" in out.getvalue()
    assert Library.objects.get().slug == rich_library.slug


def test_the_backup_command_names_an_unknown_library(db):
    with pytest.raises(CommandError, match="No library"):
        call_command("backup_library", "no-such-library")


def test_the_restore_command_names_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("restore_library", str(tmp_path / "missing.zip"))


# --- The owners' page ----------------------------------------------------------------------------


def test_an_owner_sees_what_a_backup_holds_and_downloads_it(as_user, rich_library, alice):
    url = reverse("library-archive", args=[rich_library.slug])
    page = as_user(alice).get(url)
    assert page.status_code == 200
    assert "Download the archive" in page.content.decode()
    response = as_user(alice).post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"{rich_library.slug}-" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert "data/sources.source.jsonl" in checksums(data)


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("vera", 403), ("mallory", 404)])
def test_only_owners_may_back_up(as_user, library, persona, status, request):
    user = request.getfixturevalue(persona)
    url = reverse("library-archive", args=[library.slug])
    assert as_user(user).get(url).status_code == status
    assert as_user(user).post(url).status_code == status


def test_the_backup_page_refuses_other_methods(as_user, library, alice):
    url = reverse("library-archive", args=[library.slug])
    assert as_user(alice).put(url).status_code == 405
