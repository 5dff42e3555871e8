"""A Zotero data directory uploaded as a .zip: checked before anything in it is read.

Nothing is extracted to disk: members are looked up by name and read into memory one at a
time, each within a limit that does not trust the sizes the archive declares (a zip bomb
declares small ones). The archive is refused as a whole when it has too many members, a
member whose name climbs out of the directory (`../`, an absolute or drive path), an
encrypted member, or no `zotero.sqlite`.
"""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

from core.uploads import UploadError

MAX_MEMBERS = 200_000  # a 10,000-item library with a PDF and a snapshot each: ~60,000
MAX_DATABASE_BYTES = 1024 * 1024 * 1024  # zotero.sqlite of a very large library: ~500 MB
MAX_RATIO = 200  # uncompressed ÷ compressed: text compresses ~10×, a bomb ~1000×
DATABASE = "zotero.sqlite"
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class DataDirectory:
    """The archive and where in it the data directory (`zotero.sqlite`) lies."""

    archive: zipfile.ZipFile
    root: str  # "" or "Zotero/"
    notes: list[str] = field(default_factory=list)  # what the report should say about it

    def database(self) -> bytes:
        return self.read(self.root + DATABASE, MAX_DATABASE_BYTES)

    def storage_member(self, item_key: str, path: str) -> str | None:
        """The member of an attachment stored as `storage:<name>` under storage/<key>/."""
        if not path.startswith("storage:") or not re.fullmatch(r"[A-Z0-9]{8}", item_key):
            return None
        name = f"{self.root}storage/{item_key}/{path.removeprefix('storage:')}"
        for form in (name, *(unicodedata.normalize(f, name) for f in ("NFC", "NFD"))):
            if form in self.archive.NameToInfo:  # macOS zips names decomposed (NFD)
                return form
        return None

    def read(self, name: str, limit: int) -> bytes:
        """A member's bytes; UploadError past `limit` or past MAX_RATIO its compressed size."""
        info = self.archive.getinfo(name)
        if info.file_size > limit:
            raise UploadError(f"{name} is {info.file_size / 1e6:.1f} MB; the limit is "
                              f"{limit / 1e6:.0f} MB.")  # fmt: skip
        try:
            with self.archive.open(info) as member:
                data = member.read(limit + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError):
            raise UploadError(
                f"{name} cannot be unpacked (damaged, or an unknown method)."
            ) from None
        bound = max(info.compress_size, 1) * MAX_RATIO
        if len(data) > limit or (len(data) > 1_000_000 and len(data) > bound):
            raise UploadError(f"{name} unpacks to more than it says (a zip bomb?); not read.")
        return data


def open_data_directory(data: bytes) -> DataDirectory:
    """The data directory in a .zip, its every member name checked. UploadError naming
    what is wrong with the archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        raise UploadError(
            "The file is not a .zip archive. Zip your Zotero data directory (the folder "
            "holding zotero.sqlite and storage/) and upload that."
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise UploadError(f"The archive holds {len(infos):,} files; the limit is {MAX_MEMBERS:,}.")
    for info in infos:
        _check_member(info)
    roots = sorted(
        (name[: -len(DATABASE)] for name in archive.NameToInfo if _is_database(name)), key=len
    )
    if not roots:
        raise UploadError(
            "The archive holds no zotero.sqlite: zip the whole Zotero data directory "
            "(Zotero → Settings → Advanced → Files and Folders → Show Data Directory)."
        )
    directory = DataDirectory(archive, roots[0])
    if roots[0] + DATABASE + "-wal" in archive.NameToInfo:
        directory.notes.append(
            "zotero.sqlite-wal was in the archive: Zotero was open when it was zipped, so the "
            "last changes may be missing. Close Zotero and zip the folder again to be sure."
        )
    return directory


def _is_database(name: str) -> bool:
    return name == DATABASE or name.endswith("/" + DATABASE)


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts or "\x00" in name:
        raise UploadError(f"The archive has a file outside its folder ({name[:200]!r}); not read.")
    if posixpath.normpath(name.replace("\\", "/")).startswith(".."):
        raise UploadError(f"The archive has a file outside its folder ({name[:200]!r}); not read.")
    if info.flag_bits & 0x1:
        raise UploadError(f"{name[:200]} is encrypted; zip the folder without a password.")
