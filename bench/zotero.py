"""Importing a whole Zotero library (its data directory, zipped): time and memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marginalia_z \\
        .venv/bin/python bench/zotero.py --items 10000 --files 200

Builds a Zotero data directory from Zotero's published schema (the test builder,
`tests/annotations/zotero/builder.py`): `--items` items of Zotero's common types with 1–3
creators, a date, a publication, tags (Zipf-distributed from 300), 1–2 of 60 collections
nested three deep, a child note for one item in three; `--files` of them with a two-page
text PDF in storage/ and three highlights of Zotero's reader on it (one with a comment).
Then imports it into a new library through `annotations.zotero.importer`, in one
transaction as the job runs it, and prints the wall and CPU time, the peak resident memory
and what came. The database is migrated first; use a scratch database. Not a test.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TYPES = ["journalArticle", "book", "bookSection", "letter", "manuscript", "newspaperArticle",
         "report", "document", "interview", "webpage"]  # fmt: skip
WORDS = [  # fmt: skip
    "conversation",
    "telegram",
    "memorandum",
    "record",
    "letter",
    "minutes",
    "treaty",
    "alliance",
    "loan",
    "visit",
    "meeting",
    "talks",
    "railway",
    "port",
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
TEXT = Path(__file__).resolve().parent.parent / "tests/data/scans/truman-1947-03-12.en.txt"


def pdf(paragraphs: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    for text in (paragraphs[:3], paragraphs[3:]):
        lines = [line for p in text for line in [*textwrap.wrap(p, 90), ""]]
        for number, line in enumerate(lines):
            page.drawString(40, 800 - 16 * number, line)
        page.showPage()
    page.save()
    return buffer.getvalue()


def build(items: int, files: int, rng: random.Random) -> bytes:
    from tests.annotations.zotero.builder import ZoteroLibrary

    zotero = ZoteroLibrary()
    collections: list[int] = []
    for n in range(60):
        parent = rng.choice(collections[-20:]) if collections and n % 3 else None
        collections.append(zotero.add_collection(f"Folder {n}", parent))
    tags = [f"theme {n}" for n in range(300)]
    weights = [1 / (rank + 1) for rank in range(len(tags))]
    paragraphs = [p for p in TEXT.read_text("utf-8").split("\n\n") if p.strip()]
    document = pdf(paragraphs)
    quotes = ["necessitates my appearance", "concerns Greece and Turkey", "a free nation"]
    for n in range(items):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize()
        item = zotero.add_item(
            rng.choice(TYPES),
            {"title": f"{title} ({n})", "date": f"{rng.randint(1945, 1991)}-0{rng.randint(1, 9)}",
             "publicationTitle": "Cold War International History Project Bulletin",
             "extra": f"Archive: AVPRF\nArchive Location: f. 0100, op. {n % 50}, d. {n}"},
            creators=[("author", f"Author{rng.randint(0, 400)}", "A.")
                      for _ in range(rng.randint(1, 3))],
            tags=list(set(rng.choices(tags, weights, k=rng.randint(0, 4)))),
            collections=list(set(rng.sample(collections, rng.randint(1, 2)))),
        )  # fmt: skip
        if n % 3 == 0:
            zotero.add_note(item, f"<p>Seen at the archive, {n}.</p><p>Copy ordered.</p>")
        if n < files:
            file = zotero.add_file(item, f"doc{n}.pdf", document, "application/pdf")
            for index, quote in enumerate(quotes):
                page = index // 2
                comment = "compare" if index == 0 else ""
                zotero.add_annotation(file, "highlight", text=quote, comment=comment,
                                      page_label=str(page + 1), page_index=page)  # fmt: skip
    return zotero.zip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=200, help="items with a PDF and highlights")
    parser.add_argument("--seed", type=int, default=1947)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from annotations.models import Annotation
    from annotations.zotero.importer import import_data_directory
    from sources.models import Library

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    data = build(args.items, args.files, random.Random(args.seed))
    took = time.monotonic() - started
    print(f"built {args.items:,} items, {args.files} with a PDF: {len(data) / 1e6:.1f} MB "
          f"zipped, in {took:.0f} s; load average {os.getloadavg()}", flush=True)  # fmt: skip
    user, _ = get_user_model().objects.get_or_create(username="bench-zotero")
    library = Library.objects.create_for(user, name=f"Zotero bench {time.time():.0f}")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.monotonic(), time.process_time()
    with transaction.atomic():
        run = import_data_directory(library, data, user=user, file_name="Zotero.zip")
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"imported in {wall:.1f} s wall, {cpu:.1f} s CPU ({wall * 1000 / args.items:.1f} ms an "
        f"item); peak RSS {peak / 1024:.0f} MB (before the import {rss_before / 1024:.0f} MB); "
        f"{run.counts()}; texts {run.report['texts']}, annotations "
        f"{Annotation.objects.filter(library=library).count()}; load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
