"""PostgreSQL's lexicon (search migration 0002): it holds every lexeme of the document
index, whatever wrote the entry, so that a prefix asked for as the lexicon's lexemes finds
exactly what the prefix finds, and its window is read by id blocks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils.datastructures import MultiValueDict

from annotations.models import Annotation
from search import index as search_index
from search import postgres as search_pg
from search.engine import search
from search.plan import Plan
from search.query import parse_params
from tests.factories import make_annotation, make_claim, make_source, make_text

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's lexicon only"),
]

TEXT = (
    "The negotiations began in December. Negotiators met daily; negotiating took weeks.\n\n"
    "Переговоры шли долго. The treaty was negotiated in Moscow and signed in February."
)


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()


def missing_from_lexicon() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(tsvector_to_array(document)) FROM annotations_searchentry "
            "EXCEPT SELECT lexeme FROM search_lexeme"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def negotiations(library, alice, bob):
    source = make_source(library=library, title="Negotiating the alliance")
    text = make_text(source=source, text=TEXT, imported_by=alice)
    notes = [
        make_annotation(text=text, creator=alice, quote="negotiations began", tags=["theme:talks"]),
        make_annotation(
            text=text, creator=bob, quote="negotiating took weeks", comment="Renegotiated"
        ),
        make_annotation(text=text, creator=alice, quote="Переговоры шли долго"),
    ]
    make_claim(library=library, creator=alice, statement="Negotiators met daily in Moscow.")
    return notes


def test_the_lexicon_holds_every_lexeme_written_by_any_path(negotiations, alice):
    """Sources and passages (the ORM's upserts), annotations (on PostgreSQL one statement,
    `search.writes`), claims, and an edit (an UPDATE of the entry)."""
    assert not missing_from_lexicon()
    note = negotiations[0]
    note.apply_changes({"comment": "Renegotiation unthinkable: Zhdanovshchina"}, user=alice)
    assert "zhdanovshchina" in search_pg.prefix_lexemes(text("zhdanov*")).get("zhdanov", ())
    assert not missing_from_lexicon()


def text(typed: str):
    return parse_params(MultiValueDict({"q": [typed]})).text


def test_a_prefix_stands_for_its_lexemes_of_both_halves(negotiations):
    """The words as written (`simple`) and the stems (`russian`) that start so."""
    lexemes = search_pg.prefix_lexemes(text("negotiat*"))["negotiat"]
    assert {"negotiations", "negotiating", "negotiated"} <= set(lexemes)
    assert all(lexeme.startswith("negotiat") for lexeme in lexemes)
    assert search_pg.prefix_lexemes(text("переговор*"))["переговор"]


def hits(user, typed: str) -> tuple[list[tuple[str, int | None]], int]:
    result = search(user, parse_params(MultiValueDict({"q": [typed]})))
    return [(hit.kind, hit.id) for hit in result.hits], result.total


@pytest.mark.parametrize("typed", ["negotiat*", "negot* -treaty", "moscow OR negotiator*"])
def test_a_prefix_finds_the_same_as_its_lexemes(negotiations, alice, monkeypatch, typed):
    as_lexemes = hits(alice, typed)
    monkeypatch.setattr(search_pg, "MAX_PREFIX_LEXEMES", 0)  # every prefix read as a prefix
    assert hits(alice, typed) == as_lexemes
    assert as_lexemes[0]


def test_a_prefix_as_lexemes_is_read_by_blocks_and_a_long_one_as_a_range(negotiations, monkeypatch):
    newest = Annotation.objects.order_by("-pk").first().pk
    found = Plan(text("negotiat*"), {}, None)
    found.lexemes = search_pg.prefix_lexemes(found.text)
    sql, _ = search_pg.window(search_pg.BLOCK, found, newest)
    assert "ANY(%s::bigint[])" in sql
    monkeypatch.setattr(search_pg, "MAX_PREFIX_LEXEMES", 2)
    found.lexemes = search_pg.prefix_lexemes(found.text)
    assert found.lexemes == {}
    assert search_pg.window(search_pg.BLOCK, found, newest) == ("e.id >= %s", [search_pg.BLOCK])
