"""What an annotation is on: a passage, a region of a page, or another annotation (a reply).

Regions and replies through the plain API and the W3C protocol (validated by the W3C
test-suite schemas), the rules of threads (who may reply, who sees a reply, what deleting
or hiding the answered annotation does), re-anchoring (a passage moves to a new revision,
its replies with it, a region stays on its pages), evidence and citations.
"""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from annotations import reanchoring
from annotations.claims.models import Evidence
from annotations.models import Annotation, Visibility
from annotations.templatetags.annotation_reader import reader_config
from annotations.writes import create_annotation
from citations.passages import cite_annotations
from sources.pages.models import OriginalFile, Page
from tests.annotations.test_list_fast import responses
from tests.annotations.test_w3c_schemas import annotation_validators, failures
from tests.factories import make_annotation, make_claim, make_text

LIST = "/api/annotations/"
JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
PAGES = ["Record of conversation between Stalin and Mao. ", "Stamp: SECRET. Signed: Fedorenko."]
TEXT = "".join(PAGES)
STAMP = {"x": 62.5, "y": 8, "w": 30, "h": 12.25}


def with_pages(text, labels=("1", "2")):
    """Give `text` an original file and a page per entry of PAGES, as the PDF reader does."""
    data = b"%PDF-1.4 stand-in"
    original = OriginalFile.objects.create(
        text=text, name="record.pdf", media_type="application/pdf", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), data=data,
    )  # fmt: skip
    start = 0
    for index, (words, label) in enumerate(zip(PAGES, labels, strict=True)):
        Page.objects.create(
            text=text, index=index, label=label, original=original, original_page=index,
            width=595, height=842, start=start, end=start + len(words),
        )  # fmt: skip
        start += len(words)
    return text


@pytest.fixture
def text(source, alice):
    return with_pages(make_text(source=source, text=TEXT, imported_by=alice))


def write(client, method: str, url: str, body=None):
    """A PATCH, PUT or DELETE with the If-Match the API asks for (the current ETag)."""
    tag = client.get(url)["ETag"]
    send = getattr(client, method)
    if body is None:
        return send(url, HTTP_IF_MATCH=tag)
    return send(url, body, format="json", HTTP_IF_MATCH=tag)


def region(as_user, user, text, page=1, rect=STAMP, **extra):
    body = {"text": text.pk, "page": page, "region": rect, **extra}
    return as_user(user).post(LIST, body, format="json")


# --- regions ------------------------------------------------------------------------------


def test_a_region_is_created_on_its_page_and_listed(as_user, text, bob, vera):
    response = region(as_user, bob, text, comment="The stamp", tags=["stamp"])
    assert response.status_code == 201, response.content
    made = response.json()
    assert (made["page"], made["region"], made["reply_to"]) == (1, STAMP, None)
    assert made["start"] == made["end"] == len(PAGES[0]) and made["exact"] == ""
    listed = as_user(vera).get(LIST, {"text": text.pk}).json()["results"]
    assert [(a["page"], a["region"]) for a in listed] == [(1, STAMP)]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"page": 1}, "region", "A region needs both"),
        ({"region": STAMP}, "page", "A region needs both"),
        ({"page": 7, "region": STAMP}, "page", "No page 7 in this revision (it has 2 pages)"),
        ({"page": 0, "region": {"x": 90, "y": 0, "w": 20, "h": 5}}, "region", "on the page"),
        ({"page": 0, "region": {"x": 1, "y": 1, "w": 0, "h": 5}}, "region", "above 0"),
        ({"page": 0, "region": {"x": "1", "y": 1, "w": 2, "h": 5}}, "region", "x must be a number"),
        ({"page": 0, "region": [1, 2, 3, 4]}, "region", '{"x", "y", "w", "h"}'),
        ({"page": 0, "region": STAMP, "start": 0, "end": 6}, "region", "Give one of"),
        ({}, "start", "Give one of"),
    ],
)
def test_a_bad_region_is_refused_naming_the_field(as_user, text, bob, body, field, words):
    response = as_user(bob).post(LIST, {"text": text.pk, **body}, format="json")
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[field])
    assert not Annotation.objects.exists()


def test_a_text_without_pages_has_no_regions(as_user, source, alice, bob):
    plain = make_text(source=source, text="No pages here.", imported_by=alice)
    response = region(as_user, bob, plain, page=0)
    assert response.status_code == 400
    assert response.json()["page"] == ["No page 0 in this revision (it has no pages)."]


def test_a_reader_may_not_draw_a_region(as_user, text, vera):
    assert region(as_user, vera, text).status_code == 403


def test_a_region_is_redrawn_but_stays_a_region_on_its_page(as_user, text, bob):
    made = region(as_user, bob, text).json()
    url = f"{LIST}{made['id']}/"
    moved = {"x": 10, "y": 10, "w": 5, "h": 5}
    response = write(as_user(bob), "patch", url, {"region": moved})
    assert response.status_code == 200 and response.json()["region"] == moved
    refused = write(as_user(bob), "patch", url, {"start": 0, "end": 6})
    assert refused.status_code == 400 and "no passage" in refused.json()["start"][0]
    assert write(as_user(bob), "patch", url, {"page": 0}).status_code == 400


def test_the_database_refuses_a_passage_of_nothing_and_a_region_with_a_quote(text, bob):
    note = make_annotation(text=text, creator=bob, quote="Stalin")
    with transaction.atomic(), pytest.raises(IntegrityError):
        Annotation.objects.filter(pk=note.pk).update(end=note.start)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Annotation.objects.filter(pk=note.pk).update(page=0, region=STAMP)


def test_the_fast_list_returns_regions_and_replies_as_the_reference_does(
    as_user, text, bob, alice, monkeypatch
):
    passage = make_annotation(text=text, creator=bob, quote="Stalin and Mao")
    region(as_user, bob, text, comment="stamp")
    as_user(alice).post(LIST, {"reply_to": passage.pk, "comment": "Which?"}, format="json")
    fast, reference = responses(as_user(alice), f"{LIST}?text={text.pk}", monkeypatch)
    assert fast == reference
    assert {a["reply_to"] for a in fast["results"]} == {None, passage.pk}
    assert [a["region"] for a in fast["results"]].count(STAMP) == 1


# --- replies ------------------------------------------------------------------------------


def test_a_reply_is_on_the_answered_annotations_text(as_user, text, bob, alice):
    parent = make_annotation(text=text, creator=bob, quote="Signed: Fedorenko")
    response = as_user(alice).post(LIST, {"reply_to": parent.pk, "comment": "Who?"}, format="json")
    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["text"], reply["reply_to"], reply["motivation"]) == (
        text.pk,
        parent.pk,
        "replying",
    )
    nested = as_user(bob).post(LIST, {"reply_to": reply["id"], "comment": "The interpreter."},
                               format="json")  # fmt: skip
    assert nested.status_code == 201 and nested.json()["reply_to"] == reply["id"]


def test_no_reply_to_what_one_cannot_see_or_may_not_annotate(as_user, text, bob, vera, mallory):
    hidden = make_annotation(text=text, creator=bob, quote="Stalin", visibility=Visibility.PRIVATE)
    shared = make_annotation(text=text, creator=bob, quote="Mao")
    refused = as_user(vera).post(LIST, {"reply_to": hidden.pk, "comment": "x"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["reply_to"] == [f"No annotation {hidden.pk} that you can see."]
    assert as_user(vera).post(LIST, {"reply_to": shared.pk}, format="json").status_code == 403
    outsider = as_user(mallory).post(LIST, {"reply_to": shared.pk}, format="json")
    assert outsider.status_code == 400


def test_a_private_thread_stays_private(as_user, text, bob):
    mine = make_annotation(text=text, creator=bob, quote="Stalin", visibility=Visibility.PRIVATE)
    reply = as_user(bob).post(LIST, {"reply_to": mine.pk, "visibility": "library"}, format="json")
    assert reply.json()["visibility"] == "private"
    url = f"{LIST}{reply.json()['id']}/"
    shared = write(as_user(bob), "patch", url, {"visibility": "library"})
    assert shared.status_code == 400
    assert shared.json()["visibility"] == ["A reply in a private thread stays private."]


def test_going_private_takes_ones_own_shared_replies_along(as_user, text, bob, alice):
    """Bob answered his own shared annotation twice (a nested thread), then makes it
    private: his replies go private with it, each with its history, so no reply the
    library sees refers to an annotation it cannot (a Hypothesis row's `references`)."""
    parent = make_annotation(text=text, creator=bob, quote="Stalin")
    first = as_user(bob).post(LIST, {"reply_to": parent.pk, "comment": "One"}, format="json")
    nested = as_user(bob).post(LIST, {"reply_to": first.json()["id"], "comment": "Two"},
                               format="json")  # fmt: skip
    replies = [first.json()["id"], nested.json()["id"]]
    hidden = write(as_user(bob), "patch", f"{LIST}{parent.pk}/", {"visibility": "private"})
    assert hidden.status_code == 200, hidden.content
    for pk in replies:
        reply = Annotation.objects.get(pk=pk)
        assert reply.visibility == Visibility.PRIVATE and reply.version == 2
        assert reply.history.first().visibility == Visibility.PRIVATE
        assert as_user(alice).get(f"{LIST}{pk}/").status_code == 404
    listed = as_user(alice).get(LIST, {"text": text.pk}).json()
    assert not {parent.pk, *replies} & {row["id"] for row in listed["results"]}


def test_what_others_answered_cannot_go_private_or_vanish_with_their_words(
    as_user, text, bob, alice
):
    parent = make_annotation(text=text, creator=bob, quote="Stalin")
    reply = as_user(alice).post(LIST, {"reply_to": parent.pk, "comment": "Sure?"}, format="json")
    url = f"{LIST}{parent.pk}/"
    hidden = write(as_user(bob), "patch", url, {"visibility": "private"})
    assert hidden.status_code == 400
    assert hidden.json()["visibility"] == ["1 reply by others answer it: it stays visible to them."]
    refused = write(as_user(bob), "delete", url)
    assert refused.status_code == 409 and refused.json()["replies"] == 1
    assert Annotation.objects.filter(pk=reply.json()["id"]).exists()
    assert write(as_user(bob), "delete", f"{url}?with_replies=1").status_code == 204
    assert not Annotation.objects.filter(pk=reply.json()["id"]).exists()


def test_ones_own_replies_do_not_hold_an_annotation_back(as_user, text, bob):
    parent = make_annotation(text=text, creator=bob, quote="Stalin")
    as_user(bob).post(LIST, {"reply_to": parent.pk, "comment": "note to self"}, format="json")
    url = f"{LIST}{parent.pk}/"
    assert write(as_user(bob), "patch", url, {"visibility": "private"}).status_code == 200
    assert write(as_user(bob), "delete", url).status_code == 204
    assert not Annotation.objects.exists()


def test_a_reply_keeps_its_parent_and_quotes_nothing(as_user, text, bob):
    parent = make_annotation(text=text, creator=bob, quote="Stalin")
    made = as_user(bob).post(LIST, {"reply_to": parent.pk}, format="json").json()
    url = f"{LIST}{made['id']}/"
    assert write(as_user(bob), "patch", url, {"reply_to": parent.pk}).status_code == 400
    assert write(as_user(bob), "patch", url, {"start": 0, "end": 6}).status_code == 400
    assert write(as_user(bob), "patch", url, {"comment": "Edited"}).status_code == 200


# --- the W3C protocol -----------------------------------------------------------------------


def text_iri(text) -> str:
    return f"http://testserver/api/sources/{text.source_id}/texts/{text.revision}/"


def w3c_region(text, page=2, xywh="percent:62.5,8,30,12.25"):
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": [{"type": "TextualBody", "value": "stamp", "purpose": "tagging"}],
        "target": {
            "type": "SpecificResource",
            "source": text_iri(text),
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": "http://tools.ietf.org/rfc/rfc3778",
                "value": f"page={page}",
                "refinedBy": {
                    "type": "FragmentSelector",
                    "conformsTo": "http://www.w3.org/TR/media-frags/",
                    "value": f"xywh={xywh}",
                },
            },
        },
    }


def test_a_region_round_trips_through_the_w3c_protocol(as_user, text, bob, vera):
    sent = w3c_region(text)
    response = as_user(bob).post(LIST, sent, format="json", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 201, response.content
    made = Annotation.objects.get()
    assert (made.page, made.region, made.kind) == (1, STAMP, "region")
    served = as_user(vera).get(f"{LIST}{made.pk}/", HTTP_ACCEPT=JSONLD).json()
    assert served["target"] == sent["target"]
    assert failures(served, annotation_validators()) == []
    again = as_user(bob).post(LIST, {**served, "id": None}, format="json")
    assert again.status_code == 201 and [a.region for a in Annotation.objects.all()] == [STAMP] * 2


@pytest.mark.parametrize(
    ("page", "xywh", "words"),
    [
        (9, "percent:1,1,2,2", "No page 8"),
        (1, "pixel:1,1,2,2", "xywh=percent"),
        (1, "percent:1,1,200,2", "keep it on the page"),
        (0, "percent:1,1,2,2", "FragmentSelector page=N"),
    ],
)
def test_a_bad_w3c_region_is_refused(as_user, text, bob, page, xywh, words):
    response = as_user(bob).post(LIST, w3c_region(text, page, xywh), format="json")
    assert response.status_code == 400
    assert words in str(response.json())


def test_a_w3c_edit_keeps_a_region_on_its_page(as_user, text, bob):
    as_user(bob).post(LIST, w3c_region(text), format="json")
    url = f"{LIST}{Annotation.objects.get().pk}/"
    etag = as_user(bob).get(url, HTTP_ACCEPT=JSONLD)["ETag"]
    redrawn = as_user(bob).put(url, w3c_region(text, 2, "percent:1,2,3,4"), format="json",
                               HTTP_IF_MATCH=etag)  # fmt: skip
    assert redrawn.status_code == 200, redrawn.content
    assert Annotation.objects.get().region == {"x": 1, "y": 2, "w": 3, "h": 4}
    etag = redrawn["ETag"]
    moved = as_user(bob).put(url, w3c_region(text, 1), format="json", HTTP_IF_MATCH=etag)
    assert moved.status_code == 400 and "stays on its page" in str(moved.json())


def test_a_reply_is_a_w3c_annotation_on_the_annotation_it_answers(as_user, text, bob, alice):
    parent = make_annotation(text=text, creator=bob, quote="Stalin and Mao")
    parent_iri = f"http://testserver{LIST}{parent.pk}/"
    sent = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "motivation": "replying",
        "body": {"type": "TextualBody", "value": "Kept waiting for a week."},
        "target": parent_iri,
    }
    response = as_user(alice).post(LIST, sent, format="json", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 201, response.content
    served = response.json()
    assert (served["target"], served["motivation"]) == (parent_iri, "replying")
    assert failures(served, annotation_validators()) == []
    assert Annotation.objects.get(reply_to=parent).comment_raw == "Kept waiting for a week."
    elsewhere = {**sent, "target": "http://example.org/annotations/1"}
    assert as_user(alice).post(LIST, elsewhere, format="json").status_code == 400


# --- revisions, evidence, citations ---------------------------------------------------------


def test_a_new_revision_moves_passages_with_their_replies_and_leaves_regions(
    as_user, text, source, bob, alice
):
    passage = make_annotation(text=text, creator=bob, quote="Signed: Fedorenko")
    reply = create_annotation(text=text, creator=alice, reply_to=passage, comment="Who?")
    answer = create_annotation(text=text, creator=bob, reply_to=reply, comment="Interpreter.")
    drawn = create_annotation(text=text, creator=bob, page=1, region=STAMP)
    corrected = make_text(source=source, text="[Typed copy.] " + TEXT, imported_by=alice)
    reanchoring.carry_over(corrected)  # the signal ran it already: a second run finds nothing new
    for note in (passage, reply, answer, drawn):
        note.refresh_from_db()
    assert passage.text_id == reply.text_id == answer.text_id == corrected.pk
    assert corrected.text[passage.start : passage.end] == "Signed: Fedorenko"
    assert reply.start == reply.end == answer.start == passage.start
    assert (drawn.text_id, drawn.page, drawn.region) == (text.pk, 1, STAMP)


def test_a_region_is_evidence_and_a_reply_is_not(text, library, bob):
    claim = make_claim(library=library, creator=bob)
    drawn = create_annotation(text=text, creator=bob, page=1, region=STAMP)
    Evidence(claim=claim, annotation=drawn, creator=bob).full_clean()
    reply = create_annotation(text=text, creator=bob, reply_to=drawn, comment="A Soviet stamp")
    with pytest.raises(Exception, match="A reply is not evidence"):
        Evidence(claim=claim, annotation=reply, creator=bob).full_clean()


def test_a_region_is_cited_by_its_page_label(source, alice, bob):
    text = with_pages(make_text(source=source, text=TEXT, imported_by=alice), labels=("1", "2v"))
    drawn = create_annotation(text=text, creator=bob, page=1, region=STAMP)
    passage = make_annotation(text=text, creator=bob, quote="Stalin and Mao")
    region_note, passage_note = cite_annotations([drawn, passage], fmt="text")
    assert (region_note.locator, passage_note.locator) == ("2v", "1")
    assert region_note.quote == ""


def test_the_reading_view_lists_passages_and_regions_and_leaves_replies_to_threads(
    client, text, bob, alice
):
    passage = make_annotation(text=text, creator=bob, quote="Stalin and Mao")
    drawn = create_annotation(text=text, creator=bob, page=1, region=STAMP)
    create_annotation(text=text, creator=alice, reply_to=passage, comment="Which meeting?")
    request = RequestFactory().get("/")
    request.user = bob
    listed = reader_config(request, text)["annotations"]
    assert {a["id"] for a in listed} == {passage.pk, drawn.pk}
    assert [a["region"] for a in listed if a["id"] == drawn.pk] == [STAMP]
    client.force_login(bob)
    streamed = client.get(f"/texts/{text.pk}/annotations/?after=0").json()
    assert {a["id"] for a in streamed} == {passage.pk, drawn.pk}
