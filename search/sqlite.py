"""SQLite FTS5 for `search.engine`.

The migration creates an external-content FTS5 table over the index's `terms`, `stems`
and `facets`, kept equal to it by triggers (so every write path, ORM or raw SQL, updates
it in the same transaction). The words arrive folded and with CJK bigrams from Python,
so the plain `unicode61` tokenizer only splits on spaces; Snowball stems come from
Python too (`search.text.stems`), since FTS5 has no Russian stemmer.

FTS5's own `bm25()` depends on the whole table (document counts, average length), so a
row's rank would change whenever any row is added and cursors would skip or repeat rows.
Ranks come instead from `marginalia_rank()`, a deterministic Python function of the row
and the query (how often each clause occurs), registered on the connection.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.db import connection
from rapidfuzz import fuzz

from search.plan import Fragment, Plan
from search.query import Clause, TextQuery
from search.text import stem

FTS = "annotations_searchentry_fts"  # created by migration annotations 0003
FUZZY_SCORE = 70  # rapidfuzz ratio, 0–100


# --- the text query as an FTS5 expression -----------------------------------------------


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _clause(clause: Clause) -> str:
    if clause.is_phrase:
        return f"terms : {_quoted(' '.join(clause.words))}"
    word = clause.words[0]
    if clause.prefix:
        return f"terms : {_quoted(word)} *"
    stemmed = stem(word)
    either = f"{{terms stems}} : {_quoted(word)}"
    return either if stemmed == word else f"({either} OR {{terms stems}} : {_quoted(stemmed)})"


def _any(clauses: tuple[Clause, ...] | list[Clause]) -> str:
    return "(" + " OR ".join(_clause(clause) for clause in clauses) + ")"


def _facet_match(tokens: list[str]) -> str:
    return "facets : (" + " OR ".join(_quoted(token) for token in tokens) + ")"


def match(text: TextQuery, facets: list[list[str]]) -> tuple[str, str]:
    """(what rows must match, what they must not) as FTS5 expressions, "" for nothing."""
    positive = [_any(group) for group in text.groups] + [_facet_match(t) for t in facets]
    negative = _any(text.excluded) if text.excluded else ""
    return " AND ".join(positive), negative


def fragment(found: Plan) -> Fragment:
    register()
    result = Fragment()
    positive, negative = match(found.text, found.facets)
    if positive and negative:
        positive, negative = f"({positive}) NOT {negative}", ""
    select = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s"
    if positive:
        result.where.append(f"e.id IN ({select})")
        result.params.append(positive)
    if negative:
        result.where.append(f"e.id NOT IN ({select})")
        result.params.append(negative)
    if found.text.has_positive:
        result.rank = "marginalia_rank(e.terms, e.stems, %s)"
        result.rank_params = [rank_spec(found.text)]
    return result


def window_floor(threshold: int, newest: int, found: Plan) -> int:
    """Where a window starts, as placed: SQLite has no id blocks to round it to."""
    return threshold


def window(
    threshold: int, found: Plan, newest: int, below: int | None = None
) -> tuple[str, list[Any]]:
    """Rows from `threshold` on (and below `below`): FTS5 hands its matches over as ids
    already."""
    if below is None:
        return "e.id >= %s", [threshold]
    return "e.id >= %s AND e.id < %s", [threshold, below]


def probe_floor(found: Plan, newest: int) -> None:
    """No probe: without a planner's estimate, the window is placed by reading its ids."""
    return None


# --- ranking ----------------------------------------------------------------------------


def rank_spec(text: TextQuery) -> str:
    """The positive clauses, as `marginalia_rank` reads them."""
    spec = []
    for clause in text.positive_clauses():
        if clause.is_phrase:
            spec.append(["phrase", " ".join(clause.words)])
        elif clause.prefix:
            spec.append(["prefix", clause.words[0]])
        else:
            spec.append(["word", clause.words[0], stem(clause.words[0])])
    return json.dumps(spec, ensure_ascii=False)


@functools.lru_cache(maxsize=256)
def _spec(raw: str) -> list[list[str]]:
    return json.loads(raw)


def rank(terms: str | None, stems: str | None, raw_spec: str) -> float:
    """Σ over clauses of n / (n + 1), n = occurrences: more and more varied matches rank
    higher, with diminishing returns, independent of every other row."""
    words = f" {terms or ''} "
    stemmed = f" {stems or ''} "
    score = 0.0
    for kind, value, *rest in _spec(raw_spec):
        if kind == "prefix":
            n = words.count(f" {value}")
        elif kind == "phrase":
            n = words.count(f" {value} ")
        else:
            stemmed_value = rest[0]
            n = words.count(f" {value} ") + stemmed.count(f" {stemmed_value} ")
            if stemmed_value != value:
                n += words.count(f" {stemmed_value} ")
        score += n / (n + 1)
    return score


def register() -> None:
    """Make `marginalia_rank()` available on this connection (cheap to repeat)."""
    connection.ensure_connection()
    connection.connection.create_function("marginalia_rank", 3, rank, deterministic=True)


FACETS_TEXT = "e.facets"  # the facet tokens, stored as text already: counted, never decoded


# --- facets, vocabulary, maintenance ----------------------------------------------------


def facet_counts_sql(sql: str) -> str:
    """The statement counting facet tokens ('f', token, n) and years ('y', year, n) among
    the rows `sql` selects (`e.facets, e.year`)."""
    return f"""
        WITH matched AS MATERIALIZED ({sql})
        SELECT 'f', token.value, count(*) FROM matched, json_each(matched.facets) AS token
         WHERE substr(token.value, 1, 1) IN ('t', 'e', 'k') GROUP BY token.value
        UNION ALL
        SELECT 'y', year, count(*) FROM matched WHERE year IS NOT NULL GROUP BY year"""


def entries_with_token(token: str) -> list[tuple[int | None, int | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT annotation_id, claim_id FROM annotations_searchentry
                 WHERE id IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)""",
            [_facet_match([token])],
        )
        return cursor.fetchall()


def similar_words(library_ids: list[int], word: str, limit: int) -> list[str]:
    """Words of the libraries' vocabulary that start alike and are spelt nearly the same
    (rapidfuzz ratio): SQLite has no trigram index, the vocabulary is small enough."""
    if not library_ids or not word:
        return []
    marks = ", ".join(["%s"] * len(library_ids))
    sql = f"""SELECT DISTINCT word FROM annotations_searchword
               WHERE library_id IN ({marks}) AND word >= %s AND word < %s
                 AND length(word) BETWEEN %s AND %s"""
    params = [*library_ids, word[0], word[0] + "\U0010ffff", len(word) - 2, len(word) + 2]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        candidates = [row[0] for row in cursor.fetchall()]
    scored = [(fuzz.ratio(word, c), c) for c in candidates]
    best = sorted((item for item in scored if item[0] >= FUZZY_SCORE), key=lambda i: (-i[0], i[1]))
    return [c for _, c in best[:limit]]


def estimate(sql: str, params: list[Any]) -> None:
    """SQLite has no row estimates: the search counts (up to its limit) instead."""
    return None


def optimize() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('optimize')")
