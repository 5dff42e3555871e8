"""A whole library to one archive and back into an empty instance, identically."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.claims.models import Claim, Event
from annotations.models import Annotation
from sources.models import ImportRun, Library, Source, SourceLink, SourceText
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


MODELS = (Library, Source, SourceText, Annotation, Claim, Event, Source.history.model)


def restored_rows(model, library) -> list[int]:
    part = next(p for p in backup.owned_models() if p.model is model)
    return list(backup.rows_of(part, library).values_list("pk", flat=True))


def fingerprint(library) -> list:
    return [
        list(backup.rows_of(part, library).values_list("pk", flat=True))
        for part in backup.owned_models()
    ]


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


def test_restoring_beside_the_same_library_under_another_slug_names_none_of_its_rows(
    rich_library,
):
    data = archive_of(rich_library)
    original = fingerprint(rich_library)
    before = {model: set(model._base_manager.values_list("pk", flat=True)) for model in MODELS}

    restored = backup.restore_archive(io.BytesIO(data), slug="copy").library

    assert restored.pk != rich_library.pk and restored.slug == "copy"
    assert fingerprint(rich_library) == original  # the original is untouched
    for model, pks in before.items():  # every restored row is new
        assert not pks & set(restored_rows(model, restored)), model
    assert checksums(archive_of(restored)) == checksums(data)  # same content, new ids
    assert restored.sources.count() == rich_library.sources.count()
    assert sorted(restored.memberships.values_list("user__username", "role")) == sorted(
        rich_library.memberships.values_list("user__username", "role")
    )


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


# --- A crafted archive (issue #16, leak 5) ------------------------------------------------------


def crafted(data: bytes, rows: dict | None = None, members: dict | None = None) -> bytes:
    """The archive with some data files' rows changed by `rows[file](rows)`, and files
    replaced or added by `members`, its manifest's checksums and counts made to match:
    what an attacker who read this module would send."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old:
        manifest = json.loads(old.read("manifest.json"))
        contents = {name: old.read(name) for name in old.namelist()}
    for name, change in (rows or {}).items():
        lines = [json.loads(line) for line in contents[name].splitlines()]
        lines = change(lines)
        contents[name] = b"".join(
            json.dumps(row, ensure_ascii=False, sort_keys=True).encode() + b"\n" for row in lines
        )
    contents |= members or {}
    for entry in [manifest["users"], *manifest["files"]]:
        if entry["file"] in contents:
            entry["sha256"] = hashlib.sha256(contents[entry["file"]]).hexdigest()
            entry["rows"] = contents[entry["file"]].count(b"\n")
    contents["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for name, content in contents.items():
            new.writestr(name, content)
    return out.getvalue()


def every(**values):
    return lambda rows: [row | values for row in rows]


@pytest.fixture
def victim(mallory, alice):
    """Another library, which alice owns and mallory is no member of."""
    from tests.factories import make_library

    return make_library(owner=alice, name="Victim")


def assert_nothing_written(before_users: int, before_libraries: int) -> None:
    assert get_user_model().objects.count() == before_users
    assert Library.objects.count() == before_libraries


def test_a_membership_naming_another_library_is_refused_and_nothing_is_written(
    rich_library, victim, mallory
):
    data = archive_of(rich_library)
    users, libraries = get_user_model().objects.count(), Library.objects.count()
    memberships = "data/sources.membership.jsonl"
    hostile = crafted(data, rows={memberships: every(library_id=victim.pk, user_id="mallory")})

    with pytest.raises(backup.BackupError, match="every row must belong to its library"):
        backup.restore_archive(io.BytesIO(hostile), slug="hostile")

    assert not victim.memberships.filter(user=mallory).exists()
    assert_nothing_written(users, libraries)


def test_an_archive_whose_library_has_another_librarys_id_restores_as_a_new_library(
    rich_library, victim, mallory
):
    data = archive_of(rich_library)
    old_id = rich_library.pk
    hostile = crafted(
        data,
        rows={
            "users.jsonl": lambda rows: [*rows, {"username": "mallory"}],
            "data/sources.library.jsonl": every(id=victim.pk),
            "data/sources.membership.jsonl": lambda rows: [
                rows[0] | {"library_id": victim.pk, "user_id": "mallory", "role": "owner"},
                *[row | {"library_id": victim.pk} for row in rows[1:]],
            ],
        },
    )
    hostile = crafted(hostile, rows=_library_ids_to(old_id, victim.pk, hostile))

    restored = backup.restore_archive(io.BytesIO(hostile), slug="hostile").library

    assert restored.pk != victim.pk
    assert not victim.memberships.filter(user=mallory).exists()
    assert restored.memberships.filter(user=mallory, role="owner").exists()


def _library_ids_to(old: int, new: int, data: bytes) -> dict:
    """Every data file with a library_id column, pointing at `new` instead of `old`."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    files = [e["file"] for e in manifest["files"] if "library_id" in e["columns"]]
    files = [f for f in files if f != "data/sources.membership.jsonl"]

    def point(rows):
        return [row | {"library_id": new} if row.get("library_id") == old else row for row in rows]

    return dict.fromkeys(files, point)


@pytest.mark.parametrize(
    ("file", "change", "reason"),
    [
        ("data/sources.source.jsonl", every(library_id=987654), "must belong to its library"),
        ("data/sources.sourcetext.jsonl", every(source_id=987654), "must belong"),
        ("data/annotations.evidence.jsonl", every(claim_id=987654), "must belong"),
        ("data/sources.historicalsource.jsonl", every(library_id=987654), "must belong"),
        ("data/sources.historicalcreator.jsonl", every(source_id=987654), "must belong"),
        ("data/sources.membership.jsonl", every(role="superowner"), "role"),
        ("data/sources.membership.jsonl", every(user_id="nobody"), "not in users.jsonl"),
        ("data/sources.source.jsonl", every(title="x" * 5000), "title"),
        ("data/sources.source.jsonl", lambda rows: rows[::-1], "above the row before"),
        ("data/sources.source.jsonl", lambda rows: rows + rows[-1:], "above the row before"),
        ("data/sources.source.jsonl", every(id="12"), "not an id"),
        ("data/sources.source.jsonl", every(is_admin=True), "columns its manifest"),
        (
            "data/sources.library.jsonl",
            lambda rows: rows + [rows[0] | {"id": 10**9}],
            "holds one library",
        ),
        ("data/sources.importrun.jsonl", every(outcomes="x"), "outcomes"),
    ],
)
def test_a_crafted_row_is_refused_naming_why_and_nothing_is_written(
    rich_library, file, change, reason
):
    ImportRun.objects.create(library=rich_library, file_name="z.json", format="csl-json")
    data = archive_of(rich_library)
    users, libraries = get_user_model().objects.count(), Library.objects.count()
    with pytest.raises(backup.BackupError, match=reason):
        backup.restore_archive(io.BytesIO(crafted(data, rows={file: change})), slug="hostile")
    assert_nothing_written(users, libraries)


def test_guests_get_no_usable_password_and_no_rights(rich_library):
    data = archive_of(rich_library)
    empty_instance()
    staff = crafted(data, members={"users.jsonl": b'{"username": "root", "is_staff": true}\n'})
    with pytest.raises(backup.BackupError, match="users.jsonl, row 1, is not a user"):
        backup.restore_archive(io.BytesIO(staff))
    backup.restore_archive(io.BytesIO(data))
    for user in get_user_model().objects.all():
        assert not user.has_usable_password() and not user.is_staff and not user.is_superuser


def test_history_of_rows_deleted_since_gets_ids_no_row_has(rich_library):
    gone = Source.history.get(title="Deleted later", history_type="-").id
    data = archive_of(rich_library)
    restored = backup.restore_archive(io.BytesIO(data), slug="copy").library
    record = Source.history.filter(title="Deleted later", library_id=restored.pk).latest(
        "history_date"
    )
    assert record.id != gone and not Source.objects.filter(pk=record.id).exists()
    assert Source.objects.create(library=rich_library, title="Next").pk > record.id


def test_an_imports_outcomes_name_the_restored_sources(rich_library):
    cable = rich_library.sources.get(title="Ciphered telegram")
    outcomes = [{"index": 0, "status": "created", "source": cable.pk},
                {"index": 1, "status": "duplicate", "duplicate_of": 987654}]  # fmt: skip
    ImportRun.objects.create(
        library=rich_library, file_name="z.json", format="csl-json", outcomes=outcomes
    )
    restored = backup.restore_archive(io.BytesIO(archive_of(rich_library)), slug="copy").library
    [first, second] = restored.imports.get().outcomes
    assert first["source"] == restored.sources.get(title="Ciphered telegram").pk
    assert second["duplicate_of"] is None


# --- Bounded reading: zip bombs, huge rows ------------------------------------------------------


def small_limits():
    return backup.Limits(members=60, total_bytes=2**20, member_bytes=2**20, line_bytes=2**16)


def test_a_huge_single_line_is_refused_without_reading_it_whole(rich_library):
    data = archive_of(rich_library)
    huge = b'{"id": 1, "title": "' + b"x" * (4 * 2**20) + b'"}\n'
    hostile = crafted(data, members={"data/sources.source.jsonl": huge})
    limits = backup.Limits(line_bytes=2**20)
    tracemalloc.start()
    try:
        with pytest.raises(backup.BackupError, match="row longer than 1,048,576 bytes"):
            backup.restore_archive(io.BytesIO(hostile), slug="hostile", limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(hostile) + 4 * 2**20  # the archive itself, and about one limit


def test_an_archive_unpacking_past_the_limits_is_refused_before_inflating(rich_library):
    data = archive_of(rich_library)
    bomb = crafted(data, members={"data/padding.bin": b"\0" * (2 * 2**20)})  # 2 MB of zeros
    assert len(bomb) < len(data) + 10_000
    with pytest.raises(backup.BackupError, match="unpacks to 2,097,152 bytes"):
        backup.restore_archive(io.BytesIO(bomb), slug="x", limits=small_limits())
    many = crafted(data, members={f"extra/{n}": b"" for n in range(100)})
    with pytest.raises(backup.BackupError, match="a backup has at most 60"):
        backup.restore_archive(io.BytesIO(many), slug="x", limits=small_limits())


def test_the_default_row_limit_follows_the_upload_limit(settings):
    settings.MAX_UPLOAD_BYTES = 100 * 2**20
    assert backup.Limits().line_bytes == 800 * 2**20
    settings.MAX_UPLOAD_BYTES = 2**20
    assert backup.Limits().line_bytes == 64 * 2**20


@pytest.mark.parametrize(
    "manifest",
    [b"[]", b'{"format": "marginalia-library-backup", "version": 1, "files": "x"}',
     b'{"format": "marginalia-library-backup", "version": 1, "users": {"file": 1}}',
     b"[" * 100_000],
)  # fmt: skip
def test_a_malformed_manifest_is_refused_with_a_reason(rich_library, manifest):
    data = crafted(archive_of(rich_library))
    with zipfile.ZipFile(io.BytesIO(data)) as old:
        contents = {name: old.read(name) for name in old.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as new:
        for name, content in (contents | {"manifest.json": manifest}).items():
            new.writestr(name, content)
    with pytest.raises(backup.BackupError):
        backup.restore_archive(io.BytesIO(out.getvalue()), slug="x")


def test_the_restore_command_takes_a_slug_and_limits(rich_library, tmp_path):
    path = tmp_path / "lib.zip"
    path.write_bytes(archive_of(rich_library))
    with pytest.raises(CommandError, match="unpacks to"):
        call_command("restore_library", str(path), slug="copy", max_bytes=1000)
    out = io.StringIO()
    call_command("restore_library", str(path), slug="copy", stdout=out)
    assert "(copy)" in out.getvalue() and Library.objects.filter(slug="copy").exists()
