"""Rebuild the search index from the database, with a progress bar on the terminal."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from search import index
from sources.models import Library

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Rebuild the search index (claims, annotations, sources, passages) from the database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--library",
            action="append",
            default=[],
            metavar="SLUG",
            help="Only this library (repeatable); default: every library.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        libraries = Library.objects.all()
        if options["library"]:
            libraries = libraries.filter(slug__in=options["library"])
            missing = set(options["library"]) - set(libraries.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No library {', '.join(sorted(missing))}.")
        started = time.monotonic()
        with transaction.atomic():
            written = index.rebuild(list(libraries), progress=self.progress)
        self.stderr.write("")
        seconds = time.monotonic() - started
        self.stdout.write(f"Search index rebuilt: {written:,} entries in {seconds:.1f} s.")

    def progress(self, done: int, total: int) -> None:
        """A bar on a terminal; on a pipe or a file, nothing (no escape codes in logs)."""
        stream = getattr(self.stderr, "_out", self.stderr)
        if not getattr(stream, "isatty", lambda: False)():
            return
        share = done / total if total else 1.0
        filled = int(BAR_WIDTH * share)
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        stream.write(f"\r{bar} {share:6.1%}  {done:,}/{total:,} objects")
        stream.flush()
