"""The fast list (`annotations.reads`: a page of a text's annotations in three prepared
statements) against the reference path (the ORM and `AnnotationSerializer`, which the view
takes for every other list): the same responses, field by field, persona by persona, page
by page, with every filter the fast path accepts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations import reads
from annotations.models import AnchorState, Annotation, Visibility
from sources.models import Membership, Role
from tests.factories import make_annotation, make_source, make_text

LIST = "/api/annotations/"
PERSONAS = ["alice", "bob", "vera", "mallory", "anonymous"]
TEXT = "Stalin kept Mao waiting for days. Mao said the treaty mattered more than the loan."


@pytest.fixture
def notes(library, source, alice, bob, vera):
    """Shared and private notes by each member (vera's from when she could still edit),
    tagged and not, commented, an orphan, and notes on another text that must not show."""
    text = make_text(source=source, text=TEXT, imported_by=alice)
    made = [
        make_annotation(
            text=text, creator=bob, quote="the treaty", tags=["theme:treaty", "B", "a"]
        ),
        make_annotation(text=text, creator=bob, quote="loan", visibility=Visibility.PRIVATE),
        make_annotation(text=text, creator=alice, quote="Stalin", comment="*kept* <b>x</b>"),
        make_annotation(text=text, creator=alice, quote="Stalin kept", motivation="questioning"),
        make_annotation(text=text, creator=vera, quote="days", tags=["Ж", "ж2"]),
        make_annotation(text=text, creator=alice, quote="Mao", visibility=Visibility.PRIVATE),
    ]
    Annotation.objects.filter(pk=made[3].pk).update(state=AnchorState.ORPHANED)
    Membership.objects.filter(user=vera).update(role=Role.VIEWER)
    other = make_text(source=make_source(library=library), text=TEXT, imported_by=alice)
    make_annotation(text=other, creator=bob, quote="Mao said")
    return text


def responses(client, url: str, monkeypatch) -> tuple[dict, dict]:
    """(fast, reference) for one request."""
    fast = client.get(url)
    with monkeypatch.context() as patched:
        patched.setattr(reads, "readable", lambda query: False)
        reference = client.get(url)
    assert fast.status_code == reference.status_code == 200
    assert fast["Vary"] == reference["Vary"]
    return fast.json(), reference.json()


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("public", [False, True])
def test_a_texts_page_is_the_reference_page(request, as_user, library, notes, who, public,
                                            monkeypatch):  # fmt: skip
    library.is_public = public
    library.save()
    client = as_user(None if who == "anonymous" else request.getfixturevalue(who))
    text, source = f"?text={notes.pk}", f"?source={notes.source_id}"
    pages = [text, f"{text}&limit=2", f"{text}&limit=2&offset=2", f"{text}&limit=3&offset=5",
             f"{text}&offset=40", source, f"{source}&text={notes.pk}"]  # fmt: skip
    seen = 0
    for query in pages:
        fast, reference = responses(client, LIST + query, monkeypatch)
        assert list(fast) == list(reference) == ["count", "next", "previous", "results"]
        assert (fast["count"], fast["next"], fast["previous"]) == (
            reference["count"], reference["next"], reference["previous"]
        )  # fmt: skip
        assert len(fast["results"]) == len(reference["results"])
        for mine, theirs in zip(fast["results"], reference["results"], strict=True):
            assert list(mine) == list(theirs)  # same fields, in the same order
            for field in theirs:
                assert mine[field] == theirs[field], (query, field)
                assert type(mine[field]) is type(theirs[field]), (query, field)
        seen += fast["count"]
    expected_to_see = who in ("alice", "bob", "vera") or public
    assert bool(seen) == expected_to_see


@pytest.mark.parametrize(
    "filters",
    ["state=orphaned", "state=anchored", "visibility=private", "visibility=library",
     "motivation=questioning", "motivation=commenting&state=anchored"],
)  # fmt: skip
def test_filtered_pages_are_the_reference_pages(as_user, bob, alice, notes, filters,
                                                monkeypatch):  # fmt: skip
    for user in (alice, bob):
        fast, reference = responses(as_user(user), f"{LIST}?text={notes.pk}&{filters}", monkeypatch)
        assert fast == reference


@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "America/St_Johns"])
def test_timestamps_are_the_reference_ones_in_any_time_zone_and_on_whole_seconds(
    as_user, bob, notes, settings, monkeypatch, zone
):
    """In UTC the page writes timestamps itself (`reads.stamper`), elsewhere DRF does: both
    as the reference path, a timestamp without microseconds included (isoformat leaves
    them out) and one edited later than it was made."""
    settings.TIME_ZONE = zone
    whole = dt.datetime(1950, 2, 14, 12, 0, tzinfo=dt.UTC)
    first, second = Annotation.objects.filter(text=notes).order_by("pk")[:2]
    Annotation.objects.filter(pk=first.pk).update(created=whole, modified=whole)
    Annotation.objects.filter(pk=second.pk).update(modified=whole + dt.timedelta(microseconds=7))
    fast, reference = responses(as_user(bob), f"{LIST}?text={notes.pk}", monkeypatch)
    assert fast == reference
    stamps = {note["id"]: (note["created"], note["modified"]) for note in fast["results"]}
    utc = zone == "UTC"
    assert stamps[first.pk] == (("1950-02-14T12:00:00Z",) * 2 if utc else stamps[first.pk])
    assert stamps[second.pk][1].endswith("12:00:00.000007Z" if utc else stamps[second.pk][1])


def test_other_lists_stay_on_the_reference_path(as_user, bob, notes, library):
    assert not reads.readable({"library": library.slug, "text": notes.pk})
    assert not reads.readable({"creator": "bob"})
    assert not reads.readable({"tag": ["a"], "text": notes.pk})
    assert reads.readable({"text": notes.pk, "state": "anchored"})
    response = as_user(bob).get(f"{LIST}?text={notes.pk}&tag=B")
    assert [note["exact"] for note in response.json()["results"]] == ["the treaty"]


def test_a_page_is_one_statement_and_a_full_one_two_whatever_their_size(as_user, bob, notes):
    """The rows with their text, library, creator, the user's role and their tags in one
    statement; and the count, when a full page cannot tell it. No ORM query, none per row
    (the reference path reads every row's text, library and creator as instances and
    prefetches the tags)."""
    client = as_user(bob)

    def statements(limit: int) -> tuple[list[str], dict]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"{LIST}?text={notes.pk}&limit={limit}").json()
        found = [q["sql"] for q in queries.captured_queries if "annotations_annotation" in q["sql"]]
        return found, page

    client.get(f"{LIST}?text={notes.pk}")  # the session and the user are read once warm
    few, full = statements(2)
    assert len(few) == 2 and full["count"] == 5 and len(full["results"]) == 2
    for word in ("kept", "waiting", "said", "mattered", "more", "than"):
        make_annotation(text=notes, creator=bob, quote=word, tags=["x", "y"])
    one, page = statements(50)
    assert len(page["results"]) == page["count"] == 11
    assert len(one) == 1, one
    assert (
        'JOIN "sources_membership" m ON' in one[0] and '"annotations_annotation_tags" at' in one[0]
    )
    many, _ = statements(3)
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "raw",
    ["text=5", "text=5&limit=3&offset=2", "source=7", "source=7&text=5", "text=00012",
     "text=0", "text=-1", "text=abc", "text= 12", "text=5&text=6", "text=", "limit=3",
     "text=5&state=anchored", "text=99999999999999999999", "text=999999999999999999"],
)  # fmt: skip
def test_a_plain_query_is_read_as_the_filter_serializer_reads_it(raw):
    """`reads.plain_query` spares building the serializer for `?text=<id>`; whatever it
    accepts, the serializer accepts alike, and it leaves everything else to it."""
    from django.http import QueryDict

    from annotations.serializers import AnnotationFilterSerializer

    params = QueryDict(raw)
    plain = reads.plain_query(params)
    serializer = AnnotationFilterSerializer(data=params)
    if plain is not None:
        assert serializer.is_valid(), serializer.errors
        assert plain == dict(serializer.validated_data)
    assert (plain is None) == (raw in ("text=0", "text=-1", "text=abc", "text= 12",
                                       "text=5&text=6", "text=", "limit=3",
                                       "text=5&state=anchored",
                                       "text=99999999999999999999"))  # fmt: skip


@pytest.mark.skipif(connection.vendor != "postgresql", reason="INCLUDE is PostgreSQL's")
def test_the_document_order_index_holds_what_decides_who_sees_an_annotation(db):
    """Counting a full page's text reads the index alone (migration 0013): it holds the text
    and position as keys, then visibility, creator and library."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indnkeyatts, array_agg(a.attname ORDER BY k.n) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
            " WHERE c.relname = 'annotation_document_order' GROUP BY i.indnkeyatts"
        )
        keys, columns = cursor.fetchone()
    assert keys == 4
    assert columns == ["text_id", "start", "end", "id", "visibility", "creator_id", "library_id"]
