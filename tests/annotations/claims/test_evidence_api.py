"""/api/evidence/: attaching highlights to claims, stances, roles and If-Match."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.models import Evidence
from annotations.models import Annotation, Visibility
from tests.factories import (
    make_annotation,
    make_claim,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

LIST = "/api/evidence/"
TEXT = "After their first meeting, Stalin refused to see Mao for days. Mao rested at a dacha."


def detail(evidence) -> str:
    return reverse("api-evidence-detail", args=[evidence.pk])


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.fixture
def claim(library, alice):
    return make_claim(library=library, creator=alice, statement="Stalin kept Mao waiting")


@pytest.fixture
def quote(text, bob):
    return make_annotation(text=text, creator=bob, quote="Stalin refused to see Mao for days")


@pytest.fixture
def evidence(claim, quote, bob):
    return make_evidence(claim=claim, annotation=quote, creator=bob, note="Radchenko's reading")


def etag(client, evidence) -> str:
    return client.get(detail(evidence))["ETag"]


def test_editor_attaches_a_highlight_to_someone_elses_claim(as_user, bob, claim, quote):
    response = as_user(bob).post(
        LIST,
        {"claim": claim.pk, "annotation": quote.pk, "stance": "supports", "note": "n"},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["quote"] == quote.exact and data["source_kind"] == "primary"
    assert (data["start"], data["end"]) == (quote.start, quote.end)
    assert response["ETag"] == f'"v{data["id"]}.v1"'


def test_editor_attaches_a_fresh_selection(as_user, bob, claim, text):
    start = TEXT.index("Mao rested")
    body = {
        "claim": claim.pk,
        "text": text.pk,
        "start": start,
        "end": start + 10,
        "stance": "contradicts",
    }
    response = as_user(bob).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    assert Annotation.objects.get(pk=response.json()["annotation"]).exact == "Mao rested"


def test_highlight_from_another_library_is_400_naming_annotation(as_user, alice, claim):
    other = make_library(owner=alice, name="Another library of alice")
    foreign = make_annotation(
        text=make_text(source=make_source(library=other), text=TEXT), creator=alice, quote="Mao"
    )
    response = as_user(alice).post(
        LIST, {"claim": claim.pk, "annotation": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert "another library" in response.json()["annotation"][0]
    assert not Evidence.objects.exists()


def test_selection_in_another_librarys_text_is_400_and_leaves_no_highlight(as_user, alice, claim):
    other = make_library(owner=alice, name="Another library of alice")
    foreign_text = make_text(source=make_source(library=other), text=TEXT)
    body = {"claim": claim.pk, "text": foreign_text.pk, "start": 0, "end": 5}
    response = as_user(alice).post(LIST, body, format="json")
    assert response.status_code == 400 and "text" in response.json()
    assert not Annotation.objects.exists()


def test_someone_elses_private_note_reads_as_unknown(as_user, bob, alice, claim, text):
    private = make_annotation(
        text=text, creator=alice, quote="dacha", visibility=Visibility.PRIVATE
    )
    response = as_user(bob).post(LIST, {"claim": claim.pk, "annotation": private.pk}, format="json")
    assert response.status_code == 400
    assert "No highlight" in response.json()["annotation"][0]


def test_own_private_note_cannot_become_evidence(as_user, alice, claim, text):
    private = make_annotation(
        text=text, creator=alice, quote="dacha", visibility=Visibility.PRIVATE
    )
    response = as_user(alice).post(
        LIST, {"claim": claim.pk, "annotation": private.pk}, format="json"
    )
    assert response.status_code == 400 and "private" in response.json()["annotation"][0]


def test_the_same_highlight_twice_is_400(as_user, bob, claim, quote, evidence):
    response = as_user(bob).post(LIST, {"claim": claim.pk, "annotation": quote.pk}, format="json")
    assert response.status_code == 400 and "annotation" in response.json()


def test_invalid_stance_is_400(as_user, bob, claim, quote):
    response = as_user(bob).post(
        LIST, {"claim": claim.pk, "annotation": quote.pk, "stance": "agrees"}, format="json"
    )
    assert response.status_code == 400 and "stance" in response.json()


def test_viewer_cannot_attach(as_user, vera, claim, quote):
    response = as_user(vera).post(LIST, {"claim": claim.pk, "annotation": quote.pk}, format="json")
    assert response.status_code == 403


def test_outsider_cannot_name_our_claim(as_user, mallory, claim, quote):
    response = as_user(mallory).post(
        LIST, {"claim": claim.pk, "annotation": quote.pk}, format="json"
    )
    assert response.status_code == 400 and "claim" in response.json()


def test_outsider_gets_404_for_evidence(as_user, mallory, evidence):
    assert as_user(mallory).get(detail(evidence)).status_code == 404


def test_list_by_claim(as_user, vera, claim, evidence):
    response = as_user(vera).get(LIST, {"claim": claim.pk})
    assert [row["id"] for row in response.json()["results"]] == [evidence.pk]


def test_evidence_whose_highlight_was_made_private_is_hidden(as_user, vera, evidence, quote):
    Annotation.objects.filter(pk=quote.pk).update(visibility=Visibility.PRIVATE)
    assert as_user(vera).get(detail(evidence)).status_code == 404
    assert as_user(vera).get(LIST).json()["results"] == []


def test_creator_changes_stance_with_if_match(as_user, bob, evidence):
    client = as_user(bob)
    assert client.patch(detail(evidence), {"stance": "mentions"}, format="json").status_code == 428
    response = client.patch(
        detail(evidence),
        {"stance": "mentions"},
        format="json",
        HTTP_IF_MATCH=etag(client, evidence),
    )
    assert response.status_code == 200
    assert response.json()["stance"] == "mentions" and response.json()["version"] == 2
    stale = client.patch(
        detail(evidence), {"note": "x"}, format="json", HTTP_IF_MATCH=f'"v{evidence.pk}.v1"'
    )
    assert stale.status_code == 412


def test_another_editor_cannot_change_evidence_but_the_owner_can(as_user, alice, library, evidence):
    from sources.models import Membership
    from tests.factories import make_user

    carol = make_user(username="carol")
    Membership.objects.create(library=library, user=carol, role="editor")
    client = as_user(carol)
    assert (
        client.patch(
            detail(evidence),
            {"stance": "mentions"},
            format="json",
            HTTP_IF_MATCH=etag(client, evidence),
        ).status_code
        == 403
    )
    owner = as_user(alice)
    assert owner.delete(detail(evidence), HTTP_IF_MATCH=etag(owner, evidence)).status_code == 204


def test_viewer_cannot_delete_evidence(as_user, vera, evidence):
    client = as_user(vera)
    assert client.delete(detail(evidence), HTTP_IF_MATCH=etag(client, evidence)).status_code == 403


def test_wrong_method_on_evidence(as_user, bob, evidence):
    assert as_user(bob).post(detail(evidence), {}, format="json").status_code == 405
