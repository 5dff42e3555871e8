"""/api/events/: EDTF dates, nesting, participants, roles, versions and If-Match."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.models import Event
from tests.factories import make_event, make_library

LIST = "/api/events/"


def detail(event) -> str:
    return reverse("api-event-detail", args=[event.pk])


@pytest.fixture
def visit(library, alice):
    return make_event(library=library, creator=alice, place="Moscow")


def etag(client, event) -> str:
    return client.get(detail(event))["ETag"]


def test_editor_creates_a_nested_event(as_user, bob, library, visit):
    body = {
        "library": library.slug,
        "name": "Treaty signed",
        "date": "1950-02-14",
        "place": "Moscow",
        "parent": visit.pk,
        "wikidata_id": "https://www.wikidata.org/wiki/Q42",
        "participants": ["Zhou Enlai", "person:Andrei Vyshinsky"],
    }
    response = as_user(bob).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["earliest"], data["latest"]) == ("1950-02-14", "1950-02-14")
    assert data["parent"] == visit.pk and data["wikidata_id"] == "Q42"
    assert data["wikidata_url"] == "https://www.wikidata.org/wiki/Q42"
    assert data["participants"] == ["person:Andrei Vyshinsky", "person:Zhou Enlai"]
    assert response["ETag"] == f'"e{data["id"]}.v1"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "date": "14 Feb 1950"}, "date"),
        ({"name": "x", "date": "1950-02-17/1949-12-16"}, "date"),
        ({"name": "x", "wikidata_id": "P31"}, "wikidata_id"),
        ({"name": ""}, "name"),
        ({"name": "x", "parent": 999999}, "parent"),
    ],
)
def test_invalid_event_is_400_naming_the_field(as_user, bob, library, body, field):
    response = as_user(bob).post(LIST, {"library": library.slug, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Event.objects.exists()


def test_an_event_ending_before_it_starts_says_so(as_user, bob, library):
    response = as_user(bob).post(
        LIST, {"library": library.slug, "name": "x", "date": "1950-02-17/1949-12-16"}, format="json"
    )
    assert "ends before it starts" in response.json()["date"][0]


def test_a_parent_cycle_is_400_and_nothing_changes(as_user, bob, library, visit):
    treaty = make_event(library=library, name="Treaty", date="1950-02-14", parent=visit)
    client = as_user(bob)
    response = client.patch(
        detail(visit),
        {"parent": treaty.pk, "name": "Renamed"},
        format="json",
        HTTP_IF_MATCH=etag(client, visit),
    )
    assert response.status_code == 400 and "parent" in response.json()
    visit.refresh_from_db()
    assert visit.parent is None and visit.name == "Mao's visit to Moscow" and visit.version == 1


def test_a_parent_from_another_visible_library_is_400(as_user, alice, library, visit):
    other = make_library(owner=alice, name="Other of alice")
    foreign = make_event(library=other, creator=alice)
    client = as_user(alice)
    response = client.patch(
        detail(visit), {"parent": foreign.pk}, format="json", HTTP_IF_MATCH=etag(client, visit)
    )
    assert response.status_code == 400 and "another library" in str(response.json()["parent"])


def test_viewer_reads_but_cannot_create_or_change(as_user, vera, library, visit):
    client = as_user(vera)
    assert client.get(detail(visit)).json()["can_edit"] is False
    assert (
        client.post(LIST, {"library": library.slug, "name": "x"}, format="json").status_code == 403
    )
    assert (
        client.patch(
            detail(visit), {"name": "y"}, format="json", HTTP_IF_MATCH=etag(client, visit)
        ).status_code
        == 403
    )


def test_outsider_gets_404(as_user, mallory, visit):
    assert as_user(mallory).get(detail(visit)).status_code == 404


def test_any_editor_changes_an_event_with_if_match(as_user, bob, visit):
    client = as_user(bob)
    assert client.patch(detail(visit), {"place": "Kremlin"}, format="json").status_code == 428
    response = client.patch(
        detail(visit), {"place": "Kremlin"}, format="json", HTTP_IF_MATCH=etag(client, visit)
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    stale = client.patch(
        detail(visit), {"place": "Dacha"}, format="json", HTTP_IF_MATCH=f'"e{visit.pk}.v1"'
    )
    assert stale.status_code == 412


def test_put_clears_what_is_left_out(as_user, bob, visit):
    client = as_user(bob)
    response = client.put(
        detail(visit), {"name": "Visit"}, format="json", HTTP_IF_MATCH=etag(client, visit)
    )
    assert response.status_code == 200
    assert response.json()["place"] == "" and response.json()["date"] == ""


def test_delete_keeps_sub_events_as_top_level(as_user, bob, library, visit):
    treaty = make_event(library=library, name="Treaty", date="1950-02-14", parent=visit)
    client = as_user(bob)
    assert client.delete(detail(visit), HTTP_IF_MATCH=etag(client, visit)).status_code == 204
    treaty.refresh_from_db()
    assert treaty.parent is None


def test_list_filters_by_period_and_nesting(as_user, vera, library, visit):
    treaty = make_event(library=library, name="Treaty", date="1950-02-14", parent=visit)
    split = make_event(library=library, name="Specialists withdrawn", date="1960-07/1960-08")
    client = as_user(vera)

    def ids(**query) -> list[int]:
        return [e["id"] for e in client.get(LIST, query).json()["results"]]

    assert ids(start="1960") == [split.pk]
    assert ids(end="1950-01") == [visit.pk]
    assert ids(parent=visit.pk) == [treaty.pk]
    assert set(ids(top="true")) == {visit.pk, split.pk}
    assert ids(q="treaty") == [treaty.pk]
    assert client.get(LIST, {"start": "not a date"}).status_code == 400


def test_wrong_method_on_events(as_user, bob, visit):
    assert as_user(bob).post(detail(visit), {}, format="json").status_code == 405
