"""/hypothesis/: the annotation service the vendored Hypothesis client talks to.

The requests are shaped as the client sends them (hypothesis/client src/sidebar/services/
api.ts and its create body: RangeSelector, a TextPositionSelector in UTF-16 code units of
the live page, a TextQuoteSelector), and the answers as h's API answers them.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from unittest import mock

import jwt
import pytest
from django.test import Client

from annotations.hypothesis import tokens
from annotations.models import Annotation, Visibility
from tests.factories import make_annotation, make_claim, make_library, make_source, make_text

API = "/hypothesis/api/"
PAGE = "https://foreignpolicy.com/2019/12/16/mao-stalin-moscow-visit/"
PAGE_ORIGIN = "https://foreignpolicy.com"
# An astral character before the quote: the client counts it twice (UTF-16), we once.
TEXT = "Mao came to Moscow 𠮷 in December 1949. Stalin kept him waiting for weeks."
BUNDLE = Path(__file__).resolve().parents[3] / "static/vendor/hypothesis/build/scripts"
pytestmark = pytest.mark.django_db


@pytest.fixture
def article(library, alice):
    source = make_source(library=library, title="Mao in Moscow", url=PAGE)
    make_text(source=source, text=TEXT, imported_by=alice)
    return source


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.bearer_tokens(user)['access_token']}"}


def call(method: str, path: str, user=None, body=None, **extra):
    client = Client()
    headers = bearer(user) if user is not None else {}
    send = getattr(client, method)
    if body is None:
        return send(API + path, **headers, **extra)
    return send(API + path, body, content_type="application/json", **headers, **extra)


def client_body(quote: str, *, uri: str = PAGE, **extra) -> dict:
    """What the client posts for a highlight of `quote` on the live page (TEXT)."""
    start = TEXT.index(quote)
    utf16 = start + sum(1 for ch in TEXT[:start] if ord(ch) > 0xFFFF)
    return {
        "uri": uri,
        "group": "__world__",
        "permissions": {"read": ["group:__world__"]},
        "tags": [],
        "text": "",
        "document": {"title": ["Mao in Moscow"], "link": [{"href": uri}]},
        "target": [
            {
                "source": uri,
                "selector": [
                    {"type": "RangeSelector", "startContainer": "/p[1]", "startOffset": 0,
                     "endContainer": "/p[1]", "endOffset": 5},
                    {"type": "TextPositionSelector", "start": utf16, "end": utf16 + len(quote)},
                    {"type": "TextQuoteSelector", "exact": quote,
                     "prefix": TEXT[max(0, start - 8):start],
                     "suffix": TEXT[start + len(quote):start + len(quote) + 8]},
                ],
            }
        ],
        # Sent by the client and ignored by the service:
        "created": "2026-01-01T00:00:00Z", "user": "acct:someone@else", "links": {}, "hidden": True,
        **extra,
    }  # fmt: skip


# --- the contract with the vendored client ---------------------------------------------------


def test_every_route_the_sidebar_calls_is_in_the_index():
    bundle = (BUNDLE / "sidebar.bundle.js").read_text(encoding="utf-8")
    called = set(re.findall(r'\b\w\("((?:[a-z]+\.)+[a-z]+|search|links)"\)', bundle))
    assert {"annotation.create", "search", "profile.read", "groups.read"} <= called
    index = call("get", "").json()["links"]

    def route(name: str) -> dict:
        node = index
        for part in name.split("."):
            node = node[part]
        return node

    for name in called:
        assert route(name)["url"].startswith("http://testserver/hypothesis/api/"), name
        assert route(name)["method"] in ("GET", "POST", "PATCH", "PUT", "DELETE")


def test_the_api_root_ends_in_a_slash_and_links_say_no_websocket():
    assert Client().get("/hypothesis/app.html").status_code == 200
    links = call("get", "links").json()
    assert links["websocket"] is None and ":tag" in links["search.tag"]


def test_the_sidebar_page_may_be_framed_and_carries_the_config():
    response = Client().get("/hypothesis/app.html")
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    config = re.search(rb'class="js-hypothesis-config" type="application/json">(.*?)</script>',
                       response.content)  # fmt: skip
    assert b'"apiUrl": "http://testserver/hypothesis/api/"' in config[1]
    assert b"<hypothesis-app>" in response.content


@pytest.mark.parametrize("path", ["/hypothesis/boot.js", "/hypothesis/client/build/boot.js"])
def test_boot_is_the_template_with_this_service_filled_in(path):
    """At the bookmarklet's address, and at the one the boot script gives the annotator for
    the page's frames (`<link rel="hypothesis-client">`, the asset root's build/boot.js)."""
    response = Client().get(path)
    assert response.status_code == 200
    script = response.content.decode()
    assert '"hypothesis-client","javascript",e.assetRoot+"build/boot.js"' in script
    assert "__ASSET_ROOT__" not in script and "__SIDEBAR_APP_URL__" not in script
    assert '"http://testserver/hypothesis/client/"' in script
    assert "http://testserver/hypothesis/app.html" in script


# --- tokens -------------------------------------------------------------------------------------


def grant(user, **claims) -> str:
    now = int(time.time())
    body = {"iss": tokens.CLIENT_ID, "aud": "testserver", "sub": tokens.userid(user),
            "nbf": now, "exp": now + 300, **claims}  # fmt: skip
    return jwt.encode(body, tokens._grant_key(), algorithm="HS256")


def test_a_grant_token_is_traded_for_bearer_tokens_that_refresh(alice, library, article):
    minted = tokens.grant_token(alice, type("R", (), {"get_host": lambda self: "testserver"})())
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": minted}
    answer = Client().post(API + "token", form).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    access = {"HTTP_AUTHORIZATION": f"Bearer {answer['access_token']}"}
    assert Client().get(API + "profile", **access).json()["userid"] == "acct:alice@marginalia.local"
    refresh = {"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]}
    again = Client().post(API + "token", refresh).json()
    assert "access_token" in again


@pytest.mark.parametrize(
    "claims",
    [{"aud": "elsewhere.org"}, {"iss": "someone"}, {"exp": int(time.time()) - 60},
     {"exp": int(time.time()) + 3600}, {"sub": "acct:nobody@marginalia.local"}],
)  # fmt: skip
def test_a_foreign_stale_or_long_grant_is_refused(alice, claims):
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": grant(alice, **claims)}  # fmt: skip
    response = Client().post(API + "token", form)
    assert response.status_code == 400 and response.json() == {"error": "invalid_grant"}


def test_a_forged_grant_and_a_changed_password_end_access(alice):
    forged = jwt.encode(
        {"sub": tokens.userid(alice)},
        "not our key, though long enough for HS256",
        algorithm="HS256",
    )
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": forged}
    assert Client().post(API + "token", form).status_code == 400
    headers = bearer(alice)
    assert Client().get(API + "profile", **headers).status_code == 200
    alice.set_password("a new one, long enough")
    alice.save()
    response = Client().get(API + "profile", **headers)
    assert response.status_code == 401 and "not valid" in response.json()["reason"]


def minted_ago(seconds: int, make):
    """What `make()` signs when the clock `django.core.signing` reads stood `seconds` ago."""
    with mock.patch("django.core.signing.time.time", return_value=time.time() - seconds):
        return make()


def use_access(token: str):
    return Client().get(API + "profile", HTTP_AUTHORIZATION=f"Bearer {token}")


def use_refresh(token: str):
    return Client().post(API + "token", {"grant_type": "refresh_token", "refresh_token": token})


def use_code(code: str):
    form = {"grant_type": "authorization_code", "client_id": tokens.CLIENT_ID, "code": code}
    return Client().post(API + "token", form)


@pytest.mark.parametrize(
    ("make", "use", "lifetime", "refused"),
    [
        (lambda u: tokens.bearer_tokens(u)["access_token"], use_access, 3600,
         (401, "The access token is not valid (expired or revoked).")),
        (lambda u: tokens.bearer_tokens(u)["refresh_token"], use_refresh, 7 * 24 * 3600,
         (400, "invalid_grant")),
        (tokens.authorization_code, use_code, 600, (400, "invalid_grant")),
    ],
    ids=["access token, an hour", "refresh token, a week", "authorization code, ten minutes"],
)  # fmt: skip
def test_a_token_works_to_the_end_of_its_life_and_not_after(alice, make, use, lifetime, refused):
    """Short-lived as h's are; the refusals are h's (a 401 from the API, RFC 6749's
    invalid_grant from the token endpoint, which the client answers by signing in again)."""
    fresh = use(minted_ago(lifetime - 30, lambda: make(alice)))
    assert fresh.status_code == 200, fresh.content
    stale = use(minted_ago(lifetime + 2, lambda: make(alice)))
    said = stale.json()
    assert (stale.status_code, said.get("reason") or said.get("error")) == refused


def test_a_session_cookie_is_not_a_sign_in_here(client, alice, article):
    client.force_login(alice)
    response = client.post(
        API + "annotations", client_body("Stalin"), content_type="application/json"
    )
    assert response.status_code == 401 and not Annotation.objects.exists()


# --- CORS: only for the client's files, which the annotated site's page fetches -------------


def shared_with(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", ["styles/annotator.css", "scripts/annotator.bundle.js"])
def test_the_clients_files_are_shared_with_the_page_being_annotated(path):
    """boot.js preloads the annotator's stylesheet with `crossorigin="anonymous"`, and the
    annotator adopts it into its shadow roots: without CORS the adder stays unstyled."""
    response = Client().get("/hypothesis/client/build/" + path, HTTP_ORIGIN=PAGE_ORIGIN)
    assert response.status_code == 200 and shared_with(response) == {
        "Access-Control-Allow-Origin": "*"
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", API), ("get", API + "links"), ("get", API + "profile"), ("get", API + "groups"),
     ("get", API + "search?uri=" + PAGE), ("post", API + "annotations"),
     ("get", API + "annotations/999999"), ("post", API + "token"), ("options", API + "search"),
     ("get", "/hypothesis/boot.js"), ("get", "/hypothesis/app.html"),
     ("get", "/api/sources/"), ("get", "/api/search/?q=Stalin"), ("options", "/api/sources/")],
)  # fmt: skip
def test_the_api_and_marginalias_other_routes_are_not_shared_with_other_sites(
    article, method, path
):
    """The sidebar, on this origin, is the API's only caller; the annotator in the other
    site's page talks to the sidebar by postMessage and the bookmarklet loads boot.js as a
    classic script, neither needing CORS."""
    response = getattr(Client(), method)(path, HTTP_ORIGIN=PAGE_ORIGIN)
    assert response.status_code < 500 and shared_with(response) == {}


# --- profile, groups ---------------------------------------------------------------------------


def test_groups_are_the_libraries_one_may_annotate_in_then_those_one_reads(library, alice, vera):
    own = make_library(owner=vera, name="Vera's own")
    mine = [g["id"] for g in call("get", "profile/groups", alice).json()]
    assert mine == [library.slug]
    assert [g["id"] for g in call("get", "profile/groups", vera).json()] == [own.slug]
    offered = [(g["id"], g["type"]) for g in call("get", "groups", vera).json()]
    assert offered == [(own.slug, "private"), (library.slug, "restricted")]
    assert call("get", "profile").json()["userid"] is None
    assert call("get", f"groups/{library.slug}", vera).json()["type"] == "restricted"
    assert call("get", f"groups/{own.slug}", alice).status_code == 404
    assert call("get", "groups").json() == []


def test_a_public_library_holding_the_page_is_offered_to_read(article, mallory):
    article.library.is_public = True
    article.library.save()
    assert call("get", "groups", mallory).json() == []
    for reader in (mallory, None):
        offered = call("get", f"groups?document_uri={PAGE}", reader).json()
        assert [(g["id"], g["type"]) for g in offered] == [(article.library.slug, "restricted")]
    elsewhere = call("get", "groups?document_uri=https://example.org/", mallory).json()
    assert elsewhere == []


# --- search -------------------------------------------------------------------------------------


def test_search_finds_a_pages_annotations_by_any_spelling_of_its_address(
    article, library, alice, bob, vera, mallory
):
    shared = make_annotation(text=article.current_text, creator=bob, quote="Stalin kept him")
    make_annotation(text=article.current_text, creator=bob, quote="Moscow",
                    visibility=Visibility.PRIVATE)  # fmt: skip
    other = make_source(library=make_library(owner=mallory, name="Elsewhere"), url=PAGE)
    make_annotation(text=make_text(source=other, text=TEXT, imported_by=mallory), creator=mallory,
                    quote="December")  # fmt: skip
    spelled = PAGE.replace("https://foreignpolicy.com", "http://ForeignPolicy.com:80").rstrip("/")
    query = {"uri": spelled + "?utm_source=twitter&fbclid=x", "limit": 50, "sort": "created",
             "order": "asc", "_separate_replies": "false"}  # fmt: skip
    answer = call("get", "search", vera, data=query).json()
    assert answer["total"] == 1
    (found,) = answer["rows"]
    assert found["id"] == str(shared.pk) and found["group"] == library.slug
    assert found["permissions"]["read"] == [f"group:{library.slug}"]
    position, quote = found["target"][0]["selector"]
    assert quote["exact"] == "Stalin kept him"
    assert position["start"] == TEXT.index("Stalin") + 1  # UTF-16: the astral char counts twice
    assert call("get", "search", bob, data=query).json()["total"] == 2
    assert call("get", "search", mallory, data=query).json()["total"] == 1
    assert call("get", "search", data=query).json()["total"] == 0  # anonymous, private library


def test_search_pages_by_the_last_rows_created_time_and_brings_replies(article, alice, bob):
    first = make_annotation(text=article.current_text, creator=bob, quote="Mao came")
    second = make_annotation(text=article.current_text, creator=bob, quote="Stalin")
    reply = call("post", "annotations", alice, {"references": [str(first.pk)], "text": "When?"})
    assert reply.status_code == 200, reply.content
    query = {"uri": PAGE, "limit": 2}
    page = call("get", "search", alice, data=query).json()
    assert page["total"] == 3 and [r["id"] for r in page["rows"]] == [str(first.pk), str(second.pk)]
    rest = call("get", "search", alice, data={**query, "search_after": page["rows"][-1]["created"]})
    (row,) = rest.json()["rows"]
    assert row["references"] == [str(first.pk)] and row["target"] == [{"source": PAGE}]


def test_search_refuses_what_it_cannot_bound(alice):
    assert call("get", "search", alice, data={"uri": [PAGE] * 21}).status_code == 400
    assert call("get", "search", alice, data={"uri": PAGE, "limit": "999"}).status_code == 400
    bad = call("get", "search", alice, data={"uri": PAGE, "search_after": "yesterday"})
    assert bad.status_code == 400 and "search_after" in bad.json()["reason"]


# --- writing -------------------------------------------------------------------------------------


def test_the_clients_highlight_becomes_a_marginalia_annotation(article, bob):
    response = call("post", "annotations", bob, client_body("Stalin kept him", text="Weeks!",
                                                            tags=["person:Stalin"]))  # fmt: skip
    assert response.status_code == 200, response.content
    made = Annotation.objects.get()
    assert TEXT[made.start : made.end] == "Stalin kept him"  # code points, not UTF-16
    assert (made.comment_raw, made.visibility, made.creator) == ("Weeks!", "library", bob)
    assert [t.name for t in made.tags.all()] == ["person:Stalin"]
    row = response.json()
    assert row["id"] == str(made.pk) and row["user"] == "acct:bob@marginalia.local"


def test_a_client_made_annotation_has_history_is_found_and_serves_as_evidence(
    article, alice, bob, vera, as_user
):
    comment = "Shi Zhe remembers the snub at the dacha."
    body = client_body("Stalin kept him", text=comment, tags=["person:Stalin"])
    made = Annotation.objects.get(pk=int(call("post", "annotations", bob, body).json()["id"]))
    (record,) = Annotation.history.filter(id=made.pk)
    assert (record.history_type, record.history_user, record.comment_raw) == ("+", bob, comment)
    signed_in_as_alice = Client()
    signed_in_as_alice.force_login(alice)  # the token, not the session, names the writer
    edited = signed_in_as_alice.patch(API + f"annotations/{made.pk}", {"text": comment + " Weeks."},
                                      content_type="application/json", **bearer(bob))  # fmt: skip
    assert edited.status_code == 200, edited.content
    assert [r.history_user for r in Annotation.history.filter(id=made.pk)] == [bob, bob]
    for reader in (bob, vera):
        found = as_user(reader).get("/api/search/", {"q": "snub"}).json()["results"]
        assert [(r["kind"], r["annotation"]) for r in found] == [("annotation", made.pk)]
    assert as_user(bob).get("/api/search/", {"tag": "person:Stalin"}).json()["count"] == 1
    claim = make_claim(library=article.library, creator=alice, statement="Stalin kept Mao waiting")
    evidence = {"claim": claim.pk, "annotation": made.pk, "stance": "supports", "note": ""}
    attached = as_user(bob).post("/api/evidence/", evidence, format="json")
    assert attached.status_code == 201, attached.content
    assert attached.json()["quote"] == "Stalin kept him"
    assert list(claim.evidence.values_list("annotation", flat=True)) == [made.pk]


def test_only_me_is_a_private_annotation_and_editing_shares_it(article, bob, vera):
    mine = {"read": [tokens.userid(bob)]}
    made = call("post", "annotations", bob, client_body("Moscow", permissions=mine)).json()
    assert Annotation.objects.get().visibility == Visibility.PRIVATE
    assert call("get", f"annotations/{made['id']}", vera).status_code == 404
    shared = {"permissions": {"read": [f"group:{article.library.slug}"]}, "text": "now shared"}
    assert call("patch", f"annotations/{made['id']}", bob, shared).status_code == 200
    assert call("get", f"annotations/{made['id']}", vera).json()["text"] == "now shared"


def test_an_annotation_goes_into_the_group_chosen_or_is_refused_there(article, bob, vera):
    """The group the reader chose in the client is where the annotation goes: a library
    they only read is refused (403), even where a library they edit holds the page too;
    `__world__` (no library) takes the first library they edit that holds it."""
    own = make_library(owner=vera, name="Vera's reading")
    theirs = make_source(library=own, title="Mao in Moscow", url=PAGE)
    make_text(source=theirs, text=TEXT, imported_by=vera)
    chose_read_only = client_body("Moscow", group=article.library.slug)
    refused = call("post", "annotations", vera, chose_read_only)
    assert refused.status_code == 403 and not Annotation.objects.exists()
    mine = call("post", "annotations", vera, client_body("Moscow", group=own.slug))
    assert mine.status_code == 200 and mine.json()["group"] == own.slug
    anywhere = call("post", "annotations", vera, client_body("Stalin"))
    assert anywhere.json()["group"] == own.slug
    other = make_library(owner=bob, name="Bob's notes")
    copy = make_source(library=other, title="Mao in Moscow", url=PAGE)
    make_text(source=copy, text=TEXT, imported_by=bob)
    for chosen in (other, article.library):
        made = call("post", "annotations", bob, client_body("Stalin", group=chosen.slug))
        assert made.status_code == 200 and made.json()["group"] == chosen.slug
    assert call("post", "annotations", bob, client_body("Stalin", group=["x"])).status_code == 200


def test_what_the_service_cannot_keep_is_refused_with_a_reason(article, bob, vera, library):
    elsewhere = call("post", "annotations", bob, client_body("Stalin", uri="https://example.org/x"))
    assert (
        elsewhere.status_code == 400 and "not in a library you edit" in elsewhere.json()["reason"]
    )
    absent = call("post", "annotations", bob, client_body("Stalin", text="x" * 100_001))
    assert absent.status_code == 400
    assert call("post", "annotations", vera, client_body("Stalin")).status_code == 400
    made = make_annotation(text=article.current_text, creator=bob, quote="Stalin")
    flagged = call("put", f"annotations/{made.pk}/flag", vera, {})
    assert flagged.status_code == 403 and "no moderators" in flagged.json()["reason"]
    assert not Annotation.objects.exclude(pk=made.pk).exists()


def test_delete_answers_as_h_does_and_only_for_the_owner(article, bob, vera, alice):
    made = make_annotation(text=article.current_text, creator=bob, quote="Stalin")
    assert call("delete", f"annotations/{made.pk}", vera).status_code == 403
    answered = call("post", "annotations", alice, {"references": [str(made.pk)], "text": "Sure?"})
    assert answered.status_code == 200
    held = call("delete", f"annotations/{made.pk}", bob)
    assert held.status_code == 409 and "1 reply by others" in held.json()["reason"]
    Annotation.objects.filter(reply_to=made).delete()
    assert call("delete", f"annotations/{made.pk}", bob).json() == {
        "id": str(made.pk),
        "deleted": True,
    }


# --- the sign-in popup (authorization code) -------------------------------------------------

AUTHORIZE = "/hypothesis/oauth/authorize"


def authorize_query(**changes) -> dict:
    query = {"client_id": tokens.CLIENT_ID, "origin": "http://testserver",
             "response_mode": "web_message", "response_type": "code", "state": "s7",
             "action": "login"}  # fmt: skip
    return {**query, **changes}


def test_the_popup_signs_in_first_and_keeps_its_opener(client):
    response = client.get(AUTHORIZE, authorize_query())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert response["Cross-Origin-Opener-Policy"] == "unsafe-none"
    login = client.get(response["Location"])
    assert login["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert client.get("/accounts/login/")["Cross-Origin-Opener-Policy"] == "same-origin"


def test_a_signed_in_users_code_goes_to_this_origin_once(client, alice):
    client.force_login(alice)
    page = client.get(AUTHORIZE, authorize_query())
    assert page.status_code == 200 and page["Cross-Origin-Opener-Policy"] == "unsafe-none"
    message = json.loads(
        re.search(rb'id="hypothesis-authorization">(.*?)</script>', page.content)[1]
    )
    origin = json.loads(re.search(rb'id="hypothesis-origin">(.*?)</script>', page.content)[1])
    assert (message["type"], message["state"], origin) == ("authorization_response", "s7",
                                                           "http://testserver")  # fmt: skip
    form = {"grant_type": "authorization_code", "client_id": tokens.CLIENT_ID,
            "code": message["code"]}  # fmt: skip
    answer = Client().post(API + "token", form)
    assert answer.status_code == 200, answer.content
    access = {"HTTP_AUTHORIZATION": f"Bearer {answer.json()['access_token']}"}
    assert Client().get(API + "profile", **access).json()["userid"] == "acct:alice@marginalia.local"
    again = Client().post(API + "token", form)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    stranger = Client().post(API + "token", {**form, "client_id": "someone-else"})
    assert stranger.status_code == 401


@pytest.mark.parametrize(
    ("change", "named"),
    [({"origin": "https://evil.example"}, "origin"), ({"client_id": "x"}, "client_id"),
     ({"response_mode": "query"}, "response_mode"), ({"state": ""}, "state")],
)  # fmt: skip
def test_a_popup_for_another_origin_or_client_gets_no_code(client, alice, change, named):
    client.force_login(alice)
    page = client.get(AUTHORIZE, authorize_query(**change))
    assert page.status_code == 400 and named in page.content.decode()
    assert b"hypothesis-authorization" not in page.content


def test_the_links_name_the_popup_and_the_start_page_offers_the_bookmarklet(client):
    assert call("get", "links").json()["oauth.authorize"] == "http://testserver" + AUTHORIZE
    page = client.get("/hypothesis/").content.decode()
    assert "javascript:(function(){" in page and "http://testserver/hypothesis/boot.js" in page


# --- page notes ------------------------------------------------------------------------------


def test_a_target_without_selector_is_a_page_note_in_marginalia_and_in_the_client(
    article, bob, vera, mallory
):
    body = client_body("Stalin", text="Read with the *CWIHP* record.", tags=["theme:sources"])
    body["target"] = [{"source": PAGE}]
    made = call("post", "annotations", bob, body)
    assert made.status_code == 200, made.content
    note = Annotation.objects.get()
    assert (note.kind, note.start, note.end, note.exact) == ("note", 0, 0, "")
    assert note.text == article.current_text and note.motivation == "commenting"
    assert [t.name for t in note.tags.all()] == ["theme:sources"]
    reply = call(
        "post", "annotations", vera, {**client_body("Stalin"), "references": [str(note.pk)]}
    )
    assert reply.status_code == 403  # a viewer reads, and does not reply
    answer = client_body("Stalin", text="Which record?")
    answer["references"] = [str(note.pk)]
    del answer["target"]
    assert call("post", "annotations", bob, answer).status_code == 200
    rows = call("get", "search", vera, data={"uri": PAGE}).json()["rows"]
    # The client's isPageNote: no selector on the first target, no references.
    notes = [r for r in rows if not r["target"][0].get("selector") and not r["references"]]
    replies = [r for r in rows if r["references"]]
    assert [r["id"] for r in notes] == [str(note.pk)]
    assert notes[0]["text"] == "Read with the *CWIHP* record."
    assert notes[0]["target"] == [{"source": PAGE}]
    assert [r["references"] for r in replies] == [[str(note.pk)]]
    assert call("get", "search", mallory, data={"uri": PAGE}).json()["rows"] == []


def test_a_private_page_note_reaches_no_group_search(article, bob, vera):
    body = client_body("Stalin", text="Mine alone.", permissions={"read": [tokens.userid(bob)]})
    body["target"] = [{"source": PAGE}]
    assert call("post", "annotations", bob, body).status_code == 200
    assert Annotation.objects.get().visibility == Visibility.PRIVATE
    assert call("get", "search", vera, data={"uri": PAGE}).json()["rows"] == []
    assert len(call("get", "search", bob, data={"uri": PAGE}).json()["rows"]) == 1
