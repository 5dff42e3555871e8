"""PostgreSQL full text for `search.engine`.

The migration adds to the index table a generated column
`document = to_tsvector('simple', terms) || to_tsvector('russian', terms)`: the `simple`
half keeps every word as written (phrases, prefixes, exact names), the `russian` half
stems, sending ASCII words to the English Snowball stemmer and Cyrillic ones to the
Russian (that is what PostgreSQL's `russian` configuration does), so "treaties" finds
"treaty" and "Сталина" finds "Сталин" whatever the language of the row. A GIN index holds
the document's lexemes keyed by library ("7:treati", with each row's kind, claim status and
id block; migration search 0004), so that a search reads only the postings of the libraries
in scope; another the jsonb array of facet tokens; `pg_trgm` indexes the vocabulary for
fuzzy words; a partial btree on claims' status answers a status filter without words.
`terms` is folded in Python already (case, accents, CJK bigrams).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection

from search.plan import Fragment, Plan
from search.query import Clause, TextQuery

TABLE = "annotations_searchentry"
# The GIN index of the document also holds each row's id block, `id / 16384` (migration
# annotations 0007, kept by search 0004). A ranking window starts at a block and is named by
# its blocks: each GIN scan (one per block) then enters a frequent word's posting list at
# its block instead of the whole list being decoded into a bitmap before the window cuts
# it ("soviet" in the benchmark: 77,000 postings and 11 ms for the 1,300 in the window;
# then 3 ms).
BLOCK = 16_384
# The document index's expression: the row's lexemes prefixed with its library (migration
# search 0004). A condition on it must name it exactly so for the planner to use the index.
SCOPED_DOCUMENT = "search_scoped(e.library_id, e.document)"
SCOPED_LIBRARIES = 8  # libraries per scoped query (`_scoped`); more make more GIN scans
MAX_BLOCKS = 64  # beyond this many scans, one scan of the whole posting list costs less

# --- the text query as a tsquery --------------------------------------------------------


def _clause(
    clause: Clause, lexemes: dict[str, tuple[str, ...]], matching: bool
) -> tuple[str, list[str]]:
    if clause.is_phrase:
        return "phraseto_tsquery('simple', %s)", [" ".join(clause.words)]
    word = clause.words[0]
    if clause.prefix:
        if exact := lexemes.get(word):  # the lexicon's lexemes, as they are: not re-parsed
            return "%s::tsquery", [" | ".join(_quoted(lexeme) for lexeme in exact)]
        return "to_tsquery('simple', %s)", [f"'{word}':*"]
    simple, stemmed = "plainto_tsquery('simple', %s)", "plainto_tsquery('russian', %s)"
    if matching:
        # Every row holding a word as written holds its stem too (the document is both
        # halves of the same terms), so the stem alone finds the same rows, from one
        # posting list instead of two: 'treati' & 'deleg' cost the benchmark's GIN scans
        # 10.4 ms, ('treaty' | 'treati') & ('delegation' | 'deleg') 13.7. A stop word of
        # the stemmer has no stem: it is asked for as written.
        return f"(CASE WHEN numnode({stemmed}) > 0 THEN {stemmed} ELSE {simple} END)", [word] * 3
    # Often both halves are the same lexeme ('soviet' | 'soviet'): the planner would then
    # count it twice and expect twice the matches, which the "about N" count shows.
    sql = f"(CASE WHEN {simple} = {stemmed} THEN {simple} ELSE {simple} || {stemmed} END)"
    return sql, [word] * 5


def _quoted(lexeme: str) -> str:
    """A lexeme in tsquery syntax, taken as it is (quotes doubled, backslashes escaped)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _any(
    clauses: tuple[Clause, ...] | list[Clause],
    lexemes: dict[str, tuple[str, ...]],
    matching: bool,
) -> tuple[str, list[str]]:
    parts = [_clause(clause, lexemes, matching) for clause in clauses]
    sql = " || ".join(part for part, _ in parts)
    return f"({sql})", [p for _, params in parts for p in params]


def tsquery(
    text: TextQuery, lexemes: dict[str, tuple[str, ...]] | None = None, *, matching: bool = False
) -> tuple[str, list[str]]:
    """A SQL expression for the tsquery of the typed words ("" when nothing was typed),
    as ranked: each word as written and stemmed. `matching`: the query finding the same
    rows from fewer posting lists (a word by its stem alone; a prefix found in `lexemes`
    as those exact lexemes)."""
    lexemes = lexemes or {}
    parts = [_any(group, lexemes, matching) for group in text.groups]
    if text.excluded:
        sql, params = _any(text.excluded, lexemes, matching)
        parts.append((f"!!{sql}", params))
    return " && ".join(part for part, _ in parts), [p for _, params in parts for p in params]


# --- prefixes as the lexicon's lexemes --------------------------------------------------

LEXICON = "search_lexeme"  # search migration 0002: every lexeme of the document index
# A prefix standing for more lexemes than this is read as a prefix: each lexeme is one more
# entry for every GIN scan (one per library and id block), and short prefixes ("s*") stand
# for thousands.
MAX_PREFIX_LEXEMES = 24


def prefix_lexemes(text: TextQuery) -> dict[str, tuple[str, ...]]:
    """The lexemes of the index that each prefix of the query stands for, where there are
    at most MAX_PREFIX_LEXEMES. Exact: the lexicon holds every lexeme of the index (more,
    never fewer), so `'negotiat':*` and the lexemes the lexicon lists for it match the same
    rows; only the index can then skip to a window's id blocks for them."""
    prefixes = sorted({c.words[0] for c in [*text.positive_clauses(), *text.excluded] if c.prefix})
    found: dict[str, tuple[str, ...]] = {}
    with connection.cursor() as cursor:
        for prefix in prefixes:
            pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            cursor.execute(
                f"SELECT lexeme FROM {LEXICON} WHERE lexeme LIKE %s ORDER BY lexeme LIMIT %s",
                [pattern, MAX_PREFIX_LEXEMES + 1],
            )
            lexemes = tuple(row[0] for row in cursor.fetchall())
            if 0 < len(lexemes) <= MAX_PREFIX_LEXEMES:
                found[prefix] = lexemes
    return found


def fragment(found: Plan) -> Fragment:
    result = Fragment()
    found.lexemes = prefix_lexemes(found.text)
    sql, params = tsquery(found.text, found.lexemes, matching=True)
    if sql:
        # Rows are found by stems and the lexicon's lexemes, ranked by the query as typed:
        # ts_rank weighs an OR of many lexemes otherwise than the prefix, and a word as
        # written besides its stem, and the order must not depend on how rows were found.
        ranked, rank_params = tsquery(found.text)
        same = (ranked, rank_params) == (sql, params)
        scoped, scoped_params = _scoped(found)
        columns = "".join(f", {query} AS scoped{n}" for n, query in enumerate(scoped))
        result.joins = (
            f"CROSS JOIN (SELECT {sql} AS tsq, {'NULL' if same else ranked} AS typed{columns}) q"
        )
        result.join_params = params + ([] if same else rank_params) + scoped_params
        result.where.append("e.document @@ q.tsq")
        if found.text.has_positive:  # rank as float8: exact in Python and in cursors
            arms = " OR ".join(f"{SCOPED_DOCUMENT} @@ q.scoped{n}" for n in range(len(scoped)))
            result.index_where.append(f"({arms})")
            result.rank = f"ts_rank(e.document, {'q.tsq' if same else 'q.typed'})::float8"
    single = [tokens[0] for tokens in found.facets if len(tokens) == 1]
    if single:
        result.where.append("e.facets @> %s::jsonb")
        result.params.append(json.dumps(sorted(set(single))))
    for tokens in found.facets:
        if len(tokens) > 1:
            result.where.append("e.facets ?| %s::text[]")
            result.params.append(list(tokens))
    return result


def _scoped(found: Plan) -> tuple[list[str], list[Any]]:
    """The positive part of the matching query rewritten for the index of lexemes scoped by
    library (search migration 0004): each lexeme once per library in scope, so that one
    GIN scan reads only those libraries' postings ("treaty delegation" in three libraries:
    1.6 ms instead of 11.6 for one scan per library, each decoding every library's
    postings). Exclusions are left to `document @@ tsq`: with phrases read as AND, a
    negated phrase would exclude rows the query keeps.

    One query per SCOPED_LIBRARIES libraries: GIN checks the whole query against every row
    that holds any of its lexemes, so a query for 120 libraries costs 120 times the checks
    ("treaty delegation" for 120 libraries: 386 ms in one scan, 31 in fifteen of eight)."""
    if not found.text.has_positive:
        return [], []
    positive = TextQuery(groups=found.text.groups)
    sql, params = tsquery(positive, found.lexemes, matching=True)
    chunks = _library_chunks(found)
    queries = [f"search_scoped_query({sql}, %s::bigint[])" for _ in chunks]
    return queries, [p for chunk in chunks for p in (*params, chunk)]


def _library_chunks(found: Plan) -> list[list[int]]:
    """The libraries in scope, SCOPED_LIBRARIES to a scoped query."""
    ids = found.library_ids
    return [ids[i : i + SCOPED_LIBRARIES] for i in range(0, len(ids), SCOPED_LIBRARIES)]


def _by_blocks(found: Plan) -> bool:
    """Whether a window is read by id blocks: for words and phrases, and for prefixes the
    lexicon turned into lexemes, not for other prefixes (GIN collects all postings of a
    prefix before each scan, so one scan costs less than one per block), nor without words
    to look for (no full-text index scan to cut)."""
    text = found.text
    clauses = [*text.positive_clauses(), *text.excluded]
    read_as_prefix = any(c.prefix and c.words[0] not in found.lexemes for c in clauses)
    return text.has_positive and not read_as_prefix


def window_floor(threshold: int, newest: int, found: Plan) -> int:
    """A window's lower bound moved back to the start of its block where the window is
    read by blocks: then the blocks alone say which rows are in it, and the planner has no
    id range to read besides. Not where that would more than double the window (a very
    frequent word's window spans fewer ids than a block): it keeps its bound as well."""
    floor = threshold // BLOCK * BLOCK
    if not _by_blocks(found) or threshold - floor > newest - threshold:
        return threshold
    return floor


def window(
    threshold: int, found: Plan, newest: int, below: int | None = None
) -> tuple[str, list[Any]]:
    """The rows from `threshold` on (and `below` that id, if given); for words, named by
    their id blocks up to that of the `newest` id (and the next block, for rows added
    meanwhile) or to `below`, so that each GIN scan skips to its block."""
    bounds, bound_params = ["e.id >= %s"], [threshold]
    if below is not None:
        bounds.append("e.id < %s")
        bound_params.append(below)
    if not _by_blocks(found):
        return " AND ".join(bounds), bound_params
    newest = newest or threshold
    top = -(-below // BLOCK) if below is not None else newest // BLOCK + 2
    blocks = list(range(threshold // BLOCK, top))
    scans = len(blocks) * max(1, len(_library_chunks(found)))  # per block and scoped query
    if scans > MAX_BLOCKS:
        return " AND ".join(bounds), bound_params
    in_blocks = f"(e.id / {BLOCK}) = ANY(%s::bigint[])"
    # Bounds not on a block's edge (see `window_floor`) are kept besides the blocks.
    kept = [(b, p) for b, p in zip(bounds, bound_params, strict=True) if p % BLOCK]
    return " AND ".join([*(b for b, _ in kept), in_blocks]), [*(p for _, p in kept), blocks]


def probe_floor(found: Plan, newest: int) -> int | None:
    """Where the probe of a word window starts (`engine.sized_window`): the newest block
    from its start, and the one before it while the newest holds less than half a block;
    None where windows are not read by blocks (their estimates are good)."""
    if not _by_blocks(found):
        return None
    floor = newest // BLOCK * BLOCK
    if newest - floor < BLOCK // 2:
        floor -= BLOCK
    return max(floor, 0)


# The facet tokens counted (tags, events, source kinds), as JSON text computed when the row
# was written (search migration 0005): read as they are, never decoded.
FACETS_TEXT = "e.counted"


# --- facets, vocabulary, maintenance ----------------------------------------------------


def facet_counts_sql(sql: str) -> str:
    """The statement counting facet tokens ('f', token, n) and years ('y', year, n) among
    the rows `sql` selects (`e.facets, e.year`)."""
    return f"""
        WITH matched AS MATERIALIZED ({sql})
        SELECT 'f', token, count(*) FROM matched,
               jsonb_array_elements_text(matched.facets) AS token
         WHERE left(token, 1) IN ('t', 'e', 'k') GROUP BY token
        UNION ALL
        SELECT 'y', year::text, count(*) FROM matched WHERE year IS NOT NULL GROUP BY year"""


def entries_with_token(token: str) -> list[tuple[int | None, int | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT annotation_id, claim_id FROM annotations_searchentry WHERE facets @> %s::jsonb",
            [json.dumps([token])],
        )
        return cursor.fetchall()


def similar_words(library_ids: list[int], word: str, limit: int) -> list[str]:
    """The library vocabulary's words nearest `word` by trigram similarity (pg_trgm)."""
    if not library_ids:
        return []
    marks = ", ".join(["%s"] * len(library_ids))
    sql = f"""SELECT word FROM annotations_searchword
               WHERE library_id IN ({marks}) AND word %% %s
               GROUP BY word ORDER BY max(similarity(word, %s)) DESC, word LIMIT %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*library_ids, word, word, limit])
        return [row[0] for row in cursor.fetchall()]


def estimate(sql: str, params: list[Any]) -> int:
    """How many rows the planner expects `sql` to return: costs a plan, reads no rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def optimize() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotations_searchentry")
        cursor.execute("ANALYZE annotations_searchword")
