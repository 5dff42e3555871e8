import pytest

from sources.models import Creator, Source
from tests.factories import make_library, make_source

LIST = "/api/sources/"


def detail(source: Source) -> str:
    return f"/api/sources/{source.pk}/"


def read(source: Source) -> dict[str, str]:
    """If-Match with the source's current ETag, as a client that just read it sends."""
    return {"HTTP_IF_MATCH": f'"{Source.objects.get(pk=source.pk).version}"'}


def new_source(in_library, **fields) -> dict:
    return {
        "library": in_library.slug,
        "type": "manuscript",
        "title": "Telegram from Zhou Enlai to Mao Zedong",
        "issued": "1960-07?",
        "archive": "Archive of the Ministry of Foreign Affairs of the PRC",
        "archive_location": "109-00925-05",
        "creators": [
            {"role": "author", "family": "Zhou", "given": "Enlai"},
            {"role": "recipient", "family": "Mao", "given": "Zedong"},
            {"role": "translator", "literal": "Wilson Center staff"},
        ],
        **fields,
    }


@pytest.fixture
def corpus(library):
    """Five sources spread over 1949–1962, primary and secondary, dated and undated.
    "Visit to Moscow" (1949-12/1950-02) starts before the conversation of 1949-12-16."""
    return {
        "mao": make_source(library=library, title="Conversation with Stalin", issued="1949-12-16"),
        "treaty": make_source(
            library=library,
            title="Treaty of Friendship",
            issued="1950-02-14",
            csl_type="treaty",
            creators=[{"literal": "USSR and PRC"}],
        ),
        "span": make_source(library=library, title="Visit to Moscow", issued="1949-12/1950-02"),
        "article": make_source(
            library=library,
            title="The Sino-Soviet split",
            issued="1962",
            kind="secondary",
            csl_type="article-magazine",
            creators=[{"family": "Zagoria", "given": "Donald"}],
        ),
        "undated": make_source(library=library, title="Undated memorandum", issued=""),
    }


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


# Reading ------------------------------------------------------------------------------


def test_viewer_lists_sources_in_date_order_with_undated_last(as_user, corpus, vera):
    assert titles(as_user(vera).get(LIST)) == [
        "Visit to Moscow",
        "Conversation with Stalin",
        "Treaty of Friendship",
        "The Sino-Soviet split",
        "Undated memorandum",
    ]


def test_outsider_and_anonymous_see_no_private_sources(as_user, source, mallory):
    assert as_user(mallory).get(LIST).json()["count"] == 0
    assert as_user(None).get(LIST).json()["count"] == 0
    assert as_user(mallory).get(detail(source)).status_code == 404
    assert as_user(None).get(detail(source)).status_code == 404


def test_anonymous_reads_sources_of_a_public_library(as_user, alice):
    public = make_library(owner=alice, name="Published", is_public=True)
    shown = make_source(library=public, title="Published record")
    assert titles(as_user(None).get(LIST)) == ["Published record"]
    assert as_user(None).get(detail(shown)).status_code == 200


def test_representation_has_creators_in_order_dates_and_revision(as_user, source, vera):
    response = as_user(vera).get(detail(source))
    data = response.json()
    assert data["library"] == source.library.slug
    assert data["citation_key"] == "roshchin1950record"
    assert data["creators"] == [
        {"role": "author", "family": "Roshchin", "given": "N. V.", "literal": ""}
        | {"suffix": "", "family_first": False}
    ]
    assert (data["issued_earliest"], data["issued_latest"]) == ("1950-01-01", "1950-01-01")
    assert data["current_revision"] == 1
    assert data["version"] == 1
    assert response["ETag"] == '"1"'


SPLIT, TREATY, VISIT = "The Sino-Soviet split", "Treaty of Friendship", "Visit to Moscow"
STALIN, UNDATED = "Conversation with Stalin", "Undated memorandum"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "secondary"}, [SPLIT]),
        ({"type": "treaty"}, [TREATY]),
        ({"creator": "zagor"}, [SPLIT]),
        ({"creator": "USSR"}, [TREATY]),
        ({"q": "moscow"}, [VISIT]),
        ({"issued_from": "1950", "issued_to": "1950"}, [VISIT, TREATY]),
        ({"issued_to": "1949-12-20"}, [VISIT, STALIN]),
        ({"issued_from": "1951"}, [SPLIT]),
        ({"issued_from": "1950-02-14", "issued_to": "1950-02-14"}, [VISIT, TREATY]),
        ({"issued_from": "1950-02?"}, [VISIT, TREATY, SPLIT]),
        ({"ordering": "-issued", "kind": "primary"}, [TREATY, STALIN, VISIT, UNDATED]),
        ({"ordering": "title", "q": "o"}, [STALIN, SPLIT, TREATY, UNDATED, VISIT]),
        ({"ordering": "-title", "q": "o"}, [VISIT, UNDATED, TREATY, SPLIT, STALIN]),
    ],
)
def test_source_list_filters(as_user, corpus, bob, params, expected):
    assert titles(as_user(bob).get(LIST, params)) == expected


def test_library_filter_accepts_slug_or_id(as_user, corpus, alice):
    other = make_library(owner=alice, name="Cuban Missile Crisis")
    make_source(library=other, title="Khrushchev to Kennedy")
    assert titles(as_user(alice).get(LIST, {"library": other.slug})) == ["Khrushchev to Kennedy"]
    assert titles(as_user(alice).get(LIST, {"library": other.pk})) == ["Khrushchev to Kennedy"]
    assert as_user(alice).get(LIST).json()["count"] == 6


def test_library_filter_does_not_reach_an_invisible_library(as_user, corpus, mallory, library):
    assert titles(as_user(mallory).get(LIST, {"library": library.slug})) == []


def test_source_with_two_matching_creators_is_listed_once(as_user, library, alice):
    make_source(library=library, creators=[{"family": "Mao"}, {"family": "Maoist"}])
    assert as_user(alice).get(LIST, {"creator": "mao"}).json()["count"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "tertiary"}, "kind"),
        ({"type": "novel"}, "type"),
        ({"issued_from": "last spring"}, "issued_from"),
        ({"issued_to": "1950-13"}, "issued_to"),
        ({"ordering": "password"}, "ordering"),
    ],
)
def test_invalid_filter_is_a_400_naming_the_parameter(as_user, corpus, alice, params, field):
    response = as_user(alice).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()


def test_source_list_is_paginated(as_user, corpus, alice):
    data = as_user(alice).get(LIST, {"limit": 2, "offset": 1}).json()
    assert data["count"] == 5
    assert [item["title"] for item in data["results"]] == [
        "Conversation with Stalin",
        "Treaty of Friendship",
    ]
    assert data["previous"] is not None and data["next"] is not None


# Creating -----------------------------------------------------------------------------


def test_editor_creates_a_source_with_creators_and_derived_dates(as_user, library, bob):
    response = as_user(bob).post(LIST, new_source(library), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["citation_key"] == "zhou1960telegram"
    assert (data["issued_earliest"], data["issued_latest"]) == ("1960-07-01", "1960-07-31")
    assert [c.get("family") or c["literal"] for c in data["creators"]] == [
        "Zhou",
        "Mao",
        "Wilson Center staff",
    ]
    assert data["created_by"] == "bob"
    source = Source.objects.get(pk=data["id"])
    assert source.creators_in_role("translator")[0].literal == "Wilson Center staff"


def test_library_may_be_given_by_id_and_citation_key_chosen(as_user, library, alice):
    payload = new_source(library, library=library.pk, citation_key="zhou:1960")
    response = as_user(alice).post(LIST, payload, format="json")
    assert response.status_code == 201
    assert response.json()["citation_key"] == "zhou:1960"


def test_viewer_cannot_create_a_source(as_user, library, vera):
    response = as_user(vera).post(LIST, new_source(library), format="json")
    assert response.status_code == 403
    assert "library" in response.json()
    assert not Source.objects.exists()


def test_outsider_cannot_name_a_library_they_cannot_see(as_user, library, mallory):
    response = as_user(mallory).post(LIST, new_source(library), format="json")
    assert response.status_code == 400
    assert "library" in response.json()
    assert not Source.objects.exists()


def test_anonymous_cannot_create_a_source(as_user, library):
    response = as_user(None).post(LIST, new_source(library), format="json")
    assert response.status_code in (401, 403)
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issued": "1960-13-45"}, "issued"),
        ({"issued": "1962/1958"}, "issued"),
        ({"accessed": "yesterday"}, "accessed"),
        ({"title": "x" * 1001}, "title"),  # an empty title is allowed: untitled letters
        ({"type": "novel"}, "type"),
        ({"kind": "tertiary"}, "kind"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"identifiers": ["not", "an", "object"]}, "identifiers"),
        ({"identifiers": {"DOI": {"nested": True}}}, "identifiers"),
        ({"creators": [{"role": "author", "given": "Enlai"}]}, "creators"),
        ({"creators": [{"role": "pope", "family": "Pius"}]}, "creators"),
        ({"citation_key": "has space"}, "citation_key"),
        ({"library": "no-such-library"}, "library"),
    ],
)
def test_invalid_source_is_a_400_naming_the_field_and_writes_nothing(
    as_user, library, alice, changes, field
):
    response = as_user(alice).post(LIST, new_source(library, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Source.objects.exists()
    assert not Creator.objects.exists()


def test_citation_key_must_be_unique_in_the_library(as_user, source, alice):
    payload = new_source(source.library, citation_key=source.citation_key)
    response = as_user(alice).post(LIST, payload, format="json")
    assert response.status_code == 400
    assert "citation_key" in response.json()


# Updating -----------------------------------------------------------------------------


def test_editor_updates_a_source_and_the_version_goes_up(as_user, source, bob):
    response = as_user(bob).patch(
        detail(source), {"title": "Corrected title"}, format="json", **read(source)
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    source.refresh_from_db()
    assert (source.title, source.version) == ("Corrected title", 2)
    assert source.history.first().history_user == bob


def test_update_replaces_creators_when_given_and_keeps_them_otherwise(as_user, source, bob):
    client = as_user(bob)
    client.patch(
        detail(source), {"note": "checked against the original"}, format="json", **read(source)
    )
    assert [c.family for c in source.creators.all()] == ["Roshchin"]
    creators = [
        {"family": "Kovalev", "given": "Ivan"},
        {"family": "Roshchin", "role": "translator"},
    ]
    response = client.patch(detail(source), {"creators": creators}, format="json", **read(source))
    assert response.status_code == 200
    assert [c["family"] for c in response.json()["creators"]] == ["Kovalev", "Roshchin"]
    assert Creator.objects.filter(source=source).count() == 2


def test_full_update_with_the_same_citation_key_is_accepted(as_user, source, alice):
    data = as_user(alice).get(detail(source)).json()
    data.update(title="Record of conversation, 22 January 1950", issued="1950-01-22")
    response = as_user(alice).put(detail(source), data, format="json", **read(source))
    assert response.status_code == 200, response.content
    assert response.json()["issued_earliest"] == "1950-01-22"
    assert response.json()["citation_key"] == "roshchin1950record"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"citation_key": "another1950key"}, "citation_key"),
        ({"issued": "1950-02-30"}, "issued"),
        ({"creators": [{"given": "Nikolai"}]}, "creators"),
    ],
)
def test_invalid_update_is_a_400_naming_the_field(as_user, source, bob, changes, field):
    response = as_user(bob).patch(detail(source), changes, format="json", **read(source))
    assert response.status_code == 400
    assert field in response.json()
    source.refresh_from_db()
    assert source.version == 1
    assert source.creators.count() == 1


def test_a_source_cannot_move_to_another_library(as_user, source, alice):
    other = make_library(owner=alice, name="Other")
    response = as_user(alice).patch(
        detail(source), {"library": other.slug}, format="json", **read(source)
    )
    assert response.status_code == 400
    assert "library" in response.json()


def test_stale_if_match_is_refused_with_412(as_user, source, alice, bob):
    as_user(alice).patch(detail(source), {"title": "Alice's title"}, format="json", **read(source))
    response = as_user(bob).patch(
        detail(source), {"title": "Bob's title"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 412
    source.refresh_from_db()
    assert source.title == "Alice's title"
    fresh = as_user(bob).patch(
        detail(source), {"title": "Bob's title"}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert fresh.status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_change_without_if_match_is_refused_with_428(as_user, source, alice, method):
    response = getattr(as_user(alice), method)(detail(source), {"title": "New"}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    source.refresh_from_db()
    assert (source.title, source.version) != ("New", 2)
    assert Source.objects.filter(pk=source.pk).exists()


def test_a_stale_delete_is_refused_with_412_and_deletes_nothing(as_user, source, alice, bob):
    as_user(alice).patch(detail(source), {"title": "Alice's title"}, format="json", **read(source))
    response = as_user(bob).delete(detail(source), HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert response.json()["etag"] == '"2"'
    assert Source.objects.filter(pk=source.pk).exists()


@pytest.mark.parametrize(("persona", "expected"), [("vera", 403), ("mallory", 404)])
def test_viewer_and_outsider_cannot_update_a_source(as_user, source, persona, expected, request):
    user = request.getfixturevalue(persona)
    response = as_user(user).patch(
        detail(source), {"title": "Defaced"}, format="json", **read(source)
    )
    assert response.status_code == expected
    source.refresh_from_db()
    assert source.title != "Defaced"


# Deleting, methods, CSL ---------------------------------------------------------------


def test_editor_deletes_a_source(as_user, source, bob):
    assert as_user(bob).delete(detail(source), **read(source)).status_code == 204
    assert not Source.objects.filter(pk=source.pk).exists()


@pytest.mark.parametrize(("persona", "expected"), [("vera", 403), ("mallory", 404)])
def test_viewer_and_outsider_cannot_delete_a_source(as_user, source, persona, expected, request):
    user = request.getfixturevalue(persona)
    assert as_user(user).delete(detail(source), **read(source)).status_code == expected
    assert as_user(user).delete(detail(source)).status_code == expected  # role before If-Match
    assert Source.objects.filter(pk=source.pk).exists()


def test_wrong_methods_are_405(as_user, source, alice):
    client = as_user(alice)
    assert client.post(detail(source), {}, format="json").status_code == 405
    assert client.put(LIST, {}, format="json").status_code == 405
    assert client.post(f"{detail(source)}csl/", {}, format="json").status_code == 405


def test_csl_action_gives_one_csl_json_item(as_user, source, vera):
    response = as_user(vera).get(f"{detail(source)}csl/")
    assert response.status_code == 200
    item = response.json()
    assert item["type"] == "manuscript"
    assert item["title"] == source.title
    assert item["author"][0]["family"] == "Roshchin"


def test_csl_of_an_invisible_source_is_404(as_user, source, mallory):
    assert as_user(mallory).get(f"{detail(source)}csl/").status_code == 404


HUGE = "99999999999999999999"  # past a 64-bit key


def test_hostile_ids_are_404_or_empty_never_500(as_user, source, alice):
    client = as_user(alice)
    assert client.get(f"/api/sources/{HUGE}/").status_code == 404
    assert client.get(f"/api/sources/{HUGE}/texts/").status_code == 404
    assert client.get("/api/sources/abc/").status_code == 404
    for value in (HUGE, "²", "-1"):
        assert titles(client.get(LIST, {"library": value})) == []
        response = client.post(LIST, new_source(source.library, library=value), format="json")
        assert response.status_code == 400
        assert "library" in response.json()
