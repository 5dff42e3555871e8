"""Export and citation pages: choose, preview, download; cite a source, passage, claim."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import rispy
from django.core.cache import cache
from django.urls import include, path

from config.urls import urlpatterns as site_urlpatterns
from tests.factories import (
    make_annotation,
    make_claim,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

urlpatterns = [path("", include("citations.urls")), *site_urlpatterns]
pytestmark = pytest.mark.urls(__name__)

TODAY = dt.date.today().isoformat()
LIBRARY = {"library": "sino-soviet-relations"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def memo(library):
    source = make_source(
        library=library,
        title="Record of conversation with Mao Zedong",
        archive="Archive of Foreign Policy of the Russian Federation (AVP RF)",
        archive_place="Moscow",
        archive_location="f. 0100, op. 43, d. 43",
    )
    text = "Mao arrived.\n\nMao said the treaty mattered more than the loan."
    make_text(source=source, text=text, page_map=[[0, "l. 1"], [14, "l. 2"]])
    return source


@pytest.fixture
def quote(memo, alice):
    return make_annotation(
        text=memo.current_text, creator=alice, quote="the treaty mattered", comment="Key."
    )


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:3000]
    return response.content.decode()


def has_attribution(html: str) -> bool:
    return '<a href="https://citationstyles.org/">Citation Style Language</a>' in html


def no_inline_script(html: str) -> bool:
    return all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


# --- The export page -------------------------------------------------------------------


def test_without_a_selection_the_page_offers_the_visible_libraries(as_user, alice, mallory, memo):
    mine = page(as_user(alice).get("/export/"))
    assert "?library=sino-soviet-relations" in mine
    assert "sino-soviet-relations" not in page(as_user(mallory).get("/export/"))


def test_export_page_for_a_library_offers_formats_styles_and_notes(as_user, vera, memo):
    html = page(as_user(vera).get("/export/", LIBRARY))
    assert "<h1>Sino-Soviet relations</h1>" in html
    assert "1 source." in html
    assert html.count('<input type="hidden" name="library" value="sino-soviet-relations">') == 2
    assert '<option value="biblatex">' in html and '<option value="docx">' in html
    assert 'data-style-picker data-search-url="/api/citation-styles/"' in html
    assert 'value="chicago-notes-bibliography"' in html
    assert '<option value="ru-RU">' in html
    assert has_attribution(html) and no_inline_script(html)
    assert 'src="/static/js/style-picker.js"' in html


def test_export_page_names_a_search_and_a_claim_selection(as_user, alice, library, quote):
    claim = make_claim(library=library, creator=alice)
    make_evidence(claim=claim, annotation=quote, creator=alice)
    html = page(as_user(alice).get("/export/", {"claims": claim.pk}))
    assert "Sources quoted as evidence for 1 claim: 1 source." in html


def test_export_page_for_a_search_page_query(as_user, alice, memo):
    from search import index as search_index

    search_index.connect()
    make_text(source=memo, text="The treaty, again.")
    html = page(as_user(alice).get("/export/", {"search": "q=treaty&in=passage"}))
    assert "<h1>Search treaty</h1>" in html
    assert "Sources of the results of the search “treaty”: 1 source." in html
    assert 'name="search" value="q=treaty&amp;in=passage"' in html


def test_export_page_reports_a_malformed_selection(as_user, alice, library):
    html = page(as_user(alice).get("/export/", {"sources": "1,x"}), 400)
    assert "<strong>sources</strong>: &#x27;x&#x27; is not an id" in html
    assert "<form" not in html.split("</header>")[1].split("csl-attribution")[0]


def test_export_page_is_404_for_outsiders_and_asks_strangers_to_sign_in(as_user, mallory, memo):
    assert as_user(mallory).get("/export/", LIBRARY).status_code == 404
    response = as_user(None).get("/export/", LIBRARY)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/export/", "/export/download/", "/export/preview/"])
def test_export_pages_take_only_get(as_user, alice, url):
    assert as_user(alice).post(url, LIBRARY).status_code == 405


# --- Download --------------------------------------------------------------------------


def test_download_is_an_attachment_with_name_and_type(as_user, vera, memo):
    response = as_user(vera).get("/export/download/", LIBRARY | {"format": "ris"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sino-soviet-relations-{TODAY}.ris"'
    )
    [entry] = rispy.loads(response.content.decode())
    assert entry["accession_number"] == memo.archive_location


def test_download_of_research_notes_as_docx(as_user, alice, quote):
    params = LIBRARY | {"content": "document", "format": "docx"}
    response = as_user(alice).get("/export/download/", params)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'notes-sino-soviet-relations-{TODAY}.docx"')
    assert response.content[:2] == b"PK"


def test_bad_format_re_renders_the_form_listing_what_is_accepted(as_user, alice, memo):
    html = page(as_user(alice).get("/export/download/", LIBRARY | {"format": "pdf"}), 400)
    assert "Unknown format &#x27;pdf&#x27;. Accepted for content=bibliography: html, text" in html
    assert 'name="format"' in html  # the form is there to correct it


def test_unknown_style_is_shown_at_the_style_field(as_user, alice, memo):
    params = LIBRARY | {"format": "html", "style": "no-such-style"}
    html = page(as_user(alice).get("/export/download/", params), 400)
    assert 'class="errorlist" id="cite-style-error">Unknown citation style' in html
    assert 'value="no-such-style"' in html  # what was typed is kept


def test_download_is_404_for_outsiders(as_user, mallory, memo):
    response = as_user(mallory).get("/export/download/", LIBRARY | {"format": "ris"})
    assert response.status_code == 404


# --- Preview ---------------------------------------------------------------------------


def test_preview_shows_the_bibliography_with_attribution_and_download_link(as_user, vera, memo):
    params = LIBRARY | {"format": "ris", "style": "apa"}
    html = page(as_user(vera).get("/export/preview/", params))
    assert '<div class="csl-entry">Roshchin, N. V. (1950).' in html
    assert "APA" in html  # the style's title
    assert "/export/download/?library=sino-soviet-relations&amp;format=ris&amp;style=apa" in html
    assert has_attribution(html)


def test_preview_of_notes_and_of_research_notes(as_user, alice, quote):
    notes = page(as_user(alice).get("/export/preview/", LIBRARY | {"content": "notes"}))
    assert '<ol class="export-preview csl-notes"' in notes
    assert "f. 0100, op. 43, d. 43, Archive of Foreign Policy" in notes
    document = page(as_user(alice).get("/export/preview/", LIBRARY | {"content": "document"}))
    assert "the treaty mattered" in document and 'role="doc-endnotes"' in document
    assert "fol. 2" in document


def test_preview_shows_only_the_first_entries_of_a_long_bibliography(
    as_user, alice, library, memo, monkeypatch
):
    from citations import views as export_views

    make_source(library=library, title="Second record", archive="RGANI")
    monkeypatch.setattr(export_views, "PREVIEW_LIMIT", 1)
    html = page(as_user(alice).get("/export/preview/", LIBRARY))
    assert "Showing the first 1 of 2 entries" in html
    assert html.count('<div class="csl-entry">') == 1  # the bibliography itself


def test_preview_says_which_sources_the_style_leaves_out(as_user, alice, library, memo):
    make_source(library=library, title="Letter to a friend", csl_type="personal_communication")
    html = page(as_user(alice).get("/export/preview/", LIBRARY))
    assert "1 source this style cites in notes only" in html  # named, with the reason
    assert "letter to a friend" in html.casefold() and "personal communication" in html
    assert html.count('<div class="csl-entry">') == 1  # the bibliography itself
    assert '<div class="csl-entry"></div>' not in html


def test_preview_errors(as_user, alice, mallory, memo):
    assert as_user(mallory).get("/export/preview/", LIBRARY).status_code == 404
    html = page(as_user(alice).get("/export/preview/", LIBRARY | {"locale": "xx"}), 400)
    assert "Unknown locale" in html


# --- Citing a source -------------------------------------------------------------------


def test_source_cite_page_has_notes_entry_and_copy_buttons(as_user, vera, memo):
    params = {"locator": "2", "label": "folio"}
    html = page(as_user(vera).get(f"/sources/{memo.pk}/cite/", params))
    assert "f. 0100, op. 43, d. 43, fol. 2, Archive of Foreign Policy" in html
    assert 'id="entry-source" class="csl-entry">Roshchin, N. V.' in html
    assert f"[@{memo.citation_key}, fol. 2]" in html
    assert 'data-copy-citation data-copy-target="note-source"' in html
    assert 'src="/static/js/copy-citation.js"' in html
    assert has_attribution(html) and no_inline_script(html)


def test_source_cite_page_errors(as_user, alice, mallory, memo):
    html = page(as_user(alice).get(f"/sources/{memo.pk}/cite/", {"label": "shelf"}), 400)
    assert "Unknown label &#x27;shelf&#x27;. Accepted: act, appendix" in html
    assert as_user(mallory).get(f"/sources/{memo.pk}/cite/").status_code == 404
    assert as_user(alice).post(f"/sources/{memo.pk}/cite/").status_code == 405


# --- Citing a passage and a claim ------------------------------------------------------


def test_annotation_cite_page_shows_the_quote_and_its_footnote(as_user, vera, quote):
    html = page(as_user(vera).get(f"/annotations/{quote.pk}/cite/"))
    assert '<blockquote class="passage-quote" id="quote-' in html
    assert "the treaty mattered" in html
    assert 'Note <span class="muted">(fol. 2)</span>' in html
    assert f'data-copy-target="quote-{quote.pk} note-{quote.pk}"' in html
    assert has_attribution(html) and no_inline_script(html)


def test_annotation_cite_page_in_another_style(as_user, alice, quote):
    html = page(as_user(alice).get(f"/annotations/{quote.pk}/cite/", {"style": "apa"}))
    assert f'<dd id="short-{quote.pk}" class="csl-note">(Roshchin, 1950, Folio 2)' in html


def test_annotation_cite_page_errors(as_user, alice, vera, mallory, memo, quote):
    private = make_annotation(
        text=memo.current_text, creator=alice, quote="Mao arrived", visibility="private"
    )
    assert as_user(vera).get(f"/annotations/{private.pk}/cite/").status_code == 404
    assert as_user(mallory).get(f"/annotations/{quote.pk}/cite/").status_code == 404
    assert as_user(alice).post(f"/annotations/{quote.pk}/cite/").status_code == 405
    html = page(as_user(alice).get(f"/annotations/{quote.pk}/cite/", {"style": "x!"}), 400)
    assert "Unknown citation style" in html


def test_claim_cite_page_lists_the_evidence_with_stance(as_user, vera, alice, library, quote):
    claim = make_claim(library=library, creator=alice, statement="The treaty came first.")
    make_evidence(claim=claim, annotation=quote, creator=alice, note="In his own words.")
    html = page(as_user(vera).get(f"/claims/{claim.pk}/cite/"))
    assert "<h1>The treaty came first.</h1>" in html
    assert "Supports · In his own words." in html
    assert "fol. 2" in html
    assert f'href="/export/?claims={claim.pk}"' in html


def test_claim_cite_page_errors(as_user, alice, mallory, library):
    claim = make_claim(library=library, creator=alice)
    assert as_user(mallory).get(f"/claims/{claim.pk}/cite/").status_code == 404
    assert as_user(alice).post(f"/claims/{claim.pk}/cite/").status_code == 405
    html = page(as_user(alice).get(f"/claims/{claim.pk}/cite/"))
    assert "No quotation you can see is brought as evidence" in html
    assert "Unknown locale" in page(
        as_user(alice).get(f"/claims/{claim.pk}/cite/", {"locale": "zz"}), 400
    )


def test_passage_partial_fetches_lazily_when_given_only_a_url(rf, quote):
    from django.template.loader import render_to_string

    url = f"/api/annotations/{quote.pk}/citation/"
    html = render_to_string("citations/_passage_citation.html", {"citation_url": url})
    assert f'data-citation-url="{url}" data-copy-part="full_note"' in html
    assert 'data-copy-part="quoted"' in html


def test_public_library_pages_are_open_to_anonymous_readers(as_user, alice, memo, quote):
    other = make_library(owner=alice, name="Open archive", is_public=True)
    source = make_source(library=other, title="Published memo", archive="Hoover Institution")
    html = page(as_user(None).get("/export/preview/", {"library": other.slug}))
    assert "Published Memo" in html
    assert as_user(None).get(f"/sources/{source.pk}/cite/").status_code == 200
