"""Every route of the site × owner, editor, viewer, outsider and anonymous visitor.

For each persona, in a private library and again in one published read-only, the walk:
- reads every route (GET): never a server error; an outsider or anonymous visitor is never
  shown a word of the private library; nobody but bob is shown a word of bob's private work
  (his private note, his private claim with its note, event link and evidence, the tags
  only they carry); nobody but alice is shown her backup. Every body counts: pages, JSON,
  downloads (a ZIP download, a backup or a DOCX, is read unpacked);
- sends every write (POST, PUT, PATCH, DELETE) that the persona must be refused, with a
  plausible body (the form alice would submit, the JSON alice reads back, with her ETag),
  and checks that it was refused (4xx, or the sign-in page for an anonymous visitor) and
  that nothing changed: every row of the library, its history, tokens, invitations and
  accounts hash to what they were before.

The routes and their parameters are discovered (tests/security/world.py), so features
added later are walked too.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.urls import resolve
from rest_framework.test import APIClient

from tests.security.world import (
    BACKUP_MARKER,
    PRIVATE,
    SECRET,
    Route,
    Witness,
    World,
    all_routes,
    build_world,
    read_urls_for,
    urls_for,
)

WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Routes whose writes are about the visitor's own session or account, not a library.
ACCOUNT_ROUTES = ("accounts/",)
# What every member may do to a library, whatever their role.
MEMBER_WRITES = {"library-leave"}
# Writes only an owner may make.
OWNER_ONLY = {
    "library-invite",
    "membership-role",
    "membership-remove",
    "library-publish",
    "invitation-withdraw",
    "api-library-detail",
}
# Creating one's own library is open to everyone signed in.
OWN_CREATIONS = {"api-library-list"}
# Kinds whose rows are changed only by their creator (and moderated by owners).
CREATOR_KINDS = {"annotations", "claims", "evidence", "claim-events"}
TEXT_FIELDS = {"title", "name", "statement", "note", "comment", "description"}
GENERIC_FORM = {
    "title": "Defaced", "name": "Defaced", "statement": "Defaced", "note": "Defaced",
    "comment": "Defaced", "role": "owner", "who": "mallory", "is_public": "on",
    "relation": "cites", "csl_type": "document", "kind": "primary", "status": "disputed",
}  # fmt: skip


@pytest.fixture(params=["private", "public"])
def world(db, request) -> World:
    return build_world(public=request.param == "public")


@pytest.fixture
def private_world(db) -> World:
    return build_world()


def client(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_login(user)
    return api


def body_text(response) -> str:
    """The body as text; a ZIP (a backup, a DOCX) unpacked, every file of it."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"\n".join(archive.read(name) for name in archive.namelist())
    return body.decode("utf-8", "replace")


def first_kind(route: Route) -> str:
    return route.parameters[0][1] if route.parameters else ""


def names_one_of(ids: dict[str, set[int]], route: Route, url: str) -> bool:
    """Does the url name one of `ids` (by the path segment before the first id)?"""
    wanted = ids.get(first_kind(route))
    if not wanted:
        return False
    first_parameter = route.parameters[0][0]
    return resolve(url).kwargs.get(first_parameter) in wanted


def must_refuse(route: Route, persona: str, url: str, world: World) -> bool:
    """Is a write to this route, by this persona, on this url one that must be refused?"""
    if route.pattern.startswith(ACCOUNT_ROUTES) or route.name in (None, "health"):
        return False
    if persona == "anonymous":
        return True  # every write needs an account
    # A route is bound to the library when an id in its path or its body names it; the
    # API's list routes take the library (or a text, a source…) in the body.
    bound = bool(route.parameters) or (route.is_api and route.name not in OWN_CREATIONS)
    private = names_one_of(world.private, route, url)  # his private work: his alone
    bobs = names_one_of(world.bobs, route, url)
    if not bound:
        return False
    if persona == "outsider":
        return True
    if persona == "viewer":
        return route.name not in MEMBER_WRITES
    if persona == "editor":
        by_alice = first_kind(route) in CREATOR_KINDS and not bobs
        return route.name in OWNER_ONLY or by_alice
    return private  # the owner: bob's private note is his alone


def generic_body(world: World) -> dict[str, Any]:
    """Fields a create or action endpoint may want, all naming the private library."""
    text = world.objects["text"][0]
    return {
        **GENERIC_FORM,
        "library": world.library.slug,
        "source": world.objects["source"][0].pk,
        "text": text.pk,
        "start": 0,
        "end": 6,
        "claim": world.objects["claim"][0].pk,
        "annotation": world.objects["annotation"][0].pk,
        "event": world.objects["event"][0].pk,
        "subject": world.objects["source"][0].pk,
        "object": world.objects["link"][0].subject_id,
        "into": world.objects["tag"][0].pk,
        "tags": ["Defaced"],
    }


def write_request(api, owner_api, method: str, url: str, route: Route, world: World):
    """Send the write the way a real client would, so that only a permission check can
    stop it: the owner's own form or JSON, with her ETag."""
    if not route.is_api:
        return api.post(url, _form(owner_api, url))
    read = owner_api.get(url, HTTP_ACCEPT="application/json")
    if not read.has_header("ETag"):  # an action (…/reattach/): the object's own ETag
        read = owner_api.get(url.rstrip("/").rsplit("/", 1)[0] + "/")
    headers = {"HTTP_IF_MATCH": read["ETag"]} if read.has_header("ETag") else {}
    body = _changed_json(read) if read.status_code == 200 else {}
    if method == "PATCH":  # one plain field: a valid change, stopped only by permissions
        body = {k: v for k, v in body.items() if k in TEXT_FIELDS} or body
    if method == "POST":
        body = {**generic_body(world), **body}
    return api.generic(method, url, _json(body), content_type="application/json", **headers)


def _json(body: Any) -> str:
    import json

    return json.dumps(body)


def _changed_json(response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: f"{v} defaced" if isinstance(v, str) else v for k, v in data.items()}


def _form(owner_api: APIClient, url: str) -> dict:
    """The first POST form on the owner's page at `url` with its values filled in, over a
    generic set of fields (for routes without a page of their own)."""
    page = owner_api.get(url)
    data = dict(GENERIC_FORM)
    if page.status_code == 200 and "html" in page.get("Content-Type", ""):
        soup = BeautifulSoup(body_text(page), "html.parser")
        form = next((f for f in soup.find_all("form") if _posts_here(f, url)), None)
        if form is not None:
            data |= _form_values(form)
    return data


def _posts_here(form, url: str) -> bool:
    return (form.get("method") or "get").lower() == "post" and form.get("action") in (
        None, "", url,
    )  # fmt: skip


def _form_values(form) -> dict[str, str]:
    values = {}
    for field in form.find_all(["input", "textarea", "select"]):
        name = field.get("name")
        if not name or field.get("type") in ("file", "submit"):
            continue
        if field.name == "select":
            chosen = field.find("option", selected=True) or field.find("option")
            values[name] = chosen.get("value", "") if chosen else ""
        elif field.get("type") == "checkbox":
            if field.has_attr("checked"):
                values[name] = field.get("value", "on")
        else:
            value = field.get("value", "") if field.name == "input" else field.get_text()
            values[name] = f"{value} defaced" if field.get("type") != "hidden" else value
    return values


def refused(response, persona: str) -> bool:
    if persona == "anonymous" and response.status_code == 302:
        return "/accounts/login/" in response["Location"]
    return 400 <= response.status_code < 500


PERSONAS = {"owner": "alice", "editor": "bob", "viewer": "vera", "outsider": "mallory"}


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "outsider", "anonymous"])
def test_no_route_leaks_or_allows_a_write_it_should_refuse(world, persona):
    user = world.users.get(PERSONAS.get(persona, ""))
    api, owner_api = client(user), client(world.users["alice"])
    witness = Witness(world, actor=api.session.get("_auth_user_id"))
    failures: list[str] = []
    walked = 0
    for route in all_routes():
        methods = route.methods()
        if "GET" in methods:
            for url in read_urls_for(route, world):
                walked += 1
                failures += check_read(api, url, persona, world)
        for url in urls_for(route, world):
            for method in methods:
                walked += method != "GET"
                if method in WRITES and must_refuse(route, persona, url, world):
                    request = (api, owner_api, method, url, route)
                    failures += check_refused_write(*request, persona, world, witness)
    assert walked > 50, "the walk found too few routes: is the URL configuration loaded?"
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)


def check_read(api: APIClient, url: str, persona: str, world: World) -> list[str]:
    response = api.get(url)
    text = body_text(response)
    problems = []
    if response.status_code >= 500:
        problems.append(f"GET {url} as {persona}: {response.status_code}")
    hidden = not world.library.is_public
    if hidden and persona in ("outsider", "anonymous") and SECRET in text:
        problems.append(f"GET {url} as {persona}: shows the private library's content")
    backup = BACKUP_MARKER in text
    if backup and persona != "owner":
        problems.append(f"GET {url} as {persona}: shows alice's backup")
    if persona != "editor" and not (backup and persona == "owner"):  # her backup holds all
        shown = [name for name, marker in PRIVATE.items() if marker in text]
        if shown:
            problems.append(f"GET {url} as {persona}: shows bob's private {', '.join(shown)}")
    return problems


def check_refused_write(
    api: APIClient, owner_api: APIClient, method: str, url: str, route: Route, persona: str,
    world: World, witness: Witness,
) -> list[str]:  # fmt: skip
    before = witness.now()
    response = write_request(api, owner_api, method, url, route, world)
    problems = []
    if not refused(response, persona):
        problems.append(f"{method} {url} as {persona}: answered {response.status_code}")
    if witness.now() != before:
        problems.append(f"{method} {url} as {persona}: CHANGED DATA it should not")
    return problems


def test_the_witness_sees_every_write_and_reads_only_after_one(
    private_world, django_assert_max_num_queries
):
    """The walk's check that a refused write changed nothing: the fingerprint is taken
    again only after rows were written, and then it sees the change, down to one field of
    one row, through the history too."""
    world = private_world
    witness = Witness(world)
    before = witness.now()
    with django_assert_max_num_queries(1):  # nothing written: only the counter is read
        assert witness.now() == before
    source = world.objects["source"][0]
    type(source).objects.filter(pk=source.pk).update(title=source.title + ".")
    changed = witness.now()
    assert changed != before
    type(source).objects.filter(pk=source.pk).update(title=source.title)
    assert witness.now() == before  # the same rows again
    source.history.first().delete()
    assert witness.now() not in (before, changed)


def test_the_admin_is_for_staff_only(private_world, as_user):
    world = private_world
    for user in (None, world.users["alice"], world.users["mallory"]):
        response = client(user).get("/admin/sources/source/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_the_walk_covers_pages_and_api_of_every_app(private_world):
    patterns = {route.pattern for route in all_routes()}
    expected = {
        "api/sources/<int:pk>/", "sources/<int:pk>/", "libraries/<slug:slug>/members/",
        "api/annotations/<int:pk>/", "api/claims/<int:pk>/", "api/events/<int:pk>/",
        "events/<int:pk>/history/", "annotations/<int:pk>/history/", "api/tags/",
        "jobs/<int:pk>/download/", "jobs/<int:pk>.json", "libraries/<slug:slug>/timeline/",
    }  # fmt: skip
    assert expected <= patterns


def test_the_world_holds_bobs_private_work_and_alices_backup(private_world, as_user):
    """The walk can only find what the world holds: each marker is really there, to its
    one reader (bob's to bob, the backup's to alice), through the routes that show it."""
    world = private_world
    bob, alice = as_user(world.users["bob"]), as_user(world.users["alice"])
    claim, event = world.objects["claim"][1], world.objects["event"][0]
    highlight = world.objects["annotation"][2]
    pages = [
        body_text(bob.get(f"/claims/{claim.pk}/")),
        body_text(bob.get(f"/events/{event.pk}/history/")),
        body_text(bob.get(f"/annotations/{highlight.pk}/history/")),
        body_text(bob.get("/api/tags/", {"library": world.library.slug, "limit": 100})),
        body_text(bob.get(f"/sources/{world.objects['source'][0].pk}/")),
    ]
    assert all(any(marker in page for page in pages) for marker in PRIVATE.values())
    found = body_text(bob.get("/search/", {"q": "PrivateClaimOfBob"}))
    assert PRIVATE["claim_note"] in found  # the walk's queries find what they look for
    [job] = world.objects["job"]
    download = body_text(alice.get(f"/jobs/{job.pk}/download/"))
    assert BACKUP_MARKER in download and PRIVATE["claim"] in download
