"""The search page dates its results as the lists do: the source's EDTF in words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from search import index as search_index
from tests.factories import make_source, make_text


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()


@pytest.fixture
def uncertain(library, alice):
    source = make_source(library=library, title="Record of a conversation", issued="1950?-01-01")
    make_text(source=source, imported_by=alice, text="Stalin received us in the evening.")
    return source


WORDS = (
    '<time datetime="1950-01-01" title="EDTF: 1950?-01-01" data-edtf="1950?-01-01">'
    "1 January 1950 (uncertain)</time>"
)


def test_search_shows_a_sources_date_as_the_library_list_does(as_user, alice, library, uncertain):
    client = as_user(alice)
    listed = client.get(reverse("library-detail", args=[library.slug])).content.decode()
    found = client.get(reverse("search"), {"q": "evening"}).content.decode()
    assert WORDS in listed
    assert WORDS in found
    assert ">1950-01-01<" not in found and "1950-01-01 –" not in found
