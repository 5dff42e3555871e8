"""Rebuild the text-reuse fingerprints of every source's current text (or one library's).

Run it once after upgrading to a version that indexes texts for reuse detection, and
after a change of `sources.reuse.detection`'s word normalisation or shingle parameters. New texts
are indexed when they are imported; this command is not needed for them.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery

from sources.models import Library, SourceText
from sources.reuse.detection import index_text


class Command(BaseCommand):
    help = "Rebuild the text-reuse fingerprints of the current text of every source."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--library", help="Only this library (its slug).")

    def handle(self, *args, library: str | None = None, **options) -> None:
        texts = current_texts(library)
        total = texts.count()
        bar = ProgressBar(total, out=self.stderr if options["verbosity"] else None)
        started, stored = time.perf_counter(), 0
        for text in texts.iterator(chunk_size=50):
            with transaction.atomic():  # each text whole or not at all; others stay usable
                stored += index_text(text)
            bar.advance()
        bar.close()
        self.stdout.write(
            f"Indexed {total} text{'s' * (total != 1)}: {stored:,} fingerprints "
            f"in {time.perf_counter() - started:.1f} s."
        )


def current_texts(slug: str | None):
    """The latest revision of each source (of one library, when a slug is given)."""
    texts = SourceText.objects.all()
    if slug is not None:
        library = Library.objects.filter(slug=slug).first()
        if library is None:
            raise CommandError(f"No library with the slug {slug!r}.")
        texts = texts.filter(source__library=library)
    latest = (
        SourceText.objects.filter(source=OuterRef("source"))
        .values("source")
        .annotate(last=Max("revision"))
        .values("last")
    )
    return texts.filter(revision=Subquery(latest)).order_by("pk")


class ProgressBar:
    """A one-line bar on a terminal, a line per tenth elsewhere (logs), nothing if quiet.
    `out` is a command's OutputWrapper (its `write` takes the line ending)."""

    WIDTH = 30

    def __init__(self, total: int, *, out: OutputWrapper | None) -> None:
        self.total, self.done, self.out = max(total, 1), 0, out
        self.live = bool(out) and out.isatty()

    def advance(self) -> None:
        self.done += 1
        if self.out is None:
            return
        if self.live:
            filled = self.WIDTH * self.done // self.total
            self.out.write(
                f"\r{'█' * filled}{'·' * (self.WIDTH - filled)} {self.done}/{self.total}"
            )
        elif self.done * 10 // self.total != (self.done - 1) * 10 // self.total:
            self.out.write(f"{self.done}/{self.total} texts")
        self.out.flush()

    def close(self) -> None:
        if self.live:
            self.out.write("")
