"""What an export or a citation is of: the selection.

A selection is a library, a search result, chosen sources, claims or an event. It is read
from request parameters by `select_from_params` and resolved for one user: what they
cannot see is a 404 (Http404), a malformed parameter an `ExportRequestError` naming it.
The result carries the sources (with creators), the CSL items with citation keys unique
in the export, and what a research-notes document needs (the claims). How it is written
is `citations.options`; pages and the API share both, so they accept and refuse the same
things.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict

from citations.exports import citation_key
from sources.access import get_library_for_user
from sources.csl import source_to_csl
from sources.models import Creator, Library, Source

MAX_IDS = 10_000
MAX_EVENT_DEPTH = 50
SELECTION_FIELDS = ("library", "sources", "claims", "event", "q", "search")


class ExportRequestError(ValueError):
    """A parameter that cannot be read: `field` names it, `message` says what is accepted."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Selection:
    """A resolved selection: `kind` is library | sources | source | search | claims | event."""

    kind: str
    name: str
    sources: list[Source]
    params: dict[str, str]
    library: Library | None = None
    query: str = ""
    claims: list[Any] = field(default_factory=list)
    event: Any = None
    search: Any = None  # the SearchQuery of a search selection
    _items: list[dict] | None = None

    @property
    def items(self) -> list[dict]:
        """The sources as CSL-JSON items, in the selection's order, keys made unique."""
        if self._items is None:
            self._items = unique_keys([source_to_csl(s) for s in self.sources], self.sources)
        return self._items

    def keys(self) -> dict[int, str]:
        """Source id → its citation key in this export."""
        return {s.pk: citation_key(item) for s, item in zip(self.sources, self.items, strict=True)}


def unique_keys(items: list[dict], sources: list[Source]) -> list[dict]:
    """Citation keys are unique in a library, not across libraries: a key that two
    libraries share is qualified with each library's slug ("sino-soviet:roshchin1950record")
    so that BibLaTeX, pandoc and Zotero can tell the entries apart. Keys that only differ
    in characters BibTeX cannot hold get a number as well."""
    counts = Counter(citation_key(item) for item in items)
    result, taken = [], set()
    for item, source in zip(items, sources, strict=True):
        key = citation_key(item)
        if counts[key] > 1:
            key = f"{source.library.slug}:{key}"
        unique, n = key, 1
        while unique in taken:
            n += 1
            unique = f"{key}-{n}"
        taken.add(unique)
        if unique != citation_key(item):
            item = item | {"id": unique, "citation-key": unique}
        result.append(item)
    return result


# --- Parsing ---------------------------------------------------------------------------


def selection_params(data: Mapping[str, Any]) -> dict[str, Any]:
    """The selection parameters of a request (QueryDict or dict): `sources` (or its alias
    `ids`) and `claims` as lists of ids, "1,2,3" or repeated; the rest as text."""
    params: dict[str, Any] = {}
    for name in ("library", "event", "q", "search"):
        value = data.get(name)
        if value is not None and str(value).strip():
            params[name] = str(value).strip()
    for name, aliases in (("sources", ("sources", "ids", "source")), ("claims", ("claims",))):
        values = [v for alias in aliases for v in _values(data, alias)]
        if values:
            params[name] = parse_ids(values, name)
    return params


def _values(data: Mapping[str, Any], name: str) -> list[str]:
    raw = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
    if raw is None:
        return []
    raw = raw if isinstance(raw, list | tuple) else [raw]
    return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


def parse_ids(values: Iterable[Any], name: str) -> list[int]:
    """Positive integer ids, duplicates dropped, order kept; ExportRequestError naming `name`."""
    values = list(values)
    if len(values) > MAX_IDS:
        raise ExportRequestError(name, f"At most {MAX_IDS:,} ids at a time.")
    ids: dict[int, None] = {}
    for value in values:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 18 and int(text) > 0):
            shown = text if len(text) <= 40 else text[:39] + "…"
            raise ExportRequestError(name, f"{shown!r} is not an id: give numbers such as 12,15.")
        ids[int(text)] = None
    return list(ids)


def select_from_params(user: Any, data: Mapping[str, Any]) -> Selection:
    """Read and resolve the selection of a request for `user`."""
    return select(user, **selection_params(data))


def select(
    user: Any,
    *,
    library: str | None = None,
    sources: list[int] | None = None,
    claims: list[int] | None = None,
    event: str | None = None,
    q: str | None = None,
    search: str | None = None,
) -> Selection:
    """One selection: a library (optionally searched with `q`), a search (`q`, or a search
    page's query string in `search`), sources by id, claims by id, or an event."""
    given = (("sources", sources), ("claims", claims), ("event", event), ("search", search))
    chosen = [name for name, value in given if value]
    if q and not search:
        chosen.append("q")
    elif library and not search:
        chosen.append("library")
    if not chosen:
        raise ExportRequestError(
            "selection", "Choose what to export: library, sources, claims, event, q or search."
        )
    if q and search:
        chosen.append("q")
    if len(chosen) > 1:
        raise ExportRequestError(
            chosen[-1],
            f"Choose one selection, not {' and '.join(chosen)} (library may narrow a search).",
        )
    if sources:
        return select_sources(user, sources)
    if claims:
        return select_claims(user, claims)
    if event:
        return select_event(user, event)
    if q or search:
        return select_search(user, q, library=library, search=search)
    return select_library(user, library or "")


def visible_sources(user: Any) -> Any:
    return (
        Source.objects.visible_to(user)
        .select_related("library")
        .order_by("issued_earliest", "title", "pk")
    )


def with_creators(sources: Iterable[Source]) -> list[Source]:
    """The sources with their creators loaded in one query, as `prefetch_related` would
    leave them (`source.creators.all()` reads them). Django's prefetch builds a QuerySet
    per source, two seconds for a library of 10,000; a list per source costs nothing."""
    sources = list(sources)
    by_source: dict[int, list[Creator]] = {source.pk: [] for source in sources}
    for creator in Creator.objects.filter(source__in=list(by_source)).order_by("order", "pk"):
        by_source[creator.source_id].append(creator)
    for source in sources:
        cache = source.__dict__.setdefault("_prefetched_objects_cache", {})
        cache["creators"] = by_source[source.pk]
    return sources


def library_for(user: Any, value: str) -> Library:
    """A library the user sees, by slug or by numeric id (as the sources API accepts)."""
    try:
        return get_library_for_user(user, value)
    except Http404:
        if not (value.isascii() and value.isdigit() and len(value) <= 18):
            raise
    found = Library.objects.visible_to(user).filter(pk=int(value)).first()
    if found is None:
        raise Http404("No such library.")
    return found


def select_library(user: Any, value: str) -> Selection:
    library = library_for(user, value)
    sources = with_creators(visible_sources(user).filter(library=library))
    return Selection("library", library.name, sources, {"library": library.slug}, library=library)


def select_sources(user: Any, ids: list[int]) -> Selection:
    """Sources in the order given; any one the user cannot see makes the whole a 404."""
    found = {s.pk: s for s in with_creators(visible_sources(user).filter(pk__in=ids))}
    if len(found) != len(ids):
        raise Http404("No such source.")
    sources = [found[pk] for pk in ids]
    params = {"sources": ",".join(str(pk) for pk in ids)}
    if len(sources) == 1:
        return Selection("source", sources[0].title, sources, params, library=sources[0].library)
    libraries = {s.library_id for s in sources}
    library = sources[0].library if len(libraries) == 1 else None
    return Selection("sources", f"{len(sources)} sources", sources, params, library=library)


def select_search(
    user: Any, q: str | None = None, *, library: str | None = None, search: str | None = None
) -> Selection:
    """The sources of a search's results (`search.engine`), in result order: `search`
    is a search page's query string (q, tags, events, kinds…), `q` a plain search, and
    `library` narrows either to one library."""
    from search.engine import require_libraries, result_source_ids

    query = search_query(q, library=library, search=search)
    require_libraries(user, query)
    ids = result_source_ids(user, query)
    found = {s.pk: s for s in with_creators(visible_sources(user).filter(pk__in=ids))}
    sources = [found[pk] for pk in ids if pk in found]
    text = " ".join(query.raw.get("q", []))
    name = f"Search {text}" if text else "Search results"
    libraries = {s.library_id for s in sources}
    scope = sources[0].library if len(libraries) == 1 else None
    params = {"search": query.querystring()}
    return Selection("search", name, sources, params, library=scope, query=text, search=query)


def search_query(q: str | None, *, library: str | None, search: str | None) -> Any:
    """The search's SearchQuery; its errors as ExportRequestError on `q` or `search`."""
    from search.query import parse_params

    data = QueryDict(search or "", mutable=True)
    data.pop("cursor", None)  # every result, not one page
    if q:
        data["q"] = q
    if library:
        data.setlist("library", [library])
    try:
        return parse_params(data)
    except ValidationError as error:
        key, messages = next(iter(error.message_dict.items()))
        if key == "q" and q:
            raise ExportRequestError("q", " ".join(messages)) from None
        where = "" if key == "__all__" else f"{key}: "
        raise ExportRequestError("search", where + " ".join(messages)) from None


def select_claims(user: Any, ids: list[int]) -> Selection:
    """Claims in the order given, and the sources of the evidence the user may see."""
    from annotations.claims.models import Claim

    found = {c.pk: c for c in Claim.objects.visible_to(user).filter(pk__in=ids)}
    if len(found) != len(ids):
        raise Http404("No such claim.")
    claims = [found[pk] for pk in ids]
    sources = sources_of_claims(user, claims)
    name = claims[0].statement[:60] if len(claims) == 1 else f"{len(claims)} claims"
    params = {"claims": ",".join(str(pk) for pk in ids)}
    return Selection("claims", name, sources, params, claims=claims)


def select_event(user: Any, event_id: str) -> Selection:
    """An event with the events inside it: their claims and those claims' sources."""
    from annotations.claims.access import get_event_for_user
    from annotations.claims.models import Claim

    event_id = str(event_id)
    if not (event_id.isascii() and event_id.isdigit() and len(event_id) <= 18):
        raise ExportRequestError("event", f"{event_id[:40]!r} is not an event id.")
    if int(event_id) == 0:
        raise ExportRequestError("event", "Event ids start at 1.")
    event = get_event_for_user(user, int(event_id))
    events = event_and_descendants(event)
    claims = list(
        Claim.objects.visible_to(user)
        .filter(event_links__event__in=events)
        .distinct()
        .order_by("pk")
    )
    sources = sources_of_claims(user, claims)
    params = {"event": str(event.pk)}
    return Selection(
        "event", event.name, sources, params, library=event.library, claims=claims, event=event
    )


def event_and_descendants(event: Any) -> list[int]:
    """Ids of the event and of every event inside it, level by level (no loops)."""
    from annotations.claims.models import Event

    ids, frontier = [event.pk], [event.pk]
    for _ in range(MAX_EVENT_DEPTH):
        children = Event.objects.filter(parent__in=frontier, library_id=event.library_id)
        frontier = [pk for pk in children.values_list("pk", flat=True) if pk not in ids]
        if not frontier:
            break
        ids += frontier
    return ids


def sources_of_claims(user: Any, claims: list[Any]) -> list[Source]:
    """The sources quoted as evidence for the claims (evidence the user may see)."""
    from annotations.claims.models import Evidence

    evidence = Evidence.objects.visible_to(user).filter(claim__in=claims)
    ids = evidence.values("annotation__text__source")
    return with_creators(visible_sources(user).filter(pk__in=ids))
