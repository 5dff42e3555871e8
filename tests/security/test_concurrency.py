"""Fifty people change the same thing at the same moment: no change may be lost.

Real threads, each with its own database connection, against PostgreSQL (SQLite serialises
every write, so the race cannot happen there; the tests say so when skipped). Each writer
sends the ETag it read as If-Match:
- all with the same ETag: exactly one write is applied, the 49 others answer 412;
- each retrying on 412 with the fresh ETag: all fifty are applied, in turn, and the final
  version is the first one plus the number of applied writes, with one history row each.

Tags: merges A→B and B→A at the same moment, and two renames to the same name, leave the
data consistent (every tagging kept once, on a tag that exists) and answer 200 or 409 with
what to do, never a deadlock or a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from annotations.models import Tag
from tests.factories import make_annotation, make_claim, make_event, make_source, make_text

WRITERS = 50
# Writers who retry until their change is applied: n writers make about n²/2 attempts, each
# a read and a write through DRF under one GIL (50 took 13-31 s a kind in CI, 20 take ~2-5).
RETRYING = 20

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one write at a time, so no update can race there",
)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def race(work: Callable[[int], Any], writers: int = WRITERS) -> list[Any]:
    """Run work(n) for n in 0..writers-1 in threads released together; their answers back."""
    barrier = threading.Barrier(writers)

    def run(n: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return work(n)
        finally:
            connections.close_all()  # each thread's own connection

    with ThreadPoolExecutor(max_workers=writers) as pool:
        return list(pool.map(run, range(writers)))


def targets(library, alice):
    """(API path, body for writer n, model instance) for each versioned kind."""
    source = make_source(library=library, title="Telegram")
    text = make_text(source=source, text="Mao said the treaty mattered.")
    annotation = make_annotation(text=text, creator=alice, quote="treaty")
    claim = make_claim(library=library, creator=alice, statement="The treaty mattered.")
    event = make_event(library=library, creator=alice, name="Treaty signed")
    return {
        "source": (f"/api/sources/{source.pk}/", lambda n: {"title": f"Telegram {n}"}, source),
        "annotation": (f"/api/annotations/{annotation.pk}/", lambda n: {"comment": f"c{n}"},
                       annotation),
        "claim": (f"/api/claims/{claim.pk}/", lambda n: {"note": f"n{n}"}, claim),
        "event": (f"/api/events/{event.pk}/", lambda n: {"description": f"d{n}"}, event),
    }  # fmt: skip


@pytest.fixture
def setup(transactional_db, library, alice):
    return alice, targets(library, alice)


@pytest.mark.parametrize("kind", ["source", "annotation", "claim", "event"])
def test_fifty_writers_with_the_same_etag_apply_exactly_one_change(setup, kind):
    alice, found = setup
    path, body, instance = found[kind]
    etag = client_for(alice).get(path)["ETag"]
    version = type(instance).objects.get(pk=instance.pk).version

    codes = race(lambda n: client_for(alice).patch(path, body(n), format="json",
                                                   HTTP_IF_MATCH=etag).status_code)  # fmt: skip

    assert sorted(set(codes)) == [200, 412], codes
    assert codes.count(200) == 1
    assert type(instance).objects.get(pk=instance.pk).version == version + 1


@pytest.mark.parametrize("kind", ["source", "annotation", "claim", "event"])
def test_writers_who_retry_on_412_all_get_their_change_applied(setup, kind):
    alice, found = setup
    path, body, instance = found[kind]
    model = type(instance)
    version = model.objects.get(pk=instance.pk).version
    history = instance.history.count()

    def write_until_applied(n: int) -> int:
        client = client_for(alice)
        for _ in range(RETRYING * 4):
            etag = client.get(path)["ETag"]
            response = client.patch(path, body(n), format="json", HTTP_IF_MATCH=etag)
            if response.status_code != 412:
                return response.status_code
        return 412

    codes = race(write_until_applied, RETRYING)

    assert codes == [200] * RETRYING
    assert model.objects.get(pk=instance.pk).version == version + RETRYING
    assert instance.history.count() == history + RETRYING


# --- Tags ---------------------------------------------------------------------------------

PAIRS = 10  # pairs of tags, each merged both ways at once: twenty writers


@pytest.fixture
def tagged(transactional_db, library, alice):
    """PAIRS pairs of tags; twenty annotations each carry both tags of every pair."""
    source = make_source(library=library, title="Telegram")
    text = make_text(source=source, text=" ".join(f"word{n}" for n in range(20)))
    names = [name for pair in range(PAIRS) for name in (f"a{pair}", f"b{pair}")]
    annotations = [
        make_annotation(text=text, creator=alice, quote=f"word{n}", tags=names) for n in range(20)
    ]
    tags = {tag.name: tag for tag in Tag.objects.filter(library=library)}
    return alice, annotations, tags


def merge_answer(client: APIClient, source, into) -> tuple[int, dict]:
    response = client.post(f"/api/tags/{source.pk}/merge/", {"into": into.pk}, format="json")
    return response.status_code, response.json()


def assert_a_clear_answer(status: int, body: dict) -> None:
    """200; or 409 saying what to do; or 400 naming `into` for who came after the merge."""
    assert status in (200, 400, 409), (status, body)
    if status == 409:
        assert "try again" in body["detail"]
    if status == 400:
        assert "into" in body


def test_merges_both_ways_at_once_keep_one_tag_of_each_pair(tagged):
    alice, annotations, tags = tagged

    def work(n: int) -> tuple[int, dict]:
        pair, reverse = divmod(n, 2)
        a, b = tags[f"a{pair}"], tags[f"b{pair}"]
        return merge_answer(client_for(alice), *((b, a) if reverse else (a, b)))

    answers = race(work, writers=2 * PAIRS)

    for status, body in answers:
        assert_a_clear_answer(status, body)
    for pair in range(PAIRS):
        statuses = [answers[2 * pair][0], answers[2 * pair + 1][0]]
        assert statuses.count(200) == 1, statuses
        left = Tag.objects.filter(name__in=[f"a{pair}", f"b{pair}"])
        assert left.count() == 1
        assert left.get().annotations.count() == len(annotations)
    for annotation in annotations:
        assert annotation.tags.count() == PAIRS


def test_merge_both_ways_in_the_work_functions_one_waits_and_is_told_why(tagged):
    from annotations import tags as tagging

    _, annotations, tags = tagged
    a, b = tags["a0"], tags["b0"]

    def work(n: int) -> str:
        source, into = (a, b) if n == 0 else (b, a)
        try:
            with transaction.atomic():
                tagging.merge_tags(source, into)
        except tagging.TagConflict as conflict:
            return str(conflict)
        return "merged"

    outcomes = race(work, writers=2)

    assert outcomes.count("merged") == 1, outcomes
    [refused] = [outcome for outcome in outcomes if outcome != "merged"]
    assert "merged or deleted a moment ago" in refused
    assert Tag.objects.filter(name__in=["a0", "b0"]).count() == 1


def test_two_renames_to_the_same_name_succeed_or_answer_409(tagged):
    alice, annotations, tags = tagged

    def work(n: int) -> tuple[int, dict]:
        tag = tags[f"a{n}"]
        response = client_for(alice).patch(f"/api/tags/{tag.pk}/", {"name": "Taken"}, format="json")
        return response.status_code, response.json()

    answers = race(work, writers=PAIRS)

    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 409}, answers
    assert 200 in statuses
    for status, body in answers:
        if status == 409:
            assert "rename again to merge into it" in body["detail"]
    [taken] = Tag.objects.filter(name_key="taken")
    assert taken.annotations.count() == len(annotations)
    renamed_or_merged = statuses.count(200)
    assert Tag.objects.filter(name__startswith="a").count() == PAIRS - renamed_or_merged
