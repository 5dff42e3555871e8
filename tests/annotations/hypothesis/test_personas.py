"""Every /hypothesis/api/ route × owner, editor, viewer, outsider and anonymous caller.

The world (built anew for every case, in a private library and again in one published
read-only): alice owns the library, bob edits, vera reads, mallory is outside it and keeps a
library of her own. Each signs in as the client does, trading a grant token for a bearer
token at `api/token`; the anonymous caller sends none. On the library's page alice keeps a
private ("Only me") passage, a private reply under a shared annotation, a private page note
and a private reply in her private thread; bob and mallory each keep a private annotation
too. Each one's private words carry that person's marker.

`MATRIX` is the table: for each route and method, the status every persona gets, and what
a success must hold (the rows that persona may see, nothing more; the write, made where it
was asked). Every case also checks that a refusal is a 4xx JSON body with a reason and
changed nothing, and that no body holds another person's marker. The leak walk then sends,
as each persona, every read (search by any spelling of the address, any group, reply
threads, paging) and every write attempt on someone else's private id, and looks for the
markers in every body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, RequestFactory

from annotations.hypothesis import first_annotation, tokens
from annotations.hypothesis.models import ClientProfile
from annotations.models import Annotation, Visibility
from sources.models import Library, Role, Source
from tests.factories import add_member, make_library, make_source, make_text, make_user

pytestmark = pytest.mark.django_db

API = "/hypothesis/api/"
PAGE = "https://archive.example.org/fonds/45/delo-329"
OTHER_PAGE = "https://elsewhere.example.net/notes/1"
TEXT = (
    "Mao came to Moscow in December 1949. Stalin kept him waiting for weeks. "
    "The treaty was signed on 14 February 1950, with a loan."
)
OTHER_TEXT = "Notes on the loan agreement and its interest rate."
PERSONAS = ("owner", "editor", "viewer", "outsider", "anonymous")
USERS = {"owner": "alice", "editor": "bob", "viewer": "vera", "outsider": "mallory"}
# Words in one person's private annotations only: no other persona may ever be shown them.
MARKERS = {
    "owner": "AliceOnlyQz7",
    "editor": "BobOnlyXw3",
    "outsider": "MalloryOnlyKv5",
}
MISSING = 987_654_321  # an annotation id that never existed


# --- the world ---------------------------------------------------------------------------


@dataclass
class World:
    public: bool
    library: Library
    elsewhere: Library
    users: dict[str, Any]
    headers: dict[str, dict[str, str]]
    refresh: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)

    def sees_library(self, persona: str) -> bool:
        return self.public or persona in ("owner", "editor", "viewer")

    def visible(self, persona: str) -> set[int]:
        """Every annotation id `persona` may see, anywhere."""
        names: set[str] = set()
        if self.sees_library(persona):
            names |= SHARED
        names |= OWN_PRIVATE.get(persona, set())
        if persona == "outsider":
            names |= {"m_shared", "m_private"}
        return {self.ids[name] for name in names}

    def on_page(self, persona: str) -> set[int]:
        """What `persona` may see on PAGE (the library's source)."""
        return self.visible(persona) & {self.ids[name] for name in IN_LIBRARY}

    def private_of_others(self, persona: str) -> set[int]:
        return {
            self.ids[name]
            for owner, names in OWN_PRIVATE.items()
            if owner != persona
            for name in names
        }


SHARED = {"a_shared", "b_shared", "b_reply"}
OWN_PRIVATE = {
    "owner": {"a_private", "a_private_reply", "a_private_note", "a_private_thread"},
    "editor": {"b_private"},
    "outsider": {"m_private"},
}
IN_LIBRARY = SHARED | OWN_PRIVATE["owner"] | OWN_PRIVATE["editor"]


def passage(quote: str, *, group: str, text: str = "", private_to=None, uri: str = PAGE,
            page_text: str = TEXT, tags: list[str] | None = None) -> dict:  # fmt: skip
    """What the client posts for a highlight of `quote` (a TextPositionSelector and a
    TextQuoteSelector), shared with the group or "Only me"."""
    start = page_text.index(quote)
    end = start + len(quote)
    return {
        "uri": uri,
        "group": group,
        "permissions": {"read": [tokens.userid(private_to) if private_to else f"group:{group}"]},
        "tags": tags or [],
        "text": text,
        "document": {"title": ["Delo 329"], "link": [{"href": uri}]},
        "target": [
            {
                "source": uri,
                "selector": [
                    {"type": "TextPositionSelector", "start": start, "end": end},
                    {"type": "TextQuoteSelector", "exact": quote,
                     "prefix": page_text[max(0, start - 8) : start],
                     "suffix": page_text[end : end + 8]},
                ],
            }
        ],
    }  # fmt: skip


def page_note(*, group: str, text: str, private_to=None) -> dict:
    """A target without selector: a note on the whole page (the client's Page Notes)."""
    body = passage("Mao", group=group, text=text, private_to=private_to)
    body["target"] = [{"source": PAGE}]
    return body


def reply(to: int, *, group: str, text: str, private_to=None) -> dict:
    readers = [tokens.userid(private_to) if private_to else f"group:{group}"]
    return {"references": [str(to)], "text": text, "uri": PAGE, "group": group,
            "permissions": {"read": readers}}  # fmt: skip


def token_for(user) -> dict[str, str]:
    """Sign in as the client does: a grant token traded at `api/token`."""
    grant = tokens.grant_token(user, RequestFactory().get("/"))
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": grant}
    answer = Client().post(API + "token", form)
    assert answer.status_code == 200, answer.content
    return answer.json()


def send(world: World, persona: str, method: str, path: str, body: Any = None, query=None):
    headers = world.headers.get(persona, {})
    client = Client()
    if method == "GET":
        return client.get(API + path, query or {}, **headers)
    if isinstance(body, (bytes, str)):
        data, kind = body, "application/json"
    elif isinstance(body, dict) and body.get("__form__"):
        data = {k: v for k, v in body.items() if k != "__form__"}
        return client.post(API + path, data, **headers)
    else:
        data, kind = json.dumps(body if body is not None else {}), "application/json"
    return client.generic(method, API + path, data, content_type=kind, **headers)


def build_world(public: bool) -> World:
    users = {persona: make_user(username=name) for persona, name in USERS.items()}
    alice, bob, mallory = users["owner"], users["editor"], users["outsider"]
    library = make_library(owner=alice, name="Moscow talks", is_public=public)
    add_member(library=library, user=bob, role=Role.EDITOR)
    add_member(library=library, user=users["viewer"], role=Role.VIEWER)
    make_text(source=make_source(library=library, title="Delo 329", url=PAGE), text=TEXT,
              imported_by=alice)  # fmt: skip
    elsewhere = make_library(owner=mallory, name="Mallory's notes")
    make_text(source=make_source(library=elsewhere, title="Loan notes", url=OTHER_PAGE),
              text=OTHER_TEXT, imported_by=mallory)  # fmt: skip
    minted = {persona: token_for(user) for persona, user in users.items()}
    world = World(
        public=public,
        library=library,
        elsewhere=elsewhere,
        users=users,
        headers={
            p: {"HTTP_AUTHORIZATION": f"Bearer {t['access_token']}"} for p, t in minted.items()
        },
        refresh={p: t["refresh_token"] for p, t in minted.items()},
    )
    lib, other = library.slug, elsewhere.slug
    alice_mark, bob_mark, mallory_mark = MARKERS["owner"], MARKERS["editor"], MARKERS["outsider"]
    made = world.ids

    def make(name: str, persona: str, body: dict) -> None:
        response = send(world, persona, "POST", "annotations", body)
        assert response.status_code == 200, (name, response.content)
        made[name] = int(response.json()["id"])

    # fmt: off
    make("a_shared", "owner", passage("Mao came to Moscow", group=lib, text="Shared by alice."))
    make("b_shared", "editor", passage("Stalin kept him", group=lib, text="Shared by bob."))
    make("b_reply", "editor", reply(made["a_shared"], group=lib, text="Bob answers alice."))
    make("a_private", "owner", passage("December 1949", group=lib, private_to=alice,
                                       text=f"{alice_mark} passage",
                                       tags=[f"{alice_mark}-tag"]))
    make("a_private_reply", "owner", reply(made["a_shared"], group=lib, private_to=alice,
                                           text=f"{alice_mark} reply under a shared"))
    make("a_private_note", "owner", page_note(group=lib, private_to=alice,
                                              text=f"{alice_mark} page note"))
    # No permissions sent: a reply in a private thread is private all the same.
    make("a_private_thread", "owner", reply(made["a_private"], group=lib,
                                            text=f"{alice_mark} in her thread"))
    make("b_private", "editor", passage("The treaty", group=lib, private_to=bob,
                                        text=f"{bob_mark} passage"))
    make("m_shared", "outsider", passage("loan agreement", group=other, uri=OTHER_PAGE,
                                         page_text=OTHER_TEXT, text="Mallory's own."))
    make("m_private", "outsider", passage("interest rate", group=other, uri=OTHER_PAGE,
                                          page_text=OTHER_TEXT, private_to=mallory,
                                          text=f"{mallory_mark} passage"))
    # fmt: on
    kept = dict(Annotation.objects.values_list("pk", "visibility"))
    for persona, names in OWN_PRIVATE.items():
        assert {kept[made[n]] for n in names} == {Visibility.PRIVATE}, persona
    assert {kept[made[n]] for n in SHARED | {"m_shared"}} == {Visibility.LIBRARY}
    return world


@pytest.fixture(autouse=True)
def _no_fetching(monkeypatch):
    """No case may reach the network: a first annotation on an unknown page fetches it."""

    def refuse(url: str):
        raise AssertionError(f"fetched {url}: a case reached the network")

    monkeypatch.setattr(first_annotation, "fetch_page", refuse)


@pytest.fixture(params=["private", "public"])
def world(request) -> World:
    return build_world(public=request.param == "public")


# --- what every answer must be -----------------------------------------------------------------


def fingerprint() -> tuple:
    """Everything a write here could change."""
    rows = tuple(
        Annotation.objects.order_by("pk").values_list(
            "pk", "library_id", "creator_id", "visibility", "comment_raw", "reply_to_id",
            "start", "end", "state",
        )
    )  # fmt: skip
    tags = tuple(Annotation.tags.through.objects.order_by("pk").values_list("annotation", "tag"))
    profiles = tuple(ClientProfile.objects.order_by("pk").values_list("user", "preferences"))
    sources = tuple(Source.objects.order_by("pk").values_list("pk", "library_id", "url"))
    return rows, tags, profiles, sources


def body_of(response) -> str:
    return response.content.decode("utf-8", "replace")


def check_clear_refusal(response, path: str) -> list[str]:
    """A 4xx is JSON that says why (h's `failure` with a reason; OAuth's `error` at token)."""
    if response.status_code < 400:
        return []
    if response.status_code >= 500:
        return [f"server error {response.status_code}"]
    try:
        data = response.json()
    except ValueError:
        return [f"{response.status_code} is not JSON: {body_of(response)[:200]}"]
    if path in ("token", "revoke") and isinstance(data.get("error"), str):
        return []  # RFC 6749 §5.2's answer, as the client expects it there
    if data.get("status") != "failure" or not str(data.get("reason", "")).strip():
        return [f"no reason given: {data}"]
    return []


def leaked_markers(text: str, persona: str) -> list[str]:
    return [who for who, marker in MARKERS.items() if who != persona and marker in text]


# --- the matrix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One route and method: `expect` the statuses of owner, editor, viewer, outsider and
    anonymous ("404/200": in the private library / in the public one); `body` built from
    the world for the persona; `check` what a success must hold."""

    name: str
    method: str
    path: str  # "{lib}", "{elsewhere}" and "{<annotation>}" filled from the world
    expect: str
    body: Callable[[World, str], Any] | None = None
    query: Callable[[World, str], dict] | None = None
    check: Callable[[World, str, Any], None] | None = None

    def status(self, persona: str, public: bool) -> int:
        given = self.expect.split()[PERSONAS.index(persona)]
        private, _, published = given.partition("/")
        return int(published if public and published else private)

    def url(self, world: World) -> str:
        names = {"lib": world.library.slug, "elsewhere": world.elsewhere.slug, **world.ids}
        return self.path.format(**names)


def rows_are(world: World, persona: str, response, wanted: set[int]) -> None:
    data = response.json()
    shown = {int(r["id"]) for r in data["rows"]}
    assert shown == wanted, f"{persona} was shown {sorted(shown)}, may see {sorted(wanted)}"
    assert data["total"] == len(wanted), f"{persona}: total {data['total']} counts others' rows"
    for found in data["rows"]:
        assert not {int(r) for r in found["references"]} & world.private_of_others(persona)


def sees_page(world, persona, response):
    rows_are(world, persona, response, world.on_page(persona))


def sees_nothing(world, persona, response):
    rows_are(world, persona, response, set())


def sees_replies_to(parent: str) -> Callable:
    def check(world, persona, response):
        wanted = {
            a.pk
            for a in Annotation.objects.filter(reply_to_id=world.ids[parent])
            if a.pk in world.visible(persona)
        }
        rows_are(world, persona, response, wanted)

    return check


def sees_other_page(world, persona, response):
    wanted = {world.ids["m_shared"], world.ids["m_private"]} if persona == "outsider" else set()
    rows_are(world, persona, response, wanted)


def groups_are(world: World, persona: str, groups: list[dict]) -> None:
    editable = {"owner": [world.library], "editor": [world.library],
                "outsider": [world.elsewhere]}.get(persona, [])  # fmt: skip
    assert [g["id"] for g in groups] == [lib.slug for lib in editable]
    for found, lib in zip(groups, editable, strict=True):
        assert found["public"] == lib.is_public and found["name"] == lib.name


def profile_is(world, persona, response):
    data = response.json()
    user = world.users.get(persona)
    assert data["userid"] == (tokens.userid(user) if user else None)
    groups_are(world, persona, data["groups"])


def group_list(world, persona, response):
    groups_are(world, persona, response.json())


def offered_groups(*, on_page: bool) -> Callable:
    """GET groups: one's own groups (`private`), then the libraries one only reads
    (`restricted`): those one is a viewer of and, asked for a page, those holding it."""

    def check(world, persona, response):
        mine, read = [], []
        for group in response.json():
            (mine if group["type"] == "private" else read).append(group)
            assert group["type"] in ("private", "restricted")
        groups_are(world, persona, mine)
        reads = persona == "viewer" or (on_page and world.public and persona != "owner"
                                        and persona != "editor")  # fmt: skip
        assert [g["id"] for g in read] == ([world.library.slug] if reads else [])

    return check


def group_typed(world, persona, response):
    group = response.json()
    assert group["id"] == world.library.slug
    assert group["type"] == ("private" if persona in ("owner", "editor") else "restricted")


def one_group(slug_of: Callable[[World], Library]) -> Callable:
    def check(world, persona, response):
        assert response.json()["id"] == slug_of(world).slug

    return check


def one_row(name: str) -> Callable:
    def check(world, persona, response):
        data = response.json()
        assert int(data["id"]) == world.ids[name]
        found = Annotation.objects.get(pk=world.ids[name])
        if found.visibility == Visibility.PRIVATE:
            assert data["permissions"]["read"] == [tokens.userid(found.creator)]
        assert not {int(r) for r in data["references"]} & world.private_of_others(persona)

    return check


def created_in(library_of: Callable[[World], Library], *, private: bool = False) -> Callable:
    def check(world, persona, response):
        made = Annotation.objects.get(pk=int(response.json()["id"]))
        assert made.library == library_of(world) and made.creator == world.users[persona]
        assert response.json()["group"] == library_of(world).slug
        assert made.visibility == (Visibility.PRIVATE if private else Visibility.LIBRARY)

    return check


def changed(name: str, comment: str = "Edited", visibility: str | None = None) -> Callable:
    def check(world, persona, response):
        found = Annotation.objects.get(pk=world.ids[name])
        assert found.comment_raw == comment and response.json()["text"] == comment
        if visibility is not None:
            assert found.visibility == visibility

    return check


def deleted(name: str) -> Callable:
    def check(world, persona, response):
        assert response.json() == {"id": str(world.ids[name]), "deleted": True}
        assert not Annotation.objects.filter(pk=world.ids[name]).exists()

    return check


def preferences_kept(world, persona, response):
    assert response.json()["preferences"] == {"show_sidebar_tutorial": True}
    kept = ClientProfile.objects.preferences_of(world.users[persona])
    assert kept == {"show_sidebar_tutorial": True}


def no_members(world, persona, response):
    assert response.json() == []  # mentions are off: members are listed in Marginalia only


def links_listed(world, persona, response):
    links = response.json()["links"]
    assert links["annotation"]["create"]["url"] == "http://testserver/hypothesis/api/annotations"


def grant_for(world: World, persona: str) -> dict:
    user = world.users.get(persona)
    assertion = tokens.grant_token(user, RequestFactory().get("/")) if user else "not.a.jwt"
    return {"__form__": True, "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion}  # fmt: skip


def minted_for_persona(world, persona, response):
    access = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}
    assert Client().get(API + "profile", **access).json()["userid"] == tokens.userid(
        world.users[persona]
    )


def text_edit(world, persona):
    return {"text": "Edited"}


def only_me(world, persona):
    user = world.users.get(persona) or world.users["owner"]
    return {"permissions": {"read": [tokens.userid(user)]}, "text": "Edited"}


def shared_again(world, persona):
    return {"permissions": {"read": [f"group:{world.library.slug}"]}, "text": "Edited"}


def page_query(**extra) -> Callable:
    return lambda world, persona: {"uri": PAGE, **extra}


def references_query(name: str) -> Callable:
    return lambda world, persona: {"references": str(world.ids[name])}


READ = "200 200 200 200 200"
SIGNED_IN = "200 200 200 200 401"
MODERATION = "403 403 403 403 401"
ALICE_PRIVATE_READ = "200 404 404 404 404"
ALICE_PRIVATE_WRITE = "200 404 404 404 401"
SHARED_READ = "200 200 200 404/200 404/200"
# fmt: off
MATRIX = [
    # the index, links, tokens
    Case("index", "GET", "", READ, check=links_listed),
    Case("links", "GET", "links", READ),
    Case("token: jwt-bearer grant", "POST", "token", "200 200 200 200 400", body=grant_for,
         check=minted_for_persona),
    Case("token: unknown grant type", "POST", "token", "400 400 400 400 400",
         body=lambda w, p: {"__form__": True, "grant_type": "password"}),
    Case("revoke: one's refresh token", "POST", "revoke", "200 200 200 200 400",
         body=lambda w, p: {"__form__": True, "token": w.refresh.get(p, "none")}),
    Case("token: GET refused", "GET", "token", "405 405 405 405 405"),
    # profile and groups
    Case("profile", "GET", "profile", READ, check=profile_is),
    Case("profile: PATCH", "PATCH", "profile", SIGNED_IN, check=preferences_kept,
         body=lambda w, p: {"preferences": {"show_sidebar_tutorial": True}}),
    Case("profile: PATCH an unknown preference", "PATCH", "profile", "400 400 400 400 401",
         body=lambda w, p: {"preferences": {"admin": True}}),
    Case("profile: POST refused", "POST", "profile", "405 405 405 405 405"),
    Case("profile/groups", "GET", "profile/groups", READ, check=group_list),
    Case("groups", "GET", "groups", READ, check=offered_groups(on_page=False)),
    Case("groups for the page", "GET", "groups", READ, check=offered_groups(on_page=True),
         query=lambda w, p: {"document_uri": PAGE}),
    Case("group: the library", "GET", "groups/{lib}", SHARED_READ, check=group_typed),
    Case("group: mallory's library", "GET", "groups/{elsewhere}", "404 404 404 200 404",
         check=one_group(lambda w: w.elsewhere)),
    Case("group members", "GET", "groups/{lib}/members", READ, check=no_members),
    Case("group member: leave", "DELETE", "groups/{lib}/members/acct:bob@marginalia.local",
         MODERATION),
    Case("analytics", "POST", "analytics/events", "204 204 204 204 204",
         body=lambda w, p: {"event": "client.realtime.apply_updates"}),
    # search
    Case("search: the page", "GET", "search", READ, query=page_query(), check=sees_page),
    Case("search: the page in the library's group", "GET", "search", READ, check=sees_page,
         query=lambda w, p: {"uri": PAGE, "group": w.library.slug}),
    Case("search: the page in mallory's group", "GET", "search", READ, check=sees_nothing,
         query=lambda w, p: {"uri": PAGE, "group": w.elsewhere.slug}),
    Case("search: separate replies", "GET", "search", READ, check=sees_page,
         query=page_query(_separate_replies="true", limit="200")),
    Case("search: replies to a shared one", "GET", "search", READ,
         query=references_query("a_shared"), check=sees_replies_to("a_shared")),
    Case("search: replies to alice's private one", "GET", "search", READ,
         query=references_query("a_private"), check=sees_replies_to("a_private")),
    Case("search: mallory's page", "GET", "search", READ, check=sees_other_page,
         query=lambda w, p: {"uri": OTHER_PAGE}),
    Case("search: a limit past the budget", "GET", "search", "400 400 400 400 400",
         query=page_query(limit="999")),
    Case("search: PUT refused", "PUT", "search", "405 405 405 405 405"),
    # reading one annotation
    Case("read: alice's shared", "GET", "annotations/{a_shared}", SHARED_READ,
         check=one_row("a_shared")),
    Case("read: bob's reply", "GET", "annotations/{b_reply}", SHARED_READ,
         check=one_row("b_reply")),
    *[
        Case(f"read: {name}", "GET", f"annotations/{{{name}}}", ALICE_PRIVATE_READ,
             check=one_row(name))
        for name in sorted(OWN_PRIVATE["owner"])
    ],
    Case("read: bob's private", "GET", "annotations/{b_private}", "404 200 404 404 404",
         check=one_row("b_private")),
    Case("read: mallory's private", "GET", "annotations/{m_private}", "404 404 404 200 404",
         check=one_row("m_private")),
    Case("read: mallory's shared", "GET", "annotations/{m_shared}", "404 404 404 200 404",
         check=one_row("m_shared")),
    Case("read: an id that never was", "GET", f"annotations/{MISSING}", "404 404 404 404 404"),
    # creating
    Case("create: a passage in the library", "POST", "annotations", "200 200 403 400/403 401",
         body=lambda w, p: passage("February 1950", group=w.library.slug, text="New."),
         check=created_in(lambda w: w.library)),
    Case("create: a page note in the library", "POST", "annotations", "200 200 403 400/403 401",
         body=lambda w, p: page_note(group=w.library.slug, text="New note."),
         check=created_in(lambda w: w.library)),
    Case("create: not JSON", "POST", "annotations", "400 400 400 400 401", body=lambda w, p: "{"),
    Case("create: GET refused", "GET", "annotations", "405 405 405 405 405"),
    Case("reply: to alice's shared", "POST", "annotations", "200 200 403 404/403 401",
         body=lambda w, p: reply(w.ids["a_shared"], group=w.library.slug, text="Re."),
         check=created_in(lambda w: w.library)),
    Case("reply: to alice's private", "POST", "annotations", ALICE_PRIVATE_WRITE,
         body=lambda w, p: reply(w.ids["a_private"], group=w.library.slug, text="Re."),
         check=created_in(lambda w: w.library, private=True)),
    Case("reply: to bob's private", "POST", "annotations", "404 200 404 404 401",
         body=lambda w, p: reply(w.ids["b_private"], group=w.library.slug, text="Re."),
         check=created_in(lambda w: w.library, private=True)),
    Case("reply: to mallory's shared", "POST", "annotations", "404 404 404 200 401",
         body=lambda w, p: reply(w.ids["m_shared"], group=w.elsewhere.slug, text="Re."),
         check=created_in(lambda w: w.elsewhere)),
    Case("reply: to an id that never was", "POST", "annotations", "404 404 404 404 401",
         body=lambda w, p: reply(MISSING, group=w.library.slug, text="Re.")),
    # updating
    Case("update: alice's shared", "PATCH", "annotations/{a_shared}", "200 403 403 404/403 401",
         body=text_edit, check=changed("a_shared")),
    Case("update: bob's shared (the owner moderates)", "PATCH", "annotations/{b_shared}",
         "200 200 403 404/403 401", body=text_edit, check=changed("b_shared")),
    Case("update: bob's shared made Only me", "PATCH", "annotations/{b_shared}",
         "403 200 403 404/403 401", body=only_me,
         check=changed("b_shared", visibility=Visibility.PRIVATE)),
    Case("update: alice's shared, not JSON", "PATCH", "annotations/{a_shared}",
         "400 403 403 404/403 401", body=lambda w, p: "[1,"),
    *[
        Case(f"update: {name}", "PATCH", f"annotations/{{{name}}}", ALICE_PRIVATE_WRITE,
             body=text_edit, check=changed(name))
        for name in ("a_private", "a_private_note", "a_private_reply")
    ],
    Case("update: a private thread's reply made shared", "PATCH", "annotations/{a_private_thread}",
         "400 404 404 404 401", body=shared_again),
    Case("update: bob's private", "PATCH", "annotations/{b_private}", "404 200 404 404 401",
         body=text_edit, check=changed("b_private")),
    Case("update: mallory's shared", "PATCH", "annotations/{m_shared}", "404 404 404 200 401",
         body=text_edit, check=changed("m_shared")),
    Case("update: an id that never was", "PATCH", f"annotations/{MISSING}", "404 404 404 404 401",
         body=text_edit),
    # deleting
    Case("delete: alice's shared, answered by bob", "DELETE", "annotations/{a_shared}",
         "409 403 403 404/403 401"),
    Case("delete: bob's shared", "DELETE", "annotations/{b_shared}", "200 200 403 404/403 401",
         check=deleted("b_shared")),
    Case("delete: alice's private", "DELETE", "annotations/{a_private}", ALICE_PRIVATE_WRITE,
         check=deleted("a_private")),
    Case("delete: alice's private note", "DELETE", "annotations/{a_private_note}",
         ALICE_PRIVATE_WRITE, check=deleted("a_private_note")),
    Case("delete: bob's private", "DELETE", "annotations/{b_private}", "404 200 404 404 401",
         check=deleted("b_private")),
    Case("delete: an id that never was", "DELETE", f"annotations/{MISSING}",
         "404 404 404 404 401"),
    # flagging, hiding, moderating: refused alike for any id, seen or not
    *[
        Case(f"{action} {method}: {name}", method, f"annotations/{{{name}}}/{action}",
             MODERATION, body=lambda w, p: {})
        for name in ("a_shared", "a_private")
        for action, method in (("flag", "PUT"), ("hide", "PUT"), ("hide", "DELETE"),
                               ("moderation", "PATCH"))
    ],
    Case("flag: an id that never was", "PUT", f"annotations/{MISSING}/flag", MODERATION),
]
# fmt: on


@pytest.mark.parametrize("case", MATRIX, ids=[case.name for case in MATRIX])
def test_route_by_persona(world: World, case: Case):
    """One row of the table, persona by persona, each on the world as it was built (the
    persona's writes are rolled back to a savepoint before the next one calls)."""
    failures = []
    for persona in PERSONAS:
        point = transaction.savepoint()
        try:
            cell(world, case, persona)
        except AssertionError as error:
            failures.append(f"{persona}: {error}")
        finally:
            transaction.savepoint_rollback(point)
    assert not failures, f"{case.method} {case.path}, {len(failures)} failing:\n" + "\n".join(
        failures
    )


def cell(world: World, case: Case, persona: str) -> None:
    path = case.url(world)
    before = fingerprint()
    body = case.body(world, persona) if case.body else None
    query = case.query(world, persona) if case.query else None
    response = send(world, persona, case.method, path, body, query)
    expected = case.status(persona, world.public)
    assert response.status_code == expected, (
        f"{case.method} {path}: {response.status_code}, not {expected}: {body_of(response)[:300]}"
    )
    assert not check_clear_refusal(response, path), check_clear_refusal(response, path)
    assert not leaked_markers(body_of(response), persona), "shows another's private words"
    writes = case.method != "GET" and path not in ("token", "revoke", "analytics/events")
    if response.status_code >= 400 or not writes:
        assert fingerprint() == before, f"{case.method} {path} changed data"
    else:
        assert fingerprint() != before, f"{case.method} {path} wrote nothing"
    if response.status_code < 300 and case.check is not None:
        case.check(world, persona, response)


def test_the_matrix_covers_every_api_route_and_method():
    """Every route of the API's index, and every path under /hypothesis/api/, is a case."""
    from annotations.hypothesis.urls import urlpatterns
    from annotations.hypothesis.views import ROUTES

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}|<[^>]+>|:\w+|\d{4,}|acct:\S+", "*", path).rstrip("/")

    covered = {(case.method, shape(case.path)) for case in MATRIX}
    for method, path, _ in ROUTES.values():
        assert (method, shape(path)) in covered, (method, path)
    routed = {shape(str(p.pattern).removeprefix("hypothesis/api/")) for p in urlpatterns
              if str(p.pattern).startswith("hypothesis/api/")}  # fmt: skip
    assert routed <= {shape(case.path) for case in MATRIX}, routed
    assert len(MATRIX) * len(PERSONAS) * 2 >= 600


# --- no private word reaches anyone else ------------------------------------------------------


def spellings_of(page: str) -> list[str]:
    """The page's address as browsers and the client may send it."""
    bare = page.removeprefix("https://")
    host, _, path = bare.partition("/")
    return [
        page, "http://" + bare, f"https://{host.upper()}/{path}", page + "/",
        f"https://{host}:443/{path}", page + "?utm_source=mail&fbclid=x", page + "#para-3",
    ]  # fmt: skip


def every_read(world: World) -> list[tuple[str, dict]]:
    """Search by every spelling, group, reply thread and page; every id read alone."""
    lib, other = world.library.slug, world.elsewhere.slug
    queries: list[dict] = []
    for uri in spellings_of(PAGE):
        for extra in ({}, {"group": lib}, {"group": other}, {"group": "__world__"},
                      {"_separate_replies": "true", "limit": "200"},
                      {"sort": "updated", "order": "desc"}):  # fmt: skip
            queries.append({"uri": uri, **extra})
    queries += [{"url": PAGE}, {"uri": [PAGE, OTHER_PAGE]}, {"uri": OTHER_PAGE}]
    queries += [{"uri": PAGE, "limit": "1", "offset": str(n)} for n in range(12)]
    queries += [{"uri": PAGE, "search_after": "1970-01-01T00:00:00+00:00"}]
    queries += [{"uri": PAGE, "search_after": "2999-01-01T00:00:00+00:00", "order": "desc"}]
    for pk in world.ids.values():
        queries += [{"references": str(pk)}, {"uri": PAGE, "references": str(pk)},
                    {"references": str(pk), "_separate_replies": "true"}]  # fmt: skip
    reads = [("search", q) for q in queries]
    reads += [(f"annotations/{pk}", {}) for pk in world.ids.values()]
    for path in ("", "links", "profile", "profile/groups", "groups", f"groups/{lib}",
                 f"groups/{other}", f"groups/{lib}/members"):  # fmt: skip
        reads.append((path, {}))
    return reads


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_private_word_reaches_another_persona(world: World, persona: str):
    failures: list[str] = []
    bodies: list[str] = []
    seen_ids: set[int] = set()

    def look(method: str, path: str, response) -> None:
        text = body_of(response)
        bodies.append(text)
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code}")
        if leaked := leaked_markers(text, persona):
            failures.append(f"{method} {path} as {persona}: shows {leaked}'s private words")

    for path, query in every_read(world):
        response = send(world, persona, "GET", path, query=query)
        look("GET", f"{path} {query}", response)
        if path == "search" and response.status_code == 200:
            for found in response.json()["rows"]:
                seen_ids.add(int(found["id"]))
                seen_ids |= {int(r) for r in found["references"]}
    # Paging by the last row's time, as the client does, reaches no more than one may see.
    after, paged = None, set()
    for _ in range(20):
        query = {"uri": PAGE, "limit": "2", **({"search_after": after} if after else {})}
        rows = send(world, persona, "GET", "search", query=query).json()["rows"]
        if not rows:
            break
        paged |= {int(r["id"]) for r in rows}
        after = rows[-1]["created"]
    assert paged == world.on_page(persona)
    # Writes on someone else's private annotation are answered as for a missing one.
    before = fingerprint()
    lib = world.library.slug
    for pk in sorted(world.private_of_others(persona)):
        attempts = [
            ("PATCH", f"annotations/{pk}", {"text": "Seen it", "permissions": {"read": []}}),
            ("DELETE", f"annotations/{pk}", None),
            ("POST", "annotations", reply(pk, group=lib, text="Seen it")),
            ("PUT", f"annotations/{pk}/flag", {}),
        ]
        for method, path, body in attempts:
            response = send(world, persona, method, path, body)
            look(method, path, response)
            if response.status_code not in (401, 403, 404):
                failures.append(f"{method} {path} as {persona}: {response.status_code}")
    assert fingerprint() == before, "a write on someone else's private annotation was kept"
    assert not failures, "\n".join(failures)
    assert not seen_ids & world.private_of_others(persona)
    assert seen_ids <= world.visible(persona)
    # The walk can fail: the persona's own private words are there for it to find.
    everything = "\n".join(bodies)
    if persona in MARKERS:
        assert MARKERS[persona] in everything
    assert seen_ids >= world.on_page(persona)


def test_a_private_id_answers_as_one_that_never_was(world: World):
    """404 for someone else's private annotation, with the same words as for a missing id:
    nothing tells that it exists (the moderation routes refuse every id alike, 403)."""

    def answer(persona: str, method: str, pk: int, suffix: str = "", body: Any = None):
        response = send(world, persona, method, f"annotations/{pk}{suffix}", body)
        return response.status_code, body_of(response).replace(str(pk), "N")

    lib = world.library.slug
    for persona in PERSONAS:
        for pk in sorted(world.private_of_others(persona)):
            for method, suffix, body in (("GET", "", None), ("PATCH", "", {"text": "x"}),
                                         ("DELETE", "", None), ("PUT", "/flag", {}),
                                         ("PATCH", "/moderation", {})):  # fmt: skip
                seen = answer(persona, method, pk, suffix, body)
                missing = answer(persona, method, MISSING, suffix, body)
                assert seen == missing, (persona, method, suffix, seen, missing)
                assert seen[0] in (401, 403, 404)
            as_reply = send(world, persona, "POST", "annotations", reply(pk, group=lib, text="x"))
            never = send(world, persona, "POST", "annotations", reply(MISSING, group=lib, text="x"))
            assert (as_reply.status_code, as_reply.content) == (never.status_code, never.content)


# --- one library's token, another library's group ----------------------------------------------


def test_naming_another_librarys_group_acts_on_no_other_library(world: World):
    """A token acts where its user may write, whatever group the body names."""
    lib, other = world.library, world.elsewhere
    # mallory's library holds the same page: her create never lands in alice's. Naming a
    # library she cannot see is naming none: it lands in hers; naming the public library
    # she reads is refused, as for a viewer.
    make_text(source=make_source(library=other, title="Delo 329, her copy", url=PAGE), text=TEXT,
              imported_by=world.users["outsider"])  # fmt: skip
    in_alices = Annotation.objects.filter(library=lib).count()
    made = send(world, "outsider", "POST", "annotations", passage("Stalin", group=lib.slug))
    if world.public:
        assert made.status_code == 403 and "not annotate" in made.json()["reason"]
    else:
        assert made.status_code == 200 and made.json()["group"] == other.slug
    assert Annotation.objects.filter(library=lib).count() == in_alices
    # bob edits alice's library and not mallory's: naming hers writes nothing there.
    in_hers = Annotation.objects.filter(library=other).count()
    on_her_page = passage("interest rate", group=other.slug, uri=OTHER_PAGE, page_text=OTHER_TEXT)
    refused = send(world, "editor", "POST", "annotations", on_her_page)
    assert refused.status_code == 400 and "group" in refused.json()["reason"]
    on_the_shared_page = send(world, "editor", "POST", "annotations",
                              passage("weeks", group=other.slug))  # fmt: skip
    assert on_the_shared_page.status_code == 200
    assert on_the_shared_page.json()["group"] == lib.slug  # his own library's copy of the page
    assert Annotation.objects.filter(library=other).count() == in_hers
    # A viewer naming the library she reads is refused, not quietly put elsewhere.
    viewer = send(world, "viewer", "POST", "annotations", passage("weeks", group=lib.slug))
    assert viewer.status_code == 403 and "not annotate" in viewer.json()["reason"]
    # A PATCH naming another group moves nothing.
    moved = send(world, "owner", "PATCH", f"annotations/{world.ids['a_shared']}",
                 {"group": other.slug, "text": "Still here"})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["group"] == lib.slug
    assert Annotation.objects.get(pk=world.ids["a_shared"]).library == lib
    # Search in the other's group finds nothing of it; in one's own, nothing of the other's.
    for persona, group in (("editor", other.slug), ("owner", other.slug)):
        answer = send(world, persona, "GET", "search", query={"uri": PAGE, "group": group})
        assert answer.json() == {"total": 0, "rows": []}
    theirs = send(world, "outsider", "GET", "search", query={"uri": PAGE, "group": lib.slug})
    shared = Annotation.objects.filter(library=lib, visibility=Visibility.LIBRARY)
    expected = set(shared.values_list("pk", flat=True)) if world.public else set()
    assert {int(r["id"]) for r in theirs.json()["rows"]} == expected


def test_a_token_that_is_not_an_access_token_is_refused_everywhere(world: World):
    """A refresh token, a token of another scheme, or a garbled one is 401, never anonymous
    reading (which would show a public library) and never a write."""
    before = fingerprint()
    garbled = world.headers["owner"]["HTTP_AUTHORIZATION"][:-3] + "xyz"
    for header in (f"Bearer {world.refresh['owner']}", "Basic YWxpY2U6c2VjcmV0", garbled):
        for case in MATRIX:
            if case.path in ("token", "revoke") or case.expect.startswith("405"):
                continue
            body = case.body(world, "owner") if case.body else None
            query = case.query(world, "owner") if case.query else None
            saved = world.headers["owner"]
            world.headers["owner"] = {"HTTP_AUTHORIZATION": header}
            try:
                response = send(world, "owner", case.method, case.url(world), body, query)
            finally:
                world.headers["owner"] = saved
            assert response.status_code == 401, (header[:12], case.name, response.status_code)
            assert "not valid" in response.json()["reason"]
    assert fingerprint() == before


def test_an_annotation_made_private_takes_its_creators_replies_along(world: World):
    """alice answers her own shared annotation, then makes it "Only me" (her own reply does
    not hold it back, decision 0010): her reply goes private with it, so that no row the
    library sees names the private annotation in its `references`."""
    lib = world.library.slug
    alice = world.users["owner"]
    parent = send(world, "owner", "POST", "annotations",
                  passage("signed on 14 February", group=lib, text="Going private"))  # fmt: skip
    parent_id = int(parent.json()["id"])
    answered = send(world, "owner", "POST", "annotations", reply(parent_id, group=lib, text="Mine"))
    assert answered.status_code == 200
    hidden = {"text": f"{MARKERS['owner']} now", "permissions": {"read": [tokens.userid(alice)]}}
    assert send(world, "owner", "PATCH", f"annotations/{parent_id}", hidden).status_code == 200
    for persona in ("editor", "viewer", "outsider", "anonymous"):
        found = send(world, persona, "GET", "search", query={"uri": PAGE, "limit": "200"})
        assert MARKERS["owner"] not in body_of(found)
        ids = {int(r["id"]) for r in found.json()["rows"]}
        assert parent_id not in ids and int(answered.json()["id"]) not in ids
        assert not any(str(parent_id) in r["references"] for r in found.json()["rows"])
        assert send(world, persona, "GET", f"annotations/{parent_id}").status_code == 404
        reply_id = answered.json()["id"]
        assert send(world, persona, "GET", f"annotations/{reply_id}").status_code == 404
    own = send(world, "owner", "GET", f"annotations/{answered.json()['id']}").json()
    assert own["references"] == [str(parent_id)] and own["permissions"]["read"] == [
        tokens.userid(alice)
    ]
