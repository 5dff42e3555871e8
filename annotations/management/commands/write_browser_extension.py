"""manage.py write_browser_extension https://marginalia.example.org FOLDER: the unpacked
browser extension for that Marginalia, to load from chrome://extensions (Load unpacked)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotations.hypothesis import browser_extension


class Command(BaseCommand):
    help = "Write Marginalia's browser extension (Manifest V3) for the given address."

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", help="Marginalia's address, e.g. https://marginalia.example.org")
        parser.add_argument("folder", type=Path, help="Where to write the extension's folder.")

    def handle(self, *args, url: str, folder: Path, **options) -> None:
        try:
            written = browser_extension.write(url, folder)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Wrote {len(written)} files to {folder}: load it unpacked.")
