"""Search claims, annotations and source texts: one interface, two backends.

    result = search(user, parse_params(request.GET))

Everything is scoped first: the libraries the user may see (`Library.objects.visible_to`),
and private annotations only for their creator. Filters become either plain columns of
the index (library, kind, claim status, annotator, source date) or facet tokens (tags,
namespaces, events, source kind, type, language, creator, archive), which each backend
matches with its own index: PostgreSQL a GIN index on a jsonb array (`search.postgres`),
SQLite its FTS5 table (`search.sqlite`). The words typed go to the full-text index.

Ordering is by relevance (rank, id) or by date (date, id); pages are cut by keyset, so a
cursor names the last row seen and a page is the same however deep it is. Ranking must
read every row it ranks, so a frequent word is ranked within a bounded window: the
RANK_WINDOW most recently indexed matches are ranked, the rest follow newest first. The
window's lower bound travels in the cursor, so paging stays stable while rows are added.
Searches expected to match at most READ_ALL rows have no window: everything is ranked.

What a first page reads is bounded by the window, not by the number of matches: one
read of the window's ids, ranks and facet tokens gives the page, the facet counts and,
when it holds every match, the exact count; only the page's rows are read whole
(display text, snippets), and the tags, events and creators they and the facets name in
one statement more. PostgreSQL's GIN index can skip to the window: for words, a window
starts at an id block and is named by its blocks (`search.postgres.window`).

Where the database estimates (PostgreSQL's planner), a search expected to match more than
READ_ALL rows is counted from the estimate ("about 12,000"); without estimates (SQLite)
counts are exact up to COUNT_LIMIT ("more than 10,000"). Facets are counted over the
window (marked inexact when it does not hold every match).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import heapq
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from annotations.claims.models import Event
from annotations.models import Tag, tag_key
from core.text import Token, is_cjk, tokens
from search import index, reads
from search.backends import backend
from search.models import SearchEntryKind
from search.plan import Fragment, Plan
from search.query import Clause, SearchQuery, TextQuery
from search.text import stem
from sources.models import Library, Source, SourceKind
from sources.serializers import library_lookup

# 1,000 rows read per ranked first page: ~5–10 ms from cache on the benchmark machine.
RANK_WINDOW = 1_000
# Up to this many expected matches all are read (ranked, counted and faceted exactly): the
# full-text index scan costs more than reading that many rows, and a window would not
# save it, since the planner then filters the window's ids on the rows it reads anyway.
READ_ALL = 3_000
WIDENINGS = 3  # a window holding less than a page doubles its reach at most this often
COUNT_LIMIT = 10_000
EXPORT_LIMIT = 5_000
FACET_SIZE = 25
SNIPPET_CHARS = 280
EVIDENCE_SHOWN = 3
FUZZY_ALTERNATIVES = 6
CURSOR_SALT = "search.engine.cursor"
TABLE = "annotations_searchentry"
COLUMNS = (
    "e.id",
    "e.kind",
    "e.library_id",
    "e.source_id",
    "e.text_id",
    "e.annotation_id",
    "e.claim_id",
    "e.start",
    "e.creator_id",
    "e.status",
    "e.date_earliest",
    "e.date_latest",
    "e.title",
    "e.body",
    "e.note",
    "e.facets",
)


def require_libraries(user: Any, query: SearchQuery) -> None:
    """Http404 when the search names a library the user cannot see (or that is not)."""
    if not query.libraries:
        return
    visible = Library.objects.visible_to(user)
    for value in query.libraries:
        if not visible.filter(library_lookup(value, path="")).exists():
            raise Http404(f"No library {value!r}.")


def plan(user: Any, query: SearchQuery) -> Plan:
    """Scope and filters as SQL conditions on the index (alias `e`)."""
    if query.libraries:
        named = Q()
        for value in query.libraries:
            named |= library_lookup(value, path="")
        scope = {library.pk: library for library in Library.objects.visible_to(user).filter(named)}
    else:
        scope = reads.visible_libraries(user)
    result = Plan(query.text, scope, user.pk if user.is_authenticated else None)
    if not result.libraries:
        result.impossible = True
        return result
    _scope(result)
    for step in (_columns, _tags, _events, _source_filters):
        step(result, query)
    return result


def _scope(result: Plan) -> None:
    result.scope()
    if result.user_id is None:
        result.add("e.private = %s", False)
    else:
        result.add("(e.private = %s OR e.creator_id = %s)", False, result.user_id)


def _in(result: Plan, column: str, values: list | tuple) -> None:
    result.add(f"{column} IN ({', '.join(['%s'] * len(values))})", *values)


def _columns(result: Plan, query: SearchQuery) -> None:
    kinds = list(query.kinds)
    if query.statuses:
        # Only claims have a status (`search.index`), and the statuses asked for are claim
        # statuses (`query.claim_statuses`): the status alone names claims. Asking for the
        # kind besides would only cost: PostgreSQL's full-text scan would intersect every
        # claim's posting (5.4 ms instead of 3.6 for "stalin OR mao", disputed).
        if kinds and SearchEntryKind.CLAIM not in kinds:
            result.impossible = True
        _in(result, "e.status", query.statuses)
    elif kinds:
        _in(result, "e.kind", kinds)
    if query.annotators:
        users = get_user_model().objects.filter(username__in=query.annotators)
        ids = list(users.values_list("pk", flat=True))
        if not ids:
            result.impossible = True
            return
        _in(result, "e.creator_id", ids)
    if query.issued_from:
        result.add("e.date_latest >= %s", _date_param(query.issued_from))
    if query.issued_to:
        result.add("e.date_earliest <= %s", _date_param(query.issued_to))
    if query.issued_from or query.issued_to:
        result.add("e.date_earliest IS NOT NULL")


def _tags(result: Plan, query: SearchQuery) -> None:
    tags = Tag.objects.filter(library_id__in=result.library_ids)
    for name in query.tags_all:
        result.require(_tag_tokens(tags, name))
    if query.tags_any:
        result.require([t for name in query.tags_any for t in _tag_tokens(tags, name)])


def _tag_tokens(tags: Any, name: str) -> list[str]:
    """The tokens of a tag name in the scope: one per library that has it, or the token
    of a whole namespace for "person:*"."""
    if name.endswith("*") and ":" in name:
        namespace = name[:-1].rstrip().removesuffix(":").strip().casefold()
        return [index.namespace_token(namespace)] if namespace else []
    try:
        key = tag_key(name)
    except ValidationError:
        return []
    return [index.tag_token(pk) for pk in tags.filter(name_key=key).values_list("pk", flat=True)]


def _events(result: Plan, query: SearchQuery) -> None:
    from annotations.claims.events import descendant_ids

    events = Event.objects.filter(library_id__in=result.library_ids)
    if query.events:
        chosen = set()
        for event in events.filter(pk__in=query.events):
            chosen |= {event.pk} | descendant_ids(event)
        result.require([index.event_token(pk) for pk in chosen])
    if query.event_from or query.event_to:
        if query.event_from:
            events = events.filter(latest__gte=query.event_from)
        if query.event_to:
            events = events.filter(earliest__lte=query.event_to)
        ids = events.exclude(earliest__isnull=True).values_list("pk", flat=True)
        result.require([index.event_token(pk) for pk in ids])


def _source_filters(result: Plan, query: SearchQuery) -> None:
    if query.source_kind:
        result.require([index.kind_token(query.source_kind)])
    if query.types:
        result.require([index.type_token(t) for t in query.types])
    if query.creator:
        result.require(index.creator_tokens(query.creator))
    if query.archive:
        result.require([index.archive_token(query.archive)])
    if query.language:
        result.require([index.language_token(query.language)])
    if query.sources:
        result.require([index.source_token(pk) for pk in query.sources])


# --- results ----------------------------------------------------------------------------


@dataclass
class Hit:
    id: int
    kind: str
    library: Library
    url: str
    title: str
    snippet: SafeString
    note: SafeString
    source_id: int | None
    annotation_id: int | None
    claim_id: int | None
    start: int
    status: str
    date: str
    tags: list[Tag]
    events: list[Event]
    creator: str
    rank: float
    evidence: list[Quote] = field(default_factory=list)


@dataclass
class Quote:
    """A claim's evidence, shown under it: what the sources say, and how."""

    stance: str
    exact: SafeString
    source_id: int
    source_title: str
    source_kind: str
    annotation_id: int


@dataclass
class FacetCount:
    value: str
    label: str
    count: int


@dataclass
class SearchResult:
    query: SearchQuery
    hits: list[Hit]
    next_cursor: str = ""
    total: int = 0
    total_exact: bool = True
    total_estimated: bool = False  # the planner's estimate: "about N"
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    facets_exact: bool = True
    suggestion: str = ""
    sort: str = "relevance"

    @property
    def suggestion_text(self) -> str:
        return parse_qs(self.suggestion).get("q", [""])[0]

    @property
    def total_label(self) -> str:
        if self.total_exact:
            return f"{self.total:,}"
        return f"about {self.total:,}" if self.total_estimated else f"more than {self.total:,}"


def search(user: Any, query: SearchQuery) -> SearchResult:
    """One page of results, with counts and facets on the first page. ValidationError on
    `cursor` for a cursor that was tampered with or belongs to another search."""
    state = read_cursor(query)
    engine = backend()
    found = plan(user, query)
    found.text = expand_fuzzy(engine, found)
    sort = (
        query.effective_sort
        if found.text.has_positive
        else query.effective_sort.replace("relevance", "-date")
    )
    result = SearchResult(query=query, hits=[], sort=sort)
    if found.impossible:
        return result
    fragment = engine.fragment(found)
    counted = None
    if state.get("t") is not None:  # a later page: counts and facets came with the first
        rows, after = page(found, fragment, sort, state, query.limit)
        result.total, result.total_exact = state["n"], state["x"]
        result.total_estimated = state.get("e", False)
    else:
        rows, after, counted = first_page(result, engine, found, fragment, state)
    names = Names.read(found, rows, counted[0] if counted else Counter())
    if counted is not None:
        result.facets = _facets(*counted, names)
    result.hits = hits(rows, found, user, names)
    if after is not None:
        result.next_cursor = write_cursor(query, {**state, **after})
    return result


def first_page(
    result: SearchResult, engine: ModuleType, found: Plan, fragment: Fragment, state: dict
) -> tuple[list[tuple], dict | None, tuple[Counter, Counter]]:
    """The first page, its count and facet tokens, from one read of the ranking window
    (the matches' ids, ranks and facet tokens, never their text): one full-text index scan
    for all three instead of one each. `state` receives what later pages need."""
    estimated = engine.estimate(*_sql(found, fragment, "e.id", estimating=True))
    state["t"] = window_start(found, fragment, estimated)
    ranked = result.sort == "relevance"
    state["t"], window = sized_window(found, fragment, state["t"], estimated, ranked=ranked)
    for _ in range(WIDENINGS if ranked else 0):
        if window is None or not state["t"] or len(window) > result.query.limit:
            break
        state["t"] = _widened(found, state["t"])
        window = read_window(found, fragment, state["t"], ranked=ranked)
    if ranked and window is not None:
        rows, after = _window_page(found, fragment, state, window, result.query.limit)
    else:
        rows, after = page(found, fragment, result.sort, state, result.query.limit)
    total = count(found, fragment, estimated, window if not state["t"] else None)
    result.total, result.total_exact, result.total_estimated = total
    state["n"], state["x"], state["e"] = total
    result.facets_exact = not state["t"]
    if window is None:
        counted = facet_tokens(found, fragment, state["t"])
    else:
        counted = _window_tokens(window)
    if not result.total and found.text.has_positive:
        result.suggestion = suggest(engine, found, result.query)
    return rows, after, counted


# --- SQL shared by both backends --------------------------------------------------------


def _sql(
    found: Plan,
    fragment: Fragment,
    select: str,
    extra: list[str] | None = None,
    extra_params: list | None = None,
    *,
    estimating: bool = False,
) -> tuple[str, list[Any]]:
    scoped = fragment.index_where and not estimating
    scope = found.where_checked_on_rows() if scoped else found.where
    where = scope + fragment.where + (extra or []) + (fragment.index_where if scoped else [])
    sql = f"SELECT {select} FROM {TABLE} e {fragment.joins} WHERE {' AND '.join(where)}"
    return sql, fragment.join_params + found.params + fragment.params + (extra_params or [])


def _fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def window_start(found: Plan, fragment: Fragment, estimated: int | None) -> int:
    """The lowest id of the ranking window: about the RANK_WINDOW newest matches; 0 when
    all matches fit. A backend that can estimate (PostgreSQL's planner) places it from
    the estimate instead of reading the matches: only rows in the window are then read."""
    if estimated is None:
        sql, params = _sql(found, fragment, "e.id")
        rows = _fetch(f"{sql} ORDER BY e.id DESC LIMIT 1 OFFSET %s", [*params, RANK_WINDOW - 1])
        return rows[0][0] if rows else 0
    if estimated <= READ_ALL:
        return 0
    low, high = _id_range(found)
    threshold = int(high - (high - low) * RANK_WINDOW / estimated)
    return backend().window_floor(threshold, high, found)


def _id_range(found: Plan) -> tuple[int, int]:
    """The index's lowest and highest id, read once per search (windows are placed,
    widened and named by blocks from them)."""
    if found.id_range is None:
        low, high = _fetch(f"SELECT min(id), max(id) FROM {TABLE}", [])[0]
        found.id_range = (low or 0, high or 0)
    return found.id_range


def sized_window(
    found: Plan, fragment: Fragment, threshold: int, estimated: int | None, *, ranked: bool
) -> tuple[int, list[tuple] | None]:
    """Where the window starts and what it holds (`read_window`). The estimate places a
    window as if matches were spread evenly over the ids, and for words the planner's
    estimate is often far off besides: a script's or a phrase's matches cluster in some
    collections (`毛泽东`'s window held 4,517 rows for 1,000 meant). So a word window
    reaching further back than the newest blocks is read in two parts: those blocks first
    (the probe), then the older part, placed from how many matches the probe held,
    reaching at most twice as far back as the estimate placed it."""
    high = _id_range(found)[1] if threshold else 0
    probe = backend().probe_floor(found, high) if threshold and estimated is not None else None
    if probe is None or threshold >= probe:
        return threshold, read_window(found, fragment, threshold, ranked=ranked)
    newest = read_window(found, fragment, probe, ranked=ranked)
    if newest is None or len(newest) >= RANK_WINDOW:
        return probe, newest
    # None in the probe: rarer there than the estimate says, so as far back as allowed.
    reach = (high - probe + 1) * RANK_WINDOW // len(newest) if newest else high
    start = max(high - reach, 2 * threshold - high, 0)
    start = min(backend().window_floor(start, high, found), probe)
    if start == probe:
        return probe, newest
    older = read_window(found, fragment, start, ranked=ranked, below=probe)
    if older is None or len(newest) + len(older) > COUNT_LIMIT:
        return start, None
    return start, newest + older


def _window(found: Plan, threshold: int, below: int | None = None) -> tuple[list[str], list[Any]]:
    """The condition for rows in the window (from `threshold` on, below `below` if given;
    none for 0 and no `below`), as the backend's index can skip to them."""
    if not threshold and below is None:
        return [], []
    sql, params = backend().window(threshold, found, _id_range(found)[1], below)
    return [sql], params


def _widened(found: Plan, threshold: int) -> int:
    """A window reaching twice as far back. The estimate places a window as if matches
    were spread evenly over the ids; where they cluster in older rows (a collection
    imported years ago) the window can hold less than a page."""
    high = _id_range(found)[1]
    return backend().window_floor(max(0, 2 * threshold - high), high, found)


def count(
    found: Plan, fragment: Fragment, estimated: int | None, window: list[tuple] | None = None
) -> tuple[int, bool, bool]:
    """(matches, exact?, estimated?). Counting reads every match, so it is done only where
    it costs no more than ranking: when all matches were read for ranking anyway
    (`window`, given when it holds every match), or without an estimate up to COUNT_LIMIT
    ("more than" beyond). Otherwise the planner's estimate stands: "about N"."""
    if window is not None:
        return len(window), True, False
    if estimated is not None and estimated > READ_ALL:
        return estimated, False, True
    sql, params = _sql(found, fragment, "1")
    rows = _fetch(f"SELECT count(*) FROM ({sql} LIMIT %s) counted", [*params, COUNT_LIMIT + 1])
    total = rows[0][0]
    return min(total, COUNT_LIMIT), total <= COUNT_LIMIT, False


def read_window(
    found: Plan, fragment: Fragment, threshold: int, *, ranked: bool, below: int | None = None
) -> list[tuple] | None:
    """(id, rank, facets, year) of every match in the window (or of its part below
    `below`); None when it holds more than COUNT_LIMIT (a badly wrong estimate): then the
    page is ranked in SQL instead. The limit is above any expected row count, so it never
    changes the plan."""
    extra, extra_params = _window(found, threshold, below)
    rank, rank_params = (fragment.rank, fragment.rank_params) if ranked else ("0.0", [])
    # The facet tokens as the stored JSON's text: they are only counted (`_window_tokens`),
    # and decoding a thousand arrays cost more than the statement.
    select = f"e.id, {rank} AS rank, {backend().FACETS_TEXT}, e.year"
    sql, params = _sql(found, fragment, select, extra, extra_params)
    rows = _fetch(f"{sql} LIMIT %s", [*rank_params, *params, COUNT_LIMIT + 1])
    return rows if len(rows) <= COUNT_LIMIT else None


def _window_page(
    found: Plan, fragment: Fragment, state: dict, window: list[tuple], limit: int
) -> tuple[list[tuple], dict | None]:
    """The first relevance page from the window read: the best `limit` are chosen here
    and only their rows are read whole; past the window, older matches follow."""
    best = heapq.nlargest(limit + 1, window, key=lambda row: (float(row[1]), row[0]))
    rows = _rows_by_id([(pk, rank) for pk, rank, *_ in best])
    if len(rows) > limit:
        return rows[:limit], {"p": "ranked", "r": rows[limit - 1][-1], "i": rows[limit - 1][0]}
    if state["t"]:
        rows += _rest_page(found, fragment, state["t"], None, limit - len(rows) + 1)
    if len(rows) > limit:
        return rows[:limit], {"p": "rest", "i": rows[limit - 1][0]}
    return rows, None


def _rows_by_id(ranked: list[tuple[int, float]]) -> list[tuple]:
    """Whole rows (COLUMNS and rank) of `ranked` ids, in that order."""
    if not ranked:
        return []
    marks = ", ".join(["%s"] * len(ranked))
    found = {
        row[0]: row
        for row in _fetch(
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} e WHERE e.id IN ({marks})",
            [pk for pk, _ in ranked],
        )
    }
    return [(*found[pk], rank) for pk, rank in ranked if pk in found]


def page(
    found: Plan, fragment: Fragment, sort: str, state: dict, limit: int
) -> tuple[list[tuple], dict | None]:
    """Rows of one page and the cursor state after it (None on the last page)."""
    if sort != "relevance":
        rows = _dated_page(found, fragment, sort, state, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        return rows, ({"d": _day(last[10]), "i": last[0]} if more and last else None)
    rows = [] if state.get("p") == "rest" else _ranked_page(found, fragment, state, limit + 1)
    if len(rows) > limit:
        return rows[:limit], {"p": "ranked", "r": rows[limit - 1][-1], "i": rows[limit - 1][0]}
    threshold = state["t"]
    if threshold:  # the window is exhausted: the older matches follow, newest first
        after = state.get("i") if state.get("p") == "rest" else None
        rest = _rest_page(found, fragment, threshold, after, limit - len(rows) + 1)
        rows += rest
    if len(rows) > limit:
        return rows[:limit], {"p": "rest", "i": rows[limit - 1][0]}
    return rows, None


def _ranked_page(found: Plan, fragment: Fragment, state: dict, n: int) -> list[tuple]:
    extra, extra_params = _window(found, state["t"])
    if state.get("p") == "ranked":
        extra.append(f"({fragment.rank} < %s OR ({fragment.rank} = %s AND e.id < %s))")
        extra_params += [
            *fragment.rank_params,
            state["r"],
            *fragment.rank_params,
            state["r"],
            state["i"],
        ]
    # Rank ids first, then read the page's rows whole: the window's display text is
    # never read, sorted or carried, only that of the `n` rows shown.
    sql, params = _sql(found, fragment, f"e.id, {fragment.rank} AS rank", extra, extra_params)
    ranked = f"{sql} ORDER BY rank DESC, e.id DESC LIMIT %s"
    return _fetch(
        f"SELECT {', '.join(COLUMNS)}, r.rank FROM ({ranked}) r JOIN {TABLE} e ON e.id = r.id"
        " ORDER BY r.rank DESC, e.id DESC",
        [*fragment.rank_params, *params, n],
    )


def _rest_page(
    found: Plan, fragment: Fragment, threshold: int, after: int | None, n: int
) -> list[tuple]:
    extra = ["e.id < %s"]
    extra_params = [after if after is not None else threshold]
    sql, params = _sql(found, fragment, f"{', '.join(COLUMNS)}, 0.0 AS rank", extra, extra_params)
    return _fetch(f"{sql} ORDER BY e.id DESC LIMIT %s", [*params, n])


def _dated_page(found: Plan, fragment: Fragment, sort: str, state: dict, n: int) -> list[tuple]:
    ascending = sort == "date"
    op, direction = (">", "ASC") if ascending else ("<", "DESC")
    extra, extra_params = [], []
    if "i" in state:
        if state["d"] is None:
            extra.append(f"(e.date_earliest IS NULL AND e.id {op} %s)")
            extra_params = [state["i"]]
        else:
            extra.append(
                f"(e.date_earliest {op} %s OR (e.date_earliest = %s AND e.id {op} %s)"
                " OR e.date_earliest IS NULL)"
            )
            day = _date_param(state["d"])
            extra_params = [day, day, state["i"]]
    sql, params = _sql(found, fragment, f"{', '.join(COLUMNS)}, 0.0 AS rank", extra, extra_params)
    order = f"ORDER BY e.date_earliest {direction} NULLS LAST, e.id {direction}"
    return _fetch(f"{sql} {order} LIMIT %s", [*params, n])


def _date_param(value: Any) -> Any:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return connection.ops.adapt_datefield_value(value)


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


# --- facets -----------------------------------------------------------------------------

# The facet tokens counted: tags, events, source kinds (`index.token`: a letter and
# digits or hex, never a quote, so a stored array's JSON text is read by this alone).
FACET_TOKEN = re.compile(r'"([tek][^"]*)"')


def facet_tokens(found: Plan, fragment: Fragment, threshold: int) -> tuple[Counter, Counter]:
    """Facet tokens and years counted in SQL among the matches (among the window's when
    there are more), for a window too large to read."""
    sql, params = _sql(found, fragment, "e.facets, e.year", *_window(found, threshold))
    tokens_, years = Counter(), Counter()
    for what, value, n in _fetch(backend().facet_counts_sql(sql), params):
        if what == "f":
            tokens_[value] = n
        else:
            years[int(value)] = n
    return tokens_, years


def _window_tokens(window: list[tuple]) -> tuple[Counter, Counter]:
    """Facet tokens and years counted over the window read: this runs for every row of the
    window, so the stored arrays are matched as text, several times faster than parsing."""
    arrays = [raw if isinstance(raw, str) else json.dumps(raw) for _, _, raw, _ in window]
    tokens_ = Counter(FACET_TOKEN.findall("".join(arrays)))
    years = Counter([row[3] for row in window])
    years.pop(None, None)
    return tokens_, years


def _facets(tokens_: Counter, years: Counter, names: Names) -> dict[str, list[FacetCount]]:
    tags, events = names.tags, names.events
    return {
        "tags": [FacetCount(tags[t].name, tags[t].name, n) for t, n in names.top["t"] if t in tags],
        "events": [FacetCount(str(e), str(events[e]), n) for e, n in names.top["e"] if e in events],
        "source_kinds": _kind_facets(tokens_),
        "years": [FacetCount(str(y), str(y), n) for y, n in sorted(years.items()) if y],
    }


def _top(tokens_: Counter) -> dict[str, list[tuple[int, int]]]:
    """The FACET_SIZE most frequent tags ("t") and events ("e") as (id, count), most
    frequent first, then by id; in one pass over the tokens counted."""
    pairs: dict[str, list[tuple[int, int]]] = {"t": [], "e": []}
    for token, n in tokens_.items():
        if (kind := pairs.get(token[0])) is not None and token[1:].isdigit():
            kind.append((-n, int(token[1:])))
    return {
        prefix: [(pk, -n) for n, pk in heapq.nsmallest(FACET_SIZE, found)]
        for prefix, found in pairs.items()
    }


def _kind_facets(tokens_: Counter) -> list[FacetCount]:
    labels = dict(SourceKind.choices)
    return [
        FacetCount(kind, labels[kind], tokens_[token])
        for token, kind in index.KIND_BY_TOKEN.items()
        if tokens_[token]
    ]


@dataclass
class Names:
    """The tags, events and creators that a page's hits and its facets name, read in one
    statement (tags and events only within the scope, `search.reads.names`): the ORM would
    take longer to build three queries than the database takes to answer them. Tags and
    events are model instances holding only what results show of them; `top` holds the
    most frequent tags and events of the facets, (id, count)."""

    tags: dict[int, Tag] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    top: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: {"t": [], "e": []})

    @classmethod
    def read(cls, found: Plan, rows: list[tuple], tokens_: Counter) -> Names:
        names = cls(top=_top(tokens_))
        wanted = {
            "t": _ids_in(rows, "t") | {pk for pk, _ in names.top["t"]},
            "e": _ids_in(rows, "e") | {pk for pk, _ in names.top["e"]},
            "u": {row[8] for row in rows if row[8]},
        }
        for what, pk, name, extra in reads.names(wanted, found.library_ids):
            if what == "u":
                names.users[pk] = name
            else:  # `from_db` takes the fields in the model's order: id, name, then extra
                model, fields = reads.NAMED[what]
                into = names.tags if what == "t" else names.events
                into[pk] = model.from_db(connection.alias, fields, [pk, name, extra])
        return names


# --- hits -------------------------------------------------------------------------------


def hits(rows: list[tuple], found: Plan, user: Any, names: Names) -> list[Hit]:
    if not rows:
        return []
    highlighter = Highlighter(found.text)
    shown = [_hit(row, highlighter, found.libraries, names) for row in rows]
    quotes = evidence_of([hit.claim_id for hit in shown if hit.claim_id], found, highlighter)
    for hit in shown:
        hit.evidence = quotes.get(hit.claim_id, [])
    return shown


def evidence_of(
    claim_ids: list[int], found: Plan, highlighter: Highlighter
) -> dict[int, list[Quote]]:
    """Up to EVIDENCE_SHOWN quotes per claim, primary sources first (one statement, in the
    scope already read: `search.reads.evidence_rows`)."""
    rows = reads.evidence_rows(claim_ids, found.library_ids, found.user_id)
    quoted: dict[int, list[Quote]] = {}
    for claim_id, stance, exact, source_id, title, kind, annotation_id in rows:
        quotes = quoted.setdefault(claim_id, [])
        if len(quotes) < EVIDENCE_SHOWN:
            snippet = highlighter.snippet(exact, size=200)
            quotes.append(Quote(stance, snippet, source_id, title, kind, annotation_id))
    return quoted


def _ids_in(rows: list[tuple], prefix: str) -> set[int]:
    return {
        int(t[1:])
        for row in rows
        for t in _facet_list(row[15])
        if t[0] == prefix and t[1:].isdigit()
    }


def _facet_list(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _hit(row: tuple, highlighter: Highlighter, libraries: dict, names: Names) -> Hit:
    (
        pk,
        kind,
        library_id,
        source_id,
        text_id,
        annotation_id,
        claim_id,
        start,
        creator_id,
        status,
        earliest,
        latest,
        title,
        body,
        note,
        raw_facets,
        rank,
    ) = row
    facet_list = _facet_list(raw_facets)
    tags, events = names.tags, names.events
    return Hit(
        id=pk,
        kind=kind,
        library=libraries[library_id],
        url=hit_url(kind, source_id, annotation_id, claim_id, start),
        title=title,
        snippet=highlighter.snippet(body),
        note=highlighter.snippet(note),
        source_id=source_id,
        annotation_id=annotation_id,
        claim_id=claim_id,
        start=start,
        status=status,
        date=_date_label(earliest, latest),
        tags=sorted(
            (tags[int(t[1:])] for t in facet_list if t[0] == "t" and int(t[1:]) in tags),
            key=lambda tag: tag.name_key,
        ),
        events=[events[int(t[1:])] for t in facet_list if t[0] == "e" and int(t[1:]) in events],
        creator=names.users.get(creator_id, ""),
        rank=float(rank or 0),
    )


def hit_url(
    kind: str, source_id: int | None, annotation_id: int | None, claim_id: int | None, start: int
) -> str:
    if kind == SearchEntryKind.CLAIM:
        return _address("claim-detail", claim_id)
    url = _address("source-detail", source_id)
    if kind == SearchEntryKind.ANNOTATION:
        return f"{url}?annotation={annotation_id}#annotation-{annotation_id}"
    if kind == SearchEntryKind.PASSAGE:
        return f"{url}#offset-{start}"
    return url


def _address(name: str, pk: int | None) -> str:
    """`reverse(name, args=[pk])` for a route whose last segment is the id: reversed once
    per process and filled in (twenty reversals were a tenth of a page's Python)."""
    prefix, suffix = _address_parts(name, get_script_prefix())
    return f"{prefix}{pk}{suffix}"


@functools.lru_cache(maxsize=16)
def _address_parts(name: str, script_prefix: str) -> tuple[str, str]:
    probe = reverse(name, args=[987654321])
    head, tail = probe.rsplit("987654321", 1)
    return head, tail


def _date_label(earliest: Any, latest: Any) -> str:
    if not earliest:
        return ""
    earliest, latest = _day(earliest), _day(latest)
    if latest and latest != earliest:
        if earliest[:4] == latest[:4] and earliest.endswith("01-01") and latest.endswith("12-31"):
            return earliest[:4]
        return f"{earliest} – {latest}"
    return earliest


# --- highlighting -----------------------------------------------------------------------


class Highlighter:
    """Marks the words a query matched in a text and cuts a snippet around the first;
    everything is escaped except the <mark> elements it adds."""

    def __init__(self, text: TextQuery) -> None:
        clauses = text.positive_clauses()
        self.words = {c.words[0] for c in clauses if not c.is_phrase and not c.prefix}
        self.stems = {stem(w) for w in self.words}
        self.prefixes = tuple(c.words[0] for c in clauses if c.prefix)
        self.phrases = [c.words for c in clauses if c.is_phrase]
        self.cjk = [_cjk_string(c) for c in clauses if _cjk_string(c)]
        self.empty = not (self.words or self.prefixes or self.phrases or self.cjk)

    def spans(self, text: str, stop: int | None = None, start: int = 0) -> list[tuple[int, int]]:
        """Where the query matched, merged; with `stop` (and no phrase in the query), only
        the words from `start` (where a word begins) to `stop` are looked at."""
        if self.empty:  # browsing: nothing to mark, no word to read
            return []
        found: list[tuple[int, int]] = []
        whole = stop is None or bool(self.phrases)
        words = list(tokens(text)) if whole else _until(text, start, stop)
        for i, token in enumerate(words):
            if self._matches(token.folded):
                found.append((token.start, token.end))
            for phrase in self.phrases:
                if token.folded != phrase[0]:  # most words: no slice, no tuple
                    continue
                if tuple(w.folded for w in words[i : i + len(phrase)]) == phrase:
                    found.append((token.start, words[i + len(phrase) - 1].end))
        found += self._cjk_spans(text)
        return _union(found)

    def _matches(self, word: str) -> bool:
        if word in self.words or word.startswith(self.prefixes or ("\0",)):
            return True
        return bool(self.stems) and stem(word) in self.stems

    def _cjk_spans(self, text: str) -> list[tuple[int, int]]:
        found = []
        for needle in self.cjk:
            start = text.find(needle)
            while start >= 0:
                found.append((start, start + len(needle)))
                start = text.find(needle, start + 1)
        return found

    def _first(self, text: str) -> int | None:
        """Where the first match starts, reading the text no further than that."""
        if self.empty:
            return None
        if self.phrases:
            spans = self.spans(text)
            return spans[0][0] if spans else None
        starts = [p for p in (text.find(needle) for needle in self.cjk) if p >= 0]
        for token in tokens(text):
            if starts and token.start >= min(starts):
                break
            if self._matches(token.folded):
                starts.append(token.start)
                break
        return min(starts, default=None)

    def snippet(self, text: str, size: int = SNIPPET_CHARS) -> SafeString:
        """About `size` characters around the first match, the matches marked. A long
        text (a passage) is read up to its first match, then marked from the snippet's
        start to its end: words past it are never tokenised or stemmed."""
        if not text:
            return mark_safe("")
        first = self._first(text) if len(text) > size else None
        start = 0
        if first is not None:
            start = max(0, first - size // 3)
            start = text.rfind(" ", 0, start) + 1 if start else 0
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)
            end = cut if cut > 0 else end
        return _marked(text, start, end, self.spans(text, stop=end, start=start))


def _until(text: str, start: int, stop: int) -> list[Token]:
    """The words of `text` from `start` that start before `stop`."""
    found = []
    for token in tokens(text, start):
        if token.start >= stop:
            break
        found.append(token)
    return found


def _cjk_string(clause: Clause) -> str:
    """The CJK characters a clause stands for ("毛泽 泽东 东" → "毛泽东")."""
    if not all(is_cjk(c) for c in clause.words[0]):
        return ""
    if not clause.is_phrase:
        return clause.words[0]
    return clause.words[0] + "".join(w[-1] for w in clause.words[1:] if len(w) == 2)


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> SafeString:
    pieces = ["…" if start else ""]
    position = start
    for low, high in spans:
        low, high = max(low, start), min(high, end)
        if low >= high:
            continue
        pieces += [escape(text[position:low]), "<mark>", escape(text[low:high]), "</mark>"]
        position = high
    pieces += [escape(text[position:end]), "…" if end < len(text) else ""]
    return mark_safe("".join(pieces))  # every piece of text above went through escape()


# --- fuzzy words and suggestions --------------------------------------------------------


def expand_fuzzy(engine: ModuleType, found: Plan) -> TextQuery:
    """word~ becomes word OR the most similar words of the libraries' vocabularies."""
    text = found.text
    if not any(c.fuzzy for c in text.positive_clauses()) or found.impossible:
        return text
    groups = []
    for group in text.groups:
        clauses: list[Clause] = []
        for clause in group:
            clauses.append(replace(clause, fuzzy=False))
            if clause.fuzzy:
                similar = engine.similar_words(
                    found.library_ids, clause.words[0], FUZZY_ALTERNATIVES
                )
                clauses += [Clause((word,)) for word in similar if word != clause.words[0]]
        groups.append(tuple(clauses))
    return replace(text, groups=tuple(groups))


def suggest(engine: ModuleType, found: Plan, query: SearchQuery) -> str:
    """A query string with misspelt words replaced by the nearest known words, or ""."""
    changed = False
    words = []
    for piece in query.text.raw.split():
        folded = [t.folded for t in tokens(piece)]
        if len(folded) == 1 and not piece.startswith("-") and not is_cjk(folded[0][0]):
            similar = engine.similar_words(found.library_ids, folded[0], 1)
            if similar and similar[0] != folded[0]:
                words.append(similar[0])
                changed = True
                continue
        words.append(piece)
    return query.querystring(q=[" ".join(words)]) if changed else ""


# --- cursors ----------------------------------------------------------------------------


def _fingerprint(query: SearchQuery) -> str:
    return hashlib.blake2b(query.fingerprint().encode(), digest_size=8).hexdigest()


def write_cursor(query: SearchQuery, state: dict) -> str:
    return signing.dumps({**state, "q": _fingerprint(query)}, salt=CURSOR_SALT, compress=True)


def read_cursor(query: SearchQuery) -> dict:
    """The state a cursor carries ({} on the first page). It is signed, so a client cannot
    forge a window or a position; and bound to its search."""
    if not query.cursor:
        return {}
    try:
        state = signing.loads(query.cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise ValidationError(
            {"cursor": "This cursor is not valid; start from the first page."}
        ) from None
    if not isinstance(state, dict) or state.pop("q", None) != _fingerprint(query):
        raise ValidationError({"cursor": "This cursor belongs to another search."})
    return state


# --- handing a result set to citation export --------------------------------------------


def result_source_ids(user: Any, query: SearchQuery) -> list[int]:
    """The sources behind every result (a claim's are those of its evidence), in result
    order, at most EXPORT_LIMIT: what citation export is handed."""
    found = plan(user, replace(query, cursor=""))
    if found.impossible:
        return []
    fragment = backend().fragment(found)
    sql, params = _sql(found, fragment, "e.source_id, e.facets")
    ids: dict[int, None] = {}
    for source_id, raw_facets in _fetch(
        f"{sql} ORDER BY e.date_earliest, e.id LIMIT %s", [*params, EXPORT_LIMIT * 4]
    ):
        for pk in [source_id] if source_id else _source_ids(raw_facets):
            ids.setdefault(pk)
    visible = set(
        Source.objects.visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True)
    )
    return [pk for pk in ids if pk in visible][:EXPORT_LIMIT]


def _source_ids(raw_facets: Any) -> list[int]:
    return [int(t[1:]) for t in _facet_list(raw_facets) if t[0] == "s" and t[1:].isdigit()]
