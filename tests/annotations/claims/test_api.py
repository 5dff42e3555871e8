"""/api/claims/: roles, versions and If-Match, search as you type, make claim in one step."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.claims import EventLink
from annotations.claims.models import Claim, Evidence
from annotations.models import Annotation
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_library,
    make_source,
    make_text,
)

LIST = "/api/claims/"
FROM_HIGHLIGHT = "/api/claims/from-highlight/"
TEXT = "After their first meeting, Stalin refused to see Mao for days. Mao rested at a dacha."


def detail(claim) -> str:
    return reverse("api-claim-detail", args=[claim.pk])


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.fixture
def claim(library, bob):
    return make_claim(
        library=library,
        creator=bob,
        statement="Stalin kept Mao waiting for days",
        tags=["theme:face"],
    )


def etag(client, claim) -> str:
    return client.get(detail(claim))["ETag"]


# --- create -----------------------------------------------------------------------------


def test_editor_creates_a_claim_with_tags_and_an_event(as_user, bob, library):
    visit = make_event(library=library)
    body = {
        "library": library.slug,
        "statement": "Mao arrived in mid-December 1949",
        "status": "corroborated",
        "tags": ["person:Mao Zedong"],
        "events": [{"event": visit.pk, "relation": "dates", "note": "two weeks' rest"}],
    }
    response = as_user(bob).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["statement"] == "Mao arrived in mid-December 1949"
    assert data["status"] == "corroborated" and data["rank"] == "normal"
    assert data["tags"] == ["person:Mao Zedong"]
    assert data["events"][0]["event"] == visit.pk and data["events"][0]["relation"] == "dates"
    assert data["creator"]["username"] == "bob" and data["can_edit"] is True
    assert response["ETag"] == data["etag"] == f'"c{data["id"]}.v1"'
    assert response["Location"].endswith(f"/api/claims/{data['id']}/")


def test_viewer_cannot_create_a_claim(as_user, vera, library):
    response = as_user(vera).post(LIST, {"library": library.slug, "statement": "x"}, format="json")
    assert response.status_code == 403
    assert not Claim.objects.exists()


def test_outsider_cannot_name_a_library_they_cannot_see(as_user, mallory, library):
    response = as_user(mallory).post(
        LIST, {"library": library.slug, "statement": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "library" in response.json()


def test_anonymous_cannot_create(as_user, library):
    response = as_user(None).post(LIST, {"library": library.slug, "statement": "x"}, format="json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"statement": ""}, "statement"),
        ({"statement": "x" * 2001}, "statement"),
        ({"statement": "ok", "status": "certain"}, "status"),
        ({"statement": "ok", "rank": "deprecated"}, "rank_reason"),
        ({"statement": "ok", "tags": "not a list"}, "tags"),
        ({"statement": "ok", "events": [{"event": 999999}]}, "events"),
    ],
)
def test_invalid_claim_is_refused_naming_the_field(as_user, alice, library, body, field):
    response = as_user(alice).post(LIST, {"library": library.slug, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Claim.objects.exists()


def test_event_from_another_library_is_refused_and_nothing_is_written(as_user, alice, library):
    other = make_library(owner=alice, name="Another library")
    foreign = make_event(library=other, creator=alice)
    body = {
        "library": library.slug,
        "statement": "ok",
        "tags": ["new-tag"],
        "events": [{"event": foreign.pk}],
    }
    response = as_user(alice).post(LIST, body, format="json")
    assert response.status_code == 400
    assert "events" in response.json()
    assert not Claim.objects.exists()
    assert not library.tags.filter(name="new-tag").exists()


# --- read -------------------------------------------------------------------------------


def test_viewer_reads_a_claim_and_gets_its_etag(as_user, vera, claim):
    response = as_user(vera).get(detail(claim))
    assert response.status_code == 200
    assert response["ETag"] == f'"c{claim.pk}.v1"'
    assert response.json()["can_edit"] is False
    again = as_user(vera).get(detail(claim), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_outsider_gets_404_for_a_claim(as_user, mallory, claim):
    assert as_user(mallory).get(detail(claim)).status_code == 404


def test_public_library_claims_are_readable_anonymously(as_user, library, claim):
    library.is_public = True
    library.save()
    assert as_user(None).get(detail(claim)).status_code == 200


def test_list_searches_as_you_type_within_a_library(as_user, vera, library, claim, alice):
    make_claim(library=library, creator=alice, statement="The treaty was signed on 14 February")
    elsewhere = make_library(owner=alice, name="Elsewhere")
    make_claim(library=elsewhere, creator=alice, statement="Stalin kept Mao waiting, elsewhere")
    response = as_user(vera).get(LIST, {"library": library.slug, "q": "mao stal", "limit": 8})
    assert response.status_code == 200
    assert [c["statement"] for c in response.json()["results"]] == [claim.statement]


def test_list_filters_by_status_event_and_tag(as_user, vera, library, claim, alice):
    visit = make_event(library=library)
    linked = make_claim(
        library=library,
        creator=alice,
        statement="Dated",
        status="disputed",
        events=[EventLink(visit)],
    )
    client = as_user(vera)
    assert [c["id"] for c in client.get(LIST, {"status": "disputed"}).json()["results"]] == [
        linked.pk
    ]
    assert [c["id"] for c in client.get(LIST, {"event": visit.pk}).json()["results"]] == [linked.pk]
    assert [c["id"] for c in client.get(LIST, {"tag": "Theme:Face"}).json()["results"]] == [
        claim.pk
    ]
    assert client.get(LIST, {"status": "maybe"}).status_code == 400


def test_outsider_lists_no_claims_of_a_private_library(as_user, mallory, claim):
    assert as_user(mallory).get(LIST).json()["results"] == []


# --- change -------------------------------------------------------------------------------


def test_change_needs_if_match(as_user, bob, claim):
    response = as_user(bob).patch(detail(claim), {"status": "disputed"}, format="json")
    assert response.status_code == 428


def test_stale_if_match_is_refused_with_the_current_etag(as_user, bob, claim):
    client = as_user(bob)
    tag = etag(client, claim)
    assert (
        client.patch(
            detail(claim), {"status": "disputed"}, format="json", HTTP_IF_MATCH=tag
        ).status_code
        == 200
    )
    stale = client.patch(detail(claim), {"status": "refuted"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert stale.json()["etag"] == f'"c{claim.pk}.v2"'
    claim.refresh_from_db()
    assert claim.status == "disputed"


def test_creator_changes_status_rank_and_reason(as_user, bob, claim):
    client = as_user(bob)
    body = {"rank": "deprecated", "rank_reason": "Contradicted by the AVPRF record."}
    response = client.patch(detail(claim), body, format="json", HTTP_IF_MATCH=etag(client, claim))
    assert response.status_code == 200, response.content
    assert response.json()["rank"] == "deprecated"
    assert response.json()["version"] == 2 and response["ETag"] == f'"c{claim.pk}.v2"'


def test_put_replaces_the_claim_clearing_what_is_left_out(as_user, bob, claim):
    client = as_user(bob)
    response = client.put(
        detail(claim), {"statement": "Replaced"}, format="json", HTTP_IF_MATCH=etag(client, claim)
    )
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == [] and response.json()["statement"] == "Replaced"


def test_another_editor_cannot_change_someone_elses_claim(as_user, alice, library, bob):
    theirs = make_claim(library=library, creator=alice)
    client = as_user(bob)
    response = client.patch(
        detail(theirs), {"status": "refuted"}, format="json", HTTP_IF_MATCH=etag(client, theirs)
    )
    assert response.status_code == 403


def test_owner_moderates_an_editors_claim(as_user, alice, claim):
    client = as_user(alice)
    response = client.patch(
        detail(claim), {"status": "refuted"}, format="json", HTTP_IF_MATCH=etag(client, claim)
    )
    assert response.status_code == 200


def test_viewer_cannot_change_a_claim(as_user, vera, claim):
    client = as_user(vera)
    response = client.patch(
        detail(claim), {"status": "refuted"}, format="json", HTTP_IF_MATCH=etag(client, claim)
    )
    assert response.status_code == 403


def test_a_claim_stays_in_its_library(as_user, bob, claim, alice):
    other = make_library(owner=alice, name="Other")
    from sources.models import Membership

    Membership.objects.create(library=other, user=bob, role="editor")
    client = as_user(bob)
    response = client.patch(
        detail(claim), {"library": other.slug}, format="json", HTTP_IF_MATCH=etag(client, claim)
    )
    assert response.status_code == 400 and "library" in response.json()


def test_invalid_change_writes_nothing(as_user, bob, claim):
    client = as_user(bob)
    response = client.patch(
        detail(claim),
        {"tags": ["new"], "rank": "deprecated"},
        format="json",
        HTTP_IF_MATCH=etag(client, claim),
    )
    assert response.status_code == 400 and "rank_reason" in response.json()
    claim.refresh_from_db()
    assert claim.version == 1 and [t.name for t in claim.tags.all()] == ["theme:face"]


def test_delete_needs_if_match_and_keeps_highlights(as_user, bob, claim, text):
    quote = make_annotation(text=text, creator=bob, quote="Mao")
    Evidence.objects.create(library=claim.library, claim=claim, annotation=quote, creator=bob)
    client = as_user(bob)
    assert client.delete(detail(claim)).status_code == 428
    assert client.delete(detail(claim), HTTP_IF_MATCH=etag(client, claim)).status_code == 204
    assert not Claim.objects.exists() and not Evidence.objects.exists()
    assert Annotation.objects.filter(pk=quote.pk).exists()


def test_wrong_methods_are_refused(as_user, alice, claim):
    client = as_user(alice)
    assert client.patch(LIST, {}, format="json").status_code == 405
    assert client.post(detail(claim), {}, format="json").status_code == 405
    assert client.get(FROM_HIGHLIGHT).status_code == 405


# --- make claim from a highlight ------------------------------------------------------------


def test_make_claim_from_a_selection_in_one_request(as_user, bob, text):
    start = TEXT.index("Mao rested")
    body = {
        "text": text.pk,
        "start": start,
        "end": start + 10,
        "exact": "Mao rested",
        "statement": "Mao chose to rest",
        "stance": "contradicts",
        "evidence_note": "own wish",
        "tags": ["theme:health"],
    }
    response = as_user(bob).post(FROM_HIGHLIGHT, body, format="json")
    assert response.status_code == 201, response.content
    claim = Claim.objects.get(pk=response.json()["id"])
    evidence = claim.evidence.get()
    assert (evidence.annotation.exact, evidence.stance, evidence.note) == (
        "Mao rested",
        "contradicts",
        "own wish",
    )
    assert response.json()["tags"] == ["theme:health"]


def test_make_claim_from_an_existing_highlight(as_user, bob, text):
    quote = make_annotation(text=text, creator=bob, quote="Stalin refused to see Mao")
    response = as_user(bob).post(
        FROM_HIGHLIGHT, {"annotation": quote.pk, "statement": "Waiting"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Evidence.objects.get().annotation == quote
    assert Annotation.objects.count() == 1


def test_make_claim_with_a_stale_quote_is_400_and_writes_nothing(as_user, bob, text):
    body = {"text": text.pk, "start": 0, "end": 5, "exact": "Later", "statement": "x"}
    response = as_user(bob).post(FROM_HIGHLIGHT, body, format="json")
    assert response.status_code == 400 and "exact" in response.json()
    assert not Annotation.objects.exists() and not Claim.objects.exists()


def test_make_claim_needs_a_highlight_or_a_selection(as_user, bob):
    response = as_user(bob).post(FROM_HIGHLIGHT, {"statement": "x"}, format="json")
    assert response.status_code == 400 and "annotation" in response.json()


def test_viewer_cannot_make_a_claim_from_a_highlight(as_user, vera, text):
    body = {"text": text.pk, "start": 0, "end": 5, "statement": "x"}
    assert as_user(vera).post(FROM_HIGHLIGHT, body, format="json").status_code == 403
    assert not Annotation.objects.exists()


def test_outsider_cannot_make_a_claim_on_a_text_they_cannot_see(as_user, mallory, text):
    body = {"text": text.pk, "start": 0, "end": 5, "statement": "x"}
    response = as_user(mallory).post(FROM_HIGHLIGHT, body, format="json")
    assert response.status_code == 400 and "text" in response.json()


def test_outsider_with_their_own_library_cannot_quote_ours(as_user, mallory, text):
    theirs = make_library(owner=mallory, name="Mallory's")
    make_text(source=make_source(library=theirs), text=TEXT)
    body = {"text": text.pk, "start": 0, "end": 5, "statement": "x"}
    assert as_user(mallory).post(FROM_HIGHLIGHT, body, format="json").status_code == 400
