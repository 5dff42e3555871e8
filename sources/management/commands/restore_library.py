"""Restore a library from a backup archive: `manage.py restore_library <file>`."""

from __future__ import annotations

from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sources.sharing.backup import BackupError, Limits, restore_archive


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Restore a library from an archive written by backup_library, as a new library: "
        "every row gets a fresh id, so the archive restores beside what exists (give "
        "--slug when its slug is taken) and can never name an existing row. Nothing in the "
        "archive is trusted: every row must belong to its library, every value is checked, "
        "and an archive past the limits (1000 files, 8 GiB unpacked, 4 GiB in one file, "
        "rows of max(64 MiB, 8 × MAX_UPLOAD_BYTES), 20 million rows) is refused. One "
        "transaction: all or nothing, with the reason. Missing users are created as guests "
        "without a usable password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The .marginalia.zip file.")
        parser.add_argument("--slug", help="Restore under this slug (default: the archive's).")
        parser.add_argument(
            "--max-bytes",
            type=positive,
            help="Accept an archive that unpacks to this many bytes, in all and in one file "
            "(default 8 GiB in all, 4 GiB in one file).",
        )
        parser.add_argument(
            "--max-row-bytes", type=positive, help="Accept rows of this many bytes (a JSON line)."
        )

    def handle(self, *args, archive: str, slug: str | None, **options) -> None:
        limits = self.limits(options.get("max_bytes"), options.get("max_row_bytes"))
        try:
            with open(archive, "rb") as source:
                restored = restore_archive(source, slug=slug, limits=limits)
        except FileNotFoundError:
            raise CommandError(f"No such file: {archive}") from None
        except BackupError as error:
            raise CommandError(f"Nothing was restored: {error}") from None
        rows = sum(restored.rows.values())
        self.stdout.write(
            f"Restored {restored.library.name!r} ({restored.library.slug}): {rows} rows."
        )
        if restored.created_users:
            names = ", ".join(restored.created_users)
            self.stdout.write(f"Created users without a password (set one): {names}")

    def limits(self, max_bytes: int | None, max_row_bytes: int | None) -> Limits:
        limits = Limits()
        if max_bytes is not None:
            limits = replace(limits, total_bytes=max_bytes, member_bytes=max_bytes)
        if max_row_bytes is not None:
            limits = replace(limits, line_bytes=max_row_bytes)
        return limits
