"""The W3C Web Annotation protocol side of /api/annotations/, and the import endpoint."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Annotation, Tag
from tests.factories import make_annotation, make_library, make_source, make_text

JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
TEXT = (
    "Record of conversation. Stalin: What are your wishes? Mao: We want a treaty. "
    "Stalin: The treaty of 1945 may stay. Mao: The treaty matters for our prestige."
)
LIST = "/api/annotations/"


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


def text_iri(text) -> str:
    return f"http://testserver/api/sources/{text.source_id}/texts/{text.revision}/"


def w3c(text, quote: str | None = None, *, position: bool = True, occurrence: int = 0, **extra):
    selectors = []
    if quote is not None:
        start = -1
        for _ in range(occurrence + 1):
            start = text.text.index(quote, start + 1)
        selectors.append({"type": "TextQuoteSelector", "exact": quote})
        if position:
            selectors.append(
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)}
            )
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "target": {"source": text_iri(text), "selector": selectors},
        **extra,
    }


def post_ld(client, body):
    return client.post(LIST, body, format="json", HTTP_ACCEPT=JSONLD)


# --- negotiation -----------------------------------------------------------------------


def test_plain_json_unless_json_ld_is_asked_for(as_user, vera, text, bob):
    note = make_annotation(text=text, creator=bob, quote="We want a treaty")
    client = as_user(vera)
    plain = client.get(f"{LIST}{note.pk}/")
    linked = client.get(f"{LIST}{note.pk}/", HTTP_ACCEPT=JSONLD)
    bare = client.get(f"{LIST}{note.pk}/", HTTP_ACCEPT="application/ld+json")
    assert plain["Content-Type"] == "application/json" and "@context" not in plain.json()
    assert linked["Content-Type"] == JSONLD
    assert bare["Content-Type"] == JSONLD
    assert linked.json()["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert linked["ETag"] != plain["ETag"]  # two representations, two strong validators
    assert linked["Link"] == '<http://www.w3.org/ns/ldp#Resource>; rel="type"'


def test_json_ld_shape_of_a_commented_tagged_annotation(as_user, vera, text, bob):
    note = make_annotation(
        text=text, creator=bob, quote="prestige", comment="_face_", tags=["theme:face"]
    )
    data = as_user(vera).get(f"{LIST}{note.pk}/", HTTP_ACCEPT=JSONLD).json()
    assert data["id"] == f"http://testserver/api/annotations/{note.pk}/"
    assert data["type"] == "Annotation" and data["motivation"] == "commenting"
    assert data["creator"] == {"id": "acct:bob@testserver", "type": "Person", "nickname": "bob"}
    assert data["body"] == [
        {"type": "TextualBody", "value": "_face_", "format": "text/markdown",
         "purpose": "commenting"},
        {"type": "TextualBody", "value": "theme:face", "purpose": "tagging"},
    ]  # fmt: skip
    target = data["target"]
    assert target["source"] == text_iri(text)
    quote, position = target["selector"]
    assert quote["exact"] == "prestige" and quote["suffix"] == "."
    assert TEXT[position["start"] : position["end"]] == "prestige"
    assert as_user(vera).get(target["source"]).status_code == 200  # the target resolves


# --- W3C writes --------------------------------------------------------------------------


def test_post_a_w3c_annotation_gives_201_location_and_etag(as_user, bob, text):
    body = w3c(
        text,
        "We want a treaty",
        motivation="questioning",
        body=[
            {"type": "TextualBody", "value": "Which treaty?", "format": "text/markdown"},
            {"type": "TextualBody", "value": "theme:treaty", "purpose": "tagging"},
        ],
    )
    response = post_ld(as_user(bob), body)
    assert response.status_code == 201, response.content
    created = Annotation.objects.get()
    assert response["Location"] == f"http://testserver/api/annotations/{created.pk}/"
    assert response["ETag"] == f'"a{created.pk}.v1.ld"'
    assert (created.exact, created.motivation, created.comment_raw) == (
        "We want a treaty", "questioning", "Which treaty?"
    )  # fmt: skip
    assert [t.name for t in created.tags.all()] == ["theme:treaty"]
    assert response.json()["id"] == response["Location"]


def test_post_with_only_a_quote_selector_anchors_it_with_prefix_and_suffix(as_user, bob, text):
    body = w3c(text, "The treaty", position=False)
    body["target"]["selector"][0].update({"prefix": "prestige? Mao: ", "suffix": " matters"})
    body["target"]["selector"][0]["prefix"] = "Mao: "
    response = post_ld(as_user(bob), body)
    assert response.status_code == 201, response.content
    created = Annotation.objects.get()
    assert TEXT[created.start : created.end] == "The treaty"
    assert created.state == "anchored"


def test_bodyvalue_is_the_comment(as_user, bob, text):
    response = post_ld(as_user(bob), w3c(text, "Mao", bodyValue="Mao speaks"))
    assert response.status_code == 201
    assert Annotation.objects.get().comment_raw == "Mao speaks"


def test_content_type_ld_json_with_profile_is_accepted(as_user, bob, text):
    import json

    response = as_user(bob).post(
        LIST, json.dumps(w3c(text, "Mao")), content_type=JSONLD, HTTP_ACCEPT=JSONLD
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update({"type": "Note"}), "type"),
        (lambda b: b.pop("target"), "target"),
        (lambda b: b.update({"target": "http://example.org/page"}), "target"),
        (lambda b: b["target"].update({"selector": [{"type": "XPathSelector"}]}), "target"),
        (lambda b: b["target"]["selector"][0].update({"exact": "Molotov"}), "target"),
        (
            lambda b: (
                b["target"]["selector"].pop(0)
                and b["target"]["selector"][0].update({"end": 100_000})
            ),
            "target",
        ),  # fmt: skip
        (
            lambda b: b["target"].update({"source": "http://example.org/api/sources/1/texts/1/"}),
            "target",
        ),  # fmt: skip
        (
            lambda b: b["target"].update({"source": "http://testserver/api/sources/9/texts/9/"}),
            "target",
        ),  # fmt: skip
        (lambda b: b.update({"motivation": "gossiping"}), "motivation"),
        (lambda b: b.update({"body": "http://example.org/a-web-page"}), "body"),
        (lambda b: b.update({"bodyValue": "x" * 1_000_001}), "comment"),
        (
            lambda b: b.update(
                {
                    "body": [
                        {"type": "TextualBody", "value": f"t{i}", "purpose": "tagging"}
                        for i in range(51)
                    ]
                }
            ),
            "tags",
        ),  # fmt: skip
    ],
)
def test_bad_w3c_input_is_a_400_naming_the_field(as_user, bob, text, change, field):
    body = w3c(text, "Mao")
    change(body)
    response = post_ld(as_user(bob), body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Annotation.objects.exists() and not Tag.objects.exists()


def test_a_target_in_another_library_is_400_target_like_a_missing_one(as_user, mallory, text):
    make_library(owner=mallory, name="Mallory's")
    response = post_ld(as_user(mallory), w3c(text, "Mao"))
    assert response.status_code == 400
    assert "target" in response.json()


def test_viewer_cannot_post_a_w3c_annotation(as_user, vera, text):
    assert post_ld(as_user(vera), w3c(text, "Mao")).status_code == 403


def test_put_a_w3c_annotation_needs_if_match_and_replaces_it(as_user, bob, text):
    note = make_annotation(text=text, creator=bob, quote="Mao", tags=["x"])
    client = as_user(bob)
    url = f"{LIST}{note.pk}/"
    served = client.get(url, HTTP_ACCEPT=JSONLD)
    body = served.json()
    body["bodyValue"] = "Mao Zedong"
    body.pop("body")
    assert client.put(url, body, format="json", HTTP_ACCEPT=JSONLD).status_code == 428
    response = client.put(url, body, format="json", HTTP_ACCEPT=JSONLD,
                          HTTP_IF_MATCH=served["ETag"])  # fmt: skip
    assert response.status_code == 200, response.content
    note.refresh_from_db()
    assert (note.comment_raw, list(note.tags.all()), note.version) == ("Mao Zedong", [], 2)
    stale = client.put(url, body, format="json", HTTP_ACCEPT=JSONLD, HTTP_IF_MATCH=served["ETag"])
    assert stale.status_code == 412


def test_put_cannot_move_an_annotation_to_another_revision(as_user, bob, alice, text, source):
    note = make_annotation(text=text, creator=bob, quote="Mao")
    other = make_text(source=source, text="Zhou Enlai spoke.", imported_by=alice)
    client = as_user(bob)
    url = f"{LIST}{note.pk}/"
    tag = client.get(url)["ETag"]
    assert client.get(url).json()["state"] == "orphaned"  # left on its revision
    response = client.put(url, w3c(other, "Zhou"), format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 400
    assert "target" in response.json()


# --- the container -------------------------------------------------------------------------


def test_container_is_an_annotation_collection_with_paging(as_user, vera, text, bob, monkeypatch):
    monkeypatch.setattr("annotations.api.W3C_PAGE_SIZE", 2)
    for word in ("Record", "Stalin", "wishes", "Mao", "treaty"):
        make_annotation(text=text, creator=bob, quote=word)
    client = as_user(vera)
    collection = client.get(f"{LIST}?text={text.pk}", HTTP_ACCEPT=JSONLD)
    assert collection["Content-Type"] == JSONLD
    assert "ldp#BasicContainer" in collection["Link"]
    data = collection.json()
    assert data["type"] == ["BasicContainer", "AnnotationCollection"]
    assert data["total"] == 5
    assert data["id"] == f"http://testserver/api/annotations/?text={text.pk}"
    assert data["last"] == f"http://testserver/api/annotations/?text={text.pk}&page=2"
    first = data["first"]
    assert [i["target"]["selector"][0]["exact"] for i in first["items"]] == ["Record", "Stalin"]
    second = client.get(first["next"], HTTP_ACCEPT=JSONLD).json()
    assert second["type"] == "AnnotationPage"
    assert second["partOf"] == {"id": data["id"], "total": 5}
    assert second["startIndex"] == 2
    assert second["prev"] == first["id"]
    last = client.get(data["last"], HTTP_ACCEPT=JSONLD).json()
    assert "next" not in last and len(last["items"]) == 1


def test_minimal_container_links_its_first_page(as_user, vera, text, bob):
    make_annotation(text=text, creator=bob, quote="Mao")
    prefer = 'return=representation;include="http://www.w3.org/ns/ldp#PreferMinimalContainer"'
    data = as_user(vera).get(LIST, HTTP_ACCEPT=JSONLD, HTTP_PREFER=prefer).json()
    assert data["first"] == "http://testserver/api/annotations/?page=0"


def test_a_page_past_the_end_is_404_and_a_bad_page_400(as_user, vera, text, bob):
    make_annotation(text=text, creator=bob, quote="Mao")
    client = as_user(vera)
    assert client.get(f"{LIST}?page=1", HTTP_ACCEPT=JSONLD).status_code == 404
    bad = client.get(f"{LIST}?page=-1", HTTP_ACCEPT=JSONLD)
    assert bad.status_code == 400 and "page" in bad.json()


def test_the_container_shows_outsiders_nothing(as_user, mallory, text, bob):
    make_annotation(text=text, creator=bob, quote="Mao")
    data = as_user(mallory).get(LIST, HTTP_ACCEPT=JSONLD).json()
    assert data["total"] == 0 and "first" not in data


# --- import ------------------------------------------------------------------------------


def import_url(text) -> str:
    return reverse("api-annotation-import", args=[text.pk])


def hypothesis_row(quote: str, *, prefix: str = "", text: str = "", tags=()) -> dict:
    """A row as Hypothesis' API exports it: positions counted on *their* copy of the page."""
    return {
        "id": "hyp-1",
        "uri": "https://digitalarchive.wilsoncenter.org/document/111240",
        "text": text,
        "tags": list(tags),
        "user": "acct:historian@hypothes.is",
        "target": [
            {
                "source": "https://digitalarchive.wilsoncenter.org/document/111240",
                "selector": [
                    {"type": "RangeSelector", "startContainer": "/div[1]/p[3]"},
                    {"type": "TextPositionSelector", "start": 5000, "end": 5010},
                    {"type": "TextQuoteSelector", "exact": quote, "prefix": prefix},
                ],
            }
        ],
    }


def test_import_anchors_hypothesis_rows_and_w3c_items_by_their_quotes(as_user, bob, text):
    items = {
        "rows": [
            hypothesis_row("The treaty", prefix="Mao: ", text="Second mention", tags=["treaty"]),
            hypothesis_row("Molotov"),
            w3c(text, "Stalin", occurrence=1, bodyValue="W3C item"),
            {"type": "Annotation", "target": {"selector": {"type": "FragmentSelector"}}},
        ]
    }
    response = as_user(bob).post(import_url(text), items, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["created"], data["failed"]) == (2, 2)
    first, missing, second, unusable = data["outcomes"]
    assert first["status"] == "created"
    assert TEXT[first["start"] : first["end"]] == "The treaty"
    assert missing == {"index": 1, "status": "failed", "errors": {"target": [
        "The quoted passage is not in this text."]}}  # fmt: skip
    assert second["status"] == "created" and second["start"] == TEXT.index("Stalin", 30)
    assert "target" in unusable["errors"]
    imported = Annotation.objects.get(pk=first["annotation"])
    assert imported.comment_raw == "Second mention" and imported.creator == bob
    assert [t.name for t in imported.tags.all()] == ["treaty"]


def test_import_accepts_a_bare_list_and_private_visibility(as_user, bob, text):
    body = {"items": [w3c(text, "Mao")], "visibility": "private"}
    response = as_user(bob).post(import_url(text), body, format="json")
    assert response.status_code == 200
    assert Annotation.objects.get().visibility == "private"
    response = as_user(bob).post(import_url(text), [w3c(text, "Stalin")], format="json")
    assert response.json()["created"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": "everything"}, "items"),
        ({"items": [{}], "visibility": "world"}, "visibility"),
        ({"items": [{}] * 5001}, "items"),
    ],
)
def test_bad_import_payloads_are_400_naming_the_field(as_user, bob, text, body, field):
    response = as_user(bob).post(import_url(text), body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_viewer_cannot_import(as_user, vera, text):
    response = as_user(vera).post(import_url(text), [w3c(text, "Mao")], format="json")
    assert response.status_code == 403
    assert not Annotation.objects.exists()


def test_outsider_gets_404_on_import(as_user, mallory, text):
    response = as_user(mallory).post(import_url(text), [w3c(text, "Mao")], format="json")
    assert response.status_code == 404


def test_import_is_post_only(as_user, bob, text):
    assert as_user(bob).get(import_url(text)).status_code == 405


def test_import_into_another_librarys_text_is_404(as_user, bob, mallory):
    theirs = make_text(
        source=make_source(library=make_library(owner=mallory, name="M")), text="x y"
    )
    assert as_user(bob).post(import_url(theirs), [{}], format="json").status_code == 404
