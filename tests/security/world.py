"""A library with one of everything, and every route of the site, discovered.

The break-it tests walk what exists rather than a list: every URL pattern of the resolver
(pages and API), filled in with the ids of objects of this world. A route whose parameter
cannot be filled fails the walk with a message saying what to add here, so that a new
feature is never silently left out.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from sources.models import ImportRun, Library, Role, SourceLink
from sources.sharing import backup
from tests.factories import (
    add_member,
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_library,
    make_source,
    make_text,
    make_user,
)

# Words that only ever appear in the private library's content. An outsider or anonymous
# visitor who is shown any of them has found a leak.
SECRET = "Sekret"  # in every marker
MARKERS = {
    "library": f"{SECRET}Library Archive of the Central Committee",
    "source": f"{SECRET}Source Ciphered telegram from Roshchin",
    "creator": f"{SECRET}Creator",
    "text": f"{SECRET}Text Mao said the treaty mattered more than the loan.",
    "annotation": f"{SECRET}Annotation shared with the library",
    "tag": f"{SECRET}Tag",
    "claim": f"{SECRET}Claim Stalin kept Mao waiting",
    "event": f"{SECRET}Event Mao's visit",
    "link": f"{SECRET}Link note",
}
PRIVATE_NOTE = "PrivateNoteOfBob only bob may read this"
# bob's private work: nobody but bob may be shown any of these, anywhere (alice's backup,
# which holds everything, to alice alone).
PRIVATE = {
    "note": PRIVATE_NOTE,
    "note_tag": "PrivateTagOnBobsNoteOnly",
    "claim": "PrivateClaimOfBob the loan came before the treaty",
    "claim_note": "PrivateClaimNoteOfBob",
    "claim_tag": "PrivateTagOnBobsClaimOnly",
    "link_note": "PrivateLinkNoteOfBob",
    "evidence_note": "PrivateEvidenceNoteOfBob",
}
# In every backup's manifest.json and nowhere else: a response holding it is alice's backup.
BACKUP_MARKER = backup.FORMAT

# Route parameter → what fills it, by parameter name first, then by the path segment
# before it ("claims/<int:pk>/" → a claim).
SEGMENT_KINDS = {
    "libraries": "library",
    "sources": "source",
    "texts": "text",
    "links": "link",
    "source-links": "link",
    "imports": "import_run",
    "annotations": "annotation",
    "tags": "tag",
    "claims": "claim",
    "evidence": "evidence",
    "events": "event",
    "claim-events": "claim_event",
    "jobs": "job",
    "invitations": "invitation",
    "members": "membership",
    "tokens": "token",
    "pages": "page",
    "originals": "original",
}
NAME_KINDS = {"slug": "library", "source_pk": "source", "text_pk": "text"}
# Routes that show little without a query: read again with these ({slug} the library's,
# {claim} bob's private claim), so that lists, search and exports of the library are walked.
NOTES = "content=document&format={fmt}&library={slug}"
QUERIES = {
    "api-tag-list": ["library={slug}&limit=100", "library={slug}&q=private&limit=100"],
    "api-tag-colours": ["library={slug}"],
    "api-annotation-list": ["library={slug}"],
    "api-claim-list": ["library={slug}", "q=private"],
    "api-evidence-list": ["library={slug}"],
    "api-event-list": ["library={slug}"],
    "api-library-provenance": ["library={slug}"],
    "search": ["q=private*", "q=PrivateClaimOfBob", "q=Sekret*&library={slug}"],
    "api-search": ["q=private*", "q=PrivateClaimOfBob", "q=Sekret*&library={slug}"],
    "search-export": ["q=private*&format=ris"],
    "export": ["library={slug}"],
    "export-preview": [NOTES.format(fmt="html", slug="{slug}")],
    "export-download": [NOTES.format(fmt=fmt, slug="{slug}") for fmt in ("markdown", "docx")]
    + ["content=document&format=markdown&claims={claim}"],
    "api-export": [NOTES.format(fmt="markdown", slug="{slug}")],
}
_CONVERTER = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class World:
    library: Library
    users: dict[str, Any]
    objects: dict[str, list[Any]] = field(default_factory=dict)
    private: dict[str, set[int]] = field(default_factory=dict)  # bob's, by path segment
    bobs: dict[str, set[int]] = field(default_factory=dict)  # all bob made, private or not

    def values_for(self, kind: str) -> list[Any]:
        return self.objects.get(kind, [])


def build_world(*, public: bool = False) -> World:
    """A library owned by alice (private, or published read-only), bob edits, vera reads,
    mallory is outside; every kind of object in it; bob keeps a private note and a private
    claim, each with a tag nothing else carries; alice's backup of it all."""
    users = {name: make_user(username=name) for name in ("alice", "bob", "vera", "mallory")}
    alice, bob = users["alice"], users["bob"]
    library = make_library(owner=alice, name=MARKERS["library"])
    add_member(library=library, user=bob, role=Role.EDITOR)
    add_member(library=library, user=users["vera"], role=Role.VIEWER)
    source = make_source(
        library=library, title=MARKERS["source"], creators=[{"family": MARKERS["creator"]}]
    )
    other = make_source(library=library, title=f"{MARKERS['source']} (reprint)")
    text = make_text(source=source, text=MARKERS["text"], imported_by=alice)
    make_text(source=other, text=MARKERS["text"], imported_by=alice)
    link = SourceLink.objects.create(
        library=library, subject=other, relation="reprints", object=source, note=MARKERS["link"]
    )
    shared = make_annotation(
        text=text, creator=alice, quote="treaty", comment=MARKERS["annotation"],
        tags=[MARKERS["tag"]],
    )  # fmt: skip
    private = make_annotation(
        text=text, creator=bob, quote="loan", comment=PRIVATE_NOTE, visibility="private",
        tags=[PRIVATE["note_tag"]],
    )  # fmt: skip
    claim = make_claim(library=library, creator=alice, statement=MARKERS["claim"])
    event = make_event(library=library, creator=alice, name=MARKERS["event"])
    evidence = make_evidence(claim=claim, annotation=shared, creator=alice)
    from annotations.claims.claims import link_event

    claim_event = link_event(claim, event, relation="about")
    run = ImportRun.objects.create(
        library=library, user=alice, file_name=f"{SECRET}.json", format="csl-json", outcomes=[]
    )
    secret = _private_claim(text, event, bob)
    objects = {
        "library": [library],
        "source": [source],
        "text": [text],
        "link": [link],
        "annotation": [shared, private, secret.evidence.get().annotation],
        "tag": [*shared.tags.all(), *private.tags.all(), *secret.tags.all()],
        "claim": [claim, secret],
        "evidence": [evidence, secret.evidence.get()],
        "event": [event],
        "claim_event": [claim_event, secret.event_links.get()],
        "import_run": [run],
        "membership": list(library.memberships.filter(user__in=[alice, bob])),
    }
    objects |= _collab_objects(library, users)
    objects |= _page_objects(text)
    if public:
        library.is_public = True
        library.save()
    objects |= _job_objects(library, alice)  # last: the backup holds everything above
    privates = _privates(private, secret)
    bobs = privates | {"annotations": {private.pk, secret.evidence.get().annotation_id}}
    return World(library, users, objects, private=privates, bobs=bobs)


def _private_claim(text, event, bob):
    """bob's private claim, made from a library-visible highlight of his, about the event."""
    from annotations.claims.claims import EventLink, Selection, make_claim_from_highlight

    start = text.text.index("mattered")
    return make_claim_from_highlight(
        Selection(text=text, start=start, end=start + len("mattered")),
        creator=bob, statement=PRIVATE["claim"], note=PRIVATE["claim_note"],
        visibility="private", tags=[PRIVATE["claim_tag"]],
        events=[EventLink(event, "about", PRIVATE["link_note"])],
        evidence_note=PRIVATE["evidence_note"],
    )  # fmt: skip


def _privates(note, claim) -> dict[str, set[int]]:
    """bob's private objects by the path segment that names them."""
    return {
        "annotations": {note.pk},
        "claims": {claim.pk},
        "evidence": set(claim.evidence.values_list("pk", flat=True)),
        "claim-events": set(claim.event_links.values_list("pk", flat=True)),
        "tags": {tag.pk for tag in [*note.tags.all(), *claim.tags.all()]},
    }


def _job_objects(library: Library, owner) -> dict[str, list[Any]]:
    """A finished background job, where this installation has them."""
    try:
        from jobs import queue
        from sources.sharing.jobs import BACKUP
    except ImportError:
        return {}
    return {"job": [queue.enqueue(BACKUP, library=library, user=owner)]}


def _page_objects(text) -> dict[str, list[Any]]:
    """The text's pages: it came from a PDF of the same words (sources/pages/)."""
    import io

    from reportlab.pdfgen import canvas

    from sources.importers import Original, extract_text
    from sources.pages import layout, store

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text.text)
    pdf.showPage()
    pdf.save()
    original = Original(f"{SECRET}.pdf", buffer.getvalue())
    extracted = extract_text(original.data, file_name=original.name)
    store.keep(text, [original], layout.pdf_layout(original, extracted))
    return {"page": list(text.pages.all()), "original": list(text.originals.all())}


def _collab_objects(library: Library, users: dict[str, Any]) -> dict[str, list[Any]]:
    from sources.sharing import members, tokens

    invitation = members.invite(library, by=users["alice"], who="carol@example.org", role="viewer")
    token, _ = tokens.create_token(users["alice"], name="alice's script")
    return {"invitation": [invitation], "token": [token]}


# --- Routes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str | None
    callback: Any
    defaults: tuple

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def parameters(self) -> list[tuple[str, str]]:
        """(name, the literal segment before it) for each converter in the pattern."""
        found, previous = [], ""
        for segment in self.pattern.split("/"):
            converters = list(_CONVERTER.finditer(segment))  # "<int:pk>.json" has one too
            found += [(match["name"], previous) for match in converters]
            if segment and not converters:
                previous = segment
        return found

    def methods(self) -> list[str]:
        """HTTP methods the view answers: a DRF viewset's actions, an APIView's handlers,
        else GET and POST (function views decide for themselves)."""
        actions = getattr(self.callback, "actions", None)
        if actions:
            return sorted(method.upper() for method in actions)
        view_class = getattr(self.callback, "cls", None) or getattr(
            self.callback, "view_class", None
        )
        if view_class is not None:
            names = [m for m in view_class.http_method_names if hasattr(view_class, m)]
            return sorted(m.upper() for m in names if m not in ("options", "head"))
        return ["GET", "POST"]


SKIPPED_PREFIXES = ("admin/", "static/", "media/", "__debug__/")


def all_routes() -> list[Route]:
    """Every URL pattern of the site but the admin's (staff only, tested apart)."""
    routes = []
    for pattern, url in _walk(get_resolver().url_patterns, ""):
        if pattern.startswith(SKIPPED_PREFIXES):
            continue
        routes.append(
            Route(pattern, url.name, url.callback, tuple(sorted(url.default_args.items())))
        )
    return routes


def _walk(patterns: list, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


class UnknownParameter(Exception):
    pass


def urls_for(route: Route, world: World) -> list[str]:
    """Concrete paths for the route: one per object that can fill its parameters."""
    if route.pattern.startswith("accounts/reset/<"):
        return ["/accounts/reset/MQ/set-password/"]
    paths = ["/" + route.pattern]
    for name, segment in route.parameters:
        values = _values(name, segment, route, world)
        paths = [_fill(path, name, value) for path in paths for value in values]
    return paths


def read_urls_for(route: Route, world: World) -> list[str]:
    """The route's paths, and for a route that lists or searches, with its queries."""
    paths = urls_for(route, world)
    values = {"slug": world.library.slug, "claim": world.objects["claim"][1].pk}
    queries = [query.format(**values) for query in QUERIES.get(route.name or "", [])]
    return paths + [f"{path}?{query}" for path in paths for query in queries]


def _fill(path: str, name: str, value: Any) -> str:
    return re.sub(rf"<(?:[^>:]+:)?{re.escape(name)}>", str(value), path, count=1)


def _values(name: str, segment: str, route: Route, world: World) -> list[Any]:
    if name == "userid":  # the Hypothesis client's "me"
        return ["me"]
    if name == "path" and route.name == "hypothesis-client":
        return ["styles/sidebar.css", "../VENDORED.md"]
    if name == "revision":
        return [obj.revision for obj in world.values_for("text")]
    if name == "history_id":
        kind = SEGMENT_KINDS.get(route.parameters[0][1])
        return [_latest_history_id(obj) for obj in world.values_for(kind or "")] or _unknown(
            name, route
        )
    kind = NAME_KINDS.get(name) or SEGMENT_KINDS.get(segment)
    if kind is None:
        _unknown(name, route)
    objects = world.values_for(kind)
    if not objects:
        _unknown(name, route)
    return [obj.slug if name == "slug" else obj.pk for obj in objects]


def _latest_history_id(obj: Any) -> int:
    return obj.history.order_by("-history_id").values_list("history_id", flat=True)[0]


def _unknown(name: str, route: Route) -> list[Any]:
    raise UnknownParameter(
        f"Route {route.pattern!r} ({route.name}) has a parameter {name!r} that "
        "tests/security/world.py cannot fill: add its path segment to SEGMENT_KINDS and an "
        "object of that kind to build_world()."
    )


# --- What a write may change -------------------------------------------------------------------


def fingerprint(world: World, actor: Any = None) -> str:
    """A digest of every row of the library (history included), every API token and every
    account: a refused request must leave it as it was. The actor's own tokens are left
    out: creating one for yourself is no one else's business."""
    digest = hashlib.sha256()
    for part in backup.owned_models():
        for row in backup.rows_of(part, world.library).values():
            digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    from sources.sharing.models import ApiToken, Invitation

    tokens = ApiToken.objects.exclude(user=actor) if actor else ApiToken.objects.all()
    for rows in (tokens, Invitation.objects.all()):
        for row in rows.order_by("pk").values():
            row.pop("last_used", None)  # reading with a token records when it was used
            digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    accounts = get_user_model().objects.order_by("pk")
    for row in accounts.values("pk", "username", "password", "email", "is_active", "is_staff"):
        digest.update(json.dumps(row, sort_keys=True).encode())
    return digest.hexdigest()


def rows_written() -> int:
    """How many rows this connection has inserted, updated or deleted so far: in this
    transaction, cascades and triggers included (PostgreSQL's pg_stat_xact_user_tables), or
    since the connection opened, by statements (SQLite's total_changes(), where every
    change starts). The same number twice means nothing was written in between."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
                " FROM pg_stat_xact_user_tables"
            )
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


@dataclass
class Witness:
    """The world's `fingerprint`, recomputed only when rows have been written since it was
    last taken: most refused writes write nothing, and a fingerprint reads every table of
    the library (35 queries, ~0.1 s)."""

    world: World
    actor: Any = None
    written: int = -1
    digest: str = ""

    def now(self) -> str:
        written = rows_written()
        if written != self.written:
            self.digest, self.written = fingerprint(self.world, self.actor), written
        return self.digest
