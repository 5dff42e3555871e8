"""History (core.history) of claims, events, sources and annotations, as each package
registers it: who, when, what changed; revert."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.claims import (
    EventLink,
    Selection,
    make_claim_from_highlight,
    update_claim,
)
from annotations.claims.events import update_event
from annotations.claims.models import Claim, ClaimEvent, Event
from annotations.models import Annotation
from core import history
from core.history import acting_as, entries
from sources.models import Creator, Source
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_text,
)


def history_url(kind: str, obj) -> str:
    return reverse(f"{kind}-history", args=[obj.pk])


def revert_url(kind: str, obj, record) -> str:
    return reverse(f"{kind}-history-revert", args=[obj.pk, record.history_id])


@pytest.fixture
def claim(library, bob):
    with acting_as(bob):
        claim = make_claim(
            library=library, creator=bob, statement="Stalin kept Mao waiting", tags=["theme:face"]
        )
        update_claim(claim, {"status": "disputed", "tags": ["theme:face", "theme:health"]})
    return claim


def test_entries_say_who_changed_what(claim, bob):
    found = entries(claim, viewer=bob)
    changed = next(e for e in found if any(c.label == "Status" for c in e.changes))
    status = next(c for c in changed.changes if c.label == "Status")
    assert (status.old, status.new) == ("Asserted", "Disputed")
    assert changed.user == bob and changed.what == "Claim" and changed.action == "changed"
    tags = [c for e in found for c in e.changes if c.label == "Tags" and c.new]
    assert any(c.new == "theme:face, theme:health" for c in tags)
    created = found[-1]
    assert created.action == "created" and any(
        c.new == "Stalin kept Mao waiting" for c in created.changes
    )


def test_claim_history_includes_its_evidence_and_event_links(claim, library, source, bob):
    text = make_text(source=source, text="Stalin refused to see Mao.")
    with acting_as(bob):
        make_evidence(
            claim=claim,
            annotation=make_annotation(text=text, creator=bob, quote="Mao"),
            creator=bob,
        )
        update_claim(claim, {"events": [EventLink(make_event(library=library))]})
    whats = {entry.what for entry in entries(claim, viewer=bob)}
    assert {"Claim", "Evidence", "Link to an event"} <= whats


def test_history_page_shows_changes_to_viewers_without_revert(as_user, vera, claim):
    response = as_user(vera).get(history_url("claim", claim))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<del>Asserted</del>" in body and "<ins>Disputed</ins>" in body and "by bob" in body
    assert "Restore this version" not in body


def test_creator_reverts_a_claim_and_the_revert_is_recorded(as_user, bob, claim):
    first = claim.history.order_by("history_date", "history_id").first()
    client = as_user(bob)
    assert "Restore this version" in client.get(history_url("claim", claim)).content.decode()
    response = client.post(revert_url("claim", claim, first))
    assert response.status_code == 302 and response["Location"] == history_url("claim", claim)
    claim.refresh_from_db()
    assert claim.status == "asserted"
    assert [t.name for t in claim.tags.all()] == ["theme:face"]
    latest = claim.history.filter(history_change_reason__startswith="Reverted").first()
    assert latest is not None and latest.history_user == bob


def test_viewer_and_other_editors_cannot_revert_a_claim(as_user, vera, alice, library, claim):
    first = claim.history.last()
    assert as_user(vera).post(revert_url("claim", claim, first)).status_code == 403
    assert as_user(alice).post(revert_url("claim", claim, first)).status_code == 302  # owner


def test_outsider_gets_404_and_get_on_revert_is_405(as_user, mallory, bob, claim):
    assert as_user(mallory).get(history_url("claim", claim)).status_code == 404
    assert as_user(bob).get(revert_url("claim", claim, claim.history.last())).status_code == 405


def test_reverting_to_an_unknown_version_is_400(as_user, bob, claim):
    response = as_user(bob).post(reverse("claim-history-revert", args=[claim.pk, 999999]))
    assert response.status_code == 400
    assert "No such earlier version" in response.content.decode()


def test_revert_an_event_restores_its_parent_and_participants(as_user, bob, library):
    visit = make_event(library=library, name="Visit")
    with acting_as(bob):
        treaty = make_event(
            library=library,
            name="Treaty",
            date="1950-02-14",
            parent=visit,
            participants=["Zhou Enlai"],
        )
        update_event(treaty, {"parent": None, "participants": [], "date": "1950-02"})
    first = treaty.history.order_by("history_date", "history_id").first()
    assert as_user(bob).post(revert_url("event", treaty, first)).status_code == 302
    treaty.refresh_from_db()
    assert treaty.parent == visit and treaty.date == "1950-02-14"
    assert [t.name for t in treaty.participants.all()] == ["person:Zhou Enlai"]


def test_revert_refuses_a_version_that_would_now_make_a_cycle(as_user, bob, library):
    visit = make_event(library=library, name="Visit")
    treaty = make_event(library=library, name="Treaty", date="1950-02-14")
    update_event(visit, {"parent": treaty})  # visit inside treaty: version 2
    update_event(visit, {"parent": None})
    update_event(treaty, {"parent": visit})  # now treaty inside visit
    inside_treaty = visit.history.filter(parent_id=treaty.pk).first()
    response = as_user(bob).post(revert_url("event", visit, inside_treaty))
    assert response.status_code == 400 and "cycle" in response.content.decode()
    visit.refresh_from_db()
    assert visit.parent is None


def test_source_history_lists_edits_creators_and_revisions(as_user, vera, source):
    source.title = "Corrected title"
    source.save()
    Creator.objects.create(source=source, role="translator", family="Westad")
    body = as_user(vera).get(history_url("source", source)).content.decode()
    assert "<ins>Corrected title</ins>" in body
    assert "Creator" in body and "Westad" in body
    assert "revision 1 imported" in body and source.texts.get().sha256 in body


def test_revert_a_source_restores_metadata_and_creators(as_user, alice, source):
    original = source.history.order_by("history_date", "history_id").last()
    source.title = "Wrong title"
    source.save()
    source.creators.all().delete()
    Creator.objects.create(source=source, role="author", family="Nobody")
    response = as_user(alice).post(revert_url("source", source, original))
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.title == "Record of conversation with Mao Zedong"
    assert [c.family for c in source.creators.all()] == ["Roshchin"]
    assert source.version == 2


def test_viewer_cannot_revert_a_source(as_user, vera, source):
    assert (
        as_user(vera).post(revert_url("source", source, source.history.last())).status_code == 403
    )


def test_revert_an_annotation_brings_back_its_comment_and_tags(as_user, bob, source):
    text = make_text(source=source, text="Stalin refused to see Mao for days.")
    note = make_annotation(
        text=text, creator=bob, quote="Stalin", comment="first thought", tags=["person:Stalin"]
    )
    note.apply_changes({"comment": "second thought", "tags": []}, user=bob)
    first = note.history.order_by("history_date", "history_id").first()
    client = as_user(bob)
    assert "second thought" in client.get(history_url("annotation", note)).content.decode()
    assert client.post(revert_url("annotation", note, first)).status_code == 302
    note.refresh_from_db()
    assert note.comment_raw == "first thought" and [t.name for t in note.tags.all()] == [
        "person:Stalin"
    ]


def test_annotation_history_is_as_private_as_the_annotation(as_user, vera, bob, source):
    text = make_text(source=source, text="A private thought.")
    private = make_annotation(text=text, creator=bob, quote="private", visibility="private")
    assert as_user(vera).get(history_url("annotation", private)).status_code == 404
    assert as_user(bob).get(history_url("annotation", private)).status_code == 200


def test_deleted_claims_leave_their_history(claim):
    pk = claim.pk
    claim.delete()
    assert not Claim.objects.filter(pk=pk).exists()
    assert Claim.history.filter(id=pk, history_type="-").exists()
    assert Event.history.count() == 0 and Annotation.history.count() == 0
    assert Source.history.count() == 0


# --- Private claims in other rows' history (issue #16) -------------------------------------

PRIVATE_STATEMENT = "PrivateClaimOfBob the loan came first"
LINK_NOTE = "PrivateLinkNoteOfBob"
EVIDENCE_NOTE = "PrivateEvidenceNoteOfBob"


@pytest.fixture
def private_claim(library, source, bob):
    """bob's private claim, made from a library-visible highlight, linked to an event."""
    text = make_text(source=source, text="Stalin refused to see Mao for days.")
    event = make_event(library=library, name="Mao's visit")
    with acting_as(bob):
        claim = make_claim_from_highlight(
            Selection(text=text, start=0, end=6), creator=bob, statement=PRIVATE_STATEMENT,
            evidence_note=EVIDENCE_NOTE, visibility="private",
            events=[EventLink(event, "about", LINK_NOTE)],
        )  # fmt: skip
    return claim


def secrets_in(body: str) -> set[str]:
    return {word for word in (PRIVATE_STATEMENT, LINK_NOTE, EVIDENCE_NOTE) if word in body}


@pytest.mark.parametrize("persona", ["alice", "vera"])
def test_an_events_history_hides_a_private_claim_linked_to_it(
    as_user, request, persona, bob, private_claim
):
    event = private_claim.event_links.get().event
    body = as_user(request.getfixturevalue(persona)).get(history_url("event", event))
    assert body.status_code == 200
    assert not secrets_in(body.content.decode())
    assert "Claim linked" not in body.content.decode()
    own = as_user(bob).get(history_url("event", event)).content.decode()
    assert {PRIVATE_STATEMENT, LINK_NOTE} <= secrets_in(own)


@pytest.mark.parametrize("persona", ["alice", "vera"])
def test_an_annotations_history_hides_the_private_claim_it_is_evidence_for(
    as_user, request, persona, bob, private_claim
):
    highlight = private_claim.evidence.get().annotation
    assert highlight.visibility == "library"
    body = as_user(request.getfixturevalue(persona)).get(history_url("annotation", highlight))
    assert body.status_code == 200
    assert not secrets_in(body.content.decode())
    own = as_user(bob).get(history_url("annotation", highlight)).content.decode()
    assert {PRIVATE_STATEMENT, EVIDENCE_NOTE} <= secrets_in(own)


def test_anonymous_readers_of_a_published_library_see_no_private_claim_in_history(
    as_user, library, private_claim
):
    library.is_public = True
    library.save()
    event = private_claim.event_links.get().event
    highlight = private_claim.evidence.get().annotation
    for url in (history_url("event", event), history_url("annotation", highlight)):
        response = as_user(None).get(url)
        assert response.status_code == 200, url
        assert not secrets_in(response.content.decode()), url


def test_a_deleted_private_claim_stays_its_creators_in_history(as_user, vera, bob, private_claim):
    event = private_claim.event_links.get().event
    highlight = private_claim.evidence.get().annotation
    with acting_as(bob):
        private_claim.delete()
    pages = {
        history_url("event", event): LINK_NOTE,
        history_url("annotation", highlight): EVIDENCE_NOTE,
    }
    for url, note in pages.items():
        assert not secrets_in(as_user(vera).get(url).content.decode()), url
        assert note in as_user(bob).get(url).content.decode(), url


def test_a_deleted_shared_claim_still_shows_in_the_events_history(as_user, vera, library, alice):
    event = make_event(library=library, name="Treaty signed")
    claim = make_claim(
        library=library, creator=alice, statement="Shared and gone",
        events=[EventLink(event, "about", "a shared note")],
    )  # fmt: skip
    claim.delete()
    body = as_user(vera).get(history_url("event", event)).content.decode()
    assert "Claim linked" in body and "a shared note" in body


def test_a_claim_made_private_later_disappears_from_the_events_history(as_user, vera, bob, library):
    event = make_event(library=library, name="Treaty signed")
    claim = make_claim(
        library=library, creator=bob, statement=PRIVATE_STATEMENT,
        events=[EventLink(event, "about", LINK_NOTE)],
    )  # fmt: skip
    assert LINK_NOTE in as_user(vera).get(history_url("event", event)).content.decode()
    update_claim(claim, {"visibility": "private"})
    assert not secrets_in(as_user(vera).get(history_url("event", event)).content.decode())


def test_a_change_never_names_a_related_object_the_viewer_may_not_see(vera, bob, private_claim):
    claim_field = ClaimEvent._meta.get_field("claim")
    assert history.shown(claim_field, private_claim.pk, vera) == history.HIDDEN
    assert history.shown(claim_field, private_claim.pk, bob) == PRIVATE_STATEMENT
    assert history.shown(claim_field, 987654, vera) == "(deleted #987654)"
    assert history.shown(claim_field, "junk", vera) == "(deleted #junk)"


def test_evidence_on_a_highlight_made_private_later_does_not_name_it(
    as_user, vera, alice, bob, library, source
):
    text = make_text(source=source, text="Stalin refused to see Mao for days.")
    quote = make_annotation(text=text, creator=bob, quote="refused")
    claim = make_claim(library=library, creator=alice, statement="Shared claim")
    make_evidence(claim=claim, annotation=quote, creator=alice)
    quote.apply_changes({"visibility": "private"}, user=bob)
    body = as_user(vera).get(history_url("claim", claim)).content.decode()
    assert "Evidence" in body and "refused" not in body and history.HIDDEN in body


# --- Revert keeps the creator-only rule on visibility (issue #16, leak 4) ------------------


def test_an_owner_cannot_change_a_claims_visibility_by_reverting_it(as_user, alice, bob, library):
    with acting_as(bob):
        claim = make_claim(library=library, creator=bob, statement="Draft", visibility="private")
        update_claim(claim, {"visibility": "library"})
        update_claim(claim, {"status": "disputed"})
    private_version = claim.history.order_by("history_date", "history_id").first()
    assert private_version.visibility == "private"
    response = as_user(alice).post(revert_url("claim", claim, private_version))
    assert response.status_code == 403
    claim.refresh_from_db()
    assert (claim.visibility, claim.status) == ("library", "disputed")
    shared_version = claim.history.filter(visibility="library").order_by("history_id").first()
    assert as_user(alice).post(revert_url("claim", claim, shared_version)).status_code == 302
    claim.refresh_from_db()
    assert (claim.visibility, claim.status) == ("library", "asserted")


def test_the_creator_may_make_a_claim_private_again_by_reverting(as_user, bob, library):
    with acting_as(bob):
        claim = make_claim(library=library, creator=bob, statement="Draft", visibility="private")
        update_claim(claim, {"visibility": "library"})
    first = claim.history.order_by("history_date", "history_id").first()
    assert as_user(bob).post(revert_url("claim", claim, first)).status_code == 302
    claim.refresh_from_db()
    assert claim.visibility == "private"
