"""Notes on the whole text (Hypothesis' page notes) and the threads the reading view shows.

A note is an annotation on a text with no passage, region or parent: made through the plain
API and the W3C protocol (validated by the W3C test-suite schemas), held to its shape by the
database, carried to a new revision with its replies, found by search, and listed apart
from the passages; the reading view's threads are the replies the user may see.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils.datastructures import MultiValueDict

from annotations import reanchoring
from annotations.models import Annotation, Visibility
from annotations.templatetags.annotation_reader import reader_config
from annotations.writes import create_annotation
from search import index as search_index
from search.engine import search
from search.query import parse_params
from tests.annotations.test_targets import JSONLD, LIST, write
from tests.annotations.test_w3c_schemas import annotation_validators, failures
from tests.factories import make_annotation, make_text

TEXT = "Record of conversation between Stalin and Mao, 16 December 1949."


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


def note(as_user, user, text, **extra):
    body = {
        "text": text.pk,
        "whole_text": True,
        "comment": "Read with the *CWIHP* edition.",
        **extra,
    }
    return as_user(user).post(LIST, body, format="json")


def test_a_note_is_on_the_whole_text_and_edited_by_its_writer(as_user, text, bob, vera):
    response = note(as_user, bob, text, tags=["theme:sources"])
    assert response.status_code == 201, response.content
    made = response.json()
    assert (made["whole_text"], made["start"], made["end"], made["exact"]) == (True, 0, 0, "")
    assert made["motivation"] == "commenting" and made["tags"] == ["theme:sources"]
    assert "<em>CWIHP</em>" in made["comment_html"]
    url = f"{LIST}{made['id']}/"
    listed = as_user(vera).get(LIST, {"text": text.pk}).json()["results"]
    assert [(a["id"], a["whole_text"]) for a in listed] == [(made["id"], True)]
    assert write(as_user(vera), "patch", url, {"comment": "mine now"}).status_code == 403
    edited = write(as_user(bob), "patch", url, {"comment": "Read with **both** editions."})
    assert edited.status_code == 200 and "<strong>both</strong>" in edited.json()["comment_html"]
    moved = write(as_user(bob), "patch", url, {"start": 0, "end": 6})
    assert moved.status_code == 400 and "start" in moved.json()
    assert write(as_user(bob), "patch", url, {"whole_text": False}).status_code == 400


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"start": 0, "end": 6}, "whole_text"), ({"reply_to": 1}, "whole_text")],
)
def test_a_note_on_something_else_too_is_refused_naming_the_field(as_user, text, bob, extra, field):
    if "reply_to" in extra:
        extra = {"reply_to": make_annotation(text=text, creator=bob, quote="Stalin").pk}
    response = note(as_user, bob, text, **extra)
    assert response.status_code == 400 and field in response.json()
    assert not Annotation.objects.filter(whole_text=True).exists()


def test_viewers_and_outsiders_cannot_write_notes(as_user, text, vera, mallory):
    assert note(as_user, vera, text).status_code == 403
    outsider = note(as_user, mallory, text)
    assert outsider.status_code == 400 and "text" in outsider.json()
    assert as_user(vera).get(LIST, {"text": text.pk, "nonsense": "1"}).status_code == 200
    assert as_user(vera).delete(LIST).status_code == 405
    assert not Annotation.objects.exists()


def test_the_database_holds_a_note_to_its_shape(text, bob):
    made = create_annotation(text=text, creator=bob, whole_text=True, comment="On the whole")
    for change in ({"start": 3, "end": 3}, {"exact": "Record"}, {"whole_text": False}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Annotation.objects.filter(pk=made.pk).update(**change)
    passage = make_annotation(text=text, creator=bob, quote="Stalin")
    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.filter(pk=passage.pk).update(whole_text=True)


def test_a_note_is_a_w3c_annotation_on_the_text_without_selector(as_user, text, bob, vera):
    text_iri = f"http://testserver/api/sources/{text.source_id}/texts/{text.revision}/"
    sent = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": {"type": "TextualBody", "value": "The whole record is a translation."},
        "target": {"id": text_iri, "type": "Text"},
    }
    response = as_user(bob).post(LIST, sent, format="json", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 201, response.content
    served = response.json()
    assert served["target"] == {"id": text_iri, "type": "Text"}
    assert failures(served, annotation_validators()) == []
    made = Annotation.objects.get()
    assert made.kind == "note" and made.comment_raw == "The whole record is a translation."
    bare = as_user(bob).post(LIST, {**sent, "target": text_iri}, format="json")
    assert bare.status_code == 201 and bare.json()["whole_text"] is True
    specific = {**sent, "target": {"type": "SpecificResource", "source": text_iri}}
    assert as_user(bob).post(LIST, specific, format="json").json()["whole_text"] is True
    assert as_user(vera).post(LIST, sent, format="json").status_code == 403
    elsewhere = {**sent, "target": {"id": "http://example.org/texts/1", "type": "Text"}}
    assert as_user(bob).post(LIST, elsewhere, format="json").status_code == 400
    url = f"{LIST}{made.pk}/"
    tag = as_user(bob).get(url)["ETag"]
    sent["body"]["value"] = "A translation, checked."
    put = as_user(bob).put(url, sent, format="json", HTTP_IF_MATCH=tag, HTTP_ACCEPT=JSONLD)
    assert put.status_code == 200 and failures(put.json(), annotation_validators()) == []


def test_a_new_revision_carries_notes_and_their_replies(text, source, bob, alice):
    made = create_annotation(text=text, creator=bob, whole_text=True, comment="Typed copy?")
    reply = create_annotation(text=text, creator=alice, reply_to=made, comment="Yes.")
    corrected = make_text(source=source, text="[Typed copy.] " + TEXT, imported_by=alice)
    made.refresh_from_db()
    reply.refresh_from_db()
    assert made.text_id == reply.text_id == corrected.pk
    assert (made.start, made.end, reply.start) == (0, 0, 0)
    assert (
        made.history.first().history_change_reason
        == f"re-anchored on revision {corrected.revision}"
    )
    reanchoring.carry_over(corrected)  # again: nothing moves twice
    assert Annotation.objects.get(pk=made.pk).version == made.version


def test_the_reading_view_holds_notes_and_the_threads_each_user_may_see(text, bob, alice, vera):
    passage = make_annotation(text=text, creator=bob, quote="Stalin")
    made = create_annotation(text=text, creator=bob, whole_text=True, comment="On the whole")
    shared = create_annotation(text=text, creator=alice, reply_to=passage, comment="Which?")
    deeper = create_annotation(text=text, creator=bob, reply_to=shared, comment="The first.")
    mine = make_annotation(text=text, creator=alice, quote="Mao", visibility=Visibility.PRIVATE)
    private = create_annotation(text=text, creator=alice, reply_to=mine, comment="Check it")

    def config(user):
        request = RequestFactory().get("/")
        request.user = user
        return reader_config(request, text)

    seen = config(vera)
    assert {a["id"] for a in seen["annotations"]} == {passage.pk}
    assert [a["id"] for a in seen["notes"]] == [made.pk]
    assert [(a["id"], a["reply_to"]) for a in seen["replies"]] == [
        (shared.pk, passage.pk),
        (deeper.pk, shared.pk),
    ]
    assert private.pk in {a["id"] for a in config(alice)["replies"]}
    assert seen["repliesLeftOut"] == 0


@pytest.fixture
def _index_connected():
    search_index.connect()


@pytest.mark.usefixtures("_index_connected")
def test_search_finds_notes_and_replies_and_links_to_their_threads(text, bob, alice, vera):
    passage = make_annotation(text=text, creator=bob, quote="Stalin")
    reply = create_annotation(text=text, creator=alice, reply_to=passage, comment="Fedorenko")
    made = create_annotation(text=text, creator=bob, whole_text=True, comment="Kovalev's memo")
    hits = {}
    for word in ("Fedorenko", "Kovalev"):
        data = MultiValueDict({"q": [word]})
        hits[word] = [h for h in search(vera, parse_params(data)).hits if h.kind == "annotation"]
    assert [h.annotation_id for h in hits["Fedorenko"]] == [reply.pk]
    assert hits["Fedorenko"][0].url.endswith(f"#annotation-{reply.pk}")
    assert [h.annotation_id for h in hits["Kovalev"]] == [made.pk]


def test_a_text_with_more_replies_than_shown_says_how_many_are_left_out(
    client, monkeypatch, source, text, bob, alice
):
    monkeypatch.setattr("annotations.reader.THREADS_MOST", 2)
    passage = make_annotation(text=text, creator=bob, quote="Stalin")
    replies = [
        create_annotation(text=text, creator=alice, reply_to=passage, comment=f"Reply {n}")
        for n in range(3)
    ]
    client.force_login(bob)
    page = client.get(f"/sources/{source.pk}/").content.decode()
    assert "The 1 oldest reply on this text is not shown in its threads here" in page
    request = RequestFactory().get("/")
    request.user = bob
    shown = reader_config(request, text)
    assert [r["id"] for r in shown["replies"]] == [r.pk for r in replies[1:]]  # the newest
    assert shown["repliesLeftOut"] == 1
