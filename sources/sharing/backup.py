"""A whole library in one archive, and back: nothing a historian wrote may be lost.

The archive is a ZIP file:
- `manifest.json`: the format and its version, the library, when, and for every data file
  its model, columns, row count and SHA-256;
- `users.jsonl`: the people the rows name (user name, e-mail, names; never passwords);
- `data/<app>.<model>.jsonl`: one JSON object per row, by primary key, for every model
  whose rows belong to the library (what deleting it would delete: metadata, creators,
  every text revision, links, annotations, tags, claims, evidence, events, imports,
  members, invitations…) and their change history (django-simple-history), including the
  history of rows deleted since. Users are named by user name, everything else by id.
- `README.txt`: this, for whoever opens the archive in twenty years.

The models are found by walking the foreign keys that cascade from `Library`, so a model
added later is backed up without a change here. Background jobs are left out: their
files are copies of what is backed up.

`restore_archive` writes an archive into an instance where its rows do not exist yet (an
empty instance, or one where the library was deleted), keeping every id, in one
transaction: it either restores everything or nothing. People are matched by user name;
someone missing is created without a usable password (an administrator sets one).
A backup restored and backed up again gives data files with the same checksums.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connections, models, router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sources.models import Library

FORMAT = "marginalia-library-backup"
VERSION = 1
EXCLUDED = frozenset({"jobs.job"})  # background jobs: copies, not records
CHUNK = 1000
USER_FIELDS = ("username", "email", "first_name", "last_name")
README = """Marginalia library backup
=========================

This archive holds one library of Marginalia, a source-annotation and citation manager:
its sources (CSL variables), creators, every revision of every text (canonical text,
sanitised HTML, page map, SHA-256), provenance links, annotations, tags, claims,
evidence, events, members and the full change history.

manifest.json lists every data file with its model, columns, row count and SHA-256.
Each data/*.jsonl file has one JSON object per line, one per row, ordered by id.
Users are named by user name; users.jsonl describes them (no passwords).

Restore it with:  python manage.py restore_library <this file>
"""


class BackupError(Exception):
    """An archive that cannot be restored, with the reason for the person restoring it."""


# --- Which rows belong to a library -------------------------------------------------------


@dataclass
class Part:
    """One model of the backup and how its rows are found from the library."""

    model: type[models.Model]
    path: str  # lookup from the model to the library: "library", "source__library"
    history_of: Part | None = None  # set on a historical model: the tracked model's part

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def file_name(self) -> str:
        return f"data/{self.label}.jsonl"


def owned_models() -> list[Part]:
    """Every model whose rows cascade from a library, nearest first, then their history."""
    parts = _cascading_parts()
    history = [_history_part(part) for part in parts]
    history = [part for part in history if part is not None]
    m2m_history = [p for part in history for p in _m2m_history_parts(part)]
    return parts + history + m2m_history


@functools.cache
def _cascading_parts() -> list[Part]:
    """Breadth first from Library along foreign keys with on_delete=CASCADE."""
    children: dict[type, list[tuple[type, str]]] = {}
    for model in apps.get_models(include_auto_created=True):
        for fk in _foreign_keys(model):
            if fk.remote_field.on_delete is models.CASCADE:
                children.setdefault(fk.related_model, []).append((model, fk.name))
    found: dict[type, Part] = {Library: Part(Library, "pk")}
    queue = deque([Library])
    while queue:
        parent = queue.popleft()
        for model, name in children.get(parent, []):
            if model in found or model._meta.label_lower in EXCLUDED:
                continue
            upstream = found[parent].path
            path = name if parent is Library else f"{name}__{upstream}"
            found[model] = Part(model, path)
            queue.append(model)
    return list(found.values())


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


def _history_part(part: Part) -> Part | None:
    manager = getattr(part.model, "history", None)
    historical = getattr(manager, "model", None)
    if historical is None or historical is part.model:
        return None
    return Part(historical, "", history_of=part)


def _m2m_history_parts(part: Part) -> list[Part]:
    """simple-history's tables of m2m changes point to their historical row by `history`."""
    found = []
    for model in apps.get_models():
        if any(
            fk.name == "history" and fk.related_model is part.model for fk in _foreign_keys(model)
        ):
            found.append(Part(model, "history", history_of=part))
    return found


def rows_of(part: Part, library: Library) -> QuerySet:
    """The part's rows that belong to `library`, in primary-key order."""
    manager = part.model._base_manager
    return manager.filter(_belongs(part, library)).order_by("pk")


def _belongs(part: Part, library: Library) -> Q:
    if part.history_of is None:
        return Q(pk=library.pk) if part.model is Library else Q(**{part.path: library})
    if part.path == "history":  # an m2m history row: its historical parent is in
        parent = part.history_of
        return Q(history__in=rows_of(parent, library).values("pk"))
    return _ever_belonged(part.history_of, library)


def _ever_belonged(tracked: Part, library: Library) -> Q:
    """Historical rows of `tracked` that belong to the library, including the history of
    rows deleted since: matched on the first foreign key of the tracked model's path,
    which the historical row keeps a copy of."""
    first = tracked.path.split("__", 1)[0]
    fk = tracked.model._meta.get_field(first)
    if fk.related_model is Library:
        return Q(**{f"{fk.attname}": library.pk})
    parent = next(p for p in _cascading_parts() if p.model is fk.related_model)
    current = rows_of(parent, library).values("pk")
    ever = Q(**{f"{fk.attname}__in": current})
    parent_history = _history_part(parent)
    if parent_history is not None:
        past = rows_of(parent_history, library).values("id")
        ever |= Q(**{f"{fk.attname}__in": past})
    return ever


# --- Writing -------------------------------------------------------------------------------


@dataclass
class Written:
    name: str
    rows: int
    sha256: str


@dataclass
class Archive:
    """What `write_archive` wrote: the manifest and the user names met on the way."""

    manifest: dict[str, Any] = field(default_factory=dict)
    usernames: dict[int, str | None] = field(default_factory=dict)


@contextmanager
def consistent_snapshot(using: str) -> Iterator[None]:
    """One read-only snapshot for the whole backup on PostgreSQL (REPEATABLE READ), so that
    a colleague's edit during the backup cannot leave it half old, half new. Inside an
    existing transaction (tests, a caller's atomic block) that transaction is the snapshot."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def write_archive(library: Library, out: IO[bytes]) -> dict[str, Any]:
    """Write the whole library to `out` as a ZIP archive; returns the manifest."""
    using = router.db_for_write(Library)
    archive = Archive()
    with consistent_snapshot(using), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        files = [_write_part(zf, part, library, archive) for part in owned_models()]
        users = _write_users(zf, archive)
        archive.manifest = _manifest(library, files, users)
        zf.writestr("manifest.json", json.dumps(archive.manifest, indent=1, ensure_ascii=False))
        zf.writestr("README.txt", README)
    return archive.manifest


def _write_part(zf: zipfile.ZipFile, part: Part, library: Library, archive: Archive) -> dict:
    columns = list(part.model._meta.concrete_fields)
    digest, count = hashlib.sha256(), 0
    with zf.open(part.file_name, "w", force_zip64=True) as handle:
        for chunk in _chunks(rows_of(part, library).iterator(chunk_size=CHUNK), CHUNK):
            _learn_usernames(archive, chunk, columns)
            for row in chunk:
                line = _row_line(row, columns, archive.usernames)
                handle.write(line)
                digest.update(line)
                count += 1
    return {
        "model": part.label,
        "file": part.file_name,
        "history_of": part.history_of.label if part.history_of else None,
        "columns": [f.attname for f in columns],
        "rows": count,
        "sha256": digest.hexdigest(),
    }


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_user_fk(column: models.Field) -> bool:
    return isinstance(column, models.ForeignKey) and column.related_model is get_user_model()


def _learn_usernames(archive: Archive, rows: list, columns: list[models.Field]) -> None:
    wanted = {
        getattr(row, column.attname) for row in rows for column in columns if _is_user_fk(column)
    }
    wanted -= set(archive.usernames) | {None}
    if wanted:
        found = dict(
            get_user_model()._base_manager.filter(pk__in=wanted).values_list("pk", "username")
        )
        archive.usernames |= {pk: found.get(pk) for pk in wanted}


def _row_line(row: models.Model, columns: list[models.Field], usernames: dict) -> bytes:
    data = {}
    for column in columns:
        value = getattr(row, column.attname)
        if _is_user_fk(column):
            value = usernames.get(value) if value is not None else None
        data[column.attname] = _dump_value(column, value, row)
    return (json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _dump_value(column: models.Field, value: Any, row: models.Model) -> Any:
    if value is None or isinstance(column, models.JSONField):
        return value
    if isinstance(column, models.BinaryField):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, str | int | float | bool):
        return value
    return column.value_to_string(row)  # dates, times, decimals, UUIDs: ISO strings


def _write_users(zf: zipfile.ZipFile, archive: Archive) -> dict:
    names = sorted({name for name in archive.usernames.values() if name is not None})
    users = get_user_model()._base_manager.filter(username__in=names).order_by("username")
    lines = [
        (json.dumps(dict(zip(USER_FIELDS, values, strict=True)), ensure_ascii=False,
                    sort_keys=True) + "\n").encode("utf-8")
        for values in users.values_list(*USER_FIELDS)
    ]  # fmt: skip
    payload = b"".join(lines)
    zf.writestr("users.jsonl", payload)
    return {
        "file": "users.jsonl",
        "rows": len(lines),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }


def _manifest(library: Library, files: list[dict], users: dict) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "library": {"slug": library.slug, "name": library.name, "id": library.pk},
        "created": timezone.now().isoformat(),
        "users": users,
        "files": files,
    }


def archive_bytes(library: Library) -> bytes:
    buffer = io.BytesIO()
    write_archive(library, buffer)
    return buffer.getvalue()


def backup_file_name(library: Library) -> str:
    return f"{library.slug}-{timezone.localdate().isoformat()}.marginalia.zip"


# --- Reading and restoring -------------------------------------------------------------------


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except KeyError:
        raise BackupError("This is not a Marginalia backup: it has no manifest.json.") from None
    except ValueError as error:
        raise BackupError(f"manifest.json cannot be read: {error}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("This is not a Marginalia library backup (unknown format).")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"This backup has format version {manifest.get('version')}; this Marginalia "
            f"reads version {VERSION}."
        )
    return manifest


def verify_archive(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every file is present and hashes to the manifest's SHA-256."""
    for entry in [manifest["users"], *manifest["files"]]:
        digest = hashlib.sha256()
        try:
            with zf.open(entry["file"]) as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
        except KeyError:
            raise BackupError(f"{entry['file']} is missing from the archive.") from None
        except (zipfile.BadZipFile, OSError) as error:
            raise BackupError(f"{entry['file']} is damaged: {error}.") from None
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(
                f"{entry['file']} does not match its checksum: the archive is damaged."
            )


def open_archive(source: IO[bytes]) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise BackupError("This file is not a ZIP archive (a Marginalia backup is one).") from None
    manifest = read_manifest(zf)
    verify_archive(zf, manifest)
    return zf, manifest


@dataclass
class Restored:
    library: Library
    rows: dict[str, int]
    created_users: list[str]


def restore_archive(source: IO[bytes]) -> Restored:
    """Restore an archive, keeping every id, in one transaction (all or nothing)."""
    zf, manifest = open_archive(source)
    parts = {part.label: part for part in owned_models()}
    using = router.db_for_write(Library)
    with zf, transaction.atomic(using=using), _stored_timestamps(parts.values()):
        _refuse_existing_library(manifest)
        users, created = _restore_users(zf, manifest)
        counts = {}
        for entry in manifest["files"]:
            part = parts.get(entry["model"])
            if part is None:
                raise BackupError(f"This Marginalia has no model {entry['model']}.")
            counts[entry["model"]] = _restore_part(zf, entry, part, users, using)
        _reset_sequences(using, [parts[e["model"]].model for e in manifest["files"]])
        library = Library.objects.get(pk=manifest["library"]["id"])
    return Restored(library=library, rows=counts, created_users=created)


@contextmanager
def _stored_timestamps(parts: Iterable[Part]) -> Iterator[None]:
    """Keep the archive's `created`/`modified` times: bulk_create would stamp auto_now and
    auto_now_add fields with the time of the restore. Switched off only while restoring
    (a management command, not a web request)."""
    stamped = [
        f
        for part in parts
        for f in part.model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    try:
        for f in stamped:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _refuse_existing_library(manifest: dict[str, Any]) -> None:
    wanted = manifest["library"]
    clash = Library.objects.filter(Q(pk=wanted["id"]) | Q(slug=wanted["slug"])).first()
    if clash is not None:
        raise BackupError(
            f"A library “{clash.name}” ({clash.slug}, id {clash.pk}) already exists here; "
            "restore into an instance without it."
        )


def _restore_users(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> tuple[dict, list[str]]:
    """{user name: pk}, creating the people who are missing (without a usable password)."""
    User = get_user_model()
    known, created = {}, []
    for line in zf.open(manifest["users"]["file"]):
        data = json.loads(line)
        user = User._base_manager.filter(username=data["username"]).first()
        if user is None:
            user = User(**{name: data.get(name, "") for name in USER_FIELDS})
            user.set_unusable_password()
            user.save()
            created.append(user.username)
        known[user.username] = user.pk
    return known, created


def _restore_part(
    zf: zipfile.ZipFile, entry: dict, part: Part, users: dict[str, int], using: str
) -> int:
    columns = _columns(part, entry)
    count = 0
    batch = []
    with zf.open(entry["file"]) as handle:
        for line in handle:
            batch.append(_build(part.model, json.loads(line), columns, users, entry))
            if len(batch) == CHUNK:
                count += _insert(part.model, batch, using)
                batch = []
    count += _insert(part.model, batch, using) if batch else 0
    if count != entry["rows"]:
        raise BackupError(f"{entry['file']} has {count} rows; its manifest says {entry['rows']}.")
    return count


def _columns(part: Part, entry: dict) -> dict[str, models.Field]:
    """The model's columns by attname; a column in the archive the model lacks is an error
    (an archive from a newer Marginalia), a column the archive lacks takes its default."""
    columns = {f.attname: f for f in part.model._meta.concrete_fields}
    unknown = set(entry["columns"]) - set(columns)
    if unknown:
        raise BackupError(
            f"{entry['file']} has columns this Marginalia does not know: "
            f"{', '.join(sorted(unknown))}."
        )
    return columns


def _build(
    model: type[models.Model], data: dict, columns: dict, users: dict[str, int], entry: dict
) -> models.Model:
    values = {}
    for attname, column in columns.items():
        if attname not in data:
            continue
        value = data[attname]
        if value is not None and _is_user_fk(column):
            if value not in users:
                raise BackupError(f"{entry['file']} names a user {value!r} not in users.jsonl.")
            value = users[value]
        values[attname] = _load_value(column, value, entry)
    return model(**values)


def _load_value(column: models.Field, value: Any, entry: dict) -> Any:
    if value is None or isinstance(column, models.JSONField | models.ForeignKey):
        return value
    try:
        if isinstance(column, models.BinaryField):
            return base64.b64decode(value)
        return column.to_python(value)
    except (ValidationError, ValueError, TypeError) as error:
        raise BackupError(f"{entry['file']}: {column.attname} holds {value!r}: {error}") from None


def _insert(model: type[models.Model], rows: list[models.Model], using: str) -> int:
    """Insert as stored: bulk_create calls no save() and sends no signal, so versions,
    timestamps and derived rows are not recomputed."""
    exists = model._base_manager.using(using).filter(pk__in=[row.pk for row in rows])
    if exists.exists():
        raise BackupError(
            f"{model._meta.verbose_name_plural} with the archive's ids already exist here; "
            "restore into an instance without them."
        )
    model._base_manager.using(using).bulk_create(rows, batch_size=CHUNK)
    return len(rows)


def _reset_sequences(using: str, model_list: list[type[models.Model]]) -> None:
    """After inserting explicit ids, PostgreSQL's sequences must move past them."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def content_checksums(source: IO[bytes]) -> dict[str, str]:
    """{file: SHA-256} of an archive's data and users, to compare two backups' content."""
    _, manifest = open_archive(source)
    entries = [manifest["users"], *manifest["files"]]
    return {entry["file"]: entry["sha256"] for entry in entries}


def library_counts(library: Library) -> list[tuple[str, int]]:
    """(what, how many) for the owners' page: the library's own rows, not the history."""
    counts = []
    for part in owned_models():
        if (
            part.history_of is None
            and part.model is not Library
            and not part.model._meta.auto_created
        ):
            counts.append(
                (str(part.model._meta.verbose_name_plural), rows_of(part, library).count())
            )
    return [(name, count) for name, count in counts if count]
