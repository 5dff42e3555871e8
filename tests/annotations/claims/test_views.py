"""The claim pages: list, create, edit, delete, evidence and event links, provenance chain."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.claims import EventLink
from annotations.claims.models import Claim, ClaimEvent, Evidence
from sources.models import SourceText
from tests.factories import (
    make_annotation,
    make_claim,
    make_creator,
    make_event,
    make_evidence,
    make_source,
    make_text,
)

TEXT = "Stalin refused to see Mao for days. Mao rested at a dacha outside Moscow."


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice, file_name="record.txt")


@pytest.fixture
def claim(library, bob, text):
    claim = make_claim(
        library=library, creator=bob, statement="Stalin kept Mao waiting", tags=["theme:face"]
    )
    quote = make_annotation(text=text, creator=bob, quote="Stalin refused to see Mao for days")
    make_evidence(claim=claim, annotation=quote, creator=bob, note="the key sentence")
    return claim


def url(name: str, *args) -> str:
    return reverse(name, args=args)


# --- list ---------------------------------------------------------------------------------


def test_viewer_sees_the_claim_list_with_counts(as_user, vera, library, claim):
    response = as_user(vera).get(url("claim-list", library.slug))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Stalin kept Mao waiting" in body and "1 supporting" in body
    assert url("claim-create", library.slug) not in body  # viewers get no "New claim"


def test_claim_list_filters_and_reports_bad_filters(as_user, vera, library, claim, alice):
    make_claim(library=library, creator=alice, statement="The treaty was signed")
    client = as_user(vera)
    response = client.get(url("claim-list", library.slug), {"q": "treaty"})
    assert "The treaty was signed" in response.content.decode()
    assert "Stalin kept Mao waiting" not in response.content.decode()
    assert client.get(url("claim-list", library.slug), {"status": "maybe"}).status_code == 400


def test_outsider_gets_404_and_anonymous_is_sent_to_sign_in(as_user, mallory, library, claim):
    assert as_user(mallory).get(url("claim-list", library.slug)).status_code == 404
    assert as_user(mallory).get(url("claim-detail", claim.pk)).status_code == 404
    response = as_user(None).get(url("claim-detail", claim.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_post_to_the_list_is_405(as_user, alice, library):
    assert as_user(alice).post(url("claim-list", library.slug)).status_code == 405


# --- create and edit --------------------------------------------------------------------------


def test_editor_creates_a_claim_linked_to_an_event(as_user, bob, library):
    visit = make_event(library=library)
    response = as_user(bob).post(
        url("claim-create", library.slug),
        {
            "statement": "Mao arrived mid-December",
            "status": "asserted",
            "rank": "normal",
            "tags": "person:Mao Zedong, theme:arrival",
            "event": visit.pk,
            "relation": "dates",
        },
    )
    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == claim.get_absolute_url()
    assert sorted(t.name for t in claim.tags.all()) == ["person:Mao Zedong", "theme:arrival"]
    assert claim.event_links.get().relation == "dates"


def test_invalid_claim_form_is_400_and_names_the_field(as_user, bob, library):
    response = as_user(bob).post(
        url("claim-create", library.slug),
        {"statement": "x", "status": "asserted", "rank": "deprecated", "rank_reason": ""},
    )
    assert response.status_code == 400
    assert "Say why the claim is deprecated." in response.content.decode()
    assert not Claim.objects.exists()


def test_viewer_cannot_open_the_new_claim_form(as_user, vera, library):
    assert as_user(vera).get(url("claim-create", library.slug)).status_code == 403


def test_edit_with_a_stale_version_is_a_409_conflict(as_user, bob, claim):
    form = {
        "statement": "Edited",
        "status": "disputed",
        "rank": "normal",
        "tags": "",
        "expected_version": claim.version,
    }
    Claim.objects.filter(pk=claim.pk).update(version=5)
    response = as_user(bob).post(url("claim-edit", claim.pk), form)
    assert response.status_code == 409
    assert "Someone saved this claim after you opened it" in response.content.decode()
    claim.refresh_from_db()
    assert claim.statement == "Stalin kept Mao waiting"


def test_creator_edits_the_claim(as_user, bob, claim):
    response = as_user(bob).post(
        url("claim-edit", claim.pk),
        {
            "statement": "Stalin kept Mao waiting for days",
            "status": "disputed",
            "rank": "preferred",
            "rank_reason": "Best attested",
            "tags": "theme:face, person:Stalin",
            "expected_version": claim.version,
        },
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.rank, claim.version) == ("disputed", "preferred", 2)


def test_another_editor_cannot_edit_or_delete(as_user, alice, library, bob):
    theirs = make_claim(library=library, creator=alice)
    assert as_user(bob).get(url("claim-edit", theirs.pk)).status_code == 403
    assert as_user(bob).post(url("claim-delete", theirs.pk)).status_code == 403


def test_delete_asks_then_deletes(as_user, bob, library, claim):
    client = as_user(bob)
    assert client.get(url("claim-delete", claim.pk)).status_code == 200
    response = client.post(url("claim-delete", claim.pk))
    assert response.status_code == 302 and response["Location"] == url("claim-list", library.slug)
    assert not Claim.objects.exists() and not Evidence.objects.exists()


# --- the claim page -------------------------------------------------------------------------


def test_claim_page_shows_the_provenance_chain(as_user, vera, library, claim, text, source):
    make_creator(source=source, role="translator", family="Westad", given="Odd Arne")
    source.archive, source.archive_location = "AVPRF", "f. 07, op. 23a, d. 18"
    source.save()
    origin = make_source(library=library, title="The archival original")
    from sources.models import SourceLink

    SourceLink.objects.create(library=library, subject=source, relation="translates", object=origin)
    body = as_user(vera).get(url("claim-detail", claim.pk)).content.decode()
    start = TEXT.index("Stalin refused")
    assert f"code points {start}–{start + 34} of revision {text.revision}" in body
    assert text.sha256 in body and "the text still matches" in body
    assert "record.txt" in body and "imported" in body
    assert "AVPRF" in body and "f. 07, op. 23a, d. 18" in body
    assert "translated by Odd Arne Westad" in body
    assert "is a translation of" in body and "The archival original" in body
    assert "the key sentence" in body


def test_claim_page_flags_a_revision_that_no_longer_hashes(as_user, vera, claim, text):
    SourceText.objects.filter(pk=text.pk).update(text=TEXT.replace("days", "weeks"))
    body = as_user(vera).get(url("claim-detail", claim.pk)).content.decode()
    assert "no longer matches this checksum" in body
    assert "Check the texts" in body


def test_claim_page_suggests_a_status_from_the_evidence(as_user, bob, library, claim):
    other = make_text(
        source=make_source(library=library, title="Second record"), text="Mao waited."
    )
    make_evidence(
        claim=claim, annotation=make_annotation(text=other, creator=bob, quote="Mao"), creator=bob
    )
    body = as_user(bob).get(url("claim-detail", claim.pk)).content.decode()
    assert "The evidence suggests <strong>corroborated</strong>" in body


# --- evidence and event links -------------------------------------------------------------------


def test_creator_changes_the_stance_of_evidence(as_user, bob, claim):
    evidence = claim.evidence.get()
    response = as_user(bob).post(
        url("evidence-edit", evidence.pk), {"stance": "mentions", "note": "only in passing"}
    )
    assert response.status_code == 302
    evidence.refresh_from_db()
    assert (evidence.stance, evidence.note, evidence.version) == ("mentions", "only in passing", 2)


def test_invalid_stance_is_400(as_user, bob, claim):
    evidence = claim.evidence.get()
    response = as_user(bob).post(url("evidence-edit", evidence.pk), {"stance": "agrees"})
    assert response.status_code == 400
    evidence.refresh_from_db()
    assert evidence.stance == "supports"


def test_viewer_cannot_change_or_remove_evidence(as_user, vera, claim):
    evidence = claim.evidence.get()
    assert (
        as_user(vera).post(url("evidence-edit", evidence.pk), {"stance": "mentions"}).status_code
        == 403
    )
    assert as_user(vera).post(url("evidence-delete", evidence.pk)).status_code == 403
    assert as_user(vera).get(url("evidence-delete", evidence.pk)).status_code == 405


def test_link_and_unlink_an_event(as_user, bob, library, claim):
    visit = make_event(library=library)
    client = as_user(bob)
    response = client.post(
        url("claim-event-add", claim.pk), {"event": visit.pk, "relation": "about"}
    )
    assert response.status_code == 302
    link = ClaimEvent.objects.get()
    again = client.post(url("claim-event-add", claim.pk), {"event": visit.pk, "relation": "about"})
    assert again.status_code == 400 and ClaimEvent.objects.count() == 1
    assert client.post(url("claim-event-delete", link.pk)).status_code == 302
    assert not ClaimEvent.objects.exists()


def test_viewer_cannot_link_events(as_user, vera, library, claim):
    visit = make_event(library=library)
    assert (
        as_user(vera)
        .post(url("claim-event-add", claim.pk), {"event": visit.pk, "relation": "about"})
        .status_code
        == 403
    )
    link = make_claim(
        library=library, creator=claim.creator, statement="Other", events=[EventLink(visit)]
    ).event_links.get()
    assert as_user(vera).post(url("claim-event-delete", link.pk)).status_code == 403
