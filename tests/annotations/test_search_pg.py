"""What only PostgreSQL's backend does: the planner's estimates must be worth showing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils.datastructures import MultiValueDict

from annotations import search_pg
from annotations.search_query import parse_params

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
    assert tsquery_text("Сталина") == "'сталина' | 'сталин'"
