"""The text-reuse pages: shared passages, the compilation view, other occurrences of a
passage, recording a link, and the source page's panel."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from sources.models import LinkRelation, SourceLink, SourceText
from sources.reuse.models import SourceLinkPassage
from tests.factories import make_library, make_source, make_text
from tests.sources.reuse.test_texts import (
    BORDER_ARTICLE,
    CHINESE_HISTORY,
    ROSHCHIN_RECORD,
    TREATY_ESSAY,
    compilation,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Detections are cached by text and library; each test starts from nothing."""
    cache.clear()


pytestmark = pytest.mark.django_db


def _add(library, user, key: str, paragraphs: list[str], **fields) -> SourceText:
    source = make_source(library=library, title=f"The {key}", citation_key=key, **fields)
    return make_text(source=source, text="\n\n".join(paragraphs), imported_by=user)


@pytest.fixture
def essay(library, alice) -> SourceText:
    return _add(library, alice, "essay", TREATY_ESSAY, issued="1995", kind="secondary")


@pytest.fixture
def compiled(library, alice, essay) -> SourceText:
    _add(library, alice, "border", BORDER_ARTICLE, issued="2005", kind="secondary")
    _add(library, alice, "record", ROSHCHIN_RECORD, issued="1950-01-01", language="ru")
    _add(library, alice, "chinese", CHINESE_HISTORY, issued="2001", language="zh")
    return _add(library, alice, "compilation", [compilation()], csl_type="webpage", issued="")


def _url(name: str, text: SourceText, **query) -> str:
    query.setdefault("revision", text.revision)
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return f"{reverse(name, args=[text.source_id])}?{params}"


def _visible(html: bytes) -> str:
    """The page's text without tags, so assertions read like what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html.decode()))


# Shared passages


def test_shared_passages_page_lists_each_original_with_aligned_differences(as_user, vera, compiled):
    response = as_user(vera).get(_url("reuse-source", compiled))
    assert response.status_code == 200
    page = response.content.decode()
    for title in ("The essay", "The border", "The record", "The chinese"):
        assert f">{title}</a></h2>" in page
    # The scraper dropped "1949": the original's year is marked as a difference.
    assert '<mark class="reuse-diff">1949</mark>' in page
    assert '<mark class="reuse-diff">spring</mark>' in page
    assert '<mark class="reuse-diff">summer</mark>' in page


def test_direction_is_suggested_from_the_dates(as_user, vera, library, alice, essay):
    later = _add(library, alice, "later", [TREATY_ESSAY[1]], issued="2010")
    page = _visible(as_user(vera).get(_url("reuse-source", later)).content)
    assert "“The essay” is dated earlier (1995) than this source (2010)" in page


def test_direction_is_unknown_when_a_source_is_undated(as_user, vera, compiled):
    page = _visible(as_user(vera).get(_url("reuse-source", compiled)).content)
    assert "Unknown: this source is undated." in page


def test_a_text_sharing_nothing_says_so(as_user, vera, essay):
    response = as_user(vera).get(_url("reuse-source", essay))
    assert response.status_code == 200
    assert "No shared passages found in this library" in _visible(response.content)


def test_viewer_sees_no_record_link_form(as_user, vera, bob, compiled):
    assert b"Record link" not in as_user(vera).get(_url("reuse-source", compiled)).content
    assert b"Record link" in as_user(bob).get(_url("reuse-source", compiled)).content


def test_shared_passages_page_hides_a_private_library(as_user, mallory, compiled):
    assert as_user(mallory).get(_url("reuse-source", compiled)).status_code == 404


def test_shared_passages_page_asks_anonymous_visitors_to_sign_in(as_user, compiled):
    response = as_user(None).get(_url("reuse-source", compiled))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_public_library_shows_shared_passages_to_anyone(as_user, alice):
    library = make_library(owner=alice, name="Published", is_public=True)
    _add(library, alice, "essay", TREATY_ESSAY, issued="1995")
    copy = _add(library, alice, "copy", [TREATY_ESSAY[2]])
    response = as_user(None).get(_url("reuse-source", copy))
    assert response.status_code == 200 and b"The essay" in response.content


def test_shared_passages_page_refuses_post(as_user, bob, compiled):
    assert as_user(bob).post(_url("reuse-source", compiled)).status_code == 405


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"revision": 7}, "revision"),
        ({"min_words": "two"}, "min_words"),
        ({"min_words": 2}, "min_words"),
    ],
)
def test_shared_passages_page_rejects_bad_options(as_user, vera, compiled, query, field):
    response = as_user(vera).get(_url("reuse-source", compiled, **query))
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_min_words_narrows_the_passages(as_user, vera, compiled):
    many = as_user(vera).get(_url("reuse-source", compiled)).context["report"]
    few = as_user(vera).get(_url("reuse-source", compiled, min_words=45)).context["report"]
    assert sum(len(m.passages) for m in few.matches) < sum(len(m.passages) for m in many.matches)
    assert all(p.length >= 45 for m in few.matches for p in m.passages)


# The compilation view


def test_compilation_view_attributes_each_paragraph_with_its_share(as_user, vera, compiled):
    response = as_user(vera).get(_url("reuse-compilation", compiled))
    assert response.status_code == 200
    attribution = response.context["attribution"]
    titles = [[s.origin.text.source.title for s in p.shares] for p in attribution.paragraphs]
    assert titles == [
        [],
        ["The border"],
        ["The essay"],
        ["The record"],
        [],
        ["The essay"],
        ["The border"],
        ["The chinese"],
        ["The chinese"],
        ["The essay"],
        [],
    ]
    assert all(p.share > 0.9 for p in attribution.paragraphs if p.shares)
    assert 0.8 < attribution.share < 1
    page = _visible(response.content)
    assert "of this text (" in page and "words) is found in 4 other sources" in page
    assert "No original found in this library." in page


def test_compilation_view_names_what_an_original_itself_draws_on(as_user, vera, library, compiled):
    essay = library.sources.get(citation_key="essay")
    record = library.sources.get(citation_key="record")
    SourceLink.objects.create(library=library, subject=essay, relation="quotes", object=record)
    page = _visible(as_user(vera).get(_url("reuse-compilation", compiled)).content)
    assert "quotes The record" in page


def test_compilation_view_of_an_original_text_finds_nothing(as_user, vera, essay):
    response = as_user(vera).get(_url("reuse-compilation", essay))
    assert response.context["attribution"].share == 0
    assert "No shared passages found in this library" in _visible(response.content)


def test_compilation_view_checks_access_method_and_input(as_user, vera, mallory, compiled):
    assert as_user(mallory).get(_url("reuse-compilation", compiled)).status_code == 404
    assert as_user(vera).post(_url("reuse-compilation", compiled)).status_code == 405
    response = as_user(vera).get(_url("reuse-compilation", compiled, revision="x"))
    assert response.status_code == 400 and "revision" in response.context["form"].errors


# Other occurrences of a highlighted passage


def _span(text: SourceText, quote: str) -> dict:
    start = text.text.index(quote)
    return {"start": start, "end": start + len(quote)}


def test_a_highlighted_passage_shows_its_occurrences_in_other_sources(
    as_user, vera, essay, compiled
):
    quote = "the Chinese delegation had expected. After a short meeting in the Kremlin"
    response = as_user(vera).get(_url("reuse-passage", essay, **_span(essay, quote)))
    assert response.status_code == 200
    found = response.context["found"]
    assert [text.source.title for text, _ in found.elsewhere] == ["The compilation"]
    assert "in 1 place in other sources" in _visible(response.content)


def test_the_fragment_answers_with_the_results_alone(as_user, vera, essay, compiled):
    quote = "the Chinese delegation had expected. After a short meeting in the Kremlin"
    response = as_user(vera).get(_url("reuse-passage", essay, fragment=1, **_span(essay, quote)))
    assert response.status_code == 200
    assert b"<html" not in response.content and b"The compilation" in response.content


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": 10, "end": 5}, "end"),
        ({"start": 0, "end": 10**6}, "end"),
        ({"start": 0, "end": 12}, "end"),  # "In December": two words
        ({"start": "a", "end": 40}, "start"),
        ({"end": 40}, "start"),
    ],
)
def test_a_bad_passage_is_refused_naming_the_field(as_user, vera, essay, query, field):
    response = as_user(vera).get(_url("reuse-passage", essay, **query))
    assert response.status_code == 400
    assert field in response.context["form"].errors


def test_passage_search_checks_access_and_method(as_user, vera, mallory, essay):
    query = {"start": 0, "end": 60}
    assert as_user(mallory).get(_url("reuse-passage", essay, **query)).status_code == 404
    assert as_user(vera).post(_url("reuse-passage", essay, **query)).status_code == 405


# Recording a link


def _record(client, text: SourceText, other: SourceText, **fields):
    data = {"revision": text.revision, "other_text": other.pk, "relation": "derived-from"}
    data |= {"borrower": "this"} | fields
    return client.post(reverse("reuse-link", args=[text.source_id]), data)


def test_editor_records_a_link_with_the_passages_as_evidence(as_user, bob, essay, compiled):
    response = _record(as_user(bob), compiled, essay)
    assert response.status_code == 302
    link = SourceLink.objects.get()
    assert (link.subject, link.relation, link.object) == (
        compiled.source,
        LinkRelation.DERIVED_FROM,
        essay.source,
    )
    evidence = list(SourceLinkPassage.objects.filter(link=link))
    assert len(evidence) == 3
    assert {e.subject_text for e in evidence} == {compiled}
    assert any(e.object_quote.startswith("The reception in the Soviet capital") for e in evidence)
    assert all(e.created_by == bob for e in evidence)


def test_recording_the_other_direction_swaps_subject_and_object(as_user, bob, essay, compiled):
    _record(as_user(bob), essay, compiled, borrower="other", relation="quotes")
    link = SourceLink.objects.get()
    assert (link.subject, link.relation, link.object) == (compiled.source, "quotes", essay.source)
    evidence = link.passages.first()
    assert evidence.subject_text == compiled and evidence.object_text == essay


def test_recording_twice_adds_no_duplicate_evidence(as_user, bob, essay, compiled):
    _record(as_user(bob), compiled, essay)
    response = _record(as_user(bob), compiled, essay)
    assert response.status_code == 302
    assert SourceLink.objects.count() == 1 and SourceLinkPassage.objects.count() == 3


def test_recording_redirects_to_a_safe_next_page_only(as_user, bob, essay, compiled):
    here = reverse("source-detail", args=[compiled.source_id])
    assert _record(as_user(bob), compiled, essay, next=here)["Location"] == here
    response = _record(as_user(bob), compiled, essay, next="https://evil.example/")
    assert response["Location"].startswith(reverse("reuse-source", args=[compiled.source_id]))


def test_viewer_cannot_record_a_link(as_user, vera, essay, compiled):
    assert _record(as_user(vera), compiled, essay).status_code == 403
    assert not SourceLink.objects.exists()


def test_outsider_cannot_record_a_link(as_user, mallory, essay, compiled):
    assert _record(as_user(mallory), compiled, essay).status_code == 404


def test_recording_refuses_get(as_user, bob, compiled):
    assert as_user(bob).get(reverse("reuse-link", args=[compiled.source_id])).status_code == 405


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"relation": "cites"}, "relation"),
        ({"borrower": "both"}, "borrower"),
        ({"other_text": "x"}, "other_text"),
        ({"revision": 9}, "revision"),
    ],
)
def test_recording_rejects_bad_fields(as_user, bob, essay, compiled, fields, field):
    response = _record(as_user(bob), compiled, essay, **fields)
    assert response.status_code == 400
    assert field in response.context["link_form"].errors
    assert not SourceLink.objects.exists()


def test_recording_refuses_a_text_of_another_library(as_user, bob, alice, compiled):
    elsewhere = make_library(owner=alice, name="Elsewhere")
    add_to = _add(elsewhere, alice, "foreign", TREATY_ESSAY)
    response = _record(as_user(bob), compiled, add_to)
    assert response.status_code == 400 and "other_text" in response.context["link_form"].errors


def test_recording_refuses_texts_sharing_nothing(as_user, bob, library, alice, essay):
    unrelated = _add(library, alice, "unrelated", ["Nothing in common with anything here at all."])
    response = _record(as_user(bob), unrelated, essay)
    assert response.status_code == 400 and "other_text" in response.context["link_form"].errors
    assert not SourceLink.objects.exists()


# The source page's panel


def _panel(user, text: SourceText) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load reuse_tags %}{% reuse_panel shown %}")
    return template.render(Context({"request": request, "shown": text}))


def test_panel_lists_passages_also_found_in_other_sources(bob, compiled):
    html = _panel(bob, compiled)
    assert "Passages also found in" in html and "The essay" in html
    assert 'action="/sources/' in html and "Record link" in html


def test_panel_offers_no_form_to_a_viewer(vera, compiled):
    html = _panel(vera, compiled)
    assert "Passages also found in" in html and "Record link" not in html


def test_panel_says_when_nothing_is_shared_and_lists_repeats(bob, library, alice):
    line = "In December , Mao Zedong traveled to Moscow, for his first trip abroad."
    text = _add(library, alice, "scraped", [f"{line} Between the two, other words. {line}"])
    html = _panel(bob, text)
    assert "No shared passages found in this library" in html
    assert "Repeated within this text" in html


def test_panel_is_empty_without_a_text(bob):
    assert _panel(bob, None).strip() == ""


def test_dated_sources_get_a_one_click_record_button(as_user, bob, library, alice, essay):
    later = _add(library, alice, "later", [TREATY_ESSAY[1]], issued="2010", kind="secondary")
    page = _visible(as_user(bob).get(_url("reuse-source", later)).content)
    assert "Record: this source is derived from “The essay”" in page


def test_a_primary_origin_is_offered_as_quoted(as_user, bob, library, alice):
    _add(library, alice, "record", ROSHCHIN_RECORD, issued="1950-01-01", kind="primary")
    article = _add(library, alice, "article", ["Он писал: " + ROSHCHIN_RECORD[2]], issued="1999")
    page = _visible(as_user(bob).get(_url("reuse-source", article)).content)
    assert "Record: this source quotes “The record”" in page


def test_the_source_page_carries_the_panel(as_user, vera, compiled):
    response = as_user(vera).get(reverse("source-detail", args=[compiled.source_id]))
    assert response.status_code == 200
    page = _visible(response.content)
    assert "Shared passages" in page and "Passages also found in The essay" in page
