"""The fast paths of the annotation API (issue #8): few queries per request, `can_edit` from
the user's role, a hand-built representation equal to DRF's, writes answered without
reading the annotation back. Each test fails if the fast path quietly goes away."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from annotations import w3c
from annotations.access import annotations_for, get_annotation_for_user, read_annotation_for_user
from annotations.models import Annotation, Tag, Visibility
from annotations.serializers import AnnotationSerializer
from annotations.writes import create_annotation
from sources.access import read_text_for_user, role_in_library
from sources.models import Membership, Role, SourceText
from tests.factories import make_annotation, make_text

TEXT = "Stalin kept Mao waiting for days. Mao said the treaty mattered more than the loan."
LIST = "/api/annotations/"
JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def detail(annotation) -> str:
    return reverse("api-annotation-detail", args=[annotation.pk])


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.fixture
def notes(text, alice, bob, vera):
    """One of each kind: bob's shared and private notes, alice's, and one by vera (who
    wrote it while she was an editor and is a viewer now)."""
    return [
        make_annotation(text=text, creator=bob, quote="the treaty", tags=["theme:treaty", "B"]),
        make_annotation(text=text, creator=bob, quote="loan", visibility=Visibility.PRIVATE),
        make_annotation(text=text, creator=alice, quote="Stalin", comment="*kept*"),
        make_annotation(text=text, creator=vera, quote="days"),
    ]


def test_reading_one_annotation_takes_one_query_with_its_tags(
    as_user, bob, notes, django_assert_max_num_queries
):
    client = as_user(bob)
    with CaptureQueriesContext(connection) as missing:  # the session, the user, the row
        assert client.get("/api/annotations/999999/").status_code == 404
    with django_assert_max_num_queries(len(missing)):  # the same row query, tags included
        response = client.get(detail(notes[0]))
    assert response.status_code == 200
    assert response.json()["can_edit"] is True
    assert response.json()["tags"] == ["B", "theme:treaty"]


@pytest.mark.parametrize("who", ["alice", "bob", "vera", "mallory", "anonymous"])
@pytest.mark.parametrize("public", [False, True])
def test_the_hand_written_read_sees_what_visible_to_sees_and_gives_the_same_objects(
    request, library, notes, who, public
):
    """`read_annotation_for_user` (one statement) against the ORM's `visible_to` and
    `get_annotation_for_user`, persona by persona: same 404s, same representations."""
    Membership.objects.filter(user=notes[3].creator).update(role=Role.VIEWER)  # vera
    library.is_public = public
    library.save()
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    visible = set(Annotation.objects.visible_to(user).values_list("pk", flat=True))
    factory = APIRequestFactory()
    for note in notes:
        if note.pk not in visible:
            with pytest.raises(Http404):
                read_annotation_for_user(user, note.pk)
            continue
        fast, orm = read_annotation_for_user(user, note.pk), get_annotation_for_user(user, note.pk)
        plain = factory.get(detail(note))
        plain.user = user
        assert represented(fast, plain) == represented(orm, plain), (who, note)
        assert w3c.present(fast, plain) == w3c.present(orm, plain), (who, note)
        assert fast.created.tzinfo is not None and fast.text.revision == orm.text.revision
    assert public or who not in ("mallory", "anonymous") or not visible


@pytest.mark.parametrize("who", ["alice", "bob", "vera", "mallory", "anonymous"])
@pytest.mark.parametrize("public", [False, True])
def test_the_hand_written_text_read_sees_what_visible_to_sees(request, library, text, who, public):
    """`read_text_for_user` (what creating an annotation looks up) against the ORM."""
    library.is_public = public
    library.save()
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    found = read_text_for_user(user, text.pk)
    orm = (
        SourceText.objects.visible_to(user)
        .select_related("source__library")
        .annotate(viewer_role=role_in_library(user, "source__library_id"))
        .filter(pk=text.pk)
        .first()
    )
    assert (found is None) == (orm is None), who
    if found is not None:
        assert found.viewer_role == orm.viewer_role
        assert {"html", "html_raw", "page_map"} <= found.get_deferred_fields()  # not read
        assert (found.text, found.sha256, found.imported_at) == (
            orm.text,
            orm.sha256,
            orm.imported_at,
        )
        assert found.source.title == orm.source.title and found.source.library == library
    assert read_text_for_user(user, text.pk + 1000) is None


@pytest.mark.parametrize("bad", [True, "abc", 1.5, "", 2**70, -1])
def test_a_text_that_is_not_an_id_is_refused_naming_the_field(as_user, bob, text, bad):
    response = as_user(bob).post(LIST, {"text": bad, "start": 0, "end": 6}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["text"]


def represented(annotation, request) -> dict:
    return AnnotationSerializer(annotation, context={"request": request}).data


@pytest.mark.parametrize("accept", ["application/json", JSONLD])
def test_reading_one_annotation_asks_about_membership_once_and_joins_no_source(
    as_user, vera, notes, accept
):
    with CaptureQueriesContext(connection) as queries:
        response = as_user(vera).get(detail(notes[0]), HTTP_ACCEPT=accept)
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum('"sources_membership"' in s for s in sql) == 1, sql  # the role, with the row
    assert not any('"sources_source"' in s for s in sql), sql
    assert not any("annotations_annotation_tags" in s and "IN (" in s for s in sql), sql


def test_listing_a_text_joins_no_source_and_queries_the_same_for_more_rows(
    as_user, vera, text, bob
):
    client = as_user(vera)

    def queries_for_list() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{LIST}?text={text.pk}").status_code == 200
        return [q["sql"] for q in queries.captured_queries]

    make_annotation(text=text, creator=bob, quote="Stalin", tags=["a"])
    few = queries_for_list()
    for word in ("kept", "Mao", "waiting", "days", "treaty", "loan"):
        make_annotation(text=text, creator=bob, quote=word, tags=["a", "b"])
    many = queries_for_list()
    assert len(few) == len(many)
    assert not any('"sources_source"' in s for s in many), many  # ordering by text_id


@pytest.mark.parametrize("who", ["alice", "bob", "vera", "mallory", "anonymous"])
def test_can_edit_from_the_role_agrees_with_editable_by(request, library, notes, who):
    Membership.objects.filter(user=notes[3].creator).update(role=Role.VIEWER)  # vera
    library.is_public = True  # so that mallory and anonymous see something
    library.save()
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    seen = list(annotations_for(user))
    assert seen, "every persona sees the public library's shared notes"
    editable = set(Annotation.objects.editable_by(user).values_list("pk", flat=True))
    for annotation in seen:
        assert annotation.editable_with_role(user, annotation.viewer_role) == (
            annotation.pk in editable
        ), (who, annotation)


def test_viewer_cannot_change_an_annotation_of_hers_through_the_role(as_user, vera, notes):
    client = as_user(vera)
    note = notes[3]
    Membership.objects.filter(user=vera).update(role=Role.VIEWER)
    tag = client.get(detail(note))["ETag"]
    response = client.patch(detail(note), {"comment": "x"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 403


def test_the_hand_built_representation_equals_drfs(alice, vera, notes):
    request = APIRequestFactory().get(LIST)
    request.user = vera
    for annotation in annotations_for(vera):
        serializer = AnnotationSerializer(annotation, context={"request": request})
        drf = serializers.ModelSerializer.to_representation(serializer, annotation)
        fast = serializer.to_representation(annotation)
        assert list(fast) == list(drf) == list(serializer.Meta.fields)
        assert fast == drf
        assert fast["url"] == f"http://testserver{detail(annotation)}"


@pytest.mark.parametrize("accept", ["application/json", JSONLD])
def test_a_created_annotation_is_represented_as_a_read_would(as_user, bob, text, accept):
    client = as_user(bob)
    body = {"text": text.pk, "start": 0, "end": 6, "comment": "**who**", "tags": ["b", "A"]}
    created = client.post(LIST, body, format="json", HTTP_ACCEPT=accept)
    assert created.status_code == 201, created.content
    read = client.get(created["Location"], HTTP_ACCEPT=accept)
    assert created.json() == read.json()
    assert created["ETag"] == read["ETag"]


def test_creating_asks_about_membership_once(as_user, bob, text):
    body = {"text": text.pk, "start": 0, "end": 6, "tags": ["theme:treaty"]}
    with CaptureQueriesContext(connection) as queries:
        assert as_user(bob).post(LIST, body, format="json").status_code == 201
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum('"sources_membership"' in s for s in sql) == 1, sql
    # indexed once, without looking for an old entry or events it cannot have
    assert sum('INSERT INTO "annotations_searchentry"' in s for s in sql) == 1, sql
    assert not any(s.startswith("DELETE") and "annotations_searchentry" in s for s in sql), sql
    assert not any('"annotations_claimevent"' in s for s in sql), sql
    assert sum('INSERT INTO "annotations_historicalannotation"' in s for s in sql) == 1, sql


@pytest.mark.parametrize(
    "change", [{"comment": "new"}, {"tags": ["z", "Y"]}, {"start": 47, "end": 53}]
)
def test_an_edited_annotation_is_represented_as_a_read_would(as_user, bob, notes, change):
    client = as_user(bob)
    note = notes[0]
    tag = client.get(detail(note))["ETag"]
    edited = client.patch(detail(note), change, format="json", HTTP_IF_MATCH=tag)
    assert edited.status_code == 200, edited.content
    read = client.get(detail(note))
    assert edited.json() == read.json()
    assert read.json()["version"] == 2


def test_a_tagged_annotation_or_claim_is_indexed_once_per_write(library, bob, text):
    """One statement writes the entry: the ORM path's upsert, or the one statement that
    creates an annotation on PostgreSQL (`annotations.writes`)."""
    from search import index as search_index
    from search.models import SearchEntry
    from tests.factories import make_claim

    def index_writes(captured: CaptureQueriesContext) -> int:
        table = connection.ops.quote_name(SearchEntry._meta.db_table)
        return sum(f"INSERT INTO {table}" in query["sql"] for query in captured.captured_queries)

    with CaptureQueriesContext(connection) as captured:
        annotation = create_annotation(
            text=text, creator=bob, start=0, end=5, tags=["theme:face", "person:Mao"]
        )
    assert index_writes(captured) == 1
    facets = str(SearchEntry.objects.get(annotation=annotation).facets)
    assert all(search_index.tag_token(tag.pk) in facets for tag in annotation.tags.all())
    with CaptureQueriesContext(connection) as captured:
        annotation.apply_changes({"tags": ["theme:face"], "comment": "Noted."}, user=bob)
    assert index_writes(captured) == 1
    with CaptureQueriesContext(connection) as captured:
        make_claim(library=library, creator=bob, tags=["theme:face", "place:Moscow"])
    assert index_writes(captured) == 1


def test_a_new_tagged_annotation_has_one_history_record_that_holds_its_tags(as_user, bob, text):
    body = {"text": text.pk, "start": 0, "end": 6, "tags": ["theme:treaty", "Moscow"]}
    created = as_user(bob).post(LIST, body, format="json")
    assert created.status_code == 201, created.content
    records = list(Annotation.history.filter(id=created.json()["id"]))
    assert [r.history_type for r in records] == ["+"]
    assert records[0].history_user == bob
    assert sorted(row.tag.name for row in records[0].tags.all()) == ["Moscow", "theme:treaty"]
    assert created.json()["tags"] == ["Moscow", "theme:treaty"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_hand_written_read_is_prepared_once_per_connection(bob, notes, settings):
    """`core.rows.fetch`: PostgreSQL plans the annotation read once and then only runs
    it (pg_prepared_statements counts its executions), unless the setting turns it off."""

    def executions() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ['%FROM "annotations_annotation" a %'],
            )
            return cursor.fetchone()[0]

    before = executions()
    for note in notes:
        read_annotation_for_user(bob, note.pk)
    assert executions() == before + len(notes)
    settings.DB_PREPARED_STATEMENTS = False
    read_annotation_for_user(bob, notes[0].pk)
    assert executions() == before + len(notes)


def test_reads_run_without_a_transaction_and_writes_in_one(as_user, bob, notes, monkeypatch):
    """`WritesInATransaction`: a GET opens none (no BEGIN, here no savepoint inside the
    test's own transaction); a POST runs in one, which an error rolls back whole."""
    client = as_user(bob)

    def opened(captured: CaptureQueriesContext) -> int:
        return sum(q["sql"].startswith(("BEGIN", "SAVEPOINT")) for q in captured.captured_queries)

    with CaptureQueriesContext(connection) as captured:
        assert client.get(detail(notes[0])).status_code == 200
        assert client.get(f"{LIST}?text={notes[0].text_id}").status_code == 200
    assert opened(captured) == 0
    body = {"text": notes[0].text_id, "start": 0, "end": 6, "tags": ["kept"]}
    with CaptureQueriesContext(connection) as captured:
        assert client.post(LIST, body, format="json").status_code == 201
    assert opened(captured) >= 1  # the request's, and savepoints inside it

    from annotations import writes

    def fail(*args, **kwargs):
        raise serializers.ValidationError({"text": "refused after the tags were made"})

    monkeypatch.setattr(writes, "insert_new", fail)
    monkeypatch.setattr(writes, "supported", lambda using: True)
    count = Annotation.objects.count()
    refused = client.post(LIST, body | {"tags": ["made then rolled back"]}, format="json")
    assert refused.status_code == 400, refused.content
    assert Annotation.objects.count() == count
    assert not Tag.objects.filter(name="made then rolled back").exists()


def test_held_tags_are_served_without_a_query_and_filter_as_the_relation(notes):
    note = Annotation.objects.get(pk=notes[0].pk)
    tags = list(note.tags.all())
    other = Tag.objects.create(library=note.library, name="not on this note")
    note.hold_tags(tags)
    with CaptureQueriesContext(connection) as captured:
        assert list(note.tags.all()) == tags
    assert len(captured) == 0
    assert list(note.tags.filter(pk=other.pk)) == []  # filtered further: the relation's rows
    assert note.tags.filter(pk=tags[0].pk).get() == tags[0]
    note.hold_tags([])  # held again: replaces what was held
    assert list(note.tags.all()) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL plan")
def test_a_page_of_a_texts_annotations_is_read_in_order_without_sorting(bob, notes, text):
    """annotations migration 0008: the index gives document order, so that a page of a text
    with thousands of notes reads its 50 rows and stops, instead of sorting them all."""
    page = annotations_for(bob).filter(text=text).prefetch_related(None)[:50]
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")  # a test text has four notes
        plan = page.explain()
    assert "annotation_document_order" in plan, plan
    assert "Sort" not in plan, plan
