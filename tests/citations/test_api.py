"""The export and citation API: files for any selection, notes for sources, passages and
claims; read back by pandoc, rispy and our own importer."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import zipfile

import pytest
import rispy
from django.core.cache import cache
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from citations import engine as citations
from config.urls import urlpatterns as site_urlpatterns
from sources.csl import csl_to_fields
from sources.metadata_import import bibtex_records, ris_records
from tests.factories import (
    make_annotation,
    make_claim,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

# The export URLs ahead of the site's, whether or not config/urls.py includes them yet.
urlpatterns = [path("", include("citations.urls")), *site_urlpatterns]
pytestmark = pytest.mark.urls(__name__)

EXPORT = "/api/export/"
TODAY = dt.date.today().isoformat()
FILE_FORMATS = {
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
    "biblatex": ("application/x-bibtex; charset=utf-8", "bib"),
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "html": ("text/html; charset=utf-8", "html"),
    "text": ("text/plain; charset=utf-8", "txt"),
    "markdown": ("text/markdown; charset=utf-8", "md"),
}
DOCUMENT_FORMATS = {
    "markdown": ("text/markdown; charset=utf-8", "md"),
    "pandoc": ("application/zip", "zip"),
    "html": ("text/html; charset=utf-8", "html"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def memo(library, alice):
    """An archival document with a translator, an uncertain date and a paginated text."""
    source = make_source(
        library=library,
        title="Record of conversation with Mao Zedong",
        issued="1950-01-01?",
        archive="Archive of Foreign Policy of the Russian Federation (AVP RF)",
        archive_place="Moscow",
        archive_collection="Fond of Molotov",
        archive_location="f. 0100, op. 43, d. 43",
        language="ru",
        creators=[
            {"family": "Roshchin", "given": "N. V."},
            {"role": "translator", "family": "Weathersby", "given": "Kathryn"},
        ],
    )
    text = "Mao arrived.\n\nMao said the treaty mattered more than the loan."
    make_text(source=source, text=text, page_map=[[0, "l. 1"], [14, "l. 2"]])
    return source


@pytest.fixture
def article(library):
    return make_source(
        library=library,
        title="The Sino-Soviet Alliance",
        csl_type="article-journal",
        kind="secondary",
        container_title="Cold War History",
        issued="2001",
        creators=[{"family": "Shen", "given": "Zhihua"}],
    )


@pytest.fixture
def quote(memo, alice):
    return make_annotation(text=memo.current_text, creator=alice, quote="the treaty mattered")


def download(response, fmt: str, *, formats=FILE_FORMATS, stem="sino-soviet-relations"):
    """The body of a download, after checking its type and file name."""
    assert response.status_code == 200, response.content[:2000]
    content_type, extension = formats[fmt]
    assert response["Content-Type"] == content_type
    stem += "-bibtex" if fmt == "bibtex" else ""  # BibLaTeX and BibTeX downloads differ (#20)
    assert response["Content-Disposition"] == (f'attachment; filename="{stem}-{TODAY}.{extension}"')
    return response.content


def errors(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:2000]
    return response.json()


# --- /api/export/ ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_every_format_downloads_with_its_type_and_name(as_user, vera, memo, article, fmt):
    body = download(
        as_user(vera).get(EXPORT, {"library": "sino-soviet-relations", "format": fmt}), fmt
    )
    assert b"Roshchin" in body and b"Shen" in body


def test_zotero_readers_get_archive_fields_translator_and_dates_from_ris(as_user, alice, memo):
    response = as_user(alice).get(EXPORT, {"sources": memo.pk, "format": "ris"})
    body = download(response, "ris", stem="record-of-conversation-with-mao-zedong")
    [entry] = rispy.loads(body.decode())
    assert entry["type_of_reference"] == "MANSCPT"
    assert entry["name_of_database"] == memo.archive
    assert entry["accession_number"] == memo.archive_location
    assert entry["subsidiary_authors"] == ["Weathersby, Kathryn"]
    assert entry["date"] == "1950/01/01/?"
    assert f"archive_collection: {memo.archive_collection}" in entry["unknown_tag"]["M2"]
    [record] = ris_records(body.decode())
    fields, creators = csl_to_fields(record)
    assert fields["issued"] == "1950-01-01?"
    assert (fields["archive"], fields["archive_location"]) == (memo.archive, memo.archive_location)
    assert {(c["role"], c["family"]) for c in creators} == {
        ("author", "Roshchin"),
        ("translator", "Weathersby"),
    }


def test_pandoc_reads_the_csl_json_and_biblatex_downloads(as_user, alice, memo, tmp_path):
    client = as_user(alice)
    for fmt, reader in (("csl-json", "csljson"), ("biblatex", "biblatex")):
        response = client.get(EXPORT, {"library": "sino-soviet-relations", "format": fmt})
        (tmp_path / fmt).write_bytes(download(response, fmt))
        command = [citations.pandoc_path(), str(tmp_path / fmt), "-f", reader, "-t", "csljson"]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        [item] = json.loads(result.stdout)
        assert item["id"] == memo.citation_key
        assert item["title"] == memo.title
        if fmt == "csl-json":  # biber's data model has no translator for @unpublished
            assert item["translator"] == [{"family": "Weathersby", "given": "Kathryn"}]
        assert item["issued"]["date-parts"] == [[1950, 1, 1]]


def test_our_importer_reads_the_bibtex_download_back(as_user, alice, memo):
    response = as_user(alice).get(EXPORT, {"library": "sino-soviet-relations", "format": "bibtex"})
    [record] = bibtex_records(download(response, "bibtex").decode())
    fields, _ = csl_to_fields(record)
    assert (fields["archive"], fields["archive_location"]) == (memo.archive, memo.archive_location)
    assert fields["citation_key"] == memo.citation_key


def test_formatted_bibliography_is_chicago_with_the_attribution(as_user, alice, memo, article):
    response = as_user(alice).get(EXPORT, {"library": "sino-soviet-relations", "format": "text"})
    text = download(response, "text").decode()
    assert text.startswith("Bibliography: Sino-Soviet relations\n\n")
    assert text.index("Roshchin, N. V.") < text.index("Shen, Zhihua.")
    html = as_user(alice).get(
        EXPORT, {"library": "sino-soviet-relations", "format": "html", "content": "notes"}
    )
    page = download(html, "html", stem="sino-soviet-relations-notes").decode()
    assert '<ol class="csl-bib-body">' in page and "https://citationstyles.org/" in page


def test_any_style_and_locale_of_the_collection(as_user, alice, article):
    params = {"sources": article.pk, "format": "text", "style": "apa", "locale": "de"}
    text = download(as_user(alice).get(EXPORT, params), "text", stem="the-sino-soviet-alliance")
    assert "Shen, Z. (2001). The Sino-Soviet Alliance. Cold War History." in text.decode()
    params["style"] = "harvard-cite-them-right"
    assert as_user(alice).get(EXPORT, params).status_code == 200


@pytest.mark.parametrize("fmt", DOCUMENT_FORMATS)
def test_research_notes_document_downloads(as_user, alice, quote, fmt):
    params = {"library": "sino-soviet-relations", "content": "document", "format": fmt}
    response = as_user(alice).get(EXPORT, params)
    body = download(response, fmt, formats=DOCUMENT_FORMATS, stem="notes-sino-soviet-relations")
    if fmt == "docx":
        with zipfile.ZipFile(io.BytesIO(body)) as docx:
            assert "the treaty mattered" in docx.read("word/document.xml").decode()
            assert "fol. 2" in docx.read("word/footnotes.xml").decode()
    elif fmt == "pandoc":
        assert "notes.md" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    else:
        assert "the treaty mattered" in body.decode()


def test_post_takes_the_selection_as_a_json_list(as_user, alice, memo, article):
    body = {"sources": [article.pk, memo.pk], "format": "csl-json"}
    response = as_user(alice).post(EXPORT, body, format="json")
    items = json.loads(download(response, "csl-json", stem="2-sources"))
    assert [item["title"] for item in items] == [article.title, memo.title]


def test_ids_is_an_alias_of_sources_and_keeps_their_order(as_user, alice, memo, article):
    response = as_user(alice).get(EXPORT, {"ids": f"{memo.pk},{article.pk}", "format": "csl-json"})
    assert [i["title"] for i in response.json()] == [memo.title, article.title]


def test_keys_shared_by_two_libraries_are_qualified_not_clashing(as_user, alice, memo):
    other = make_library(owner=alice, name="Second library")
    twin = make_source(library=other, title=memo.title, issued=memo.issued)
    assert twin.citation_key == memo.citation_key
    ids = f"{memo.pk},{twin.pk}"
    text = as_user(alice).get(EXPORT, {"sources": ids, "format": "biblatex"}).content.decode()
    assert f"{{sino-soviet-relations:{memo.citation_key}," in text
    assert f"{{second-library:{memo.citation_key}," in text


def test_claims_export_the_sources_of_their_evidence(as_user, vera, library, alice, quote, article):
    claim = make_claim(library=library, creator=alice)
    make_evidence(claim=claim, annotation=quote, creator=alice)
    response = as_user(vera).get(EXPORT, {"claims": claim.pk, "format": "csl-json"})
    assert [item["title"] for item in response.json()] == [quote.text.source.title]


def test_event_export_is_404_for_an_outsider_and_400_when_malformed(
    as_user, mallory, alice, library
):
    from tests.factories import make_event

    event = make_event(library=library, creator=alice)
    assert as_user(mallory).get(EXPORT, {"event": event.pk, "format": "ris"}).status_code == 404
    assert errors(as_user(alice).get(EXPORT, {"event": "x", "format": "ris"})) == {
        "event": ["'x' is not an event id."]
    }


def test_unknown_format_lists_the_accepted_ones(as_user, alice, memo):
    body = errors(as_user(alice).get(EXPORT, {"library": "sino-soviet-relations", "format": "pdf"}))
    assert body == {
        "format": [
            "Unknown format 'pdf'. Accepted for content=bibliography: html, text, markdown, "
            "csl-json, biblatex, bibtex, ris."
        ]
    }


def test_missing_format_and_mismatched_document_format_are_400(as_user, alice):
    client = as_user(alice)
    missing = errors(client.get(EXPORT, {"library": "sino-soviet-relations"}))
    assert missing["format"][0].startswith("Choose a format. Accepted for content=bibliography:")
    params = {"library": "sino-soviet-relations", "content": "document", "format": "ris"}
    assert errors(client.get(EXPORT, params))["format"] == [
        "Unknown format 'ris'. Accepted for content=document: markdown, pandoc, html, docx."
    ]
    params["content"] = "everything"
    assert (
        "Accepted: bibliography, notes, document."
        in errors(client.get(EXPORT, params))["content"][0]
    )


def test_unknown_style_and_locale_list_what_is_accepted(as_user, alice):
    params = {"library": "sino-soviet-relations", "format": "html", "style": "../../etc/passwd"}
    [message] = errors(as_user(alice).get(EXPORT, params))["style"]
    assert message.startswith("Unknown citation style '../../etc/passwd'. Accepted: chicago-")
    params |= {"style": "apa", "locale": "xx-YY"}
    [message] = errors(as_user(alice).get(EXPORT, params))["locale"]
    assert "Accepted: af-ZA, ar, bg-BG" in message


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "selection"),
        ({"sources": "1,abc"}, "sources"),
        ({"sources": "0"}, "sources"),
        ({"claims": "-3"}, "claims"),
        ({"library": "sino-soviet-relations", "sources": "1"}, "library"),
    ],
)
def test_malformed_selection_is_400_naming_the_parameter(as_user, alice, library, params, field):
    assert field in errors(as_user(alice).get(EXPORT, params | {"format": "ris"}))


def test_too_many_ids_are_refused(as_user, alice, library):
    ids = ",".join(str(n) for n in range(1, 10_002))
    assert (
        "At most 10,000 ids"
        in errors(as_user(alice).post(EXPORT, {"sources": ids, "format": "ris"}))["sources"][0]
    )


def test_outsider_gets_404_for_a_library_and_for_any_hidden_source(as_user, mallory, memo):
    client = as_user(mallory)
    assert (
        client.get(EXPORT, {"library": "sino-soviet-relations", "format": "ris"}).status_code == 404
    )
    assert client.get(EXPORT, {"sources": memo.pk, "format": "ris"}).status_code == 404
    own = make_source(library=make_library(owner=mallory, name="Mallory's"))
    both = f"{own.pk},{memo.pk}"
    assert client.get(EXPORT, {"sources": both, "format": "ris"}).status_code == 404


def test_anonymous_may_export_a_public_library_only(as_user, alice, memo):
    params = {"library": "sino-soviet-relations", "format": "ris"}
    assert as_user(None).get(EXPORT, params).status_code == 404
    memo.library.is_public = True
    memo.library.save()
    assert as_user(None).get(EXPORT, params).status_code == 200


def test_library_by_numeric_id(as_user, alice, memo):
    response = as_user(alice).get(EXPORT, {"library": memo.library_id, "format": "ris"})
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_export_takes_only_get_and_post(as_user, alice, method):
    assert getattr(as_user(alice), method)(EXPORT).status_code == 405


# --- /api/sources/{id}/citation/ -------------------------------------------------------


def source_citation(source) -> str:
    return f"/api/sources/{source.pk}/citation/"


def test_source_citation_has_notes_entry_and_attribution(as_user, vera, memo):
    data = as_user(vera).get(source_citation(memo), {"locator": "2", "label": "folio"}).json()
    # A Russian document keeps its title's capitalisation; item, shelfmark, folio, archive.
    assert data["full_note"] == (
        "N. V. Roshchin, <span>“Record of conversation with Mao Zedong,”</span> trans. Kathryn "
        "Weathersby [January 1, 1950?], f. 0100, op. 43, d. 43, fol. 2, Fond of Molotov, Archive "
        "of Foreign Policy of the Russian Federation (AVP RF), Moscow."
    )
    assert data["short_note"].endswith("fol. 2.")
    assert data["bibliography"].startswith("Roshchin, N. V.")
    assert (data["style"], data["locale"], data["format"]) == (
        "chicago-notes-bibliography",
        "en-US",
        "html",
    )
    assert data["attribution_url"] == "https://citationstyles.org/"
    assert data["citation_key"] == memo.citation_key


def test_source_citation_in_text_and_another_style(as_user, alice, article):
    params = {"style": "apa", "format": "text", "locator": "12"}
    data = as_user(alice).get(source_citation(article), params).json()
    assert data["full_note"] == "(Shen, 2001, p. 12)"
    assert data["bibliography"] == "Shen, Z. (2001). The Sino-Soviet Alliance. Cold War History."


@pytest.mark.parametrize(
    ("params", "field", "accepted"),
    [
        ({"format": "pdf"}, "format", "Accepted: html, text, markdown."),
        ({"label": "shelf"}, "label", "Accepted: act, appendix,"),
        ({"style": "nope"}, "style", "Accepted: chicago-notes-bibliography,"),
        ({"locale": "qq"}, "locale", "Accepted: af-ZA"),
    ],
)
def test_source_citation_bad_parameter_is_400_listing_accepted(
    as_user, alice, article, params, field, accepted
):
    [message] = errors(as_user(alice).get(source_citation(article), params))[field]
    assert accepted in message


def test_source_citation_is_404_for_outsiders_and_405_for_writes(as_user, mallory, alice, article):
    assert as_user(mallory).get(source_citation(article)).status_code == 404
    assert as_user(None).get(source_citation(article)).status_code == 404
    assert as_user(alice).post(source_citation(article)).status_code == 405


# --- /api/annotations/{id}/citation/ and /api/claims/{id}/citation/ --------------------


def test_annotation_citation_is_the_passage_footnote(as_user, vera, quote, memo):
    data = as_user(vera).get(f"/api/annotations/{quote.pk}/citation/", {"format": "text"}).json()
    assert data["quote"] == "the treaty mattered"
    assert (data["locator"], data["label"], data["locator_text"]) == ("2", "folio", "fol. 2")
    assert data["pandoc"] == f"[@{memo.citation_key}, fol. 2]"
    assert data["short_note"] == "Roshchin, “Record of conversation with Mao Zedong,” fol. 2."
    assert (data["annotation"], data["source"]) == (quote.pk, memo.pk)
    assert data["attribution"].startswith("Formatted with a Citation Style Language style")


def test_private_annotation_citation_is_only_for_its_creator(as_user, alice, vera, memo):
    private = make_annotation(
        text=memo.current_text, creator=alice, quote="Mao arrived", visibility="private"
    )
    url = f"/api/annotations/{private.pk}/citation/"
    assert as_user(alice).get(url).status_code == 200
    assert as_user(vera).get(url).status_code == 404


def test_annotation_citation_errors(as_user, alice, mallory, quote):
    url = f"/api/annotations/{quote.pk}/citation/"
    assert as_user(mallory).get(url).status_code == 404
    assert as_user(alice).delete(url).status_code == 405
    assert "style" in errors(as_user(alice).get(url, {"style": "nope"}))


def test_claim_citation_lists_each_evidence_with_its_footnote(as_user, vera, alice, library, quote):
    claim = make_claim(library=library, creator=alice)
    make_evidence(claim=claim, annotation=quote, creator=alice, stance="contradicts", note="Hm.")
    data = as_user(vera).get(f"/api/claims/{claim.pk}/citation/").json()
    assert data["statement"] == claim.statement
    [evidence] = data["evidence"]
    assert (evidence["stance"], evidence["note"], evidence["quote"]) == (
        "contradicts",
        "Hm.",
        "the treaty mattered",
    )
    assert "fol. 2" in evidence["full_note"]


def test_claim_citation_errors(as_user, alice, mallory, library):
    claim = make_claim(library=library, creator=alice)
    url = f"/api/claims/{claim.pk}/citation/"
    assert as_user(mallory).get(url).status_code == 404
    assert as_user(alice).put(url).status_code == 405
    assert "format" in errors(as_user(alice).get(url, {"format": "docx"}))
    assert as_user(alice).get(url).json()["evidence"] == []


# --- /api/citation-styles/ -------------------------------------------------------------


def test_style_search_puts_built_ins_first(as_user, db):
    styles = as_user(None).get("/api/citation-styles/", {"q": "chicago notes"}).json()
    assert styles[0] == {
        "id": "chicago-notes-bibliography",
        "title": citations.style_title("chicago-notes-bibliography"),
        "builtin": True,
    }
    found = as_user(None).get("/api/citation-styles/", {"q": "harvard cite them", "limit": 5})
    assert "harvard-cite-them-right" in [style["id"] for style in found.json()]
    assert len(found.json()) <= 5


def test_style_search_limit_is_checked_and_writes_refused(as_user, alice):
    assert "limit" in errors(as_user(None).get("/api/citation-styles/", {"limit": "0"}))
    assert as_user(alice).post("/api/citation-styles/").status_code == 405


# --- Schema ----------------------------------------------------------------------------


def test_schema_documents_every_endpoint_without_warnings(db):
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("", include("citations.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular warned while building the export schema"
    validate_schema(schema)
    paths = schema["paths"]
    assert set(paths["/api/export/"]) == {"get", "post"}
    for url in (
        "/api/sources/{id}/citation/",
        "/api/annotations/{id}/citation/",
        "/api/claims/{id}/citation/",
        "/api/citation-styles/",
    ):
        assert set(paths[url]) == {"get"}
    names = {p["name"] for p in paths["/api/export/"]["get"]["parameters"]}
    assert {
        "format",
        "content",
        "style",
        "locale",
        "library",
        "sources",
        "claims",
        "event",
        "q",
    } <= names


# --- Search results --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _search_index_follows_writes():
    from search import index as search_index

    search_index.connect()  # idempotent


@pytest.fixture
def indexed(library, alice, memo, article):
    """A second library holds another treaty text."""
    make_text(source=article, text="The treaty of 1950 and the alliance it made.")
    other = make_library(owner=alice, name="Second library")
    elsewhere = make_source(library=other, title="Treaty drafts", archive="RGASPI")
    make_text(source=elsewhere, text="Drafts of the treaty, January 1950.")
    return elsewhere


def test_search_result_exports_the_sources_found(as_user, alice, memo, article, indexed):
    response = as_user(alice).get(EXPORT, {"q": "treaty", "format": "csl-json"})
    assert response["Content-Disposition"].endswith(f'filename="search-treaty-{TODAY}.json"')
    titles = {item["title"] for item in response.json()}
    assert titles == {memo.title, article.title, indexed.title}


def test_search_inside_a_library_and_as_a_search_page_query(as_user, alice, memo, article, indexed):
    params = {"q": "treaty", "library": "second-library", "format": "csl-json"}
    assert [item["title"] for item in as_user(alice).get(EXPORT, params).json()] == [indexed.title]
    search = "q=treaty&library=sino-soviet-relations&in=passage&cursor=abc"
    response = as_user(alice).get(EXPORT, {"search": search, "format": "csl-json"})
    assert {item["title"] for item in response.json()} == {memo.title, article.title}


def test_search_finds_nothing_an_outsider_may_not_see(as_user, mallory, indexed):
    response = as_user(mallory).get(EXPORT, {"q": "treaty", "format": "csl-json"})
    assert response.json() == []
    params = {"q": "treaty", "library": "sino-soviet-relations", "format": "ris"}
    assert as_user(mallory).get(EXPORT, params).status_code == 404


def test_malformed_search_is_400_naming_the_parameter(as_user, alice, library):
    assert errors(as_user(alice).get(EXPORT, {"q": "x" * 1001, "format": "ris"})) == {
        "q": ["Give at most 1,000 characters."]
    }
    body = errors(as_user(alice).get(EXPORT, {"search": "in=everything", "format": "ris"}))
    assert body["search"][0].startswith("in: 'everything' is not one of: ")
    both = {"search": "q=a", "q": "b", "format": "ris"}
    assert "Choose one selection" in errors(as_user(alice).get(EXPORT, both))["q"][0]
