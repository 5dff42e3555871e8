"""/api/search/, the /search/ page and the export of a result set: access, bad input,
saved searches. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotations.claims.claims import EventLink
from search import index as search_index
from tests.factories import make_annotation, make_claim, make_event, make_evidence, make_text

API = "/api/search/"
PAGE = "/search/"


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()  # idempotent; SearchConfig.ready() connects it as well


@pytest.fixture
def found(library, alice, source):
    text = make_text(
        source=source,
        imported_by=alice,
        text="Mao said the treaty mattered. <b>Stalin</b> waited & watched.",
    )
    annotation = make_annotation(
        text=text,
        creator=alice,
        quote="the treaty mattered",
        tags=["theme:face"],
        comment="Face <script>x</script>",
    )
    event = make_event(library=library, creator=alice, name="Treaty signed", date="1950-02-14")
    claim = make_claim(
        library=library,
        creator=alice,
        statement="The treaty mattered to Mao.",
        tags=["theme:face"],
        events=[EventLink(event)],
    )
    make_evidence(claim=claim, annotation=annotation, creator=alice)
    return {"annotation": annotation, "claim": claim, "event": event, "source": source}


# --- the API -----------------------------------------------------------------------------


def test_api_answers_with_results_facets_and_links(found, as_user, alice):
    response = as_user(alice).get(API, {"q": "treaty", "tag": "theme:face"})
    assert response.status_code == 200
    body = response.json()
    kinds = {(r["kind"], r["annotation"] or r["claim"]) for r in body["results"]}
    assert kinds == {("annotation", found["annotation"].pk), ("claim", found["claim"].pk)}
    assert body["count"] == 2 and body["count_exact"] is True
    assert {f["label"] for f in body["facets"]["tags"]} == {"theme:face"}
    assert body["saved_search"].endswith("/search/?q=treaty&tag=theme%3Aface")
    claim = next(r for r in body["results"] if r["kind"] == "claim")
    assert "<mark>treaty</mark>" in claim["snippet_html"]
    assert claim["events"][0]["name"] == "Treaty signed"


def test_api_escapes_what_users_wrote(found, as_user, alice):
    body = as_user(alice).get(API, {"q": "face"}).json()
    annotation = next(r for r in body["results"] if r["kind"] == "annotation")
    assert "<script>" not in annotation["note_html"]
    assert "&lt;script&gt;" in annotation["note_html"]


def test_api_pages_follow_the_next_link(found, as_user, alice):
    client = as_user(alice)
    body = client.get(API, {"q": "treaty OR mao OR stalin", "limit": "1"}).json()
    seen = [(r["kind"], r["id"]) for r in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [(r["kind"], r["id"]) for r in body["results"]]
    assert len(seen) == len(set(seen)) >= 3


def test_api_refuses_other_methods(found, as_user, alice):
    assert as_user(alice).post(API, {"q": "treaty"}).status_code == 405


def test_api_outsider_finds_nothing_and_cannot_name_the_library(found, as_user, mallory, library):
    client = as_user(mallory)
    body = client.get(API, {"q": "treaty"}).json()
    assert body["results"] == [] and body["count"] == 0
    assert client.get(API, {"q": "treaty", "library": library.slug}).status_code == 404


def test_api_a_viewer_may_search_but_not_write(found, as_user, vera):
    """Search only reads: the read-only role gets results; writing is not offered (405)."""
    client = as_user(vera)
    assert client.get(API, {"q": "treaty"}).json()["count"] == 3
    assert client.delete(API).status_code == 405


def test_api_anonymous_sees_public_libraries_only(found, as_user, library):
    assert as_user(None).get(API, {"q": "treaty"}).json()["count"] == 0
    library.is_public = True
    library.save()
    assert as_user(None).get(API, {"q": "treaty"}).json()["count"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 10_000}, "q"),
        ({"colour": "red"}, "__all__"),
        ({"from": "1951", "to": "1950"}, "to"),
        ({"issued": "1950/1949"}, "issued"),
        ({"from": "yesterday"}, "from"),
        ({"sort": "sideways"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"in": "everything"}, "in"),
        ({"event": "one"}, "event"),
        ({"status": "maybe"}, "status"),
        ({"source_kind": "tertiary"}, "source_kind"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_api_bad_input_is_a_400_naming_the_field(found, as_user, alice, params, field):
    response = as_user(alice).get(API, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "q", ['"unbalanced', "OR", "-", "*", '"', '""', "AND OR NOT", '-"', "~", "((", "'", "%_\\"]
)
def test_api_operators_and_stray_quotes_never_fail(found, as_user, alice, q):
    response = as_user(alice).get(API, {"q": q})
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_api_unbalanced_quote_searches_the_phrase_to_the_end(found, as_user, alice):
    body = as_user(alice).get(API, {"q": '"treaty mattered'}).json()
    assert body["count"] >= 2


def test_api_schema_documents_the_endpoint(as_user, alice):
    response = as_user(alice).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/search/" in json.loads(response.content)["paths"]


# --- the page ----------------------------------------------------------------------------


def test_page_shows_results_marked_and_facets(found, as_user, alice):
    response = as_user(alice).get(PAGE, {"q": "treaty", "tag": "theme:face"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<mark>treaty</mark>" in html
    assert "&lt;script&gt;" in html and "<script>x" not in html
    assert 'aria-label="Remove the filter Tagged theme:face"' in html
    assert "Treaty signed" in html  # the events facet


def test_page_with_nothing_asked_offers_the_example_question(as_user, alice, library):
    html = as_user(alice).get(PAGE).content.decode()
    assert "the 1950 treaty" in html


def test_page_bad_input_is_a_400_that_names_the_field(as_user, alice, library):
    response = as_user(alice).get(PAGE, {"from": "1951", "to": "1950"})
    assert response.status_code == 400
    assert "<strong>to</strong>" in response.content.decode()


def test_page_refuses_post(as_user, alice):
    assert as_user(alice).post(PAGE).status_code == 405


def test_page_outsider_naming_a_library_gets_404(found, as_user, mallory, library):
    assert as_user(mallory).get(PAGE, {"library": library.slug}).status_code == 404


def test_page_viewer_may_search(found, as_user, vera):
    response = as_user(vera).get(PAGE, {"q": "treaty"})
    assert response.status_code == 200 and "<mark>treaty</mark>" in response.content.decode()


def test_page_next_link_carries_a_cursor(found, as_user, alice):
    html = as_user(alice).get(PAGE, {"q": "treaty", "limit": "1"}).content.decode()
    assert "cursor=" in html and 'rel="next"' in html


# --- export ------------------------------------------------------------------------------


def test_export_hands_the_results_sources_to_citation_export(found, as_user, alice):
    response = as_user(alice).get(reverse("search-export"), {"q": "treaty", "format": "ris"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "TI  - Record of conversation with Mao Zedong" in response.content.decode()


def test_export_bad_format_is_a_400(found, as_user, alice):
    response = as_user(alice).get(reverse("search-export"), {"q": "treaty", "format": "docx"})
    assert response.status_code == 400 and b"format" in response.content


def test_export_outsider_gets_nothing_of_others(found, as_user, mallory, library):
    response = as_user(mallory).get(reverse("search-export"), {"q": "treaty", "format": "ris"})
    assert b"Record of conversation" not in response.content
    assert (
        as_user(mallory).get(reverse("search-export"), {"library": library.slug}).status_code == 404
    )


def test_export_refuses_post(as_user, alice):
    assert as_user(alice).post(reverse("search-export")).status_code == 405


@pytest.mark.parametrize("value", ["²", "1" + "0" * 30, "-1"])
def test_a_library_that_is_no_id_is_not_found_rather_than_failing(value, as_user, alice):
    response = as_user(alice).get("/api/search/", {"library": value, "q": "treaty"})
    assert response.status_code == 404
