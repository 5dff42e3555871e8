"""A passage that one text repeats is listed once on the other's shared-passages page, not
once per copy (issue #20: the demo's chapter draft listed one pair twice)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from sources.reuse.reports import report
from tests.factories import make_source, make_text
from tests.sources.reuse.test_texts import TREATY_ESSAY

pytestmark = pytest.mark.django_db
PASSAGE = TREATY_ESSAY[0]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def texts(library, alice):
    """A web page that repeats a paragraph (a scraper's doubling) and a draft quoting it."""
    page = make_source(library=library, title="The web page", citation_key="page")
    draft = make_source(library=library, title="The draft", citation_key="draft")
    filler = "The page goes on about something else entirely for a while before it repeats."
    make_text(source=page, text="\n\n".join([PASSAGE, filler, PASSAGE]), imported_by=alice)
    quoted = make_text(source=draft, text=f"As the essay has it:\n\n{PASSAGE}", imported_by=alice)
    return quoted


def test_the_quoting_text_lists_the_pair_once(texts):
    [match] = report(texts).matches
    assert len(match.passages) == 1


def test_the_shared_passages_page_shows_the_pair_once(as_user, alice, texts):
    url = reverse("reuse-source", args=[texts.source_id])
    content = as_user(alice).get(url).content.decode()
    assert content.count("words in common, ") == 1
