"""Two revisions of one source saved at once take the next two numbers (PostgreSQL: real
threads, each with its own connection; SQLite runs one write at a time).

Found by bench/busy.py's OCR jobs: four workers reading scans of one source failed one job
in three with a duplicate revision number ("An internal error stopped the job")."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from sources.models import SourceText
from tests.factories import make_source, make_text
from tests.security.test_races import WAIT, in_thread, waiting_for_a_lock

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one write at a time, so no two revisions race",
)


@pytest.mark.parametrize("revisions_before", [0, 1])
def test_a_revision_saved_while_another_commits_takes_the_next_number(
    transactional_db, library, revisions_before
):
    source = make_source(library=library, title="Record of conversation")
    for n in range(revisions_before):
        make_text(source=source, text=f"Revision {n + 1}.")
    first_saved, let_first_commit = threading.Event(), threading.Event()

    def first() -> int:
        with transaction.atomic():
            text = SourceText.objects.add_revision(source, text="Read by the first job.")
            first_saved.set()
            assert let_first_commit.wait(WAIT)
        return text.revision

    def second() -> int:
        assert first_saved.wait(WAIT)
        return SourceText.objects.add_revision(source, text="Read by the second job.").revision

    with ThreadPoolExecutor(2) as pool:
        one, two = in_thread(pool, first), in_thread(pool, second)
        assert waiting_for_a_lock(WAIT)  # the second waits for the first's transaction
        let_first_commit.set()
        numbers = (one.result(WAIT), two.result(WAIT))
    assert numbers == (revisions_before + 1, revisions_before + 2)
    assert list(source.texts.order_by("revision").values_list("revision", flat=True)) == list(
        range(1, revisions_before + 3)
    )


def test_many_revisions_saved_at_once_are_numbered_without_gaps(transactional_db, library):
    source = make_source(library=library, title="Record of conversation")
    make_text(source=source, text="The first reading.")
    start = threading.Barrier(6)

    def save(n: int) -> int:
        start.wait(WAIT)
        return SourceText.objects.add_revision(source, text=f"Reading {n}.").revision

    with ThreadPoolExecutor(6) as pool:
        numbers = sorted(
            f.result(WAIT) for f in [in_thread(pool, lambda n=n: save(n)) for n in range(6)]
        )
    assert numbers == [2, 3, 4, 5, 6, 7]
