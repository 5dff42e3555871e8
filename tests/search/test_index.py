"""The search index follows the writes through signals and batches, whatever the order in
which the packages connected their receivers."""

from __future__ import annotations

from unittest import mock

import pytest

from annotations import signals
from jobs import queue
from jobs.models import JobState
from search import index
from search.models import SearchEntry
from tests.factories import make_annotation, make_source, make_text

FIRST = "Stalin received Mao Zedong in the Kremlin. The treaty was not discussed."
SECOND = "On 16 December Stalin received Mao Zedong in the Kremlin. The treaty was not discussed."


def entry_of(annotation) -> SearchEntry:
    return SearchEntry.objects.get(key=f"a:{annotation.pk}")


def test_a_reanchoring_job_moves_the_entries_of_the_annotations_it_moves(library, alice, bob):
    source = make_source(library=library)
    note = make_annotation(text=make_text(source=source, text=FIRST), creator=bob, quote="Kremlin")
    with mock.patch("annotations.signals.carry_over"):  # a revision added without carrying over
        second = make_text(source=source, text=SECOND)
    job = queue.enqueue("reanchor", library=library, user=alice, text=second)
    assert job.state == JobState.SUCCEEDED, job.error
    note.refresh_from_db()
    assert note.text_id == second.pk and note.start == SECOND.index("Kremlin")
    entry = entry_of(note)
    assert (entry.text_id, entry.start) == (second.pk, note.start)


@pytest.fixture
def index_connected_first():
    """The index's receivers connected before the carry-over's, as another app order would."""
    signals.disconnect()
    index.disconnect()
    index.connect()
    signals.connect()
    yield
    signals.disconnect()
    index.disconnect()
    signals.connect()
    index.connect()


def test_carried_over_annotations_are_indexed_where_they_land_in_any_receiver_order(
    library, bob, index_connected_first
):
    source = make_source(library=library)
    note = make_annotation(text=make_text(source=source, text=FIRST), creator=bob, quote="Kremlin")
    second = make_text(source=source, text=SECOND)  # carried over by the receiver
    note.refresh_from_db()
    assert note.text_id == second.pk
    entry = entry_of(note)
    assert (entry.text_id, entry.start) == (second.pk, SECOND.index("Kremlin"))


def test_a_restored_library_is_searchable_at_once(library, alice, bob):
    import io

    from sources.sharing import backup

    source = make_source(library=library, title="Record of conversation in the Kremlin")
    make_annotation(text=make_text(source=source, text=FIRST), creator=bob, quote="Kremlin")
    archive = io.BytesIO()
    backup.write_archive(library, archive)
    restored = backup.restore_archive(io.BytesIO(archive.getvalue()), slug="copy").library
    entries = SearchEntry.objects.filter(library=restored)
    kinds = sorted(entries.values_list("kind", flat=True))
    assert kinds == ["annotation", "passage", "source"]
    assert entries.get(kind="source").title == "Record of conversation in the Kremlin"
