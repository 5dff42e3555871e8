"""The search page's filters: applied ones as removable chips in words, and the suggestions
of its filter fields (GET /search/suggest/): tags, events, creators, archives, each only
from the libraries the reader may see."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import QueryDict
from django.urls import reverse

from annotations.models import Tag
from search import index as search_index
from search.query import parse_params
from search.views import chips
from tests.factories import make_event, make_library, make_source

SUGGEST = "/search/suggest/"


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()


@pytest.fixture
def world(library, alice, mallory):
    Tag.objects.for_names(library, ["person:Joseph Stalin", "theme:face", "place:Burma"])
    event = make_event(
        library=library, creator=alice, name="Mao's visit to Moscow", date="1949-12-16/1950-02-17"
    )
    make_source(
        library=library,
        title="Record",
        archive="AVP RF",
        creators=[{"family": "Roshchin", "given": "N. V."}],
    )
    hidden = make_library(owner=mallory, name="Mallory's own")
    Tag.objects.for_names(hidden, ["person:Stalin the hidden"])
    make_source(
        library=hidden, title="Hidden", archive="AVP secret", creators=[{"family": "Rosh-hidden"}]
    )
    return {"event": event, "hidden": hidden}


def suggest(client, **params):
    response = client.get(SUGGEST, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_tags_are_suggested_by_any_word_from_the_readers_libraries_only(as_user, alice, world):
    found = suggest(as_user(alice), kind="tag", q="person:st")
    assert [s["value"] for s in found] == ["person:Joseph Stalin"]


def test_events_creators_and_archives_are_suggested(as_user, alice, world):
    client = as_user(alice)
    [event] = suggest(client, kind="event", q="visit")
    assert event == {
        "value": str(world["event"].pk),
        "label": "Mao's visit to Moscow (16 December 1949 – 17 February 1950)",
    }
    assert [s["value"] for s in suggest(client, kind="creator", q="rosh")] == ["Roshchin"]
    assert [s["value"] for s in suggest(client, kind="archive", q="avp")] == ["AVP RF"]


def test_suggestions_refuse_bad_input_naming_the_parameter(as_user, alice, world):
    client = as_user(alice)
    assert "kind" in client.get(SUGGEST, {"kind": "password", "q": "x"}).json()
    assert "q" in client.get(SUGGEST, {"kind": "tag", "q": "x" * 201}).json()
    assert "limit" in client.get(SUGGEST, {"kind": "tag", "limit": "0"}).json()
    assert client.post(SUGGEST, {"kind": "tag"}).status_code == 405


def test_an_outsider_is_suggested_nothing_of_a_private_library(as_user, mallory, world):
    client = as_user(mallory)
    assert suggest(client, kind="tag", q="joseph") == []
    assert suggest(client, kind="archive", q="avp") == [
        {"value": "AVP secret", "label": "AVP secret"}
    ]


def test_applied_filters_are_chips_in_words_each_removable(as_user, alice, library, world):
    event = world["event"]
    data = QueryDict(mutable=True)
    data.setlist("tag", ["theme:face", "place:Burma"])
    data.setlist("event", [str(event.pk)])
    data["issued"] = "1950?-01"
    data["source_kind"] = "primary"
    query = parse_params(data)
    found = {chip.label: chip.url for chip in chips(query, alice)}
    assert set(found) == {
        "Tagged theme:face",
        "Tagged place:Burma",
        "Event: Mao's visit to Moscow",
        "Dated January 1950 (uncertain)",
        "Primary sources only",
    }
    kept = parse_qs(urlsplit(found["Tagged theme:face"]).query)
    assert kept["tag"] == ["place:Burma"] and kept["event"] == [str(event.pk)]


def test_the_search_page_shows_the_chips_and_suggestion_fields(as_user, alice, world):
    url = reverse("search") + "?tag=theme%3Aface&tag=place%3ABurma"
    content = as_user(alice).get(url).content.decode()
    assert 'aria-label="Remove the filter Tagged place:Burma"' in content
    assert content.count('name="tag" value=') == 2  # applied, one input each (no JavaScript)
    assert 'data-suggest="event"' in content and 'data-suggest="creator"' in content
