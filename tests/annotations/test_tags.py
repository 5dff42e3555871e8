from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from annotations.models import Annotation, Tag, split_tag_name, tag_key
from annotations.tags import autocomplete, merge_preview, merge_tags, rename_tag
from tests.factories import make_annotation, make_library, make_text

TEXT = "Mao arrived in Moscow on 16 December 1949; Stalin received him that evening."


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.mark.parametrize(
    ("typed", "namespace", "name"),
    [
        ("person:Mao Zedong", "person", "person:Mao Zedong"),
        ("Person : Mao   Zedong", "person", "Person:Mao Zedong"),
        ("theme:face", "theme", "theme:face"),
        ("Treaty of 1950: drafts", "", "Treaty of 1950: drafts"),
        ("loss of face (面子)", "", "loss of face (面子)"),
        ("place:Москва", "place", "place:Москва"),
    ],
)
def test_namespace_is_the_word_before_the_first_colon(typed, namespace, name):
    assert split_tag_name(typed) == (namespace, name)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201])
def test_empty_or_overlong_tags_name_the_tags_field(bad):
    with pytest.raises(ValidationError) as error:
        split_tag_name(bad)
    assert "tags" in error.value.message_dict


def test_matching_ignores_case_but_keeps_the_first_spelling(library):
    first = Tag.objects.for_names(library, ["person:Mao Zedong"])[0]
    again = Tag.objects.for_names(library, ["PERSON:mao zedong", "person:Mao  Zedong"])
    assert again == [first]
    assert Tag.objects.get().name == "person:Mao Zedong"
    assert tag_key("PERSON:mao zedong") == first.name_key


def test_tags_are_per_library(library, mallory):
    other = make_library(owner=mallory, name="Other")
    ours = Tag.objects.for_names(library, ["theme:face"])[0]
    theirs = Tag.objects.for_names(other, ["theme:face"])[0]
    assert ours.pk != theirs.pk


def test_a_tag_list_that_is_not_strings_names_tags(library):
    with pytest.raises(ValidationError) as error:
        Tag.objects.for_names(library, [{"name": "x"}])
    assert "tags" in error.value.message_dict


def test_rename_changes_the_name_everywhere(text, bob, library):
    annotation = make_annotation(text=text, creator=bob, quote="Moscow", tags=["place:moscow"])
    tag = annotation.tags.get()
    renamed = rename_tag(tag, "place:Moscow")
    assert renamed.pk == tag.pk
    assert [t.name for t in annotation.tags.all()] == ["place:Moscow"]
    annotation.refresh_from_db()
    assert annotation.version == 2  # the representation changed: new ETag


def test_rename_onto_an_existing_name_merges(text, bob, library):
    a = make_annotation(text=text, creator=bob, quote="Moscow", tags=["place:Moskva"])
    b = make_annotation(text=text, creator=bob, quote="Mao", tags=["place:Moscow"])
    kept = rename_tag(Tag.objects.get(name="place:Moskva"), "place:moscow")
    assert kept.name == "place:Moscow"
    assert Tag.objects.count() == 1
    assert list(a.tags.all()) == [kept] and list(b.tags.all()) == [kept]


def test_merge_retags_every_object_once_and_deletes_the_source(text, bob, library):
    both = make_annotation(text=text, creator=bob, quote="Stalin", tags=["Stalin", "person:Stalin"])
    only_old = make_annotation(text=text, creator=bob, quote="evening", tags=["Stalin"])
    old, into = Tag.objects.get(name="Stalin"), Tag.objects.get(name="person:Stalin")
    merge_tags(old, into)
    assert not Tag.objects.filter(pk=old.pk).exists()
    assert list(both.tags.all()) == [into]
    assert list(only_old.tags.all()) == [into]
    assert Annotation.objects.get(pk=only_old.pk).version == 2


def test_merge_across_libraries_is_refused(library, mallory):
    other = make_library(owner=mallory, name="Other")
    ours = Tag.objects.for_names(library, ["a"])[0]
    theirs = Tag.objects.for_names(other, ["a"])[0]
    with pytest.raises(ValidationError):
        merge_tags(ours, theirs)
    assert Tag.objects.count() == 2


def test_autocomplete_matches_name_namespace_body_and_words_most_used_first(text, bob, library):
    make_annotation(text=text, creator=bob, quote="Mao", tags=["person:Mao Zedong"])
    make_annotation(text=text, creator=bob, quote="arrived", tags=["person:Mao Zedong"])
    Tag.objects.for_names(library, ["Maoism", "person:Stalin", "theme:face"])
    assert [t.name for t in autocomplete(library, bob, "mao")] == ["person:Mao Zedong", "Maoism"]
    assert [t.name for t in autocomplete(library, bob, "person:")] == [
        "person:Mao Zedong",
        "person:Stalin",
    ]
    assert [t.name for t in autocomplete(library, bob, "zedong")] == ["person:Mao Zedong"]
    assert len(autocomplete(library, bob, "", limit=2)) == 2


# --- Who sees which tag (issue #16) ---------------------------------------------------------


@pytest.fixture
def private_tags(text, library, alice, bob):
    """A tag on bob's private note, one on his private claim, one on a shared note, one
    on an event, one nothing carries."""
    from tests.factories import make_claim, make_event

    make_annotation(text=text, creator=bob, quote="Mao", tags=["OnlyPrivateNote", "Shared"],
                    visibility="private")  # fmt: skip
    make_annotation(text=text, creator=alice, quote="Moscow", tags=["Shared"])
    make_claim(library=library, creator=bob, tags=["OnlyPrivateClaim"], visibility="private")
    make_event(library=library, participants=["Zhou Enlai"])
    Tag.objects.for_names(library, ["Unused"])
    return library


def names_seen_by(user) -> set[str]:
    return set(Tag.objects.visible_to(user).values_list("name", flat=True))


def test_a_tag_only_on_private_work_is_seen_by_its_author_alone(private_tags, alice, bob, vera):
    everyday = {"Shared", "person:Zhou Enlai"}
    assert names_seen_by(bob) == everyday | {"OnlyPrivateNote", "OnlyPrivateClaim", "Unused"}
    assert names_seen_by(alice) == everyday | {"Unused"}  # the owner: no private work of others
    assert names_seen_by(vera) == everyday  # a viewer: no unused tags either


def test_outsiders_and_anonymous_readers_see_the_tags_of_a_public_library_only_when_used(
    private_tags, mallory
):
    from django.contrib.auth.models import AnonymousUser

    assert names_seen_by(mallory) == set() and names_seen_by(AnonymousUser()) == set()
    private_tags.is_public = True
    private_tags.save()
    assert (
        names_seen_by(mallory)
        == names_seen_by(AnonymousUser())
        == {
            "Shared",
            "person:Zhou Enlai",
        }
    )


def test_uses_count_only_what_the_user_may_see(private_tags, alice, bob):
    def uses(user) -> dict[str, int]:
        counts = Tag.objects.uses_in(private_tags, user)
        return {tag.name: counts[tag.pk] for tag in Tag.objects.visible_to(user)}

    assert uses(bob)["Shared"] == 2 and uses(alice)["Shared"] == 1
    assert uses(bob)["OnlyPrivateClaim"] == 1 and uses(alice)["person:Zhou Enlai"] == 1
    assert uses(alice)["Unused"] == 0


def test_autocomplete_lists_only_the_tags_the_user_may_see(private_tags, alice, bob):
    assert [t.name for t in autocomplete(private_tags, alice, "only")] == []
    assert {t.name for t in autocomplete(private_tags, bob, "only")} == {
        "OnlyPrivateNote",
        "OnlyPrivateClaim",
    }
    [shared] = autocomplete(private_tags, alice, "shared")
    assert shared.uses == 1


# --- Autocomplete by any word, accents and case set aside; merge preview (issue #20) ------


def test_autocomplete_finds_a_later_word_within_the_typed_namespace(text, bob, library):
    Tag.objects.for_names(library, ["person:Joseph Stalin", "place:Stalingrad", "theme:state"])
    assert [t.name for t in autocomplete(library, bob, "person:St")] == ["person:Joseph Stalin"]
    assert [t.name for t in autocomplete(library, bob, "pers:jos")] == ["person:Joseph Stalin"]


def test_autocomplete_sets_accents_and_case_aside_in_every_script(text, bob, library):
    Tag.objects.for_names(
        library, ["person:Zhōu Ēnlái", "person:Сталин", "place:Пхеньян", "person:毛泽东"]
    )
    assert [t.name for t in autocomplete(library, bob, "zhou en")] == ["person:Zhōu Ēnlái"]
    assert [t.name for t in autocomplete(library, bob, "ENLAI")] == ["person:Zhōu Ēnlái"]
    assert [t.name for t in autocomplete(library, bob, "СТАЛ")] == ["person:Сталин"]
    assert [t.name for t in autocomplete(library, bob, "泽东")] == ["person:毛泽东"]
    assert [t.name for t in autocomplete(library, bob, "place:пх")] == ["place:Пхеньян"]


def test_autocomplete_meets_names_written_in_another_script(text, bob, library):
    Tag.objects.for_names(
        library,
        [
            "person:Joseph Stalin",
            "person:Сталин",
            "person:Mao Zedong",
            "person:毛泽东",
            "person:Чжоу Эньлай",
            "place:Moscow",
        ],
    )

    def names(typed: str) -> set[str]:
        return {t.name for t in autocomplete(library, bob, typed)}

    assert names("Сталин") == {"person:Joseph Stalin", "person:Сталин"}
    assert names("Stalin") == {"person:Joseph Stalin", "person:Сталин"}
    assert names("person:сталин") == {"person:Joseph Stalin", "person:Сталин"}
    assert names("Мао") == {"person:Mao Zedong", "person:毛泽东"}
    assert names("Мао Цзэдун") == {"person:Mao Zedong", "person:毛泽东"}
    assert names("毛泽东") == {"person:Mao Zedong", "person:毛泽东"}
    assert names("zedong") == {"person:Mao Zedong", "person:毛泽东"}
    assert names("zhou enlai") == {"person:Чжоу Эньлай"}
    assert names("Москва") == set()  # a translation, not a transliteration


def test_merge_preview_says_what_moves_and_moves_nothing(text, bob, alice, library):
    make_annotation(text=text, creator=bob, quote="Mao", tags=["person:Mao", "person:Mao Zedong"])
    make_annotation(text=text, creator=bob, quote="arrived", tags=["person:Mao"])
    mao, full = Tag.objects.for_names(library, ["person:Mao", "person:Mao Zedong"])
    [moves] = merge_preview(mao, full, bob)
    assert (moves.kind, moves.moved, moves.already) == ("annotations", 1, 1)
    assert Tag.objects.filter(pk=mao.pk).exists()
    assert mao.annotations.count() == 2
    make_annotation(
        text=text, creator=alice, quote="Moscow", tags=["person:Mao"], visibility="private"
    )
    [moves] = merge_preview(mao, full, bob)
    assert moves.moved == 1  # alice's private note is not counted for bob
