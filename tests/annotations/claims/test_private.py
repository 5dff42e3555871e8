"""A private claim is seen by its creator alone: on every page, in the API, in search and
in exports; an owner moderating the library can neither see it nor change who sees it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.claims import EventLink
from annotations.claims.models import Claim
from annotations.models import Visibility
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_source,
    make_text,
)

pytestmark = pytest.mark.django_db

SECRET = "Zhou Enlai drafted the secret protocol himself"


@pytest.fixture
def hidden(library, bob):
    """bob's private claim, with an event and a quote, beside a claim the library sees."""
    text = make_text(
        source=make_source(library=library, title="Cable"), text="The protocol was drafted."
    )
    quote = make_annotation(text=text, creator=bob, quote="protocol")
    visit = make_event(library=library, creator=bob)
    claim = make_claim(
        library=library,
        creator=bob,
        statement=SECRET,
        visibility=Visibility.PRIVATE,
        events=[EventLink(visit, "about")],
    )
    make_evidence(claim=claim, annotation=quote, creator=bob)
    make_claim(library=library, creator=bob, statement="The treaty was signed in February.")
    return claim


@pytest.mark.parametrize("who", ["alice", "vera"])
def test_no_one_else_sees_it_anywhere(who, request, as_user, library, hidden):
    client = as_user(request.getfixturevalue(who))
    event = hidden.event_links.get().event
    pages = [
        reverse("claim-list", args=[library.slug]),
        reverse("event-detail", args=[event.pk]),
        reverse("library-provenance", args=[library.slug]),
        "/api/claims/?library=" + library.slug,
        "/api/evidence/?claim=" + str(hidden.pk),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 400), url
        assert SECRET not in response.content.decode(), url
    assert "The treaty was signed" in client.get(pages[0]).content.decode()  # not an empty page
    assert client.get(reverse("claim-detail", args=[hidden.pk])).status_code == 404
    assert client.get(f"/api/claims/{hidden.pk}/").status_code == 404
    found = client.get("/api/search/", {"q": "secret protocol", "in": "claim"}).json()
    assert [r["claim"] for r in found["results"]] == []


def test_its_creator_sees_it_everywhere_marked_private(as_user, library, bob, hidden):
    client = as_user(bob)
    listed = client.get(reverse("claim-list", args=[library.slug])).content.decode()
    assert SECRET in listed and "visibility-private" in listed
    event = hidden.event_links.get().event
    assert SECRET in client.get(reverse("event-detail", args=[event.pk])).content.decode()
    body = client.get(f"/api/claims/{hidden.pk}/").json()
    assert body["visibility"] == "private"
    found = client.get("/api/search/", {"q": "secret protocol", "in": "claim"}).json()
    assert [r["claim"] for r in found["results"]] == [hidden.pk]


def test_an_owner_cannot_change_who_sees_a_claim_of_someone_else(as_user, library, alice, bob):
    claim = make_claim(library=library, creator=bob, statement="Shared claim.")
    client = as_user(alice)
    etag = client.get(f"/api/claims/{claim.pk}/")["ETag"]
    response = client.patch(
        f"/api/claims/{claim.pk}/", {"visibility": "private"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 400
    assert "visibility" in response.json()
    claim.refresh_from_db()
    assert claim.visibility == Visibility.LIBRARY

    # On the page the field is shown but cannot be changed: a posted value is ignored.
    page = client.get(reverse("claim-edit", args=[claim.pk])).content.decode()
    assert "creator can change this." in page
    client.post(
        reverse("claim-edit", args=[claim.pk]),
        {
            "statement": "Shared claim, reworded.",
            "status": "asserted",
            "rank": "normal",
            "visibility": "private",
            "expected_version": claim.version,
        },
    )
    claim.refresh_from_db()
    assert claim.statement == "Shared claim, reworded."
    assert claim.visibility == Visibility.LIBRARY


def test_its_creator_can_share_it_and_the_library_then_sees_it(as_user, library, bob, vera, hidden):
    client = as_user(bob)
    etag = client.get(f"/api/claims/{hidden.pk}/")["ETag"]
    response = client.patch(
        f"/api/claims/{hidden.pk}/", {"visibility": "library"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert as_user(vera).get(f"/api/claims/{hidden.pk}/").status_code == 200
    assert Claim.objects.visible_to(vera).filter(pk=hidden.pk).exists()


def test_a_claim_made_private_on_the_page_stays_private(as_user, library, bob, vera):
    response = as_user(bob).post(
        reverse("claim-create", args=[library.slug]),
        {
            "statement": "A hunch.",
            "status": "asserted",
            "rank": "normal",
            "relation": "about",
            "visibility": "private",
        },
    )
    assert response.status_code == 302
    claim = Claim.objects.get(statement="A hunch.")
    assert claim.visibility == Visibility.PRIVATE
    assert as_user(vera).get(reverse("claim-detail", args=[claim.pk])).status_code == 404
