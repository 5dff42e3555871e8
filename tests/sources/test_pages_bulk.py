"""Bulk actions on the library page: tag, move to another library the user edits, export,
delete; each move or deletion says first what goes with the sources."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.models import Evidence
from annotations.models import Annotation, Tag
from sources.models import Library, Role, Source, SourceLink
from sources.reuse.models import ReuseFingerprint
from tests.factories import (
    add_member,
    make_annotation,
    make_claim,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

TEXT = (
    "Mao arrived in Moscow on 16 December 1949; Stalin received him that evening in the "
    "Kremlin and they spoke for two hours about the treaty and the loan and the railway."
)


@pytest.fixture
def world(library, alice, bob):
    first = make_source(library=library, title="First record", citation_key="roshchin1950record")
    second = make_source(library=library, title="Second record", citation_key="second")
    stays = make_source(library=library, title="Stays behind", citation_key="stays")
    text = make_text(source=first, text=TEXT, imported_by=alice)
    note = make_annotation(
        text=text, creator=bob, quote="Stalin received him", tags=["person:Stalin"]
    )
    claim = make_claim(library=library, creator=alice, statement="Stalin saw Mao at once.")
    make_evidence(claim=claim, annotation=note, creator=alice)
    SourceLink.objects.create(library=library, subject=first, object=second, relation="cites")
    SourceLink.objects.create(library=library, subject=first, object=stays, relation="quotes")
    other = make_library(owner=bob, name="Bob's drafts")
    make_source(library=other, title="Already there", citation_key="roshchin1950record")
    return {"first": first, "second": second, "stays": stays, "note": note, "other": other}


def bulk(library) -> str:
    return reverse("library-bulk", args=[library.slug])


def test_the_library_page_offers_the_bulk_actions_to_editors_only(
    as_user, bob, vera, library, world
):
    page = reverse("library-detail", args=[library.slug])
    editor = as_user(bob).get(page).content.decode()
    assert f'name="sources" value="{world["first"].pk}"' in editor
    assert '<option value="bobs-drafts">Bob&#x27;s drafts</option>' in editor
    assert 'name="sources"' not in as_user(vera).get(page).content.decode()


def test_tag_adds_keywords_once_each(as_user, bob, library, world):
    first, second = world["first"], world["second"]
    Source.objects.filter(pk=first.pk).update(keywords=["Treaty"])
    data = {
        "action": "tag",
        "sources": [first.pk, second.pk],
        "keywords": "treaty, Sino-Soviet alliance",
    }
    assert as_user(bob).post(bulk(library), data).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.keywords == ["Treaty", "Sino-Soviet alliance"]
    assert second.keywords == ["treaty", "Sino-Soviet alliance"]
    assert first.history.count() >= 2  # the change is in the source's history


def test_move_says_first_what_goes_and_what_cannot_cross(as_user, bob, library, world):
    data = {
        "action": "move",
        "sources": [world["first"].pk, world["second"].pk],
        "target": "bobs-drafts",
    }
    response = as_user(bob).post(bulk(library), data)
    content = response.content.decode()
    assert response.status_code == 200
    assert "1 annotation" in content and "1 links between the moved sources" in content
    assert "1 evidence" in content and "1 links to sources that stay behind" in content
    assert Source.objects.get(pk=world["first"].pk).library == library  # nothing moved yet


def test_move_takes_texts_annotations_and_tags_to_the_other_library(as_user, bob, library, world):
    other, note = world["other"], world["note"]
    data = {
        "action": "move",
        "sources": [world["first"].pk, world["second"].pk],
        "target": "bobs-drafts",
        "confirm": "1",
    }
    assert as_user(bob).post(bulk(library), data).status_code == 302
    first = Source.objects.get(pk=world["first"].pk)
    assert first.library == other and first.citation_key != "roshchin1950record"
    note.refresh_from_db()
    assert note.library == other and note.version == 2
    assert [t.library_id for t in note.tags.all()] == [other.pk]
    assert Tag.objects.filter(library=library, name="person:Stalin").exists()  # theirs stays
    assert not Evidence.objects.exists()
    assert list(SourceLink.objects.values_list("library_id", "relation")) == [(other.pk, "cites")]
    assert set(ReuseFingerprint.objects.values_list("library_id", flat=True)) <= {other.pk}
    assert Source.objects.get(pk=world["stays"].pk).library == library


def test_move_needs_a_library_the_user_edits(as_user, alice, bob, library, world):
    add_member(library=world["other"], user=alice, role=Role.VIEWER)
    data = {
        "action": "move",
        "sources": [world["first"].pk],
        "target": "bobs-drafts",
        "confirm": "1",
    }
    response = as_user(alice).post(bulk(library), data)
    assert response.status_code == 400
    assert "Choose another library that you may edit." in response.content.decode()
    assert Source.objects.get(pk=world["first"].pk).library == library


def test_export_goes_to_the_export_page_with_the_chosen_sources(as_user, vera, library, world):
    data = {"action": "export", "sources": [world["first"].pk, world["second"].pk]}
    response = as_user(vera).post(bulk(library), data)
    assert response.status_code == 302
    assert response["Location"] == f"/export/?sources={world['first'].pk},{world['second'].pk}"


def test_delete_shows_what_goes_then_deletes(as_user, bob, library, world):
    data = {"action": "delete", "sources": [world["first"].pk]}
    summary = as_user(bob).post(bulk(library), data).content.decode()
    assert "1 annotation" in summary and "data-undo-delay" in summary
    assert Source.objects.filter(pk=world["first"].pk).exists()
    response = as_user(bob).post(bulk(library), {**data, "confirm": "1"})
    assert response.status_code == 302
    assert not Source.objects.filter(pk=world["first"].pk).exists()
    assert not Annotation.objects.exists()


def test_who_may_do_what(as_user, client, vera, mallory, bob, library, world):
    data = {"action": "delete", "sources": [world["first"].pk], "confirm": "1"}
    assert as_user(vera).post(bulk(library), data).status_code == 403
    assert as_user(mallory).post(bulk(library), data).status_code == 404
    assert as_user(bob).get(bulk(library)).status_code == 405
    assert client.post(bulk(library), data).status_code == 302  # to sign in
    assert Source.objects.filter(pk=world["first"].pk).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "tag", "sources": ["x"], "keywords": "a"}, "sources"),
        ({"action": "tag", "keywords": "a"}, "sources"),
        ({"action": "tag", "sources": ["1"], "keywords": " , "}, "keywords"),
        ({"action": "shred", "sources": ["1"]}, "action"),
    ],
)
def test_bad_input_is_refused_naming_the_field(as_user, bob, library, world, data, field):
    if data.get("sources") == ["1"]:
        data = {**data, "sources": [world["first"].pk]}
    response = as_user(bob).post(bulk(library), data)
    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()


def test_sources_of_another_library_cannot_be_chosen(as_user, bob, library, world):
    foreign = Library.objects.get(slug="bobs-drafts").sources.get()
    data = {"action": "delete", "sources": [foreign.pk], "confirm": "1"}
    assert as_user(bob).post(bulk(library), data).status_code == 400
    assert Source.objects.filter(pk=foreign.pk).exists()
