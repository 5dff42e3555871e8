"""The annotation API in plain JSON: roles, validation, ETags and filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import AnchorState, Annotation, Tag, Visibility
from tests.factories import make_annotation, make_library, make_source, make_text

TEXT = "Stalin kept Mao waiting for days. Mao said the treaty mattered more than the loan."
LIST = "/api/annotations/"


def detail(annotation) -> str:
    return reverse("api-annotation-detail", args=[annotation.pk])


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.fixture
def note(text, bob):
    return make_annotation(text=text, creator=bob, quote="the treaty", tags=["theme:treaty"])


def payload(text, quote: str, **extra) -> dict:
    start = text.text.index(quote)
    return {"text": text.pk, "start": start, "end": start + len(quote), **extra}


def etag(client, annotation) -> str:
    return client.get(detail(annotation))["ETag"]


# --- create ----------------------------------------------------------------------------


def test_editor_creates_an_annotation_with_comment_and_tags(as_user, bob, text):
    body = payload(text, "the loan", comment="*Which* loan?", tags=["theme:money", "Credit"])
    response = as_user(bob).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["exact"] == "the loan"
    assert data["comment"] == "*Which* loan?"
    assert data["comment_html"] == "<p><em>Which</em> loan?</p>"
    assert data["motivation"] == "commenting"
    assert data["tags"] == ["Credit", "theme:money"]
    assert data["creator"] == {"id": bob.pk, "username": "bob"}
    assert data["source"] == text.source_id and data["revision"] == text.revision
    assert data["can_edit"] is True
    assert response["Location"].endswith(f"/api/annotations/{data['id']}/")
    assert response["ETag"] == data["etag"] == f'"a{data["id"]}.v1"'


def test_owner_can_create_private_annotation(as_user, alice, text):
    response = as_user(alice).post(
        LIST, payload(text, "Stalin", visibility="private"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["visibility"] == "private"


def test_viewer_cannot_create_an_annotation(as_user, vera, text):
    response = as_user(vera).post(LIST, payload(text, "Stalin"), format="json")
    assert response.status_code == 403
    assert not Annotation.objects.exists()


def test_anonymous_cannot_create_an_annotation(as_user, text):
    response = as_user(None).post(LIST, payload(text, "Stalin"), format="json")
    assert response.status_code in (401, 403)
    assert not Annotation.objects.exists()


def test_a_text_of_another_library_is_a_400_on_text_that_leaks_nothing(as_user, mallory, text):
    other = make_library(owner=mallory, name="Mallory's")
    make_text(source=make_source(library=other), text="Mallory's text.")
    foreign = as_user(mallory).post(LIST, payload(text, "Stalin"), format="json")
    missing = as_user(mallory).post(LIST, {**payload(text, "Stalin"), "text": 99999}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert "text" in foreign.json()
    assert foreign.json()["text"][0].replace(str(text.pk), "N") == missing.json()["text"][
        0
    ].replace("99999", "N")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": len(TEXT), "end": len(TEXT) + 3}, "start"),
        ({"start": 0, "end": len(TEXT) + 1}, "end"),
        ({"start": 5, "end": 5}, "end"),
        ({"start": 9, "end": 3}, "end"),
        ({"start": -1}, "start"),
        ({"start": "one"}, "start"),
        ({"exact": "Stolin"}, "exact"),
        ({"comment": "x" * 1_000_000}, "comment"),
        ({"motivation": "praising"}, "motivation"),
        ({"visibility": "public"}, "visibility"),
        ({"tags": [f"tag {i}" for i in range(51)]}, "tags"),
        ({"tags": ["x" * 201]}, "tags"),
        ({"tags": "theme:face"}, "tags"),
        ({"text": None}, "text"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(as_user, bob, text, change, field):
    body = {**payload(text, "Stalin"), **change}
    response = as_user(bob).post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Annotation.objects.exists()
    assert not Tag.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(as_user, bob, text):
    response = as_user(bob).post(LIST, [1, 2], format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("content", "prefix"),
    [
        ("Сталин сказал: «Договор важнее кредита».", "Сталин сказал: «"),
        ("𠮷野家 and 👍🏽 before: the treaty mattered.", "𠮷野家 and 👍🏽 before: "),
        (
            "e\u0301 combining then 中文 text: the treaty mattered.",
            "e\u0301 combining then 中文 text: ",
        ),
    ],
)
def test_offsets_are_code_points_in_every_script(as_user, bob, source, alice, content, prefix):
    revision = make_text(source=source, text=content, imported_by=alice)
    start = len(prefix)  # code points, not UTF-16 units or bytes
    end = start + 6
    response = as_user(bob).post(
        LIST, {"text": revision.pk, "start": start, "end": end}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["exact"] == revision.text[start:end]
    assert response.json()["prefix"] == revision.text[:start][-32:]


def test_astral_characters_count_as_one_offset_each(as_user, bob, source, alice):
    revision = make_text(source=source, text="𠮷👍🏽 treaty", imported_by=alice)
    response = as_user(bob).post(
        LIST, {"text": revision.pk, "start": 0, "end": 3, "exact": "𠮷👍🏽"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["end"] == 3  # 𠮷 + 👍 + skin tone: three code points
    utf16 = as_user(bob).post(
        LIST, {"text": revision.pk, "start": 0, "end": 5, "exact": "𠮷👍🏽"}, format="json"
    )
    assert utf16.status_code == 400  # UTF-16 units (5) are refused, not silently shifted


# --- read ------------------------------------------------------------------------------


def test_viewer_reads_an_annotation_with_an_etag(as_user, vera, note):
    response = as_user(vera).get(detail(note))
    assert response.status_code == 200
    assert response.json()["exact"] == "the treaty"
    assert response.json()["can_edit"] is False
    assert response["ETag"] == f'"a{note.pk}.v1"'
    assert "Accept" in response["Vary"]


def test_if_none_match_answers_304_until_the_annotation_changes(as_user, vera, bob, note):
    client = as_user(vera)
    tag = etag(client, note)
    assert client.get(detail(note), HTTP_IF_NONE_MATCH=tag).status_code == 304
    as_user(bob).patch(detail(note), {"comment": "new"}, format="json", HTTP_IF_MATCH=tag)
    assert client.get(detail(note), HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_outsider_gets_404_for_an_annotation(as_user, mallory, note):
    assert as_user(mallory).get(detail(note)).status_code == 404


def test_private_annotation_is_404_to_everyone_else(as_user, alice, vera, bob, text):
    private = make_annotation(text=text, creator=bob, quote="Stalin", visibility=Visibility.PRIVATE)
    assert as_user(bob).get(detail(private)).status_code == 200
    assert as_user(alice).get(detail(private)).status_code == 404
    assert as_user(vera).get(detail(private)).status_code == 404
    assert private.pk not in [a["id"] for a in as_user(alice).get(LIST).json()["results"]]


def test_list_is_scoped_to_what_the_user_sees(as_user, mallory, vera, note):
    theirs = make_text(
        source=make_source(library=make_library(owner=mallory, name="M")), text="abc def"
    )
    make_annotation(text=theirs, creator=mallory, quote="abc")
    assert [a["id"] for a in as_user(vera).get(LIST).json()["results"]] == [note.pk]
    assert [a["exact"] for a in as_user(mallory).get(LIST).json()["results"]] == ["abc"]


def test_list_filters_by_text_source_tag_creator_and_state(as_user, alice, bob, vera, text, note):
    mine = make_annotation(text=text, creator=alice, quote="Stalin", tags=["person:Stalin"])
    Annotation.objects.filter(pk=mine.pk).update(state=AnchorState.FUZZY)
    client = as_user(vera)

    def ids(query: str) -> list[int]:
        response = client.get(LIST + query)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["results"]]

    assert ids(f"?text={text.pk}") == [mine.pk, note.pk]  # document order
    assert ids(f"?source={text.source_id}") == [mine.pk, note.pk]
    assert ids("?tag=THEME:Treaty") == [note.pk]
    assert ids("?tag=theme:treaty&tag=person:stalin") == []
    assert ids("?creator=alice") == [mine.pk]
    assert ids("?state=fuzzy") == [mine.pk]
    assert ids(f"?library={text.source.library.slug}") == [mine.pk, note.pk]
    assert ids("?text=99999") == []


def test_an_unknown_state_filter_is_a_400(as_user, vera, note):
    response = as_user(vera).get(LIST + "?state=lost")
    assert response.status_code == 400
    assert "state" in response.json()


def test_the_list_is_paged_for_the_reading_view(as_user, vera, text, bob):
    for word in ("Stalin", "kept", "Mao", "waiting"):
        make_annotation(text=text, creator=bob, quote=word)
    page = as_user(vera).get(LIST + "?limit=3").json()
    assert page["count"] == 4 and len(page["results"]) == 3 and page["next"]


def test_listing_does_not_query_per_annotation(
    as_user, vera, text, bob, django_assert_max_num_queries
):
    for word in ("Stalin", "kept", "Mao", "waiting", "days", "loan"):
        make_annotation(text=text, creator=bob, quote=word, tags=["a", "b"])
    client = as_user(vera)
    with django_assert_max_num_queries(12):
        assert len(client.get(LIST).json()["results"]) == 6


# --- update and delete -----------------------------------------------------------------


def test_creator_edits_comment_and_tags_with_if_match(as_user, bob, note):
    client = as_user(bob)
    response = client.patch(
        detail(note),
        {"comment": "Signed 14 Feb 1950", "tags": ["Treaty", "theme:treaty"]},
        format="json",
        HTTP_IF_MATCH=etag(client, note),
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["comment"] == "Signed 14 Feb 1950"
    assert data["tags"] == ["theme:treaty", "Treaty"] or data["tags"] == ["Treaty", "theme:treaty"]
    assert data["version"] == 2
    assert response["ETag"] == f'"a{note.pk}.v2"'


def test_put_replaces_and_clears_what_is_left_out(as_user, bob, note, text):
    client = as_user(bob)
    body = payload(text, "the loan")
    response = client.put(detail(note), body, format="json", HTTP_IF_MATCH=etag(client, note))
    assert response.status_code == 200, response.content
    assert response.json()["exact"] == "the loan"
    assert response.json()["tags"] == []


def test_changes_without_if_match_are_428(as_user, bob, note, text):
    client = as_user(bob)
    assert client.patch(detail(note), {"comment": "x"}, format="json").status_code == 428
    assert client.put(detail(note), payload(text, "Stalin"), format="json").status_code == 428
    assert client.delete(detail(note)).status_code == 428
    assert Annotation.objects.get(pk=note.pk).version == 1


def test_a_stale_if_match_is_412_and_changes_nothing(as_user, bob, alice, note):
    client = as_user(bob)
    stale = etag(client, note)
    assert (
        client.patch(
            detail(note), {"comment": "first"}, format="json", HTTP_IF_MATCH=stale
        ).status_code
        == 200
    )
    second = client.patch(detail(note), {"comment": "second"}, format="json", HTTP_IF_MATCH=stale)
    assert second.status_code == 412
    assert second.json()["etag"] == f'"a{note.pk}.v2"'
    assert client.delete(detail(note), HTTP_IF_MATCH=stale).status_code == 412
    assert Annotation.objects.get(pk=note.pk).comment_raw == "first"


def test_a_weak_or_foreign_etag_does_not_match(as_user, bob, note):
    client = as_user(bob)
    weak = "W/" + etag(client, note)
    other = f'"a{note.pk + 1}.v1"'
    for tag in (weak, other, '"1"'):
        response = client.patch(detail(note), {"comment": "x"}, format="json", HTTP_IF_MATCH=tag)
        assert response.status_code == 412


def test_viewer_cannot_edit_or_delete(as_user, vera, note):
    client = as_user(vera)
    tag = etag(client, note)
    assert (
        client.patch(detail(note), {"comment": "x"}, format="json", HTTP_IF_MATCH=tag).status_code
        == 403
    )
    assert client.delete(detail(note), HTTP_IF_MATCH=tag).status_code == 403


def test_editor_cannot_edit_someone_elses_annotation_but_owner_moderates(as_user, alice, bob, text):
    mine = make_annotation(text=text, creator=alice, quote="Stalin")
    client = as_user(bob)
    tag = etag(client, mine)
    assert (
        client.patch(detail(mine), {"comment": "x"}, format="json", HTTP_IF_MATCH=tag).status_code
        == 403
    )
    bobs = make_annotation(text=text, creator=bob, quote="loan")
    owner = as_user(alice)
    response = owner.delete(detail(bobs), HTTP_IF_MATCH=etag(owner, bobs))
    assert response.status_code == 204


def test_outsider_cannot_edit_or_delete(as_user, mallory, note):
    client = as_user(mallory)
    tag = f'"a{note.pk}.v1"'
    assert (
        client.patch(detail(note), {"comment": "x"}, format="json", HTTP_IF_MATCH=tag).status_code
        == 404
    )
    assert client.delete(detail(note), HTTP_IF_MATCH=tag).status_code == 404


def test_invalid_edit_is_400_and_leaves_the_annotation_unchanged(as_user, bob, note):
    client = as_user(bob)
    tag = etag(client, note)
    for body, field in (
        ({"end": 10_000}, "end"),
        ({"exact": "the traety"}, "exact"),
        ({"motivation": "nope"}, "motivation"),
        ({"comment": "x" * 100_001}, "comment"),
        ({"text": 99999}, "text"),
    ):
        response = client.patch(detail(note), body, format="json", HTTP_IF_MATCH=tag)
        assert response.status_code == 400, body
        assert field in response.json()
    note.refresh_from_db()
    assert (note.exact, note.version) == ("the treaty", 1)


def test_only_the_creator_changes_visibility_via_the_api(as_user, alice, note):
    client = as_user(alice)
    response = client.patch(
        detail(note), {"visibility": "private"}, format="json", HTTP_IF_MATCH=etag(client, note)
    )
    assert response.status_code == 403


def test_delete_removes_the_annotation_and_keeps_its_history(as_user, bob, note):
    client = as_user(bob)
    response = client.delete(detail(note), HTTP_IF_MATCH=etag(client, note))
    assert response.status_code == 204
    assert not Annotation.objects.filter(pk=note.pk).exists()
    assert Annotation.history.filter(id=note.pk, history_type="-").exists()


def test_wrong_methods_are_405(as_user, bob, note):
    client = as_user(bob)
    assert client.put(LIST, {}, format="json").status_code == 405
    assert client.delete(LIST).status_code == 405
    assert client.post(detail(note), {}, format="json").status_code == 405
    assert client.get(reverse("api-annotation-reattach", args=[note.pk])).status_code == 405


# --- re-attach -------------------------------------------------------------------------


def test_reattach_puts_an_orphan_on_the_selected_passage_of_the_current_revision(
    as_user, bob, alice, note, source
):
    Annotation.objects.filter(pk=note.pk).update(state=AnchorState.ORPHANED, anchor_score=0.0)
    revised = make_text(source=source, text="Mao said the pact mattered.", imported_by=alice)
    client = as_user(bob)
    start = revised.text.index("the pact")
    response = client.post(
        reverse("api-annotation-reattach", args=[note.pk]),
        {"start": start, "end": start + 8},
        format="json",
        HTTP_IF_MATCH=etag(client, note),
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["text"], data["exact"], data["state"]) == (revised.pk, "the pact", "anchored")


def test_reattach_to_another_sources_text_is_a_400_on_text(as_user, bob, note, library):
    elsewhere = make_text(source=make_source(library=library, title="Other"), text="the pact")
    client = as_user(bob)
    response = client.post(
        reverse("api-annotation-reattach", args=[note.pk]),
        {"text": elsewhere.pk, "start": 0, "end": 8},
        format="json",
        HTTP_IF_MATCH=etag(client, note),
    )
    assert response.status_code == 400
    assert "text" in response.json()


def test_viewer_cannot_reattach(as_user, vera, note):
    client = as_user(vera)
    response = client.post(
        reverse("api-annotation-reattach", args=[note.pk]),
        {"start": 0, "end": 3},
        format="json",
        HTTP_IF_MATCH=etag(client, note),
    )
    assert response.status_code == 403
