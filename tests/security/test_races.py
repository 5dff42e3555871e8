"""A source deleted while someone writes on it: never a 500, never a broken row.

Real threads, each with its own database connection, against PostgreSQL (SQLite runs one
write at a time, so these races cannot happen there; the tests say so when skipped). Each
race is made to happen, not hoped for: one request is held at the worst moment while the
other runs.

- *Read, then deleted.* An annotation, a piece of evidence, a claim from a highlight or an
  annotation import has read the text (or highlight) it writes on; the source is deleted and
  committed; then the write goes on. It answers 409, saying what happened and to reload
  (before: its rows broke a foreign key at commit, a 500).
- *Written while the deletion runs.* The deletion has locked the source and gathered what
  goes with it; the write comes in. It waits for the deletion, then answers 409; the
  deletion answers 204 (before: the write committed first, and the deletion's commit broke a
  foreign key, a 500).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models.deletion import Collector
from rest_framework.test import APIClient

from annotations.claims.models import Claim, Evidence
from annotations.models import Annotation
from sources.models import Source
from tests.factories import make_annotation, make_claim, make_source, make_text

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite runs one write at a time, so no write can race a deletion",
)

TEXT = "Stalin kept Mao waiting for days at the dacha."
WAIT = 10  # seconds any step may take before the test gives up


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.raise_request_exception = False  # a 500 is an answer to check, not a crash
    return client


def in_thread(pool: ThreadPoolExecutor, work: Callable[[], object]) -> Future:
    def run():
        try:
            return work()
        finally:
            connections.close_all()  # this thread's own connection

    return pool.submit(run)


def waiting_for_a_lock(timeout: float) -> bool:
    """Is some other backend of this database waiting for a row lock (the write, queued
    behind the deletion)?"""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


@pytest.fixture
def world(transactional_db, library, alice):
    source = make_source(library=library, title="Record of conversation")
    text = make_text(source=source, text=TEXT)
    highlight = make_annotation(text=text, creator=alice, quote="Stalin kept Mao waiting")
    claim = make_claim(library=library, creator=alice, statement="Mao was kept waiting.")
    return alice, source, text, highlight, claim


def delete_source(user, source):
    client = client_for(user)
    etag = client.get(f"/api/sources/{source.pk}/")["ETag"]
    return client.delete(f"/api/sources/{source.pk}/", HTTP_IF_MATCH=etag)


HYPOTHESIS_ROW = {"target": [{"selector": [{"type": "TextQuoteSelector", "exact": "kept Mao"}]}]}

# What writes on the source, and the function each calls once it has read what it writes on
# (and before it writes): where the first race holds it.
WRITES = {
    "annotation": (
        "annotations.api.require_annotate",
        lambda w: ("/api/annotations/", {"text": w["text"], "start": 0, "end": 6}),
    ),
    "annotation (W3C)": (
        "annotations.api.require_annotate",
        lambda w: (
            "/api/annotations/",
            {
                "type": "Annotation",
                "target": {
                    "source": f"http://testserver/api/sources/{w['source']}/texts/1/",
                    "selector": {"type": "TextPositionSelector", "start": 0, "end": 6},
                },
            },
        ),
    ),
    "annotation import": (
        "annotations.w3c.import_items",
        lambda w: (f"/api/texts/{w['text']}/annotations/import/", {"rows": [HYPOTHESIS_ROW]}),
    ),
    "evidence (highlight)": (
        "annotations.claims.api.require_edit",
        lambda w: ("/api/evidence/", {"claim": w["claim"], "annotation": w["highlight"]}),
    ),
    "evidence (selection)": (
        "annotations.claims.api.require_edit",
        lambda w: (
            "/api/evidence/",
            {"claim": w["claim"], "text": w["text"], "start": 0, "end": 6},
        ),
    ),
    "claim from highlight": (
        "annotations.claims.api.require_edit",
        lambda w: (
            "/api/claims/from-highlight/",
            {"annotation": w["highlight"], "statement": "Stalin made Mao wait."},
        ),
    ),
    "claim from selection": (
        "annotations.claims.api.require_edit",
        lambda w: (
            "/api/claims/from-highlight/",
            {"text": w["text"], "start": 0, "end": 6, "statement": "Stalin made Mao wait."},
        ),
    ),
}


def request_for(kind: str, world) -> tuple[str, dict]:
    _, source, text, highlight, claim = world
    ids = {"source": source.pk, "text": text.pk, "highlight": highlight.pk, "claim": claim.pk}
    return WRITES[kind][1](ids)


def assert_nothing_left(world, claims: int) -> None:
    """The source and everything on it are gone, and nothing the write began remains."""
    source = world[1]
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not Annotation.objects.exists() and not Evidence.objects.exists()
    assert Claim.objects.count() == claims  # no claim made from the vanished highlight


def assert_conflict(response) -> None:
    assert response.status_code == 409, (response.status_code, response.content[:500])
    detail = response.json()["detail"]
    assert "was deleted while" in detail and "Reload" in detail, detail


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_write_on_a_source_deleted_after_it_was_read_answers_409(world, monkeypatch, kind):
    alice = world[0]
    path, body = request_for(kind, world)
    hook, _ = WRITES[kind]
    read, deleted = threading.Event(), threading.Event()
    module, name = hook.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def held(*args, **kwargs):
        result = real(*args, **kwargs)
        read.set()
        assert deleted.wait(WAIT)
        return result

    monkeypatch.setattr(hook, held)
    claims = Claim.objects.count()
    with ThreadPoolExecutor(max_workers=1) as pool:
        writing = in_thread(pool, lambda: client_for(alice).post(path, body, format="json"))
        assert read.wait(WAIT), writing.result() if writing.done() else "the write never read"
        assert delete_source(alice, world[1]).status_code == 204
        deleted.set()
        assert_conflict(writing.result(timeout=WAIT))
    assert_nothing_left(world, claims)


def race_with_a_held_deletion(world, monkeypatch, kind: str, delete: Callable[[], object]):
    """Start `delete`, hold it once it has locked the source and gathered what goes with
    it, send the write, let the deletion go when the write waits; both answers back."""
    path, body = request_for(kind, world)
    gathered, go = threading.Event(), threading.Event()
    real_delete = Collector.delete

    def held(self):
        if Source in self.data and not gathered.is_set():  # the source's; others run freely
            gathered.set()
            assert go.wait(WAIT)
        return real_delete(self)

    monkeypatch.setattr(Collector, "delete", held)
    with ThreadPoolExecutor(max_workers=2) as pool:
        deleting = in_thread(pool, delete)
        assert gathered.wait(WAIT), deleting.result() if deleting.done() else "no deletion"
        writing = in_thread(pool, lambda: client_for(world[0]).post(path, body, format="json"))
        assert waiting_for_a_lock(WAIT)  # queued behind the deletion (before: it committed)
        go.set()
        return deleting.result(timeout=WAIT), writing.result(timeout=WAIT)


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_write_during_the_deletion_waits_for_it_then_answers_409(world, monkeypatch, kind):
    claims = Claim.objects.count()
    deleted, written = race_with_a_held_deletion(
        world, monkeypatch, kind, lambda: delete_source(world[0], world[1])
    )
    assert deleted.status_code == 204, (deleted.status_code, deleted.content[:500])
    assert_conflict(written)
    assert_nothing_left(world, claims)


@pytest.mark.parametrize("kind", ["annotation", "evidence (highlight)"])
def test_the_pages_deletion_is_waited_for_alike(world, monkeypatch, kind):
    """The source page's Delete locks the source as the API's does."""
    alice, source = world[0], world[1]
    claims = Claim.objects.count()

    def delete_on_the_page():
        client = client_for(alice)
        client.force_login(alice)
        return client.post(f"/sources/{source.pk}/delete/")

    deleted, written = race_with_a_held_deletion(world, monkeypatch, kind, delete_on_the_page)
    assert deleted.status_code == 302
    assert_conflict(written)
    assert_nothing_left(world, claims)


def test_a_write_that_comes_first_is_deleted_with_the_source(world, monkeypatch):
    """The other order: the annotation commits, then the deletion takes it along."""
    alice, source, text, _, _ = world
    response = client_for(alice).post(
        "/api/annotations/", {"text": text.pk, "start": 0, "end": 6}, format="json"
    )
    assert response.status_code == 201
    assert delete_source(alice, source).status_code == 204
    assert not Annotation.objects.exists()


def test_many_writers_and_one_deletion_never_answer_500(world):
    """No hooks: twenty annotations and evidence written as the source is deleted, released
    together; each write is created (and deleted with the source) or answers 409."""
    alice, source, text, highlight, claim = world
    barrier = threading.Barrier(21)

    def write(n: int):
        barrier.wait(WAIT)
        if n == 20:
            return delete_source(alice, source).status_code
        if n % 2:
            body = {"claim": claim.pk, "text": text.pk, "start": n, "end": n + 5}
            return client_for(alice).post("/api/evidence/", body, format="json").status_code
        body = {"text": text.pk, "start": n, "end": n + 5}
        return client_for(alice).post("/api/annotations/", body, format="json").status_code

    def run(n: int):
        try:
            return write(n)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=21) as pool:
        codes = list(pool.map(run, range(21)))
    assert codes[20] == 204, codes
    assert set(codes[:20]) <= {201, 409}, codes
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not Annotation.objects.exists() and not Evidence.objects.exists()
