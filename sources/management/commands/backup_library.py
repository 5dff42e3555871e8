"""Write a whole library to one archive: `manage.py backup_library <slug> [-o file]`."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sources.models import Library
from sources.sharing.backup import backup_file_name, write_archive


class Command(BaseCommand):
    help = (
        "Back up a library (metadata, every text revision, annotations, claims, events, "
        "history) to one ZIP archive that restore_library reads back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The library's slug (as in its address).")
        parser.add_argument(
            "-o", "--output", help="File to write; default <slug>-<date>.marginalia.zip here."
        )

    def handle(self, *args, slug: str, output: str | None = None, **options) -> None:
        library = Library.objects.filter(slug=slug).first()
        if library is None:
            raise CommandError(f"No library has the slug {slug!r}.")
        path = Path(output or backup_file_name(library))
        partial = path.with_name(path.name + ".partial")
        # Written aside and renamed when complete: a killed backup never looks finished.
        with partial.open("wb") as out:
            manifest = write_archive(library, out)
        os.replace(partial, path)
        rows = sum(entry["rows"] for entry in manifest["files"])
        self.stdout.write(f"Backed up {library.name!r}: {rows} rows to {path}")
