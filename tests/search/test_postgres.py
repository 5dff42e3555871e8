"""What only PostgreSQL's backend does: the planner's estimates must be worth showing, and
a ranking window is named by the id blocks its GIN index can skip to."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.utils.datastructures import MultiValueDict

from search import engine
from search import postgres as search_pg
from search import text as search_text
from search.models import SearchEntry
from search.plan import Plan
from search.query import TextQuery, parse_params
from tests.factories import make_annotation, make_library, make_source, make_text

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full text only"),
]


def tsquery_text(typed: str) -> str:
    sql, params = search_pg.tsquery(parse_params(MultiValueDict({"q": [typed]})).text)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql})::text", params)
        return cursor.fetchone()[0]


def test_a_word_that_stems_to_itself_is_asked_for_once():
    """'soviet' | 'soviet' would make the planner expect twice the matches ("about N")."""
    assert tsquery_text("soviet") == "'soviet'"


def test_a_word_with_another_stem_is_asked_for_both_ways():
    assert tsquery_text("treaties") == "'treaties' | 'treati'"
    # …and a word in another script also for its Latin form (core.transliterate)
    assert tsquery_text("Сталина") == "'сталина' | 'сталин' | 'stalina'"


STEM_TERMS = [
    "the treaty of alliance was signed by the delegations",
    "treaty-making and treaties: a delegation's work, 1950",
    "сталина ждали долго; сталин принял мао цзэдуна в кремле",
    "mig-15 fighters over the yalu; running, ran, runs",
    "of and the a an to",
    "co-operation cooperation zhou-enlai mao zedong maozedong",
]
STEM_WORDS = [
    "treaty", "treaties", "delegation", "delegations", "the", "of", "сталина", "сталин",
    "1950", "mig-15", "mig", "running", "co-operation", "operation", "zhou", "a", "an",
    "yalu", "ждали", "кремле", "treaty-making", "making", "ran",
]  # fmt: skip


@pytest.mark.parametrize(
    "typed", [*STEM_WORDS, "treaty delegation", "treaty -the", "сталина OR 1950"]
)
def test_words_found_by_their_stems_alone_are_the_rows_the_query_as_written_finds(typed):
    """The rows are found by the matching query (a word's stem alone, where it has one)
    and ranked by the query as written (the word as written and its stem): both must
    select the same rows, stop words, hyphenated words and numbers included."""
    for n, terms in enumerate(STEM_TERMS):
        SearchEntry.objects.create(
            key=f"t:{n}", kind="source", library_id=1, body="", terms=search_text.terms(terms)
        )
    query = parse_params(MultiValueDict({"q": [typed]})).text
    found = {}
    for matching in (True, False):
        sql, params = search_pg.tsquery(query, matching=matching)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key FROM annotations_searchentry WHERE document @@ ({sql}) ORDER BY key",
                params,
            )
            found[matching] = [row[0] for row in cursor.fetchall()]
    assert found[True] == found[False]
    assert found[True] or typed in {"the", "of", "a", "an", "treaty -the"}


def test_a_word_is_matched_by_its_stem_and_ranked_as_written_and_stemmed():
    for typed, matched in [("treaties", "'treati'"), ("soviet", "'soviet'"), ("the", "'the'")]:
        query = parse_params(MultiValueDict({"q": [typed]})).text
        sql, params = search_pg.tsquery(query, matching=True)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT ({sql})::text", params)
            assert cursor.fetchone()[0] == matched
    assert tsquery_text("treaties") == "'treaties' | 'treati'"


def text(typed: str) -> Plan:
    """The query as the backend is handed it (its prefixes as the lexicon has them)."""
    found = Plan(parse_params(MultiValueDict({"q": [typed]})).text, {}, None)
    found.lexemes = search_pg.prefix_lexemes(found.text)
    return found


def window(typed: str, threshold: int) -> tuple[str, list]:
    newest = SearchEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    return search_pg.window(threshold, text(typed), newest or 0)


BLOCK = search_pg.BLOCK


def test_a_window_of_words_starts_at_an_id_block():
    assert search_pg.window_floor(3 * BLOCK + 5, 5 * BLOCK, text("soviet")) == 3 * BLOCK


def test_a_window_that_rounding_would_more_than_double_keeps_its_bound():
    assert search_pg.window_floor(3 * BLOCK + 500, 3 * BLOCK + 900, text("the")) == 3 * BLOCK + 500


@pytest.mark.parametrize("typed", ["negotiat*", ""])
def test_a_window_without_blocks_starts_where_it_was_placed(typed):
    """A prefix, or no words at all: the window is read as an id range, as placed."""
    assert search_pg.window_floor(3 * BLOCK + 5, 5 * BLOCK, text(typed)) == 3 * BLOCK + 5


def test_a_window_of_words_is_named_by_its_blocks_up_to_the_next():
    newest = SearchEntry.objects.create(key="n:1", kind="source", library_id=1, body="", terms="")
    sql, params = window("soviet treaty", search_pg.BLOCK)
    assert sql == f"(e.id / {search_pg.BLOCK}) = ANY(%s::bigint[])"
    assert params == [list(range(1, newest.pk // search_pg.BLOCK + 2))]


def test_a_window_not_at_a_block_is_named_by_its_bound_and_its_blocks(monkeypatch):
    newest = SearchEntry.objects.create(key="n:1", kind="source", library_id=1, body="", terms="")
    monkeypatch.setattr(search_pg, "BLOCK", newest.pk + 1)
    sql, params = window("soviet", newest.pk)
    assert sql == f"e.id >= %s AND (e.id / {newest.pk + 1}) = ANY(%s::bigint[])"
    assert params == [newest.pk, [0, 1]]


@pytest.mark.parametrize("typed", ["negotiat*", "soviet -negot*"])
def test_a_prefix_window_is_one_id_range(typed):
    """GIN collects a prefix's postings before every scan: one scan, not one per block."""
    assert window(typed, search_pg.BLOCK) == ("e.id >= %s", [search_pg.BLOCK])


def test_a_window_of_too_many_blocks_is_one_id_range(monkeypatch):
    monkeypatch.setattr(search_pg, "BLOCK", 1)
    monkeypatch.setattr(search_pg, "MAX_BLOCKS", 1)
    SearchEntry.objects.create(key="n:1", kind="source", library_id=1, body="", terms="")
    assert window("soviet", 1) == ("e.id >= %s", [1])


def test_the_older_part_of_a_window_is_named_by_its_blocks_below_the_probe():
    found = text("soviet")
    sql, params = search_pg.window(BLOCK, found, 9 * BLOCK, below=3 * BLOCK)
    assert (sql, params) == (f"(e.id / {BLOCK}) = ANY(%s::bigint[])", [[1, 2]])
    sql, params = search_pg.window(BLOCK + 7, found, 9 * BLOCK, below=3 * BLOCK + 5)
    assert sql == f"e.id >= %s AND e.id < %s AND (e.id / {BLOCK}) = ANY(%s::bigint[])"
    assert params == [BLOCK + 7, 3 * BLOCK + 5, [1, 2, 3]]
    assert search_pg.window(BLOCK, text("negotiat*"), 9 * BLOCK, below=3 * BLOCK) == (
        "e.id >= %s AND e.id < %s",
        [BLOCK, 3 * BLOCK],
    )


@pytest.mark.parametrize(
    ("newest", "floor"), [(5 * BLOCK + BLOCK // 2, 5 * BLOCK), (5 * BLOCK + 10, 4 * BLOCK)]
)
def test_a_probe_reads_the_newest_block_and_the_one_before_while_it_is_half_empty(newest, floor):
    assert search_pg.probe_floor(text("soviet"), newest) == floor
    assert search_pg.probe_floor(text("negotiat*"), newest) is None


def test_an_entrys_document_and_facets_are_kept_in_its_row():
    """Ranking reads every matched row's document, facets are counted for each: both are
    kept in the row (STORAGE MAIN), so that a long entry's display text and terms, not
    they, go out of it to the TOAST table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute WHERE attrelid ="
            " 'annotations_searchentry'::regclass"
            " AND attname IN ('document', 'facets', 'counted', 'body')"
        )
        assert dict(cursor.fetchall()) == {"document": "m", "facets": "m", "counted": "m",
                                           "body": "x"}  # fmt: skip


def test_the_counted_tokens_are_the_facets_tags_events_and_source_kinds(alice):
    """A window's facets are counted from `counted` (search migration 0005): the row's tags,
    events and source kinds, as JSON text, and no other token, whatever letter its hex
    begins with; it follows the facets when the row is written again."""
    library = make_library(owner=alice)
    source = make_source(library=library, kind="primary", archive="Archive of Ekaterinburg")
    text = make_text(source=source, text="The treaty was signed in Moscow.", imported_by=alice)
    annotation = make_annotation(text=text, creator=alice, quote="treaty", tags=["theme:face"])
    entries = SearchEntry.objects.filter(library=library)
    assert entries.count() >= 2

    def stored() -> list[tuple[list[str], list[str]]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT facets, counted FROM annotations_searchentry"
                           " WHERE library_id = %s ORDER BY id", [library.pk])  # fmt: skip
            return [(json.loads(f) if isinstance(f, str) else f, json.loads(c))
                    for f, c in cursor.fetchall()]  # fmt: skip

    for facets, counted in stored():
        assert counted == [t for t in facets if t[0] in "tek"]
        assert len(counted) < len(facets) and any(t[0] not in "tek" for t in facets)
    tag = annotation.tags.get()
    assert [f"t{tag.pk}"] == [t for _, c in stored() for t in c if t.startswith("t")]
    entries.filter(annotation=annotation).update(facets=["a3f09c", "t7", "s3", "e2"])
    assert ["t7", "e2"] in [c for _, c in stored()]


SCOPED_ENTRIES = [  # (library, terms): words shared across libraries, and some only in one
    (1, "the treaty of alliance was signed by the delegations"),
    (2, "treaty-making and treaties: a delegation's work, 1950"),
    (2, "mutual security; security is mutual"),
    (3, "mutual security pact negotiations"),
    (1, "сталина ждали долго; сталин принял мао цзэдуна"),
    (3, "negotiated negotiation negotiating korea"),
    (1, "o'brien wrote about korea and the treaty"),
    (3, "the treaty"),
    (2, "毛泽东 mao zedong 1950"),
    (3, "security comes first, mutual trust later"),  # both words, not the phrase
]
SCOPED_QUERIES = [
    "treaty", "treaties", "treaty delegation", '"mutual security"', '"security mutual"',
    "negotiat*", "negot* korea", "treaty -korea", '-"mutual security" security',
    '"security pact" OR сталина', "the", "1950", "o'brien", "treat* OR mao",
    'mutual -"security is"', "毛泽东", "сталин", "nothing-here",
]  # fmt: skip
SCOPES = [[1], [2, 3], [1, 2, 3], [3], list(range(1, 21))]  # the last: three scoped queries


def found_rows(typed: str, scope: list[int], *, scoped: bool) -> list[str]:
    """The keys of the entries in `scope` that the backend's fragment finds, with the
    scoped index's condition or without it."""
    found = Plan(parse_params(MultiValueDict({"q": [typed]})).text, dict.fromkeys(scope), None)
    fragment = search_pg.fragment(found)
    where = [*fragment.where, *(fragment.index_where if scoped else [])]
    sql = (
        f"SELECT e.key FROM annotations_searchentry e {fragment.joins}"
        f" WHERE e.library_id = ANY(%s) AND {' AND '.join(where)} ORDER BY e.key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*fragment.join_params, scope, *fragment.params])
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def scoped_entries():
    for n, (library, terms) in enumerate(SCOPED_ENTRIES):
        SearchEntry.objects.create(
            key=f"s:{n}", kind="source", library_id=library, body="", terms=search_text.terms(terms)
        )


@pytest.mark.parametrize("typed", SCOPED_QUERIES)
def test_the_library_scoped_index_finds_what_the_document_finds(scoped_entries, typed):
    """The index of lexemes keyed by library (search migration 0004) only narrows where
    the document is looked at: with it or without, a search in any set of libraries finds
    the same entries, phrases, prefixes, exclusions, stop words and scripts included."""
    for scope in SCOPES:
        assert found_rows(typed, scope, scoped=True) == found_rows(typed, scope, scoped=False)


def test_the_library_scoped_query_holds_each_lexeme_once_per_library():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_scoped_query(%s::tsquery, %s::bigint[])::text",
            ["'treati' & ('mutual' <-> 'secur' | 'o''brien':*)", [1, 12]],
        )
        assert cursor.fetchone()[0] == (
            "'1:treati' & ( '1:mutual' & '1:secur' | '1:o''brien':* )"
            " | '12:treati' & ( '12:mutual' & '12:secur' | '12:o''brien':* )"
        )


def test_a_search_of_three_libraries_is_one_scan_of_the_scoped_index(scoped_entries):
    """One GIN scan asks for the three libraries' lexemes at once, the library condition
    only checked on the rows found (no bitmap of every row in scope to AND with); the
    estimate leaves the scoped condition out (it would count the words twice)."""
    found = Plan(parse_params(MultiValueDict({"q": ["treaty delegation"]})).text,
                 dict.fromkeys([1, 2, 3]), None)  # fmt: skip
    found.scope()
    fragment = search_pg.fragment(found)
    assert fragment.index_where == [f"({search_pg.SCOPED_DOCUMENT} @@ q.scoped0)"]
    sql, params = engine._sql(found, fragment, "e.id")
    assert "(e.library_id + 0) IN (%s, %s, %s)" in sql
    estimated, _ = engine._sql(found, fragment, "e.id", estimating=True)
    assert "e.library_id IN (%s, %s, %s)" in estimated and "search_scoped(" not in estimated
    SearchEntry.objects.bulk_create(
        SearchEntry(
            key=f"f:{n}",
            kind="source",
            library_id=1 + n % 3,
            body="",
            terms=f"filler {n} {n % 7} treaty",
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotations_searchentry")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("Bitmap Index Scan") == 1, plan
    assert "on search_scoped_document" in plan, plan


def test_exclusions_alone_ask_nothing_of_the_scoped_index():
    found = Plan(parse_params(MultiValueDict({"q": ["-korea"]})).text, {1: None}, None)
    assert search_pg.fragment(found).index_where == []


def test_a_status_filter_names_claims_by_their_status_alone_and_its_index_answers_it():
    """Only claims have a status: the filter asks for no kind besides (PostgreSQL never
    ANDs two bitmaps that answer one condition, and the kind was in both), and the partial
    btree on status still answers a status filter without words."""
    SearchEntry.objects.bulk_create(
        SearchEntry(
            key=f"c:{n}",
            kind="claim" if n % 4 == 0 else "annotation",
            library_id=1,
            body="",
            terms=f"word {n}",
            status="disputed" if n % 40 == 0 else "",
        )
        for n in range(4000)
    )

    def columns(**params: list[str]) -> Plan:
        found = Plan(TextQuery(), {1: None}, None)
        engine._columns(found, parse_params(MultiValueDict(params)))
        return found

    assert columns(status=["disputed"], **{"in": ["claim"]}).where == ["e.status IN (%s)"]
    assert columns(status=["disputed"], **{"in": ["annotation"]}).impossible
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotations_searchentry")
        cursor.execute(
            # In the btree's order: only it can give that, and only if its predicate holds.
            "EXPLAIN SELECT e.id FROM annotations_searchentry e WHERE e.status IN (%s)"
            " ORDER BY e.status, e.library_id, e.id LIMIT 5",
            ["disputed"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_claim_status" in plan, plan


def test_the_search_tables_gin_indexes_keep_no_pending_list():
    """Entries waiting in a GIN pending list are read whole by every scan, once per id
    block of a window (search migration 0004): both indexes are written directly."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE i.indrelid = 'annotations_searchentry'::regclass AND a.amname = 'gin'"
            " ORDER BY c.relname"
        )
        assert cursor.fetchall() == [
            ("search_facets", ["fastupdate=off"]),
            ("search_scoped_document", ["fastupdate=off"]),
        ]


def test_many_libraries_are_asked_for_eight_at_a_time():
    """GIN checks the whole query against every row holding any of its lexemes: a query
    naming 120 libraries' lexemes costs 120 times the checks of one naming one library's."""
    found = Plan(parse_params(MultiValueDict({"q": ["treaty delegation"]})).text,
                 dict.fromkeys(range(1, 21)), None)  # fmt: skip
    fragment = search_pg.fragment(found)
    arms = [f"{search_pg.SCOPED_DOCUMENT} @@ q.scoped{n}" for n in range(3)]
    assert fragment.index_where == [f"({' OR '.join(arms)})"]
    assert [p for p in fragment.join_params if isinstance(p, list)] == [
        list(range(1, 9)),
        list(range(9, 17)),
        list(range(17, 21)),
    ]
    # A window's blocks are scanned once per scoped query: fewer blocks before an id range.
    assert search_pg.window(BLOCK, found, 9 * BLOCK)[0].endswith("= ANY(%s::bigint[])")
    many = Plan(found.text, dict.fromkeys(range(1, 200)), None)
    assert search_pg.window(BLOCK, many, 9 * BLOCK) == ("e.id >= %s", [BLOCK])
