from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.models import (
    COMMENT_MAX_CHARS,
    AnchorState,
    Annotation,
    Motivation,
    Visibility,
)
from sources.models import Role
from tests.factories import add_member, make_annotation, make_library, make_source, make_text

TEXT = "Stalin kept Mao waiting. Mao said the treaty mattered more than the loan."


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


def test_quote_and_context_come_from_the_offsets(text, bob):
    annotation = make_annotation(text=text, creator=bob, quote="the treaty")
    assert annotation.exact == "the treaty"
    assert annotation.prefix == TEXT[: annotation.start][-32:]
    assert annotation.suffix == TEXT[annotation.end :][:32]
    assert annotation.library_id == text.source.library_id
    assert annotation.state == AnchorState.ANCHORED
    assert annotation.version == 1


def test_highlight_without_comment_is_highlighting_and_with_comment_commenting(text, bob):
    plain = make_annotation(text=text, creator=bob, quote="Stalin")
    commented = make_annotation(text=text, creator=bob, quote="loan", comment="Which loan?")
    assert plain.motivation == Motivation.HIGHLIGHTING
    assert commented.motivation == Motivation.COMMENTING


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (-1, 4, "start"),
        (5, 5, "end"),
        (7, 3, "end"),
        (0, len(TEXT) + 1, "end"),
        (len(TEXT), len(TEXT) + 2, "start"),
    ],
)
def test_offsets_out_of_range_name_the_field_and_write_nothing(text, bob, start, end, field):
    with pytest.raises(ValidationError) as error:
        make_annotation(text=text, creator=bob, start=start, end=end)
    assert field in error.value.message_dict
    assert not Annotation.objects.exists()


def test_a_quote_that_does_not_match_the_offsets_is_refused(text, bob):
    with pytest.raises(ValidationError) as error:
        make_annotation(text=text, creator=bob, start=0, end=6, exact="Stolin")
    assert "exact" in error.value.message_dict
    assert not Annotation.objects.exists()


def test_save_refuses_a_broken_invariant_even_without_full_clean(text, bob):
    annotation = make_annotation(text=text, creator=bob, quote="Stalin")
    annotation.exact = "Lenin"
    with pytest.raises(ValidationError):
        annotation.save()
    assert Annotation.objects.get().exact == "Stalin"


def test_comment_is_rendered_and_sanitised_on_write(text, bob):
    annotation = make_annotation(
        text=text,
        creator=bob,
        quote="loan",
        comment="**Which** loan? <script>alert(1)</script>[x](javascript:alert(2))",
    )
    assert "<strong>Which</strong>" in annotation.comment_html
    assert "<script" not in annotation.comment_html
    assert "javascript:" not in annotation.comment_html
    assert annotation.comment_raw.startswith("**Which**")


def test_a_comment_over_the_limit_names_the_comment(text, bob):
    with pytest.raises(ValidationError) as error:
        make_annotation(text=text, creator=bob, quote="loan", comment="x" * (COMMENT_MAX_CHARS + 1))
    assert "comment" in error.value.message_dict
    assert not Annotation.objects.exists()


def test_every_write_bumps_the_version_and_records_history(text, bob):
    annotation = make_annotation(text=text, creator=bob, quote="loan")
    annotation.apply_changes({"comment": "Soviet credit of $300 million"}, user=bob)
    annotation.refresh_from_db()
    assert annotation.version == 2
    assert annotation.motivation == Motivation.COMMENTING
    assert annotation.history.count() >= 2
    assert annotation.history.first().comment_raw == "Soviet credit of $300 million"


def test_edit_moves_the_anchor_and_marks_it_anchored(text, bob):
    annotation = make_annotation(text=text, creator=bob, quote="Stalin")
    Annotation.objects.filter(pk=annotation.pk).update(state=AnchorState.FUZZY, anchor_score=0.8)
    annotation.refresh_from_db()
    start = TEXT.index("Mao waiting")
    annotation.apply_changes({"start": start, "end": start + 11}, user=bob)
    annotation.refresh_from_db()
    assert (annotation.exact, annotation.state, annotation.anchor_score) == (
        "Mao waiting",
        "anchored",
        1.0,
    )


def test_only_the_creator_changes_visibility(text, alice, bob):
    annotation = make_annotation(text=text, creator=bob, quote="Stalin")
    with pytest.raises(PermissionDenied):
        annotation.apply_changes({"visibility": Visibility.PRIVATE}, user=alice)
    annotation.apply_changes({"visibility": Visibility.PRIVATE}, user=bob)
    annotation.refresh_from_db()
    assert annotation.visibility == Visibility.PRIVATE


def test_too_many_tags_are_refused_and_nothing_is_written(text, bob):
    with pytest.raises(ValidationError) as error:
        make_annotation(text=text, creator=bob, quote="Stalin", tags=[f"t{i}" for i in range(51)])
    assert "tags" in error.value.message_dict
    assert not Annotation.objects.exists()


class TestVisibility:
    @pytest.fixture
    def notes(self, text, alice, bob):
        return {
            "bob_shared": make_annotation(text=text, creator=bob, quote="Stalin"),
            "bob_private": make_annotation(
                text=text, creator=bob, quote="loan", visibility=Visibility.PRIVATE
            ),
            "alice_shared": make_annotation(text=text, creator=alice, quote="treaty"),
        }

    def test_viewers_see_shared_annotations_but_not_private_ones(self, notes, vera):
        assert set(Annotation.objects.visible_to(vera)) == {
            notes["bob_shared"],
            notes["alice_shared"],
        }

    def test_creators_see_their_private_annotations(self, notes, bob):
        assert notes["bob_private"] in Annotation.objects.visible_to(bob)

    def test_owners_do_not_see_other_peoples_private_annotations(self, notes, alice):
        assert notes["bob_private"] not in Annotation.objects.visible_to(alice)

    def test_outsiders_and_anonymous_see_nothing(self, notes, mallory):
        from django.contrib.auth.models import AnonymousUser

        assert not Annotation.objects.visible_to(mallory).exists()
        assert not Annotation.objects.visible_to(AnonymousUser()).exists()

    def test_a_public_library_shows_shared_annotations_to_anyone(self, notes, library):
        from django.contrib.auth.models import AnonymousUser

        library.is_public = True
        library.save()
        shown = set(Annotation.objects.visible_to(AnonymousUser()))
        assert shown == {notes["bob_shared"], notes["alice_shared"]}

    def test_editors_edit_their_own_owners_moderate_shared_ones(self, notes, alice, bob, vera):
        assert set(Annotation.objects.editable_by(bob)) == {
            notes["bob_shared"],
            notes["bob_private"],
        }
        assert set(Annotation.objects.editable_by(alice)) == {
            notes["bob_shared"],
            notes["alice_shared"],
        }
        assert not Annotation.objects.editable_by(vera).exists()

    def test_a_creator_demoted_to_viewer_can_no_longer_edit(self, notes, library, bob):
        library.memberships.filter(user=bob).update(role=Role.VIEWER)
        assert not Annotation.objects.editable_by(bob).exists()

    def test_another_library_is_out_of_reach(self, notes, mallory, bob):
        other = make_library(owner=mallory, name="Mallory's")
        add_member(library=other, user=bob, role=Role.EDITOR)
        theirs = make_text(source=make_source(library=other), text="Mallory's own text.")
        make_annotation(text=theirs, creator=mallory, quote="own")
        assert set(Annotation.objects.editable_by(mallory)) == set(
            Annotation.objects.filter(library=other)
        )
