"""Fifty people change the same thing at the same moment: no change may be lost.

Real threads, each with its own database connection, against PostgreSQL (SQLite serialises
every write, so the race cannot happen there; the tests say so when skipped). Each writer
sends the ETag it read as If-Match:
- all with the same ETag: exactly one write is applied, the 49 others answer 412;
- each retrying on 412 with the fresh ETag: all fifty are applied, in turn, and the final
  version is the first one plus the number of applied writes, with one history row each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from tests.factories import make_annotation, make_claim, make_event, make_source, make_text

WRITERS = 50

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one write at a time, so no update can race there",
)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def race(work: Callable[[int], int]) -> list[int]:
    """Run work(n) for n in 0..WRITERS-1 in threads released together; status codes back."""
    barrier = threading.Barrier(WRITERS)

    def run(n: int) -> int:
        try:
            barrier.wait(timeout=30)
            return work(n)
        finally:
            connections.close_all()  # each thread's own connection

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(run, range(WRITERS)))


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
def test_fifty_writers_who_retry_on_412_all_get_their_change_applied(setup, kind):
    alice, found = setup
    path, body, instance = found[kind]
    model = type(instance)
    version = model.objects.get(pk=instance.pk).version
    history = instance.history.count()

    def write_until_applied(n: int) -> int:
        client = client_for(alice)
        for _ in range(WRITERS * 4):
            etag = client.get(path)["ETag"]
            response = client.patch(path, body(n), format="json", HTTP_IF_MATCH=etag)
            if response.status_code != 412:
                return response.status_code
        return 412

    codes = race(write_until_applied)

    assert codes == [200] * WRITERS
    assert model.objects.get(pk=instance.pk).version == version + WRITERS
    assert instance.history.count() == history + WRITERS
