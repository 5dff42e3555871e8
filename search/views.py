"""The search page (/search/), and starting a re-index of a library.

The page is a GET form: its URL is the saved search; its results' citations download
from `citations.views.search_export`. Thin views: parse the query string,
call `search.engine`, render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotations.claims.models import ClaimStatus, Event
from core.dates import edtf_in_words
from core.templatetags.display import language_text
from jobs import queue
from search.engine import SearchResult, require_libraries, search
from search.jobs import REINDEX
from search.query import SORTS, ResultKind, SearchQuery, parse_params
from sources.access import get_library_for_user
from sources.models import Library, Source, SourceKind, SourceType


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    try:
        query = parse_params(request.GET)
        require_libraries(request.user, query)
        result = search(request.user, query)
        _edtf_dates(result.hits)
    except ValidationError as error:
        context = {"errors": error.message_dict, "query": SearchQuery(raw=_raw(request))}
        return render(request, "search/search.html", _options(request, context), status=400)
    context = {
        "query": query,
        "result": result,
        "errors": {},
        "facet_groups": facet_groups(query, result),
        "chips": chips(query, request.user),
    }
    return render(request, "search/search.html", _options(request, context))


def _edtf_dates(hits: list[Any]) -> None:
    """Date each hit as the lists do: a source's own EDTF (`1950?-01-01`, not the bounds
    the index keeps), else the index's bounds as an EDTF interval; templates put it into
    words (`core.templatetags.display.edtf`)."""
    ids = {hit.source_id for hit in hits if hit.source_id and hit.kind != "claim"}
    issued = dict(Source.objects.filter(pk__in=ids).values_list("pk", "issued")) if ids else {}
    for hit in hits:
        hit.date = issued.get(hit.source_id) or hit.date.replace(" – ", "/")


@dataclass
class Link:
    label: str
    url: str
    count: int = 0
    active: bool = False


def facet_groups(query: SearchQuery, result: SearchResult) -> list[tuple[str, list[Link]]]:
    """Each facet's values as links that add (or, when active, remove) that filter."""
    raw = query.raw

    def toggle(key: str, value: str, label: str, count: int) -> Link:
        values = raw.get(key, [])
        active = value.casefold() in [v.casefold() for v in values]
        kept = [v for v in values if v.casefold() != value.casefold()]
        url = "?" + query.querystring(**{key: kept if active else [*values, value]})
        return Link(label, url, count, active)

    facets = result.facets
    groups = [
        ("Tags", [toggle("tag", f.value, f.label, f.count) for f in facets.get("tags", [])]),
        ("Events", [toggle("event", f.value, f.label, f.count) for f in facets.get("events", [])]),
        (
            "Sources",
            [
                toggle("source_kind", f.value, f.label, f.count)
                for f in facets.get("source_kinds", [])
            ],
        ),
        ("Years", [toggle("issued", f.value, f.label, f.count) for f in facets.get("years", [])]),
    ]
    return [(title, links) for title, links in groups if links]


# How each applied filter reads as a chip; `{}` is its value in words.
CHIP_LABELS = {
    "in": "In {}",
    "tag": "Tagged {}",
    "any_tag": "Tagged (any of) {}",
    "event": "Event: {}",
    "from": "Events from {}",
    "to": "Events until {}",
    "issued": "Dated {}",
    "source_kind": "{} sources only",
    "type": "Type: {}",
    "creator": "Creator: {}",
    "archive": "Archive: {}",
    "language": "Language: {}",
    "status": "Claims {}",
    "annotator": "By {}",
    "library": "Library: {}",
    "source": "Source: {}",
}


def chips(query: SearchQuery, user: Any = None) -> list[Link]:
    """The filters in force, each in words with a link that removes it."""
    names = _value_names(query, user)
    result = []
    for key, values in query.raw.items():
        if key not in CHIP_LABELS:
            continue
        for value in values:
            rest = [v for v in values if v != value]
            label = CHIP_LABELS[key].format(names.get((key, value), value))
            result.append(Link(label, "?" + query.querystring(**{key: rest})))
    return result


def _value_names(query: SearchQuery, user: Any) -> dict[tuple[str, str], str]:
    """Names for values that are ids or codes: events, libraries, sources, dates, kinds."""
    raw = query.raw
    names: dict[tuple[str, str], str] = {}
    libraries = Library.objects.visible_to(user) if user is not None else Library.objects.none()
    ids = [int(v) for v in raw.get("event", []) if v.isdigit()]
    for pk, name in Event.objects.filter(pk__in=ids, library__in=libraries).values_list(
        "pk", "name"
    ):
        names["event", str(pk)] = name
    for slug, name in libraries.filter(slug__in=raw.get("library", [])).values_list("slug", "name"):
        names["library", slug] = name
    ids = [int(v) for v in raw.get("source", []) if v.isdigit()]
    for pk, title in Source.objects.filter(pk__in=ids, library__in=libraries).values_list(
        "pk", "title"
    ):
        names["source", str(pk)] = title
    for key in ("from", "to", "issued"):
        for value in raw.get(key, []):
            names[key, value] = edtf_in_words(value)
    vocabularies = {
        "source_kind": dict(SourceKind.choices),
        "type": dict(SourceType.choices),
        "status": dict(ClaimStatus.choices),
        "in": ResultKind.LABELS,
    }
    for key, labels in vocabularies.items():
        for value in raw.get(key, []):
            names[key, value] = str(labels.get(value, value))
    for value in raw.get("language", []):
        names["language", value] = language_text(value)
    return names


def _raw(request: HttpRequest) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET if key != "cursor"}


def _options(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """What the form's choices are: the user's libraries, their events, the vocabularies."""
    libraries = Library.objects.visible_to(request.user)
    events = Event.objects.filter(library__in=libraries).order_by("earliest", "name")
    return {
        **context,
        "libraries": libraries,
        "events": events.only("id", "name", "date")[:500],
        "kinds": ResultKind.LABELS,
        "source_kinds": SourceKind.choices,
        "types": SourceType.choices,
        "statuses": ClaimStatus.choices,
        "sorts": SORTS,
    }


@require_POST
@login_required
def library_reindex(request: HttpRequest, slug: str) -> HttpResponse:
    """Rebuild the library's search index in the background (editors)."""
    library = get_library_for_user(request.user, slug, write=True)
    job = queue.enqueue(REINDEX, library=library, user=request.user)
    return redirect(job)
