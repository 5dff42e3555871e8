"""The sidebar's page, its boot script, and the annotation service API the client calls.

The API takes `Authorization: Bearer` only (tokens.py), answers JSON, and says what is
wrong as h does: `{"status": "failure", "reason": "…"}` with a 4xx. Every request is
bounded: at most 200 rows a page, 20 addresses a search, the annotation write limits of
`annotations.writes`.
"""

from __future__ import annotations

import functools
import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from annotations.access import get_annotation_for_user
from annotations.hypothesis import browser_extension, first_annotation, tokens, uris
from annotations.hypothesis.models import DEFAULTS, ClientProfile
from annotations.hypothesis.rows import placement, row, visibility_of
from annotations.models import (
    COMMENT_MAX_CHARS,
    TAG_MAX_CHARS,
    TAGS_PER_ANNOTATION,
    Annotation,
)
from annotations.writes import DeletedMeanwhile, create_annotation
from sources.models import WRITE_ROLES, Library, Source

MAX_LIMIT = 200
VENDORED = Path(settings.BASE_DIR) / "static" / "vendor" / "hypothesis" / "build"
ROUTES = {  # (dotted name, method, path under api/, description)
    "annotation.create": ("POST", "annotations", "Create an annotation"),
    "annotation.read": ("GET", "annotations/:id", "Fetch an annotation"),
    "annotation.update": ("PATCH", "annotations/:id", "Update an annotation"),
    "annotation.delete": ("DELETE", "annotations/:id", "Delete an annotation"),
    "annotation.flag": ("PUT", "annotations/:id/flag", "Flag (refused: no moderators)"),
    "annotation.hide": ("PUT", "annotations/:id/hide", "Hide an annotation (refused)"),
    "annotation.unhide": ("DELETE", "annotations/:id/hide", "Unhide an annotation (refused)"),
    "annotation.moderate": ("PATCH", "annotations/:id/moderation", "Moderate (refused)"),
    "search": ("GET", "search", "Search for annotations"),
    "profile.read": ("GET", "profile", "Fetch the user's profile"),
    "profile.update": ("PATCH", "profile", "Update the user's preferences"),
    "profile.groups.read": ("GET", "profile/groups", "The user's groups (libraries)"),
    "groups.read": ("GET", "groups", "The groups (libraries) one may annotate in"),
    "group.read": ("GET", "groups/:id", "Fetch a group (library)"),
    "group.members.read": ("GET", "groups/:pubid/members", "A group's members"),
    "group.member.delete": ("DELETE", "groups/:pubid/members/:userid", "Leave (refused here)"),
    "links": ("GET", "links", "URLs the client links to"),
    "analytics.events.create": ("POST", "analytics/events", "Analytics (nothing is kept)"),
}  # fmt: skip


# --- pages ---------------------------------------------------------------------------------


@require_GET
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"], "style-src": ["'self'", "'unsafe-inline'"]})
def app(request: HttpRequest) -> HttpResponse:
    """The sidebar page, framed by the client on any site (hence no X-Frame-Options and a
    `frame-ancestors *` policy for this page alone; KaTeX needs inline styles)."""
    config = {
        "apiUrl": api_url(request),
        "authDomain": tokens.authority(),
        "oauthClientId": tokens.CLIENT_ID,
    }
    return render(request, "hypothesis/app.html", {"config_json": script_json(config)})


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """How to annotate any web page: the bookmarklet, what it does, and its limits."""
    context = {"bookmarklet": bookmarklet(request), "save_bookmarklet": save_bookmarklet(request)}
    return render(request, "hypothesis/start.html", context)


@require_GET
def extension_zip(request: HttpRequest) -> HttpResponse:
    """The unpacked browser extension, with this site's origin in its config.js."""
    origin = request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(browser_extension.zipped(origin), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="marginalia-extension.zip"'
    return response


def save_bookmarklet(request: HttpRequest) -> str:
    """`javascript:` that opens *Save to Marginalia* and, once it is ready, hands it the page
    (address, title, HTML) by postMessage to Marginalia's origin only."""
    capture_url = request.build_absolute_uri(reverse("web-capture"))
    origin = request.build_absolute_uri("/").rstrip("/")
    return (
        "javascript:(function(){var o=" + json.dumps(origin) + ";"
        "var w=window.open(" + json.dumps(capture_url) + ",'marginalia-capture',"
        "'width=520,height=640');window.addEventListener('message',function m(e){"
        "if(e.origin!==o||e.source!==w||!e.data||e.data.type!=='marginalia:capture-ready')"
        "return;window.removeEventListener('message',m);w.postMessage({type:"
        "'marginalia:capture',url:location.href,title:document.title,"
        "html:document.documentElement.outerHTML},o);});})();"
    )


def bookmarklet(request: HttpRequest) -> str:
    """`javascript:` that loads the client from here onto the page being read, once."""
    boot_url = request.build_absolute_uri(reverse("hypothesis-boot"))
    return (
        "javascript:(function(){if(window.__marginaliaClient)return;"
        "window.__marginaliaClient=true;var d=document;"
        "var c=d.createElement('script');c.type='application/json';"
        "c.className='js-hypothesis-config';c.textContent='{\"openSidebar\":true}';"
        "d.body.appendChild(c);var s=d.createElement('script');"
        f"s.src={json.dumps(boot_url)};d.body.appendChild(s);}})();"
    )


@require_GET
def authorize(request: HttpRequest) -> HttpResponse:
    """The client's sign-in popup (OAuth 2 authorization code, `response_mode=web_message`,
    as h answers it): a signed-in user's code goes back to the sidebar that opened the popup,
    by `postMessage` to this site's own origin (the sidebar is always served from here), and
    the popup closes. One who is not signed in signs in first, in the popup."""
    params = request.GET
    own_origin = request.build_absolute_uri("/").rstrip("/")
    problems = [
        name
        for name, ok in (
            ("client_id", params.get("client_id") == tokens.CLIENT_ID),
            ("response_type", params.get("response_type") == "code"),
            ("response_mode", params.get("response_mode") == "web_message"),
            ("state", 0 < len(params.get("state", "")) <= 200),
            ("origin", params.get("origin") == own_origin),
        )
        if not ok
    ]
    if problems:
        response = render(request, "hypothesis/authorize.html",
                          {"problem": ", ".join(problems)}, status=400)  # fmt: skip
        return _opener_kept(response)
    if not request.user.is_authenticated:
        return _opener_kept(redirect_to_login(request.get_full_path()))
    message = {"type": "authorization_response", "code": tokens.authorization_code(request.user),
               "state": params["state"]}  # fmt: skip
    context = {"message_json": script_json(message), "origin_json": script_json(own_origin)}
    return _opener_kept(render(request, "hypothesis/authorize.html", context))


def _opener_kept(response: HttpResponse) -> HttpResponse:
    """The popup must keep `window.opener` (the sidebar, framed in another site's page), which
    Django's default Cross-Origin-Opener-Policy (same-origin) would sever."""
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element (as `json_script` escapes it), for the client's
    `js-hypothesis-config` element, which it finds by class."""
    text = json.dumps(value, cls=DjangoJSONEncoder)
    return mark_safe(
        text.translate({ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"})
    )


@require_GET
def boot(request: HttpRequest) -> HttpResponse:
    """The client's boot script: the package's template with this service filled in, as the
    client's own scripts/render-boot-template.js fills it."""
    asset_root = request.build_absolute_uri(reverse("hypothesis-client", args=["x"]))
    asset_root = asset_root.removesuffix("build/x")
    values = {
        "__ASSET_ROOT__": asset_root,
        "__SIDEBAR_APP_URL__": request.build_absolute_uri(reverse("hypothesis-app")),
        "__NOTEBOOK_APP_URL__": request.build_absolute_uri(reverse("hypothesis-app")),
        "__PROFILE_APP_URL__": request.build_absolute_uri(reverse("hypothesis-app")),
    }
    script = _boot_template()
    for name, value in values.items():
        script = script.replace(name, value)
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"  # a classic script: no CORS needed
    return response


@require_GET
def client_file(request: HttpRequest, path: str) -> HttpResponse:
    """The client's own files (vendored, unchanged), served with `Access-Control-Allow-
    Origin: *`: the host page is another site, and its annotator loads its stylesheet with
    CORS (without it the adder stays unstyled and the guest never talks to the sidebar).
    The manifest's `?hash` makes each version's address new, so they are cached for good."""
    root = VENDORED.resolve()
    found = (root / path).resolve()
    if root not in found.parents or not found.is_file() or found.name == "boot-template.js":
        raise Http404("No such file of the client.")
    kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    response = HttpResponse(found.read_bytes(), content_type=kind)  # at most 0.8 MB
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@functools.cache
def _boot_template() -> str:
    return (VENDORED / "boot-template.js").read_text(encoding="utf-8")


def api_url(request: HttpRequest) -> str:
    """The API's root; it must end in "/" (the client resolves `token` against it)."""
    return request.build_absolute_uri(reverse("hypothesis-api-index"))


# --- the API's frame ------------------------------------------------------------------------


def failure(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"status": "failure", "reason": reason}, status=status)


def api(methods: list[str], *, signed_in: bool = False) -> Callable:
    """An API view: bearer-token user in `request.api_user` (None when anonymous), JSON
    errors, no CSRF (no cookie is ever read here). No CORS either: its only caller is the
    sidebar, `app.html` on this origin (the annotator in the other site's page talks to the
    sidebar by postMessage, never to the API)."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return failure(f"Use {' or '.join(methods)} here.", 405)
            request.api_user = _bearer_user(request)
            if request.api_user is False:
                return failure("The access token is not valid (expired or revoked).", 401)
            if signed_in and request.api_user is None:
                return failure("Sign in to Marginalia first.", 401)
            # The token's user, never the session's, is who writes (as history records it).
            request.user = request.api_user or AnonymousUser()
            try:
                return view(request, *args, **kwargs)
            except Http404 as error:
                return failure(str(error) or "Not found.", 404)
            except PermissionDenied as error:
                return failure(str(error) or "Not allowed.", 403)
            except ValidationError as error:
                return failure(_reason(error), 400)
            except DeletedMeanwhile as error:
                return failure(str(error), 409)

        return wrapped

    return decorate


def _bearer_user(request: HttpRequest):
    """The token's user; None without a token; False for a token that is not valid."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return False
    return tokens.user_for_token(token.strip()) or False


def _reason(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise ValidationError("The body is a JSON object.")
    return data


# --- index, links, tokens ------------------------------------------------------------------


@api(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    root = api_url(request)
    links: dict[str, Any] = {}
    for name, (method, path, desc) in ROUTES.items():
        node = links
        *parents, last = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = {"method": method, "url": root + path, "desc": desc}
    return JsonResponse({"message": "Marginalia's annotation service", "links": links})


@api(["GET"])
def links(request: HttpRequest) -> HttpResponse:
    site = request.build_absolute_uri("/")
    return JsonResponse(
        {
            "account.settings": site + "accounts/password_change/",
            "forgot-password": site + "accounts/password_reset/",
            "groups.new": site + "libraries/new/",
            "help": site + "#the-hypothesis-client",
            "oauth.authorize": request.build_absolute_uri(reverse("hypothesis-authorize")),
            "oauth.revoke": api_url(request) + "revoke",
            "search.tag": site + "search/?tags=:tag",
            "signup": site + "accounts/login/",
            "user": site + "profile/:user",
            "websocket": None,  # no real-time updates: the client reloads to see others'
        }
    )


@api(["POST"])
def token(request: HttpRequest) -> HttpResponse:
    """RFC 7523's JWT-bearer grant (a grant token minted by `tokens.grant_token`) and
    RFC 6749's refresh grant; form-encoded, as the client sends them."""
    grant = request.POST.get("grant_type", "")
    if grant == "authorization_code":
        if request.POST.get("client_id") != tokens.CLIENT_ID:
            return JsonResponse({"error": "invalid_client"}, status=401)
        user = tokens.user_for_code(request.POST.get("code", ""))
    elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        user = tokens.user_for_grant(request.POST.get("assertion", ""), request)
    elif grant == "refresh_token":
        user = tokens.user_for_token(request.POST.get("refresh_token", ""), "refresh")
    else:
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    if user is None:
        return JsonResponse({"error": "invalid_grant"}, status=400)
    return JsonResponse(tokens.bearer_tokens(user))


@api(["POST"])
def revoke(request: HttpRequest) -> HttpResponse:
    """Signing out: the client forgets its tokens. Ours are signed, not stored, so they end
    when they expire (an hour) or when the user's password changes; a token that is not
    ours is refused, as RFC 7009 §2.2 allows."""
    given = request.POST.get("token", "")
    if tokens.user_for_token(given) is None and tokens.user_for_token(given, "refresh") is None:
        return JsonResponse({"error": "invalid_request"}, status=400)
    return JsonResponse({})


# --- profile and groups ------------------------------------------------------------------


def _libraries(user) -> list[Library]:
    """The reader's groups in the client's sense (its members may annotate): the libraries
    they edit."""
    if user is None:
        return []
    return list(Library.objects.editable_by(user).order_by("name"))


def _read_only(user, mine: list[Library], document_uri: Any) -> list[Library]:
    """The libraries the reader may only read, offered beside their own (`mine`, as h
    offers a restricted group to a non-member): those they are a viewer of, and those
    holding the page at `document_uri` (any spelling of it) that they see, public ones
    included."""
    reader = user or _anonymous()
    visible = Library.objects.visible_to(reader).exclude(pk__in=[lib.pk for lib in mine])
    wanted = Q(memberships__user=user) if user is not None else Q(pk__in=[])
    if isinstance(document_uri, str) and document_uri:
        holding = Source.objects.filter(url__in=uris.spellings([document_uri])).values("library")
        wanted |= Q(pk__in=holding)
    return list(Library.objects.filter(pk__in=visible.filter(wanted).values("pk")).order_by("name"))


def _group(library: Library, request: HttpRequest, *, member: bool = True) -> dict[str, Any]:
    """A library as an h group: `private` where the reader may annotate, else `restricted`
    (the client shows it; a create there is refused with the reason, 403)."""
    return {
        "id": library.slug,
        "groupid": f"group:{library.slug}@{tokens.authority()}",
        "name": library.name,
        "type": "private" if member else "restricted",
        "organization": None,
        "scopes": None,
        "links": {"html": request.build_absolute_uri(library.get_absolute_url())},
        "pre_moderated": False,
        "public": library.is_public,
    }


@api(["GET", "PATCH"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.api_user
    if request.method == "PATCH" and user is None:
        return failure("Sign in to Marginalia first.", 401)
    if request.method == "PATCH":
        preferences = ClientProfile.objects.update_preferences(
            user, _body(request).get("preferences")
        )
    else:
        preferences = ClientProfile.objects.preferences_of(user) if user else dict(DEFAULTS)
    return JsonResponse(
        {
            "userid": tokens.userid(user) if user else None,
            "authority": tokens.authority(),
            "groups": [_group(lib, request) for lib in _libraries(user)],
            "features": {},
            "preferences": preferences,
            "user_info": {"display_name": user.get_username() if user else None},
        }
    )


@api(["GET"])
def profile_groups(request: HttpRequest) -> HttpResponse:
    return JsonResponse([_group(lib, request) for lib in _libraries(request.api_user)], safe=False)


@api(["GET"])
def groups(request: HttpRequest) -> HttpResponse:
    user = request.api_user
    mine = _libraries(user)
    read = _read_only(user, mine, request.GET.get("document_uri"))
    offered = [_group(lib, request) for lib in mine]
    offered += [_group(lib, request, member=False) for lib in read]
    return JsonResponse(offered, safe=False)


@api(["GET"])
def group(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.api_user
    found = Library.objects.visible_to(user or _anonymous()).filter(slug=slug).first()
    if found is None:
        raise Http404(f"No group {slug[:60]} that you can see.")
    member = user is not None and found.role_of(user) in WRITE_ROLES
    return JsonResponse(_group(found, request, member=member))


@api(["GET"])
def group_members(request: HttpRequest, slug: str) -> HttpResponse:
    """Members are not listed to the client (mentions are off); one's libraries' pages do."""
    return JsonResponse([], safe=False)


@api(["DELETE"], signed_in=True)
def group_member(request: HttpRequest, slug: str, userid: str) -> HttpResponse:
    return failure("Leave a library from its Members page in Marginalia.", 403)


@api(["POST"])
def analytics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)  # nothing is recorded


# --- search --------------------------------------------------------------------------------


@api(["GET"])
def search(request: HttpRequest) -> HttpResponse:
    """A page's annotations (and their replies, in `rows`), oldest first by default."""
    user = request.api_user
    params = request.GET
    wanted = params.getlist("uri") + params.getlist("url")
    if len(wanted) > uris.MAX_URIS:
        raise ValidationError(f"uri: at most {uris.MAX_URIS} addresses.")
    limit = _number(params.get("limit", "20"), "limit", most=MAX_LIMIT)
    offset = _number(params.get("offset", "0"), "offset", most=10_000)
    found = Annotation.objects.visible_to(user or _anonymous())
    if wanted:
        sources = Source.objects.visible_to(user or _anonymous()).filter(
            url__in=uris.spellings(wanted)
        )
        found = found.filter(text__source__in=sources)
    elif not params.get("references"):
        return JsonResponse({"total": 0, "rows": []})  # the whole library is not a page
    if group_id := params.get("group"):
        found = found.filter(library__slug=group_id)
    if references := params.get("references"):
        found = found.filter(Q(reply_to_id=_number(references, "references")))
    found = found.filter(state__in=["anchored", "moved", "fuzzy"])
    order = "-" if params.get("order", "asc").lower() == "desc" else ""
    key = "modified" if params.get("sort") == "updated" else "created"
    if after := params.get("search_after"):
        moment = parse_datetime(after)
        if moment is None:
            raise ValidationError("search_after: give the last row's created time.")
        found = found.filter(**{f"{key}__{'lt' if order else 'gt'}": moment})
    total = found.count()
    page = list(
        found.select_related("text__source", "library", "creator")
        .prefetch_related("tags")
        .order_by(f"{order}{key}", f"{order}id")[offset : offset + limit]
    )
    parents = _parents(page)
    rows = [row(a, request, uri=a.text.source.url, parents=parents) for a in page]
    return JsonResponse({"total": total, "rows": rows})


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def _number(value: str, name: str, *, most: int = 2**62) -> int:
    if not (value.isascii() and value.isdigit() and len(value) < 19) or int(value) > most:
        raise ValidationError(f"{name}: give a whole number from 0 to {most}.")
    return int(value)


def _parents(annotations: list[Annotation]) -> dict[int, int | None]:
    """Every annotation's parent, up the threads of these replies."""
    parents: dict[int, int | None] = {}
    wanted = {a.reply_to_id for a in annotations if a.reply_to_id is not None}
    while wanted and len(parents) < 10_000:
        found = dict(Annotation.objects.filter(pk__in=wanted).values_list("pk", "reply_to_id"))
        parents.update(found)
        wanted = {p for p in found.values() if p is not None and p not in parents}
    return parents


# --- annotations ---------------------------------------------------------------------------


@transaction.non_atomic_requests  # a first annotation fetches its page: no lock meanwhile
@api(["POST"], signed_in=True)
def create(request: HttpRequest) -> HttpResponse:
    user, data = request.api_user, _body(request)
    comment, tags = _comment_and_tags(data)
    visibility = visibility_of(data.get("permissions"), user)
    references = data.get("references") or []
    if not isinstance(references, list) or len(references) > 1000:
        raise ValidationError("references: give the thread's annotation ids.")
    if references:
        parent = get_annotation_for_user(user, _number(str(references[-1]), "references"))
        _require_write(parent.library, user)
        created = create_annotation(text=parent.text, creator=user, reply_to=parent,
                                    comment=comment, tags=tags, visibility=visibility)  # fmt: skip
    elif (source := _source_for(data, user)) is None:  # the page's first annotation
        created = first_annotation.annotate_new_page(data, user, comment=comment, tags=tags,
                                                     visibility=visibility)  # fmt: skip
    else:
        text = source.current_text
        if text is None:
            raise ValidationError(f"{source.display_title} has no text to annotate yet.")
        placed = placement(data.get("target"), text)  # a passage, or a page note (rows.py)
        created = create_annotation(text=text, creator=user, comment=comment, tags=tags,
                                    visibility=visibility, **placed)  # fmt: skip
    return _one(created.pk, request)


@api(["GET", "PATCH", "DELETE"])
def annotation(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.api_user
    number = pk
    if request.method == "GET":
        return _one(number, request)
    if user is None:
        return failure("Sign in to Marginalia first.", 401)
    found = get_annotation_for_user(user, number, write=True)
    if request.method == "DELETE":
        if answered := found.replies_by_others():
            noun = "reply" if answered == 1 else "replies"
            return failure(f"{answered} {noun} by others answer it: delete it in Marginalia.", 409)
        found.delete()
        return JsonResponse({"id": str(number), "deleted": True})
    data = _body(request)
    changes: dict[str, Any] = {}
    if "text" in data or "tags" in data:
        comment, tags = _comment_and_tags(data)
        if "text" in data:
            changes["comment"] = comment
        if "tags" in data:
            changes["tags"] = tags
    if "permissions" in data:
        changes["visibility"] = visibility_of(data["permissions"], user)
    found.apply_changes(changes, user=user)
    return _one(number, request)


@api(["PUT", "DELETE", "PATCH"], signed_in=True)
def refused(request: HttpRequest, pk: int) -> HttpResponse:
    """Flagging, hiding and moderating: Marginalia's libraries have owners, not moderators."""
    return failure(
        "Marginalia has no moderators: ask the library's owner, who may delete it there.", 403
    )


def _one(pk: int, request: HttpRequest) -> HttpResponse:
    user = request.api_user or _anonymous()
    found = (
        Annotation.objects.visible_to(user)
        .select_related("text__source", "library", "creator")
        .prefetch_related("tags")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(f"No annotation {pk} that you can see.")
    return JsonResponse(row(found, request, uri=found.text.source.url, parents=_parents([found])))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _comment_and_tags(data: dict[str, Any]) -> tuple[str, list[str]]:
    comment, tags = data.get("text", ""), data.get("tags", [])
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX_CHARS:
        raise ValidationError(f"text: a string of at most {COMMENT_MAX_CHARS:,} characters.")
    ok = isinstance(tags, list) and len(tags) <= TAGS_PER_ANNOTATION
    if not ok or not all(isinstance(t, str) and len(t) <= TAG_MAX_CHARS for t in tags):
        raise ValidationError(f"tags: at most {TAGS_PER_ANNOTATION} strings.")
    return comment, tags


def _require_write(library: Library, user) -> None:
    if library.role_of(user) not in WRITE_ROLES:
        raise PermissionDenied("You may read this library but not annotate in it.")


def _source_for(data: dict[str, Any], user) -> Source | None:
    """The source this page is, in the chosen group's library: one the user edits (403
    for one they only read); where the group is none of the libraries they see (the
    client's `__world__`), in any library they edit. None when that library does not hold
    the page yet: its first annotation then saves it there (`first_annotation`)."""
    uri = data.get("uri")
    if not isinstance(uri, str) or not uri:
        raise ValidationError("uri: give the page's address.")
    addresses = [uri]
    document = data.get("document") if isinstance(data.get("document"), dict) else {}
    for link in _list(document.get("link"))[: uris.MAX_URIS]:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            addresses.append(link["href"])
    candidates = Source.objects.filter(
        library__in=Library.objects.editable_by(user), url__in=uris.spellings(addresses)
    ).select_related("library")
    group_id = data.get("group")
    named = None
    if isinstance(group_id, str) and group_id:
        named = Library.objects.visible_to(user).filter(slug=group_id).first()
    if named is not None:
        _require_write(named, user)
        candidates = candidates.filter(library=named)
    return candidates.order_by("pk").first()
