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

`restore_archive` trusts nothing in the archive. It reads it twice: first without writing
anything (`scan_archive`: sizes, checksums, the shape of every row, every id), then in one
transaction that writes all of it or, with a BackupError naming the reason, nothing:
- Every row must belong to the archive's one library: a foreign key leads to that library
  or to a row of the archive (a membership naming another library is refused). History
  rows may also name rows gone since, but their key to the library (the one a backup finds
  them by) leads to the archive's library, to a row of the archive, or to one its history
  holds. Ids inside JSON (an import's outcomes) are remapped too, or emptied.
- Every row gets a fresh id, taken from its table's sequence (PostgreSQL) or past its
  AUTOINCREMENT counter (SQLite), and every foreign key, history row (its object's id,
  its keys) and many-to-many row follows; a row gone since gets a fresh id that no row
  has or will have. So an archive never names an existing row, and restores beside
  what exists (under another slug: `restore_library --slug`).
- People are matched by user name; someone missing is created as a guest: the names and
  e-mail address of users.jsonl (checked as the user model checks them), no usable
  password (an administrator sets one), no staff or other right.
- Every value is checked as its field checks it (type, choices, length, format).
- Reading is bounded (`Limits`): at most 1000 files, 8 GiB unpacked in all and 4 GiB in
  one file (zip bombs: zipfile never inflates a file past the size its directory
  declares), one row at most max(64 MiB, 8 × MAX_UPLOAD_BYTES), manifest.json 4 MiB,
  users.jsonl 64 MiB, 20 million rows; only stored or deflated, unencrypted files. Memory
  holds one row at a time (a batch of at most 32 MiB while inserting) and 16 bytes per row
  for the table of new ids.

Ids change, so a backup restored and backed up again is compared on its content:
`content_checksums` hashes each data file with every id replaced by its rank among its
model's ids (a restore keeps their order) and without the library's slug; those checksums
are the same.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import io
import json
import zipfile
import zlib
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connections, models, router, transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from sources.models import Library, Source

# Sent with the restored `library` inside the restore's transaction (its rows were written
# without their own signals). The search index listens.
library_restored = Signal()

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


@functools.cache  # asked for every value of every row restored
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


# --- Reading an archive: nothing in it is trusted ----------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What reading an archive accepts at most; past any of these it is refused before
    anything is written. Reading holds one row at a time (and a batch of rows of at most
    BATCH_BYTES while inserting), plus 16 bytes per row for the table of new ids."""

    members: int = 1000  # files in the ZIP archive (a backup has about forty)
    total_bytes: int = 8 * 2**30  # all files together, uncompressed
    member_bytes: int = 4 * 2**30  # one file, uncompressed
    line_bytes: int = field(default_factory=lambda: max(64 * 2**20, 8 * settings.MAX_UPLOAD_BYTES))
    manifest_bytes: int = 4 * 2**20  # manifest.json
    users_bytes: int = 64 * 2**20  # users.jsonl, held in memory while restoring
    rows: int = 20_000_000  # rows of all data files together


BATCH_BYTES = 32 * 2**20  # rows inserted together, at most this much JSON
READ_BYTES = 2**20  # what is inflated at a time
INT64_MAX = 2**63 - 1
JSON_IDS = {"sources.importrun": ("outcomes", ("source", "duplicate_of"))}  # ids inside JSON


@contextmanager
def _unzipping(name: str) -> Iterator[None]:
    """A damaged or hostile ZIP member (bad CRC, bad deflate stream, encryption, an
    unknown compression) as a BackupError naming it."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as error:
        raise BackupError(f"{name} is damaged: {error}.") from None


def _open_zip(source: IO[bytes], limits: Limits) -> zipfile.ZipFile:
    """The archive, once its directory passes the limits: every member stored or deflated,
    unencrypted, named once, within the sizes (a member never inflates past the size the
    directory declares: zipfile stops there)."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise BackupError("This file is not a ZIP archive (a Marginalia backup is one).") from None
    members = zf.infolist()
    if len(members) > limits.members:
        raise BackupError(
            f"The archive has {len(members)} files; a backup has at most {limits.members}."
        )
    names = [member.filename for member in members]
    if len(set(names)) != len(names):
        raise BackupError("The archive holds a file twice under one name.")
    for member in members:
        _check_member(member, limits)
    total = sum(member.file_size for member in members)
    if total > limits.total_bytes:
        raise BackupError(
            f"The archive unpacks to {total:,} bytes; the limit is "
            f"{limits.total_bytes:,} (restore_library --max-bytes)."
        )
    return zf


def _check_member(member: zipfile.ZipInfo, limits: Limits) -> None:
    if member.flag_bits & 0x1:
        raise BackupError(f"{member.filename} is encrypted.")
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BackupError(f"{member.filename} uses a compression a backup never uses.")
    if member.file_size > limits.member_bytes:
        raise BackupError(
            f"{member.filename} unpacks to {member.file_size:,} bytes; the limit "
            f"is {limits.member_bytes:,} (restore_library --max-bytes)."
        )


def read_manifest(zf: zipfile.ZipFile, limits: Limits | None = None) -> dict[str, Any]:
    """The manifest, its shape checked: every entry the restore reads is there, typed."""
    limits = limits or Limits()
    try:
        info = zf.getinfo("manifest.json")
    except KeyError:
        raise BackupError("This is not a Marginalia backup: it has no manifest.json.") from None
    if info.file_size > limits.manifest_bytes:
        raise BackupError(f"manifest.json is larger than {limits.manifest_bytes:,} bytes.")
    with _unzipping("manifest.json"):
        raw = zf.read(info)
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise BackupError(f"manifest.json cannot be read: {error}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("This is not a Marginalia library backup (unknown format).")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"This backup has format version {manifest.get('version')}; this Marginalia "
            f"reads version {VERSION}."
        )
    _check_entry(manifest.get("users"), "users", columns=False)
    files = manifest.get("files")
    if not isinstance(files, list):
        raise BackupError("manifest.json: `files` is not a list.")
    for entry in files:
        _check_entry(entry, "files", columns=True)
    return manifest


def _check_entry(entry: Any, where: str, *, columns: bool) -> None:
    wanted: dict[str, type | tuple[type, ...]] = {"file": str, "rows": int, "sha256": str}
    if columns:
        wanted |= {"model": str, "columns": list}
    if not isinstance(entry, dict):
        raise BackupError(f"manifest.json: an entry of `{where}` is not an object.")
    for key, kind in wanted.items():
        value = entry.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BackupError(f"manifest.json: an entry of `{where}` has no valid `{key}`.")
    if columns and not all(isinstance(name, str) for name in entry["columns"]):
        raise BackupError(f"manifest.json: {entry['file']} has a column name that is no text.")


def _lines(zf: zipfile.ZipFile, name: str, limit: int) -> Iterator[bytes]:
    """The member's lines, each at most `limit` bytes: read in blocks of READ_BYTES, so
    that a longer line is refused holding no more than `limit` bytes of it."""
    with _unzipping(name):
        try:
            handle = zf.open(name)
        except KeyError:
            raise BackupError(f"{name} is missing from the archive.") from None
        with handle:
            pending: list[bytes] = []  # the start of a line that goes on in the next block
            size = 0
            while block := handle.read(READ_BYTES):
                start = 0
                while (end := block.find(b"\n", start)) != -1:
                    _check_line(name, size + end + 1 - start, limit)
                    yield b"".join([*pending, block[start : end + 1]])
                    pending, size, start = [], 0, end + 1
                if start < len(block):
                    size += len(block) - start
                    _check_line(name, size, limit)
                    pending.append(block[start:])
            if pending:
                yield b"".join(pending)


def _check_line(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise BackupError(f"{name} has a row longer than {limit:,} bytes.")


def _rows(zf: zipfile.ZipFile, entry: dict, limits: Limits) -> Iterator[tuple[int, bytes, dict]]:
    """(row number from 1, its bytes, the row) of a data file; each row a JSON object."""
    for number, line in enumerate(_lines(zf, entry["file"], limits.line_bytes), 1):
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise BackupError(f"{entry['file']}, row {number}, is not JSON.") from None
        if not isinstance(row, dict):
            raise BackupError(f"{entry['file']}, row {number}, is not a JSON object.")
        yield number, line, row


def verify_archive(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every file is present and hashes to the manifest's SHA-256."""
    for entry in [manifest["users"], *manifest["files"]]:
        digest = hashlib.sha256()
        with _unzipping(entry["file"]):
            try:
                handle = zf.open(entry["file"])
            except KeyError:
                raise BackupError(f"{entry['file']} is missing from the archive.") from None
            with handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
        _check_digest(entry, digest)


def _check_digest(entry: dict, digest: Any) -> None:
    if digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"{entry['file']} does not match its checksum: the archive is damaged.")


def open_archive(
    source: IO[bytes], limits: Limits | None = None
) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    """The archive and its manifest, its limits, shape and checksums verified."""
    limits = limits or Limits()
    zf = _open_zip(source, limits)
    manifest = read_manifest(zf, limits)
    verify_archive(zf, manifest)
    return zf, manifest


# --- Ids: every one the archive holds is given a fresh one ------------------------------------


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= INT64_MAX


@dataclass
class IdMap:
    """One model's ids in the archive and the fresh ids they become: its rows' (kept in
    ascending order, as the archive must list them) and, apart, the ids only history names
    (rows deleted since, or never backed up). Both keep their order, so an id's rank in
    its class is what a restore does not change (`content_checksums` compares on it)."""

    rows: array = field(default_factory=lambda: array("q"))
    gone: set[int] = field(default_factory=set)
    in_history: set[int] = field(default_factory=set)  # gone ids the model's history has
    new_rows: array = field(default_factory=lambda: array("q"))
    gone_sorted: array = field(default_factory=lambda: array("q"))
    new_gone: array = field(default_factory=lambda: array("q"))

    def add_row(self, old: int) -> bool:
        """Record a row's id; False when it is not above the previous one."""
        if self.rows and old <= self.rows[-1]:
            return False
        self.rows.append(old)
        return True

    def has_row(self, old: int) -> bool:
        index = bisect.bisect_left(self.rows, old)
        return index < len(self.rows) and self.rows[index] == old

    def name_gone(self, old: int, *, in_history: bool = False) -> None:
        if not self.has_row(old):
            self.gone.add(old)
            if in_history:
                self.in_history.add(old)

    def seal(self) -> None:
        self.gone_sorted = array("q", sorted(self.gone))

    def rank(self, old: int) -> tuple[str, int] | None:
        """("row" or "gone", the id's place in its class), None for an id not here."""
        for name, ids in (("row", self.rows), ("gone", self.gone_sorted)):
            index = bisect.bisect_left(ids, old)
            if index < len(ids) and ids[index] == old:
                return name, index
        return None

    def new(self, old: int) -> int | None:
        found = self.rank(old)
        if found is None:
            return None
        return (self.new_rows if found[0] == "row" else self.new_gone)[found[1]]


def allocate_ids(model: type[models.Model], count: int, using: str) -> array:
    """`count` fresh primary keys of `model`, ascending, that no row has or will be given:
    taken from its sequence (PostgreSQL) or past its AUTOINCREMENT counter (SQLite)."""
    if count == 0:
        return array("q")
    connection = connections[using]
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _from_sequence(cursor, connection.ops.quote_name(table), column, count)
        if connection.vendor == "sqlite":
            return _past_autoincrement(cursor, connection.ops.quote_name, table, column, count)
    raise BackupError(f"Restoring needs PostgreSQL or SQLite, not {connection.vendor}.")


def _from_sequence(cursor: Any, table: str, column: str, count: int) -> array:
    ids = array("q")
    for start in range(0, count, 100_000):
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, min(100_000, count - start)],
        )
        ids.extend(sorted(row[0] for row in cursor.fetchall()))
    return ids


def _past_autoincrement(cursor: Any, quote: Any, table: str, column: str, count: int) -> array:
    cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")  # noqa: S608
    highest = cursor.fetchone()[0] or 0
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    counter = cursor.fetchone()
    start = max(highest, counter[0] if counter else 0) + 1
    last = start + count - 1
    if counter:
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [last, table])
    else:
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last])
    return array("q", range(start, last + 1))


# --- Scanning: checksums, ids and what history names, before anything is written -------------


@dataclass
class Scan:
    """What a first read of the archive found: its verified manifest, its people, the ids
    of every model, and its library's row."""

    zf: zipfile.ZipFile
    manifest: dict[str, Any]
    limits: Limits
    entries: list[tuple[dict, Part]] = field(default_factory=list)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[type[models.Model], IdMap] = field(default_factory=dict)
    library: dict[str, Any] = field(default_factory=dict)
    rows: int = 0


def scan_archive(source: IO[bytes], limits: Limits | None = None) -> Scan:
    """Read the whole archive once, writing nothing: every limit, checksum and row shape
    checked, every id collected. Raises BackupError naming what is wrong."""
    limits = limits or Limits()
    zf = _open_zip(source, limits)
    try:
        scan = Scan(zf=zf, manifest=read_manifest(zf, limits), limits=limits)
        scan.entries = _entries(scan.manifest)
        scan.ids = {part.model: IdMap() for _, part in scan.entries}
        scan.users = _scan_users(zf, scan.manifest["users"], limits)
        for entry, part in scan.entries:
            _scan_part(scan, entry, part)
    except BaseException:
        zf.close()
        raise
    if not scan.library:
        zf.close()
        raise BackupError("The archive holds no library.")
    for idmap in scan.ids.values():
        idmap.seal()
    return scan


def _entries(manifest: dict[str, Any]) -> list[tuple[dict, Part]]:
    """The data files with their parts, in the order their ids must be learnt: a model's
    rows before the history that names them."""
    order = {part.label: index for index, part in enumerate(owned_models())}
    parts = {part.label: part for part in owned_models()}
    found: dict[str, tuple[dict, Part]] = {}
    for entry in manifest["files"]:
        part = parts.get(entry["model"])
        if part is None:
            raise BackupError(f"This Marginalia has no model {entry['model']}.")
        if entry["file"] != part.file_name or entry["model"] in found:
            raise BackupError(f"manifest.json lists {entry['model']} oddly: once, in its file.")
        _columns(part, entry)
        found[entry["model"]] = (entry, part)
    if Library._meta.label_lower not in found:
        raise BackupError("The archive holds no library.")
    return sorted(found.values(), key=lambda pair: order[pair[1].label])


def _scan_users(zf: zipfile.ZipFile, entry: dict, limits: Limits) -> dict[str, dict[str, str]]:
    """{user name: fields} of users.jsonl, each checked as a new account would be."""
    if entry["file"] != "users.jsonl":
        raise BackupError("manifest.json names an odd file for the users.")
    digest, users, size = hashlib.sha256(), {}, 0
    for number, line in enumerate(_lines(zf, "users.jsonl", limits.line_bytes), 1):
        digest.update(line)
        size += len(line)
        if size > limits.users_bytes:
            raise BackupError(f"users.jsonl is larger than {limits.users_bytes:,} bytes.")
        user = _checked_user(line, number)
        if user["username"] in users:
            raise BackupError(f"users.jsonl, row {number}, names {user['username']!r} again.")
        users[user["username"]] = user
    _check_digest(entry, digest)
    return users


def _checked_user(line: bytes, number: int) -> dict[str, str]:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        raise BackupError(f"users.jsonl, row {number}, is not JSON.") from None
    if not isinstance(data, dict) or set(data) - set(USER_FIELDS):
        raise BackupError(f"users.jsonl, row {number}, is not a user.")
    User = get_user_model()
    user = {name: data.get(name) or "" for name in USER_FIELDS}
    for name, value in user.items():
        if not isinstance(value, str):
            raise BackupError(f"users.jsonl, row {number}: {name} is not text.")
        try:
            if value:
                User._meta.get_field(name).clean(value, None)
        except ValidationError as error:
            raise BackupError(
                f"users.jsonl, row {number}: {name} {value!r}: {' '.join(error.messages)}"
            ) from None
    if not user["username"]:
        raise BackupError(f"users.jsonl, row {number}, has no user name.")
    return user


def _scan_part(scan: Scan, entry: dict, part: Part) -> None:
    digest, count = hashlib.sha256(), 0
    pk = part.model._meta.pk.attname
    declared = set(entry["columns"])
    for number, line, row in _rows(scan.zf, entry, scan.limits):
        digest.update(line)
        count += 1
        scan.rows += 1
        if scan.rows > scan.limits.rows:
            raise BackupError(f"The archive has more than {scan.limits.rows:,} rows.")
        where = f"{entry['file']}, row {number}"
        if set(row) - declared:
            raise BackupError(f"{where} has columns its manifest does not list.")
        if not _is_id(row.get(pk)) or not scan.ids[part.model].add_row(row[pk]):
            raise BackupError(f"{where}: {pk} is not an id above the row before it.")
        if part.model is Library:
            _scan_library(scan, row, where)
        elif part.history_of is not None:
            _note_what_history_names(scan, part, row, where)
    _check_digest(entry, digest)
    if count != entry["rows"]:
        raise BackupError(f"{entry['file']} has {count} rows; its manifest says {entry['rows']}.")


def _scan_library(scan: Scan, row: dict, where: str) -> None:
    if scan.library:
        raise BackupError(f"{where}: an archive holds one library.")
    scan.library = row


def _note_what_history_names(scan: Scan, part: Part, row: dict, where: str) -> None:
    """A history row names its object (`id`) and, by foreign key, others: rows of the
    archive, or rows gone since, which get fresh ids of their own."""
    if part.path == "":  # a historical row: its object's id
        tracked = part.history_of.model
        _note(scan, tracked, row.get(tracked._meta.pk.attname), where, in_history=True)
    for column in _foreign_keys(part.model):
        if not _is_user_fk(column) and column.attname in row and row[column.attname] is not None:
            _note(scan, column.related_model, row[column.attname], where)


def _note(scan: Scan, model: type, value: Any, where: str, *, in_history: bool = False) -> None:
    if model not in scan.ids:
        raise BackupError(f"{where} names a {model._meta.label_lower}; the archive has none.")
    if not _is_id(value):
        raise BackupError(f"{where} names a {model._meta.label_lower} by {value!r}, not an id.")
    scan.ids[model].name_gone(value, in_history=in_history)


# --- Restoring ---------------------------------------------------------------------------------


@dataclass
class Restored:
    library: Library
    rows: dict[str, int]
    created_users: list[str]


def restore_archive(
    source: IO[bytes], *, slug: str | None = None, limits: Limits | None = None
) -> Restored:
    """Restore an archive as a new library (under `slug`, or the archive's), every row
    given a fresh id, in one transaction: all of it or, with a BackupError saying why,
    nothing."""
    scan = scan_archive(source, limits)
    using = router.db_for_write(Library)
    with scan.zf:
        slug = _free_slug(slug or scan.library.get("slug"))
        try:
            with transaction.atomic(using=using), _stored_timestamps(scan.entries):
                counts, created = _write(scan, slug, using)
                library = Library.objects.using(using).get(pk=scan.ids[Library].new_rows[0])
                # Rows were written in bulk, without their signals: whoever keeps something
                # derived from them (the search index) builds it now, in this transaction.
                library_restored.send(sender=Library, library=library)
        except (IntegrityError, DataError) as error:  # a constraint the checks above missed
            raise BackupError(f"The database refused the archive's rows: {error}") from None
    return Restored(library=library, rows=counts, created_users=created)


def _write(scan: Scan, slug: str, using: str) -> tuple[dict[str, int], list[str]]:
    users, created = _restore_users(scan.users)
    for model, idmap in scan.ids.items():
        idmap.new_rows = allocate_ids(model, len(idmap.rows), using)
        idmap.new_gone = allocate_ids(model, len(idmap.gone_sorted), using)
    writer = Writer(scan, users, slug)
    return {part.label: writer.restore(entry, part, using) for entry, part in scan.entries}, created


def _free_slug(slug: Any) -> str:
    """The restored library's slug: valid, and no library's here."""
    field_ = Library._meta.get_field("slug")
    try:
        slug = field_.clean(slug, None)
    except ValidationError as error:
        raise BackupError(f"The library's slug {slug!r}: {' '.join(error.messages)}") from None
    clash = Library.objects.filter(slug=slug).first()
    if clash is not None:
        raise BackupError(
            f"A library “{clash.name}” ({clash.slug}) already exists here; restore the archive "
            "beside it under another slug (restore_library --slug)."
        )
    return slug


@contextmanager
def _stored_timestamps(entries: Iterable[tuple[dict, Part]]) -> Iterator[None]:
    """Keep the archive's `created`/`modified` times: bulk_create would stamp auto_now and
    auto_now_add fields with the time of the restore. Switched off only while restoring
    (a management command, not a web request)."""
    stamped = [
        f
        for _, part in entries
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


def _restore_users(users: dict[str, dict[str, str]]) -> tuple[dict[str, int], list[str]]:
    """{user name: pk}: people found by user name; the missing ones created as guests,
    without a usable password (an administrator sets one) and without any staff right."""
    User = get_user_model()
    known = dict(User._base_manager.filter(username__in=users).values_list("username", "pk"))
    created = []
    for name, fields in users.items():
        if name not in known:
            user = User(**fields)
            user.set_unusable_password()
            user.save()
            known[name] = user.pk
            created.append(name)
    return known, created


@dataclass
class Writer:
    """Turns the archive's rows into new rows: ids, foreign keys, history's ids and the ids
    inside JSON remapped; every value checked as its field would."""

    scan: Scan
    users: dict[str, int]
    slug: str

    def restore(self, entry: dict, part: Part, using: str) -> int:
        columns = _columns(part, entry)
        count, batch, size = 0, [], 0
        for number, line, row in _rows(self.scan.zf, entry, self.scan.limits):
            where = f"{entry['file']}, row {number}"
            batch.append(self.build(part, row, columns, where))
            size += len(line)
            if len(batch) == CHUNK or size > BATCH_BYTES:
                count += _insert(part.model, batch, using)
                batch, size = [], 0
        return count + (_insert(part.model, batch, using) if batch else 0)

    def build(self, part: Part, row: dict, columns: dict, where: str) -> models.Model:
        values = {
            name: self.value(part, columns[name], value, where) for name, value in row.items()
        }
        if part.model is Library:
            values["slug"] = self.slug
        return part.model(**values)

    def value(self, part: Part, column: models.Field, value: Any, where: str) -> Any:
        if column.primary_key:
            return self.scan.ids[part.model].new(value)
        if _is_object_id(part, column):
            return self.scan.ids[part.history_of.model].new(value)
        if value is None:
            if not column.null or column.attname == _path_column(part):
                raise BackupError(f"{where}: {column.attname} may not be empty.")
            return None
        if _is_user_fk(column):
            if value not in self.users:
                raise BackupError(f"{where} names a user {value!r} not in users.jsonl.")
            return self.users[value]
        if isinstance(column, models.ForeignKey):
            return self.foreign_key(part, column, value, where)
        value = _load_value(column, value, where)
        return self.ids_in_json(part, column, value, where)

    def foreign_key(self, part: Part, column: models.ForeignKey, value: Any, where: str) -> int:
        """A row of the archive. History may also name rows gone since (they have fresh ids
        of their own), except on its way to the library (`_path_column`): that leads to a
        row of the archive or one its history holds."""
        idmap = self.scan.ids.get(column.related_model)
        if idmap is None or not _is_id(value):
            raise BackupError(f"{where}: {column.attname} {value!r} is not in the archive.")
        if part.history_of is None:
            belongs = idmap.has_row(value)
        elif column.attname == _path_column(part):
            belongs = idmap.has_row(value) or value in idmap.in_history
        else:
            belongs = True  # noted by the scan: given a fresh id that names nothing here
        if not belongs:
            raise BackupError(
                f"{where}: {column.attname} names {column.related_model._meta.label_lower} "
                f"{value}, which is not in the archive: every row must belong to its library."
            )
        return idmap.new(value)

    def ids_in_json(self, part: Part, column: models.Field, value: Any, where: str) -> Any:
        """Source ids inside an import's outcomes: the new id, or None for a source the
        archive does not hold (deleted since), so that none can name a row elsewhere."""
        name, keys = JSON_IDS.get(part.label, (None, ()))
        if column.attname != name:
            return value
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise BackupError(f"{where}: {name} is not a list of objects.")
        sources = self.scan.ids.get(Source, IdMap())
        remapped = []
        for item in value:
            found = {key: item[key] for key in keys if key in item}
            remapped.append(
                item | {k: sources.new(v) if _is_id(v) else None for k, v in found.items()}
            )
        return remapped


def _is_object_id(part: Part, column: models.Field) -> bool:
    """Is this a historical row's copy of its object's id?"""
    return (
        part.history_of is not None
        and part.path == ""
        and column.attname == part.history_of.model._meta.pk.attname
    )


def _path_column(part: Part) -> str | None:
    """The foreign key a history row is found by in a backup (`_ever_belonged`)."""
    if part.history_of is None:
        return None
    if part.path == "history":
        return "history_id"
    first = part.history_of.path.split("__", 1)[0]
    return part.history_of.model._meta.get_field(first).attname


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
    if part.model._meta.pk.attname not in entry["columns"]:
        raise BackupError(f"{entry['file']} has no ids.")
    return columns


def _load_value(column: models.Field, value: Any, where: str) -> Any:
    """The stored value, checked as the field checks it: type, choices, length, format."""
    if isinstance(column, models.JSONField):
        return value
    try:
        if isinstance(column, models.BinaryField):
            if not isinstance(value, str):
                raise ValueError("not base64 text")
            return base64.b64decode(value, validate=True)
        value = column.to_python(value)
        if column.choices and value not in dict(column.flatchoices):
            raise ValidationError(f"{value!r} is not one of the choices")
        column.run_validators(value)
        return value
    except (ValidationError, ValueError, TypeError) as error:
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        raise BackupError(f"{where}: {column.attname} holds {value!r:.80}: {reason}") from None


def _insert(model: type[models.Model], rows: list[models.Model], using: str) -> int:
    """Insert as stored: bulk_create calls no save() and sends no signal, so versions,
    timestamps and derived rows are not recomputed."""
    model._base_manager.using(using).bulk_create(rows, batch_size=CHUNK)
    return len(rows)


# --- Comparing two archives ------------------------------------------------------------------


def content_checksums(source: IO[bytes]) -> dict[str, str]:
    """{file: SHA-256} of an archive's users and of its data with every id replaced by its
    rank among the ids of its model (its rows, then the ids only history names): a restore
    gives every row a fresh id but keeps their order, so a backup restored and backed up
    again has the same content checksums as the archive it came from."""
    scan = scan_archive(source)
    found = {scan.manifest["users"]["file"]: scan.manifest["users"]["sha256"]}
    with scan.zf:
        for entry, part in scan.entries:
            found[entry["file"]] = _content_digest(scan, entry, part)
    return found


def _content_digest(scan: Scan, entry: dict, part: Part) -> str:
    digest = hashlib.sha256()
    relations = {
        f.attname: f.related_model
        for f in _foreign_keys(part.model)
        if not _is_user_fk(f) and f.related_model in scan.ids
    }
    relations[part.model._meta.pk.attname] = part.model
    if part.history_of is not None and part.path == "":
        relations["id"] = part.history_of.model
    json_ids = JSON_IDS.get(part.label)
    for _, _, row in _rows(scan.zf, entry, scan.limits):
        for name, model in relations.items():
            if row.get(name) is not None:
                row[name] = scan.ids[model].rank(row[name])
        if json_ids and isinstance(row.get(json_ids[0]), list):
            row[json_ids[0]] = _ranked_json(scan, row[json_ids[0]], json_ids[1])
        if part.model is Library:
            row.pop("slug", None)  # a library may be restored under another slug
        digest.update(json.dumps(row, sort_keys=True).encode())
    return digest.hexdigest()


def _ranked_json(scan: Scan, items: list, keys: tuple[str, ...]) -> list:
    sources = scan.ids.get(Source, IdMap())
    ranked = []
    for item in items:
        if isinstance(item, dict):
            item = item | {k: sources.rank(item[k]) for k in keys if _is_id(item.get(k))}
        ranked.append(item)
    return ranked


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
