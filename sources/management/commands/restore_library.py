"""Restore a library from a backup archive: `manage.py restore_library <file>`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sources.sharing.backup import BackupError, restore_archive


class Command(BaseCommand):
    help = (
        "Restore a library from an archive written by backup_library, keeping every id, "
        "in one transaction. The library must not exist here yet; missing users are "
        "created without a usable password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="The .marginalia.zip file.")

    def handle(self, *args, archive: str, **options) -> None:
        try:
            with open(archive, "rb") as source:
                restored = restore_archive(source)
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
