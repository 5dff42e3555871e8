import pytest

from sources.models import Library, Membership, Role
from tests.factories import make_library

LIST = "/api/libraries/"


def detail(library: Library) -> str:
    return f"/api/libraries/{library.slug}/"


@pytest.fixture
def public_library(alice, vera):
    library = make_library(owner=alice, name="Published CWIHP translations", is_public=True)
    Membership.objects.create(library=library, user=vera, role=Role.VIEWER)
    return library


def test_member_lists_their_libraries_with_role_and_members(as_user, library, bob):
    response = as_user(bob).get(LIST)
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["slug"] == library.slug
    assert item["role"] == "editor"
    roles = {m["user"]: m["role"] for m in item["members"]}
    assert roles == {"alice": "owner", "bob": "editor", "vera": "viewer"}


def test_outsider_sees_no_private_library(as_user, library, mallory):
    response = as_user(mallory).get(LIST)
    assert response.json()["count"] == 0
    assert as_user(mallory).get(detail(library)).status_code == 404


def test_anonymous_reads_public_libraries_only(as_user, library, public_library):
    anonymous = as_user(None)
    slugs = [item["slug"] for item in anonymous.get(LIST).json()["results"]]
    assert slugs == [public_library.slug]
    assert anonymous.get(detail(library)).status_code == 404
    assert anonymous.get(detail(public_library)).status_code == 200


def test_non_members_of_a_public_library_do_not_see_its_members(as_user, public_library, mallory):
    data = as_user(mallory).get(detail(public_library)).json()
    assert data["role"] is None
    assert data["members"] == []


def test_creator_of_a_library_becomes_its_owner(as_user, mallory):
    response = as_user(mallory).post(
        LIST, {"name": "Cuban Missile Crisis", "description": "1962 cables"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "cuban-missile-crisis"
    assert response.json()["role"] == "owner"
    library = Library.objects.get(slug="cuban-missile-crisis")
    assert library.role_of(mallory) == Role.OWNER


def test_library_without_a_name_is_refused_naming_the_field(as_user, alice):
    response = as_user(alice).post(LIST, {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Library.objects.exists()


def test_anonymous_cannot_create_a_library(as_user, db):
    response = as_user(None).post(LIST, {"name": "Anonymous"}, format="json")
    assert response.status_code in (401, 403)
    assert not Library.objects.exists()


def test_owner_renames_a_library_and_the_slug_stays(as_user, library, alice):
    response = as_user(alice).patch(
        detail(library), {"name": "Sino-Soviet split", "slug": "hijack"}, format="json"
    )
    assert response.status_code == 200
    library.refresh_from_db()
    assert (library.name, library.slug) == ("Sino-Soviet split", "sino-soviet-relations")


@pytest.mark.parametrize(("persona", "expected"), [("bob", 403), ("vera", 403), ("mallory", 404)])
def test_only_the_owner_may_change_a_library(as_user, library, persona, expected, request):
    user = request.getfixturevalue(persona)
    response = as_user(user).patch(detail(library), {"is_public": True}, format="json")
    assert response.status_code == expected
    library.refresh_from_db()
    assert library.is_public is False


def test_invalid_update_names_the_field(as_user, library, alice):
    response = as_user(alice).patch(detail(library), {"is_public": "perhaps"}, format="json")
    assert response.status_code == 400
    assert "is_public" in response.json()


def test_libraries_cannot_be_deleted_through_the_api(as_user, library, alice):
    assert as_user(alice).delete(detail(library)).status_code == 405
    assert as_user(alice).put(LIST, {"name": "x"}, format="json").status_code == 405
    assert Library.objects.filter(pk=library.pk).exists()


def test_library_list_is_paginated(as_user, alice):
    for n in range(5):
        make_library(owner=alice, name=f"Library {n}")
    data = as_user(alice).get(LIST, {"limit": 2, "offset": 2}).json()
    assert data["count"] == 5
    assert [item["name"] for item in data["results"]] == ["Library 2", "Library 3"]
    assert "offset=4" in data["next"]
