"""Load the demo library (`sources.demo`) and its claims and events
(`annotations.claims.demo`); harmless to repeat: what exists is left as it is."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from annotations.claims.demo import load_demo_claims
from sources.demo import load_library


class Command(BaseCommand):
    help = "Create the demo user and the demo library (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            spec, user, library = load_library()
            claims = load_demo_claims(library, user)
        self.stdout.write(
            f"Demo library “{library.name}”: {library.sources.count()} sources, "
            f"{claims['events']} events, {claims['claims']} claims; "
            f"sign in as {spec['user']['username']} / {spec['user']['password']}"
        )
