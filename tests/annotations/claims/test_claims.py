"""Claims and evidence as work functions: invariants, one-step "make claim", search."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from annotations.claims.claims import (
    EventLink,
    Selection,
    add_evidence,
    attach_highlight,
    make_claim_from_highlight,
    search_claims,
    update_claim,
    weigh,
)
from annotations.claims.models import Claim, ClaimEvent, Evidence
from annotations.models import Annotation, Visibility
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

TEXT = "After their first meeting, Stalin refused to see Mao for days. Mao rested at a dacha."


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.fixture
def quote(text, bob):
    return make_annotation(text=text, creator=bob, quote="Stalin refused to see Mao for days")


@pytest.fixture
def other_library(mallory):
    return make_library(owner=mallory, name="Mallory's papers")


def test_claim_is_created_with_tags_and_event_links(library, alice):
    visit = make_event(library=library)
    claim = make_claim(
        library=library,
        creator=alice,
        tags=["theme:face", "Theme:Face", "waiting"],
        events=[EventLink(visit, "dates", "mid-December")],
    )
    assert sorted(t.name for t in claim.tags.all()) == ["theme:face", "waiting"]
    link = claim.event_links.get()
    assert (link.event, link.relation, link.note) == (visit, "dates", "mid-December")
    assert claim.version == 1 and claim.status == "asserted" and claim.rank == "normal"


def test_blank_statement_is_refused_naming_the_field(library, alice):
    with pytest.raises(ValidationError) as error:
        make_claim(library=library, creator=alice, statement="   \n ")
    assert "statement" in error.value.message_dict
    assert not Claim.objects.exists()


def test_deprecated_claim_needs_a_reason(library, alice):
    with pytest.raises(ValidationError) as error:
        make_claim(library=library, creator=alice, rank="deprecated")
    assert "rank_reason" in error.value.message_dict
    claim = make_claim(
        library=library,
        creator=alice,
        rank="deprecated",
        rank_reason="Superseded by the AVPRF record.",
    )
    assert claim.rank == "deprecated"


def test_event_from_another_library_leaves_no_claim_behind(library, other_library, alice, mallory):
    foreign = make_event(library=other_library, creator=mallory)
    with pytest.raises(ValidationError) as error:
        make_claim(library=library, creator=alice, tags=["x"], events=[EventLink(foreign)])
    assert "events" in error.value.message_dict
    assert not Claim.objects.exists() and not ClaimEvent.objects.exists()


def test_update_replaces_event_links_and_keeps_unchanged_rows(library, alice):
    visit, treaty = make_event(library=library), make_event(library=library, name="Treaty")
    claim = make_claim(library=library, creator=alice, events=[EventLink(visit)])
    kept = claim.event_links.get()
    update_claim(
        claim, {"events": [EventLink(visit), EventLink(treaty, "causes")], "status": "corroborated"}
    )
    assert claim.event_links.count() == 2
    assert claim.event_links.filter(pk=kept.pk).exists()
    claim.refresh_from_db()
    assert claim.status == "corroborated" and claim.version == 2


def test_evidence_from_another_library_is_refused(library, other_library, alice, mallory):
    foreign_source = make_source(library=other_library)
    foreign_text = make_text(source=foreign_source, text=TEXT)
    foreign = make_annotation(text=foreign_text, creator=mallory, quote="Mao")
    claim = make_claim(library=library, creator=alice)
    with pytest.raises(ValidationError) as error:
        add_evidence(claim, foreign, creator=alice)
    assert "annotation" in error.value.message_dict
    assert not Evidence.objects.exists()


def test_a_private_note_cannot_be_evidence(library, text, alice):
    private = make_annotation(
        text=text, creator=alice, quote="dacha", visibility=Visibility.PRIVATE
    )
    claim = make_claim(library=library, creator=alice)
    with pytest.raises(ValidationError) as error:
        add_evidence(claim, private, creator=alice)
    assert "private" in error.value.message_dict["annotation"][0]


def test_the_same_quote_is_evidence_once_per_claim(library, quote, alice):
    claim = make_claim(library=library, creator=alice)
    make_evidence(claim=claim, annotation=quote, creator=alice)
    with pytest.raises(ValidationError) as error:
        add_evidence(claim, quote, creator=alice, stance="contradicts")
    assert "already" in error.value.message_dict["annotation"][0]
    assert claim.evidence.count() == 1


def test_make_claim_from_a_fresh_selection_creates_highlight_claim_and_evidence(library, text, bob):
    start = TEXT.index("Mao rested")
    selection = Selection(
        text, start, start + len("Mao rested at a dacha"), exact="Mao rested at a dacha"
    )
    claim = make_claim_from_highlight(
        selection,
        creator=bob,
        statement="Mao chose to rest.",
        stance="contradicts",
        evidence_note="His own wish.",
    )
    evidence = claim.evidence.get()
    assert evidence.annotation.exact == "Mao rested at a dacha"
    assert evidence.annotation.visibility == Visibility.LIBRARY
    assert (evidence.stance, evidence.note, evidence.creator) == (
        "contradicts",
        "His own wish.",
        bob,
    )
    assert claim.library == library and claim.creator == bob


def test_make_claim_with_a_stale_quote_writes_nothing(library, text, bob):
    selection = Selection(text, 0, 5, exact="Later")  # the text says "After"
    with pytest.raises(ValidationError) as error:
        make_claim_from_highlight(selection, creator=bob, statement="Anything")
    assert "exact" in error.value.message_dict
    assert not Annotation.objects.exists() and not Claim.objects.exists()


def test_make_claim_with_a_bad_statement_keeps_no_new_highlight(library, text, bob):
    with pytest.raises(ValidationError):
        make_claim_from_highlight(Selection(text, 0, 5), creator=bob, statement=" ")
    assert not Annotation.objects.exists()


def test_attach_a_selection_from_another_library_is_refused(library, other_library, alice):
    claim = make_claim(library=library, creator=alice)
    foreign_text = make_text(source=make_source(library=other_library), text=TEXT)
    with pytest.raises(ValidationError) as error:
        attach_highlight(claim, Selection(foreign_text, 0, 5), creator=alice)
    assert "text" in error.value.message_dict
    assert not Annotation.objects.exists()


def test_search_finds_claims_by_any_words_in_any_order_and_by_tag(library, alice):
    waiting = make_claim(
        library=library, creator=alice, statement="Stalin kept Mao waiting", tags=["theme:face"]
    )
    make_claim(library=library, creator=alice, statement="The treaty was signed in February")
    claims = Claim.objects.filter(library=library)
    assert list(search_claims(claims, "mao stalin")) == [waiting]
    assert list(search_claims(claims, "face")) == [waiting]
    assert list(search_claims(claims, "treaty stalin")) == []
    assert search_claims(claims, "").count() == 2


def test_weight_suggests_disputed_when_sources_disagree(library, text, alice, bob):
    second = make_source(library=library, title="A magazine article", kind="secondary")
    second_text = make_text(source=second, text="Stalin refused to see Mao for days.")
    claim = make_claim(library=library, creator=alice)
    make_evidence(
        claim=claim,
        annotation=make_annotation(text=text, creator=bob, quote="Mao"),
        creator=bob,
        stance="contradicts",
    )
    make_evidence(
        claim=claim,
        annotation=make_annotation(text=second_text, creator=bob, quote="Stalin"),
        creator=bob,
    )
    weight = weigh(claim.evidence.select_related("annotation__text__source"))
    assert weight.suggestion == "disputed"
    assert weight.supporting == {second.pk} and weight.contradicting == {text.source_id}
