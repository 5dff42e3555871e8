"""The search's hand-written statements (`search.reads`) against the querysets whose rules
they apply, persona by persona: the scope is `Library.objects.visible_to`, the evidence
under claims `Evidence.objects.visible_to`, on both databases."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from annotations.claims.models import Evidence
from annotations.models import Annotation, Visibility
from search import reads
from sources.models import Library, Role
from tests.factories import (
    add_member,
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["alice", "bob", "vera", "mallory", "anonymous"]
TEXT = "Mao said the treaty mattered. Stalin made him wait. Zhou signed it."


def persona(request, name: str):
    return AnonymousUser() if name == "anonymous" else request.getfixturevalue(name)


@pytest.fixture
def world(library, alice, bob, mallory):
    """Two libraries besides `library`: a public one mallory owns and a private one of
    mallory's; claims and evidence in each, shared and private, and a highlight that
    became private after it was made evidence (it must stay hidden with its evidence)."""
    public = make_library(owner=mallory, name="Public papers", is_public=True)
    hidden = make_library(owner=mallory, name="Mallory's own")
    add_member(library=public, user=bob, role=Role.VIEWER)
    claims = []
    for lib, owner in ((library, alice), (public, mallory), (hidden, mallory)):
        text = make_text(source=make_source(library=lib), text=TEXT)
        secondary = make_text(source=make_source(library=lib, kind="secondary"), text=TEXT)
        shared = make_claim(library=lib, creator=owner, statement="Mao waited.")
        own = make_claim(library=lib, creator=owner, statement="Mine.", visibility="private")
        for claim in (shared, own):
            for quote, on in (("Stalin made him wait", secondary), ("Mao said", text)):
                note = make_annotation(text=on, creator=owner, quote=quote)
                make_evidence(claim=claim, annotation=note, creator=owner)
            claims.append(claim)
        later = make_annotation(text=text, creator=owner, quote="Zhou signed it")
        make_evidence(claim=shared, annotation=later, creator=owner)
        Annotation.objects.filter(pk=later.pk).update(visibility=Visibility.PRIVATE)
    # bob's own private claim in alice's library, with shared evidence
    text = make_text(source=make_source(library=library), text=TEXT)
    bobs = make_claim(library=library, creator=bob, statement="Bob's.", visibility="private")
    note = make_annotation(text=text, creator=bob, quote="Mao")
    make_evidence(claim=bobs, annotation=note, creator=bob)
    return [*claims, bobs]


@pytest.mark.parametrize("name", PERSONAS)
def test_the_scope_is_the_libraries_the_user_may_see(request, world, name):
    user = persona(request, name)
    expected = {library.pk: library for library in Library.objects.visible_to(user)}
    found = reads.visible_libraries(user)
    assert found.keys() == expected.keys()
    for pk, library in found.items():  # whole instances, as the queryset gives them
        assert {f.attname: getattr(library, f.attname) for f in Library._meta.concrete_fields} == {
            f.attname: getattr(expected[pk], f.attname) for f in Library._meta.concrete_fields
        }


@pytest.mark.parametrize("name", PERSONAS)
def test_evidence_is_what_the_user_may_see_in_the_same_order(request, world, name):
    user = persona(request, name)
    claim_ids = [claim.pk for claim in world]
    scope = sorted(reads.visible_libraries(user))
    expected = list(
        Evidence.objects.visible_to(user)
        .filter(claim_id__in=claim_ids)
        .order_by("claim_id", "annotation__text__source__kind", "pk")
        .values_list(
            "claim_id",
            "stance",
            "annotation__exact",
            "annotation__text__source_id",
            "annotation__text__source__title",
            "annotation__text__source__kind",
            "annotation_id",
        )
    )
    found = reads.evidence_rows(claim_ids, scope, user.pk)
    assert expected  # everyone sees some (anonymous: the public library's)
    assert [tuple(row) for row in found] == expected


def test_evidence_hides_a_highlight_made_private_and_private_claims(world, vera, alice):
    scope = sorted(reads.visible_libraries(vera))
    seen = reads.evidence_rows([claim.pk for claim in world], scope, vera.pk)
    quotes = {row[2] for row in seen}
    assert "Zhou signed it" not in quotes and quotes == {"Stalin made him wait", "Mao said"}
    assert {row[0] for row in seen} == {
        claim.pk for claim in world if claim.visibility == Visibility.LIBRARY
        and claim.library_id in scope
    }  # fmt: skip
    mine = reads.evidence_rows([c.pk for c in world], sorted(reads.visible_libraries(alice)),
                               alice.pk)  # fmt: skip
    assert "Zhou signed it" in {row[2] for row in mine}  # her own highlight, made private


def test_names_read_only_tags_and_events_in_scope(world, library, alice, mallory):
    hidden = Library.objects.get(name="Mallory's own")
    ours = make_event(library=library, creator=alice, name="Ours")
    theirs = make_event(library=hidden, creator=mallory, name="Theirs")
    tagged = make_annotation(
        text=make_text(source=make_source(library=library), text=TEXT),
        creator=alice, quote="Mao", tags=["theme:face"],
    )  # fmt: skip
    tag = tagged.tags.get()
    rows = reads.names({"t": {tag.pk}, "e": {ours.pk, theirs.pk}, "u": {alice.pk}}, [library.pk])
    assert sorted((what, pk, name) for what, pk, name, _ in rows) == sorted(
        [("t", tag.pk, "theme:face"), ("e", ours.pk, "Ours"), ("u", alice.pk, "alice")]
    )
    assert reads.names({"t": set(), "e": set(), "u": set()}, [library.pk]) == []
