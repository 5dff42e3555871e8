from __future__ import annotations

import pytest

from annotations.models import Tag, TagNamespace
from tests.factories import make_annotation, make_text

TAGS = "/api/tags/"


@pytest.fixture
def tags(library, source, alice, bob):
    text = make_text(source=source, text="Mao met Stalin in Moscow.", imported_by=alice)
    make_annotation(text=text, creator=bob, quote="Mao", tags=["person:Mao Zedong"])
    make_annotation(text=text, creator=bob, quote="Moscow", tags=["place:Moscow", "Moskva"])
    return {t.name: t for t in Tag.objects.for_names(library, ["person:Stalin", "theme:face"])} | {
        t.name: t for t in Tag.objects.all()
    }


def test_autocomplete_for_a_viewer_with_colours(as_user, vera, alice, library, tags):
    TagNamespace.objects.create(library=library, namespace="person", colour="#AA3300")
    response = as_user(vera).get(TAGS, {"library": library.slug, "q": "mao"})
    assert response.status_code == 200
    [found] = response.json()
    assert found["name"] == "person:Mao Zedong"
    assert found["namespace"] == "person" and found["label"] == "Mao Zedong"
    assert found["colour"] == "#aa3300"


def test_listing_tags_needs_a_library_the_user_sees(as_user, mallory, library, tags):
    missing = as_user(mallory).get(TAGS)
    hidden = as_user(mallory).get(TAGS, {"library": library.slug})
    assert missing.status_code == hidden.status_code == 400
    assert "library" in missing.json() and "library" in hidden.json()


def test_outsider_gets_404_for_a_tag(as_user, mallory, tags):
    assert as_user(mallory).get(f"{TAGS}{tags['Moskva'].pk}/").status_code == 404


def test_editor_renames_a_tag_and_merges_on_collision(as_user, bob, tags):
    client = as_user(bob)
    response = client.patch(f"{TAGS}{tags['Moskva'].pk}/", {"name": "place:MOSCOW"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == tags["place:Moscow"].pk
    assert not Tag.objects.filter(name="Moskva").exists()


def test_viewer_cannot_rename_merge_or_delete(as_user, vera, tags):
    client = as_user(vera)
    url = f"{TAGS}{tags['Moskva'].pk}/"
    assert client.patch(url, {"name": "x"}, format="json").status_code == 403
    assert client.post(f"{url}merge/", {"into": tags["place:Moscow"].pk}).status_code == 403
    assert client.delete(url).status_code == 403
    assert Tag.objects.filter(name="Moskva").exists()


def test_a_bad_rename_is_400_naming_the_field(as_user, bob, tags):
    client = as_user(bob)
    url = f"{TAGS}{tags['Moskva'].pk}/"
    assert "name" in client.patch(url, {"name": ""}, format="json").json()
    assert "name" in client.patch(url, {"name": "x" * 201}, format="json").json()


def test_merge_into_a_tag_of_another_library_is_400(as_user, bob, mallory, tags):
    from tests.factories import make_library

    theirs = Tag.objects.for_names(make_library(owner=mallory, name="M"), ["x"])[0]
    response = as_user(bob).post(f"{TAGS}{tags['Moskva'].pk}/merge/", {"into": theirs.pk})
    assert response.status_code == 400 and "into" in response.json()


def test_merge_moves_the_annotations(as_user, bob, tags):
    response = as_user(bob).post(
        f"{TAGS}{tags['Moskva'].pk}/merge/", {"into": tags["place:Moscow"].pk}
    )
    assert response.status_code == 200
    assert tags["place:Moscow"].annotations.count() == 1


def test_owner_sets_a_namespace_colour_and_bad_colours_are_400(as_user, alice, vera, library):
    body = {"library": library.slug, "namespace": "Person", "colour": "#1A2B3C"}
    assert as_user(alice).post(f"{TAGS}colours/", body).json()["colour"] == "#1a2b3c"
    assert TagNamespace.objects.get().namespace == "person"
    bad = as_user(alice).post(f"{TAGS}colours/", {**body, "colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()
    assert as_user(vera).post(f"{TAGS}colours/", body).status_code == 403
    shown = as_user(vera).get(f"{TAGS}colours/", {"library": library.slug})
    assert shown.json() == {"person": "#1a2b3c"}


def test_wrong_methods_on_tags_are_405(as_user, bob, tags):
    assert as_user(bob).post(TAGS, {"name": "x"}).status_code == 405
    assert as_user(bob).put(f"{TAGS}{tags['Moskva'].pk}/", {"name": "x"}).status_code == 405


def test_editor_deletes_a_tag_from_every_annotation(as_user, bob, tags):
    moskva = tags["Moskva"]
    [annotation] = moskva.annotations.all()
    assert as_user(bob).delete(f"{TAGS}{moskva.pk}/").status_code == 204
    annotation.refresh_from_db()
    assert [t.name for t in annotation.tags.all()] == ["place:Moscow"]
    assert annotation.version == 2


# --- Tags of private work (issue #16) -------------------------------------------------------


@pytest.fixture
def private_tag(library, source, bob):
    text = make_text(source=source, text="Mao met Stalin in Moscow.")
    make_annotation(text=text, creator=bob, quote="Mao", tags=["SecretTagOfBob"],
                    visibility="private")  # fmt: skip
    return Tag.objects.get(name="SecretTagOfBob")


@pytest.mark.parametrize("persona", ["alice", "vera"])
def test_a_tag_only_on_a_private_note_is_not_listed_to_others(
    as_user, request, persona, library, private_tag
):
    client = as_user(request.getfixturevalue(persona))
    listed = client.get(TAGS, {"library": library.slug, "q": "secret"})
    assert listed.status_code == 200 and listed.json() == []
    assert client.get(f"{TAGS}{private_tag.pk}/").status_code == 404


def test_anonymous_readers_of_a_public_library_do_not_see_a_private_tag(
    as_user, library, private_tag
):
    library.is_public = True
    library.save()
    client = as_user(None)
    assert client.get(TAGS, {"library": library.slug}).json() == []
    assert client.get(f"{TAGS}{private_tag.pk}/").status_code == 404


def test_its_author_sees_the_tag_and_its_uses(as_user, bob, library, private_tag):
    [found] = as_user(bob).get(TAGS, {"library": library.slug, "q": "secret"}).json()
    assert found["name"] == "SecretTagOfBob" and found["uses"] == 1
    assert as_user(bob).get(f"{TAGS}{private_tag.pk}/").status_code == 200


def test_the_listed_uses_count_only_what_the_reader_may_see(
    as_user, vera, bob, library, source, private_tag
):
    text = make_text(source=source, text="Stalin in Moscow.")
    make_annotation(text=text, creator=bob, quote="Moscow", tags=["SecretTagOfBob"])
    [seen] = as_user(vera).get(TAGS, {"library": library.slug, "q": "secret"}).json()
    assert seen["uses"] == 1
    [own] = as_user(bob).get(TAGS, {"library": library.slug, "q": "secret"}).json()
    assert own["uses"] == 2


def test_an_owner_cannot_merge_into_a_tag_she_cannot_see(as_user, alice, library, private_tag):
    mine = Tag.objects.for_names(library, ["Mine"])[0]
    response = as_user(alice).post(f"{TAGS}{mine.pk}/merge/", {"into": private_tag.pk})
    assert response.status_code == 400 and "into" in response.json()
    assert Tag.objects.filter(pk=mine.pk).exists()


def test_a_tag_merged_away_meanwhile_answers_409_saying_what_to_do(
    as_user, bob, library, tags, monkeypatch
):
    from annotations import tags as tagging

    moskva, moscow = tags["Moskva"], tags["place:Moscow"]
    real_lock = tagging.lock_tags

    def someone_merged_it_first(*wanted):
        Tag.objects.filter(pk=moskva.pk).delete()  # the other request, just committed
        return real_lock(*wanted)

    monkeypatch.setattr(tagging, "lock_tags", someone_merged_it_first)
    response = as_user(bob).post(f"{TAGS}{moskva.pk}/merge/", {"into": moscow.pk})
    assert response.status_code == 409
    assert "reload the tags and try again" in response.json()["detail"]
    assert Tag.objects.filter(pk=moscow.pk).exists()


def test_a_name_taken_meanwhile_answers_409_saying_what_to_do(as_user, bob, tags, monkeypatch):
    from annotations import tags as tagging

    monkeypatch.setattr(tagging, "_named", lambda tag, key: None)  # missed the other rename
    response = as_user(bob).patch(
        f"{TAGS}{tags['Moskva'].pk}/", {"name": "place:moscow"}, format="json"
    )
    assert response.status_code == 409
    assert "rename again to merge into it" in response.json()["detail"]
    assert Tag.objects.get(pk=tags["Moskva"].pk).name == "Moskva"


def test_a_merge_meeting_a_tagging_made_meanwhile_answers_409(as_user, bob, tags, monkeypatch):
    from django.db import IntegrityError

    from annotations import tags as tagging

    def tagged_with_both_meanwhile(relation, source_tag, into_tag):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(tagging, "_move_tagging", tagged_with_both_meanwhile)
    moskva, moscow = tags["Moskva"], tags["place:Moscow"]
    response = as_user(bob).post(f"{TAGS}{moskva.pk}/merge/", {"into": moscow.pk})
    assert response.status_code == 409 and "try the merge again" in response.json()["detail"]
    assert Tag.objects.filter(pk=moskva.pk).exists()
