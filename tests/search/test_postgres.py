"""What only PostgreSQL's backend does: the planner's estimates must be worth showing, and
a ranking window is named by the id blocks its GIN index can skip to."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils.datastructures import MultiValueDict

from search import postgres as search_pg
from search import text as search_text
from search.models import SearchEntry
from search.plan import Plan
from search.query import parse_params

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
            " 'annotations_searchentry'::regclass AND attname IN ('document', 'facets', 'body')"
        )
        assert dict(cursor.fetchall()) == {"document": "m", "facets": "m", "body": "x"}
