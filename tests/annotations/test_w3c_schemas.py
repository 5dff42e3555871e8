"""What we serve as W3C JSON-LD passes every "must" schema of the W3C test suite, and
deliberately broken annotations fail them (so the check can fail at all)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.factories import make_annotation, make_text

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "w3c"
JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
TEXT = "Mao arrived in Moscow on 16 December 1949. 𠮷 Stalin received him that evening."


@cache
def registry() -> Registry:
    """The seven definition files under their bare ids, as the assertions `$ref` them."""
    resources = []
    for path in sorted((SCHEMAS / "definitions").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["id"], Resource(schema, specification=DRAFT4)))
    return Registry().with_resources(resources)


@cache
def must_validators(folder: str) -> dict[str, Draft4Validator]:
    """Every `must` assertion under `folder` (not its subfolders' siblings)."""
    checker = FormatChecker()
    assert {"uri", "date-time"} <= set(checker.checkers), "install jsonschema[format-nongpl]"
    validators = {}
    for path in sorted((SCHEMAS / folder).glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["assertionType"] == "must"
        validators[schema["id"]] = Draft4Validator(
            schema, registry=registry(), format_checker=checker
        )
    return validators


def annotation_validators() -> dict[str, Draft4Validator]:
    return {
        **must_validators("annotations"),
        **must_validators("annotations/bodiesTargets"),
        **must_validators("annotations/specificResource"),
    }


def failures(document: dict, validators: dict[str, Draft4Validator]) -> list[str]:
    return [name for name, validator in validators.items() if not validator.is_valid(document)]


def test_all_the_must_assertions_were_copied():
    assert len(annotation_validators()) == 54
    assert len(must_validators("collections")) == 10
    assert len(must_validators("collections/pages")) == 15


@pytest.fixture
def text(source, alice):
    return make_text(source=source, text=TEXT, imported_by=alice)


@pytest.fixture
def served(as_user, text, bob, vera):
    """One annotation as served: a comment, two tags, astral text before the quote."""
    note = make_annotation(
        text=text,
        creator=bob,
        quote="Stalin received him",
        comment="Kept waiting? See **Shi Zhe**'s memoir.",
        tags=["person:Stalin", "theme:face"],
    )
    response = as_user(vera).get(f"/api/annotations/{note.pk}/", HTTP_ACCEPT=JSONLD)
    assert response.status_code == 200
    return response.json()


def test_a_served_annotation_passes_every_must_schema(served):
    assert failures(served, annotation_validators()) == []


def test_a_bare_highlight_passes_every_must_schema(as_user, text, bob):
    note = make_annotation(text=text, creator=bob, quote="Moscow")
    served = as_user(bob).get(f"/api/annotations/{note.pk}/", HTTP_ACCEPT=JSONLD).json()
    assert "body" not in served
    assert failures(served, annotation_validators()) == []


def broken(served: dict, change) -> dict:
    document = copy.deepcopy(served)
    change(document)
    return document


BREAKAGES = {
    "no @context": lambda d: d.pop("@context"),
    "wrong @context": lambda d: d.update({"@context": "http://example.org/context.jsonld"}),
    "wrong type": lambda d: d.update({"type": "Note"}),
    "no type": lambda d: d.pop("type"),
    "no target": lambda d: d.pop("target"),
    "id not a URI": lambda d: d.update({"id": "not a uri"}),
    "bad created date": lambda d: d.update({"created": "16 December 1949"}),
    "bad modified date": lambda d: d.update({"modified": "2024-13-45T99:00:00Z"}),
    "two created dates": lambda d: d.update({"created": [d["created"], d["created"]]}),
    "body text direction unknown": lambda d: d["body"][0].update({"textDirection": "up"}),
    "target rights not a URI": lambda d: d["target"].update({"rights": "all mine"}),
    "bodyValue beside body": lambda d: d.update({"bodyValue": "also a comment"}),
    "quote selector without exact": lambda d: d["target"]["selector"][0].pop("exact"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_a_broken_annotation_fails_the_must_schemas(served, name):
    assert failures(broken(served, BREAKAGES[name]), annotation_validators())


# --- collections and pages ---------------------------------------------------------


@pytest.fixture
def many(text, bob):
    words = ["Mao", "arrived", "Moscow", "December", "Stalin", "received", "evening"]
    return [make_annotation(text=text, creator=bob, quote=word) for word in words]


def collection_validators() -> dict[str, Draft4Validator]:
    return must_validators("collections")


def page_validators() -> dict[str, Draft4Validator]:
    return must_validators("collections/pages")


def test_the_container_passes_the_collection_schemas(as_user, vera, many, settings):
    collection = as_user(vera).get("/api/annotations/", HTTP_ACCEPT=JSONLD).json()
    assert failures(collection, collection_validators()) == []
    first = collection["first"]
    assert failures({"@context": collection["@context"], **first}, page_validators()) == []
    for item in first["items"]:
        assert failures({"@context": "http://www.w3.org/ns/anno.jsonld", **item},
                        annotation_validators()) == []  # fmt: skip


def test_an_empty_container_passes_the_collection_schemas(as_user, vera, text):
    collection = as_user(vera).get("/api/annotations/", HTTP_ACCEPT=JSONLD).json()
    assert collection["total"] == 0
    assert failures(collection, collection_validators()) == []


def test_every_page_passes_the_page_schemas(as_user, vera, many, monkeypatch):
    monkeypatch.setattr("annotations.api.W3C_PAGE_SIZE", 3)
    client = as_user(vera)
    collection = client.get("/api/annotations/", HTTP_ACCEPT=JSONLD).json()
    url, seen = collection["first"]["id"], 0
    while url:
        page = client.get(url, HTTP_ACCEPT=JSONLD).json()
        assert failures(page, page_validators()) == [], url
        seen += len(page["items"])
        url = page.get("next")
    assert seen == len(many)


def test_pages_of_iris_pass_the_page_schemas(as_user, vera, many):
    prefer = 'return=representation;include="http://www.w3.org/ns/oa#PreferContainedIRIs"'
    page = as_user(vera).get("/api/annotations/?page=0", HTTP_ACCEPT=JSONLD, HTTP_PREFER=prefer)
    assert all(isinstance(item, str) for item in page.json()["items"])
    assert failures(page.json(), page_validators()) == []


COLLECTION_BREAKAGES = {
    "no @context": lambda d: d.pop("@context"),
    "wrong type": lambda d: d.update({"type": ["BasicContainer"]}),
    "negative total": lambda d: d.update({"total": -1}),
    "last not a URI": lambda d: d.update({"last": "page two"}),
    "first missing though total > 0": lambda d: d.pop("first"),
}


@pytest.mark.parametrize("name", COLLECTION_BREAKAGES)
def test_a_broken_collection_fails_the_collection_schemas(as_user, vera, many, name):
    collection = as_user(vera).get("/api/annotations/", HTTP_ACCEPT=JSONLD).json()
    assert failures(broken(collection, COLLECTION_BREAKAGES[name]), collection_validators())


PAGE_BREAKAGES = {
    "wrong type": lambda d: d.update({"type": "Page"}),
    "no items": lambda d: d.pop("items"),
    "items not annotations": lambda d: d.update({"items": [{"type": "Note"}]}),
    "negative startIndex": lambda d: d.update({"startIndex": -3}),
    "next not a URI": lambda d: d.update({"next": "the next one"}),
}


@pytest.mark.parametrize("name", PAGE_BREAKAGES)
def test_a_broken_page_fails_the_page_schemas(as_user, vera, many, name):
    page = as_user(vera).get("/api/annotations/?page=0", HTTP_ACCEPT=JSONLD).json()
    assert failures(broken(page, PAGE_BREAKAGES[name]), page_validators())
