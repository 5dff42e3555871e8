"""Provenance links between sources, made and removed on the source page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sources.models import SourceLink
from tests.factories import make_library, make_source


@pytest.fixture
def article(library):
    return make_source(
        library=library,
        title="Face and something delicious",
        kind="secondary",
        csl_type="article-magazine",
        issued="2013",
        creators=[{"family": "Radchenko", "given": "Sergey"}],
    )


def link(client, subject, obj, relation="quotes", note=""):
    data = {"relation": relation, "object": obj.citation_key, "note": note}
    return client.post(reverse("link-create", args=[subject.pk]), data)


def test_editor_links_two_sources_and_both_pages_show_it(as_user, bob, vera, article, source):
    response = link(as_user(bob), article, source, note="quotes the 1 January talk")
    assert response.status_code == 302
    made = SourceLink.objects.get()
    assert (made.subject, made.relation, made.object, made.created_by) == (
        article,
        "quotes",
        source,
        bob,
    )
    on_article = as_user(vera).get(article.get_absolute_url()).content.decode()
    assert "This source quotes" in on_article and source.title in on_article
    assert "quotes the 1 January talk" in on_article
    on_record = as_user(vera).get(source.get_absolute_url()).content.decode()
    assert "This source is quoted by" in on_record and article.title in on_record


def test_the_form_offers_only_other_sources_of_the_same_library(
    as_user, bob, alice, article, source
):
    elsewhere = make_source(library=make_library(owner=alice, name="Other"), title="Elsewhere")
    response = as_user(bob).get(article.get_absolute_url())
    offered = [key for key, _, _ in response.context["link_form"].suggestions()]
    assert offered == [source.citation_key]
    assert f'<option value="{source.citation_key}">Record of conversation' in (
        response.content.decode()
    )
    assert elsewhere.citation_key not in response.content.decode()


def test_viewer_sees_links_but_no_form(as_user, vera, article, source):
    SourceLink.objects.create(
        library=article.library, subject=article, object=source, relation="cites"
    )
    content = as_user(vera).get(article.get_absolute_url()).content.decode()
    assert "This source cites" in content
    assert reverse("link-create", args=[article.pk]) not in content
    assert "Remove" not in content


@pytest.mark.parametrize(
    ("field", "relation", "other"),
    [
        ("object", "quotes", "missing"),
        ("object", "quotes", "itself"),
        ("object", "quotes", "elsewhere"),
        ("object", "quotes", "unknown-key"),
        ("relation", "admires", "record"),
    ],
)
def test_invalid_link_is_400_naming_the_field(
    field, relation, other, as_user, bob, alice, article, source
):
    elsewhere = make_source(library=make_library(owner=alice, name="Other"), title="Elsewhere")
    keys = {
        "itself": article.citation_key,
        "elsewhere": elsewhere.citation_key,
        "unknown-key": "nobody1999nothing",
        "record": source.citation_key,
    }
    data = {"relation": relation, **({"object": keys[other]} if other in keys else {})}
    response = as_user(bob).post(reverse("link-create", args=[article.pk]), data)
    assert response.status_code == 400
    assert list(response.context["link_form"].errors) == [field]
    assert 'id="link-form"' in response.content.decode()
    assert not SourceLink.objects.exists()


def test_the_same_link_twice_is_400(as_user, bob, article, source):
    assert link(as_user(bob), article, source).status_code == 302
    response = link(as_user(bob), article, source)
    assert response.status_code == 400
    assert "already linked" in " ".join(response.context["link_form"].errors["object"])
    assert SourceLink.objects.count() == 1


def test_viewer_cannot_link(as_user, vera, article, source):
    assert link(as_user(vera), article, source).status_code == 403
    assert not SourceLink.objects.exists()


def test_editor_removes_a_link_and_returns_to_the_page(as_user, bob, article, source):
    made = SourceLink.objects.create(
        library=article.library, subject=article, object=source, relation="quotes"
    )
    back = source.get_absolute_url()
    response = as_user(bob).post(reverse("link-delete", args=[made.pk]), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert not SourceLink.objects.exists()


def test_removing_a_link_never_redirects_off_site(as_user, bob, article, source):
    made = SourceLink.objects.create(
        library=article.library, subject=article, object=source, relation="quotes"
    )
    data = {"next": "https://evil.example/"}
    response = as_user(bob).post(reverse("link-delete", args=[made.pk]), data)
    assert response["Location"] == article.get_absolute_url()


def test_outsider_cannot_remove_a_link(as_user, mallory, article, source):
    made = SourceLink.objects.create(
        library=article.library, subject=article, object=source, relation="quotes"
    )
    assert as_user(mallory).post(reverse("link-delete", args=[made.pk])).status_code == 404
    assert SourceLink.objects.filter(pk=made.pk).exists()
