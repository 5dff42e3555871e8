"""Carrying annotations over to a new revision, through `SourceText.objects.add_revision`."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models.signals import post_save

from annotations import reanchoring
from annotations.models import AnchorState, Annotation, Visibility
from sources.models import SourceText
from tests.factories import make_annotation, make_source, make_text

ORIGINAL = (
    "Memorandum of conversation, Moscow, 16 December 1949.\n\n"
    "Comrade Stalin asked what Mao Zedong wished to achieve during his stay in Moscow. "
    "Mao answered that China needed a period of peace lasting three to five years, "
    "to restore the economy and stabilise the country in general.\n\n"
    "Stalin said that the question of the treaty would be discussed later."
)


@pytest.fixture
def first(source, alice):
    return make_text(source=source, text=ORIGINAL, imported_by=alice)


def revise(source, text: str, user) -> SourceText:
    return SourceText.objects.add_revision(source, text=text, imported_by=user)


def check_invariant(annotation: Annotation) -> None:
    annotation.refresh_from_db()
    assert annotation.text.text[annotation.start : annotation.end] == annotation.exact


def test_an_unchanged_text_carries_every_annotation_over_anchored(first, source, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="a period of peace", comment="!")
    second = revise(source, ORIGINAL, alice)
    note.refresh_from_db()
    assert (note.text_id, note.state, note.anchor_score) == (second.pk, "anchored", 1.0)
    assert note.version == 2 and note.comment_raw == "!"
    check_invariant(note)


def test_an_insertion_before_moves_the_annotation(first, source, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="three to five years")
    inserted = "[Translated by Danny Rozas for CWIHP.]\n\n"
    second = revise(source, inserted + ORIGINAL, alice)
    note.refresh_from_db()
    assert note.text_id == second.pk
    assert note.state == AnchorState.MOVED
    assert note.start == ORIGINAL.index("three to five years") + len(inserted)
    assert note.prefix == second.text[: note.start][-32:]
    check_invariant(note)


def test_a_deleted_passage_orphans_the_annotation_on_its_old_revision(first, source, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="the question of the treaty")
    shortened = ORIGINAL[: ORIGINAL.index("\n\nStalin said")]
    revise(source, shortened, alice)
    note.refresh_from_db()
    assert note.text_id == first.pk  # never deleted, never moved to a wrong place
    assert note.state == AnchorState.ORPHANED
    assert note.version == 2
    check_invariant(note)


def test_a_typo_fixed_inside_a_long_quote_is_a_fuzzy_match(first, source, alice, bob):
    note = make_annotation(
        text=first, creator=bob, quote="restore the economy and stabilise the country"
    )
    corrected = ORIGINAL.replace("stabilise the country", "stabilize the country")
    second = revise(source, corrected, alice)
    note.refresh_from_db()
    assert note.text_id == second.pk
    assert note.state == AnchorState.FUZZY
    assert 0 < note.anchor_score < 1
    assert "stabilize the country" in note.exact
    check_invariant(note)


def test_private_annotations_move_too(first, source, alice, bob):
    note = make_annotation(
        text=first, creator=bob, quote="Comrade Stalin", visibility=Visibility.PRIVATE
    )
    second = revise(source, ORIGINAL + "\n\nEnd.", alice)
    note.refresh_from_db()
    assert note.text_id == second.pk


def test_an_orphan_comes_back_when_a_later_revision_restores_its_passage(first, source, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="the question of the treaty")
    revise(source, ORIGINAL.replace("the question of the treaty", "this"), alice)
    third = revise(source, ORIGINAL, alice)
    note.refresh_from_db()
    assert (note.text_id, note.state) == (third.pk, AnchorState.ANCHORED)
    check_invariant(note)


def test_only_the_previous_revisions_live_annotations_are_carried(first, source, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="Comrade Stalin")
    second = revise(source, ORIGINAL, alice)
    note.refresh_from_db()
    assert note.text_id == second.pk
    # a new annotation made on the old revision afterwards is that revision's business
    stray = make_annotation(text=first, creator=bob, quote="Mao answered")
    revise(source, ORIGINAL, alice)
    stray.refresh_from_db()
    assert stray.text_id == first.pk


def test_carry_over_counts_states_and_records_history(first, source, alice, bob):
    kept = make_annotation(text=first, creator=bob, quote="Memorandum of conversation")
    moved = make_annotation(text=first, creator=bob, quote="three to five years")
    lost = make_annotation(text=first, creator=bob, quote="the question of the treaty")
    shortened = ORIGINAL[: ORIGINAL.index("\n\nStalin said")]
    new_text = shortened.replace("Mao answered", "[Pause.] Mao answered")
    post_save.disconnect(sender=SourceText, dispatch_uid="annotations.carry_over")
    try:
        second = revise(source, new_text, alice)
    finally:
        from annotations.signals import connect

        connect()
    counts = reanchoring.carry_over(second)
    assert counts == {"anchored": 1, "moved": 1, "fuzzy": 0, "orphaned": 1}
    for note in (kept, moved, lost):
        check_invariant(note)
    record = moved.history.first()
    assert record.history_change_reason == "re-anchored on revision 3"
    assert record.history_user == alice


def test_a_failing_carry_over_leaves_no_revision_and_no_moved_annotation(
    first, source, alice, bob, monkeypatch
):
    note = make_annotation(text=first, creator=bob, quote="Comrade Stalin")

    def explode(*args, **kwargs):
        raise RuntimeError("anchoring failed")

    monkeypatch.setattr("annotations.anchoring.reanchor", explode)
    with pytest.raises(RuntimeError), transaction.atomic():
        revise(source, "Inserted. " + ORIGINAL, alice)
    assert source.texts.count() == 2  # the fixture's revision and `first`
    note.refresh_from_db()
    assert (note.text_id, note.version) == (first.pk, 1)


def test_reattach_places_an_orphan_on_a_chosen_passage(first, source, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="the question of the treaty")
    second = revise(source, ORIGINAL.replace("the question of the treaty", "the pact"), alice)
    start = second.text.index("the pact")
    reanchoring.reattach(note, second, start, start + 8, bob)
    note.refresh_from_db()
    assert (note.text_id, note.exact, note.state, note.anchor_score) == (
        second.pk, "the pact", "anchored", 1.0
    )  # fmt: skip
    assert note.history.first().history_user == bob


def test_reattach_refuses_another_source_and_bad_offsets(first, library, alice, bob):
    note = make_annotation(text=first, creator=bob, quote="Comrade Stalin")
    elsewhere = make_text(source=make_source(library=library, title="Other"), text="Other text")
    with pytest.raises(ValidationError) as error:
        reanchoring.reattach(note, elsewhere, 0, 5, bob)
    assert "text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        reanchoring.reattach(note, first, 0, 10_000, bob)
    assert "end" in error.value.message_dict


def test_a_revision_uploaded_through_the_api_carries_annotations_over(as_user, first, source, bob):
    note = make_annotation(text=first, creator=bob, quote="three to five years")
    upload = SimpleUploadedFile(
        "corrected.txt", ("Preface.\n\n" + ORIGINAL).encode(), content_type="text/plain"
    )
    response = as_user(bob).post(
        f"/api/sources/{source.pk}/texts/", {"file": upload, "note": "corrected"}
    )
    assert response.status_code == 201, response.content
    note.refresh_from_db()
    assert note.text.revision == response.json()["revision"]
    assert note.state == AnchorState.MOVED
    check_invariant(note)
