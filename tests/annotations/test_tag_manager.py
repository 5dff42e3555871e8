"""The library's tag manager page: every tag with its count and namespace colour, filter by
namespace, rename, merge with a preview of what moves, delete; who may do what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Annotation, Tag, TagNamespace
from tests.factories import make_annotation, make_text

TEXT = "Mao arrived in Moscow on 16 December 1949; Stalin received him that evening."


@pytest.fixture
def tagged(source, alice, library):
    text = make_text(source=source, text=TEXT, imported_by=alice)
    make_annotation(text=text, creator=alice, quote="Mao", tags=["person:Mao", "theme:face"])
    make_annotation(text=text, creator=alice, quote="Stalin", tags=["person:Mao Zedong"])
    make_annotation(
        text=text, creator=alice, quote="Moscow", tags=["person:Mao", "person:Mao Zedong"]
    )
    TagNamespace.objects.create(library=library, namespace="person", colour="#1f5f8b")
    return {tag.name: tag for tag in Tag.objects.filter(library=library)}


def page(library):
    return reverse("tag-manager", args=[library.slug])


def test_lists_every_tag_with_its_count_and_namespace_colour(as_user, vera, library, tagged):
    response = as_user(vera).get(page(library))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-tag="person:Mao Zedong" data-colour="#1f5f8b"' in content
    assert '<td class="count">2</td>' in content
    assert "Rename" not in content  # a viewer reads; owners and editors change
    assert 'aria-current="page">Tags</a>' in content


def test_filters_by_namespace(as_user, bob, library, tagged):
    content = as_user(bob).get(page(library), {"namespace": "theme"}).content.decode()
    assert 'data-tag="theme:face"' in content
    assert 'data-tag="person:Mao"' not in content


def test_outsider_gets_404_and_anonymous_visitor_signs_in(
    as_user, client, mallory, library, tagged
):
    assert as_user(mallory).get(page(library)).status_code == 404
    assert client.get(page(library)).status_code == 302
    rename = reverse("tag-rename", args=[tagged["person:Mao"].pk])
    assert as_user(mallory).post(rename, {"name": "person:X"}).status_code == 404


def test_editor_renames_a_tag_everywhere(as_user, bob, library, tagged):
    tag = tagged["theme:face"]
    response = as_user(bob).post(
        reverse("tag-rename", args=[tag.pk]), {"name": "theme:loss of face"}
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "theme:loss of face"
    assert Annotation.objects.filter(tags__name="theme:loss of face").count() == 1


def test_viewer_cannot_rename_merge_or_delete(as_user, vera, library, tagged):
    tag, other = tagged["person:Mao"], tagged["person:Mao Zedong"]
    client = as_user(vera)
    assert client.post(reverse("tag-rename", args=[tag.pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("tag-merge", args=[tag.pk]), {"into": other.pk}).status_code == 403
    assert client.post(reverse("tag-delete", args=[tag.pk])).status_code == 403
    assert Tag.objects.filter(pk=tag.pk, name="person:Mao").exists()


def test_an_empty_name_is_refused_at_the_tag(as_user, bob, library, tagged):
    tag = tagged["person:Mao"]
    response = as_user(bob).post(reverse("tag-rename", args=[tag.pk]), {"name": "  "})
    assert response.status_code == 400
    assert "A tag cannot be empty." in response.content.decode()


def test_merge_preview_shows_what_moves_then_merges(as_user, bob, library, tagged):
    tag, other = tagged["person:Mao"], tagged["person:Mao Zedong"]
    client = as_user(bob)
    preview = client.get(reverse("tag-merge", args=[tag.pk]), {"into": "PERSON:mao zedong"})
    content = preview.content.decode()
    assert preview.status_code == 200
    assert (
        "<strong>1</strong> annotations move to “person:Mao Zedong”; 1 already carries both"
        in content
    )
    assert Tag.objects.filter(pk=tag.pk).exists()  # a preview moves nothing
    response = client.post(reverse("tag-merge", args=[tag.pk]), {"into": other.pk})
    assert response.status_code == 302
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert Annotation.objects.filter(tags=other).count() == 3


def test_merge_into_an_unknown_tag_is_refused(as_user, bob, library, tagged):
    tag = tagged["person:Mao"]
    response = as_user(bob).get(reverse("tag-merge", args=[tag.pk]), {"into": "nobody"})
    assert response.status_code == 400
    assert "no other tag of this library has that name" in response.content.decode()


def test_delete_removes_the_tag_and_keeps_the_annotations(as_user, bob, library, tagged):
    tag = tagged["theme:face"]
    assert as_user(bob).get(reverse("tag-delete", args=[tag.pk])).status_code == 405
    assert as_user(bob).post(reverse("tag-delete", args=[tag.pk])).status_code == 302
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert Annotation.objects.count() == 3
