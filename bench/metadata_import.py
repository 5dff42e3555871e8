"""Importing a large bibliography: seconds per 1,000 records as the library grows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marginalia_imports \\
        .venv/bin/python bench/metadata_import.py --records 2000 --rounds 3

Generates CSL-JSON records as a historian's Zotero export has them (a few prolific authors
and many occasional ones, Zipf-distributed; years 1945–1991; one record in ten with a DOI,
one in ten a repeat of an earlier record; with `--one-author`, all by one author in one
year, as an archive's telegrams are), then imports them `--rounds` times into one new
library through `sources.metadata_import.import_metadata` (each round a new batch of the
same size, so later rounds import into a bigger library). The database is migrated first;
use a scratch database, not one with data you need. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = [  # fmt: skip
    "report",
    "conversation",
    "telegram",
    "memorandum",
    "record",
    "letter",
    "minutes",
    "notes",
    "treaty",
    "alliance",
    "loan",
    "visit",
    "meeting",
    "talks",
    "railway",
    "port",
    "navy",
    "border",
    "question",
    "mutual",
    "assistance",
    "friendship",
    "delegation",
    "embassy",
    "ministry",
    "council",
    "plenum",
    "decision",
    "draft",
    "answer",
    "proposal",
]


def records(count: int, rng: random.Random, start: int, *, one_author: bool) -> list[dict]:
    authors = ["Mao Zedong"] if one_author else [f"Author{n}" for n in range(400)]
    weights = [1 / (rank + 1) for rank in range(len(authors))]
    made: list[dict] = []
    for n in range(count):
        if made and rng.random() < 0.1:
            made.append(dict(rng.choice(made)))  # the same item exported twice
            continue
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize()
        item = {
            "type": rng.choice(["manuscript", "article-journal", "book", "letter"]),
            "title": f"{title} ({start + n})",
            "author": [{"family": rng.choices(authors, weights)[0], "given": "A."}],
            "issued": {"date-parts": [[1950 if one_author else rng.randint(1945, 1991)]]},
        }
        if rng.random() < 0.1:
            item["DOI"] = f"10.5555/bench.{start + n}"
        made.append(item)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="records per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--one-author",
        action="store_true",
        help="every record by one author in one year (an archive's telegrams of 1950)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from sources.metadata_import import import_metadata
    from sources.models import Library

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-importer")
    library = Library.objects.create_for(user, name=f"Import bench {time.time():.0f}")
    rng = random.Random(args.seed)
    for round_number in range(args.rounds):
        start = round_number * args.records
        batch = records(args.records, rng, start, one_author=args.one_author)
        upload = SimpleUploadedFile("export.json", json.dumps(batch).encode())
        before = library.sources.count()
        started = time.monotonic()
        run = import_metadata(library, upload, user=user)
        seconds = time.monotonic() - started
        counts = run.counts()
        print(
            f"round {round_number + 1}: {args.records} records into a library of {before:,}: "
            f"{seconds:6.1f} s ({seconds * 1000 / args.records:5.1f} ms per record); "
            f"created {counts['created']}, duplicates {counts['duplicate']}, "
            f"failed {counts['failed']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
