"""A real article page nobody here wrote (tests/data/web/README.md: a Wikimedia Foundation
news post of 15 January 2020, CC BY-SA 3.0, as saved in trafilatura 0.9.3's test data) read
by `sources.web.extract`, kept by *Save to Marginalia* (`/capture/`), and annotated first
through `/hypothesis/api/` from a site on 127.0.0.1 (WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES).

The page has no Highwire `citation_*` tags and no JSON-LD: what it says of itself is Open
Graph (`og:title`, `og:site_name`, `og:type` article, `article:published_time`), a canonical
link and its byline, "By Wikimedia Foundation": an organisation, not a person.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from annotations.models import Annotation
from sources.models import Source
from sources.web.extract import main_text_html, page_metadata
from tests.annotations.hypothesis.test_api import call
from tests.sites import Site

PAGE_FILE = Path(__file__).parents[2] / "data" / "web" / "wikimediafoundation.org.turkey.html"
PAGE = PAGE_FILE.read_text(encoding="utf-8")
CANONICAL = (
    "https://wikimediafoundation.org/news/2020/01/15/"
    "access-to-wikipedia-restored-in-turkey-after-more-than-two-and-a-half-years/"
)
TITLE = "Access to Wikipedia restored in Turkey after more than two and a half years"
# Read by hand in the page's fourth paragraph, and in its first.
SENTENCE = (
    "In the meantime, our case before the European Court of Human Rights is still being "
    "considered by the Court."
)
QUOTE = "block imposed by the Turkish government was unconstitutional"
WRAPPING = ("Powered by WordPress.com VIP", "Privacy policy", "Cookie statement")
pytestmark = pytest.mark.django_db


def test_the_real_page_says_what_it_is():
    assert "citation_" not in PAGE and "application/ld+json" not in PAGE  # see the docstring
    item = page_metadata(PAGE, "https://example.org/saved-copy.html")
    assert item["title"] == TITLE
    assert item["author"] == [{"literal": "Wikimedia Foundation"}]  # not "Foundation, W."
    assert item["issued"] == {"date-parts": [[2020, 1, 15]]}
    assert item["container-title"] == "Wikimedia Foundation"
    assert (item["URL"], item["type"], item["language"]) == (CANONICAL, "article", "en-US")
    assert "DOI" not in item and "accessed" in item
    text = main_text_html(PAGE, CANONICAL)
    assert SENTENCE in text and "Katherine Maher, Executive Director" in text
    assert not any(wrapping in text for wrapping in WRAPPING)


def test_save_to_marginalia_keeps_the_real_page(client, library, bob):
    client.force_login(bob)
    form = {"library": library.pk, "url": CANONICAL + "?utm_source=twitter", "html": PAGE,
            "keywords": "Internet censorship, Turkey"}  # fmt: skip
    saved = client.post(reverse("web-capture"), form)
    assert saved.status_code == 200 and b"is now in" in saved.content
    source = Source.objects.get()
    assert (source.library, source.title, source.url, source.issued) == (
        library, TITLE, CANONICAL, "2020-01-15")  # fmt: skip
    assert source.container_title == "Wikimedia Foundation" and source.accessed
    assert [(c.family, c.given, c.literal) for c in source.creators.all()] == [
        ("", "", "Wikimedia Foundation")
    ]
    assert source.keywords == ["Internet censorship", "Turkey"]
    assert "DOI" not in source.identifiers
    text = source.current_text
    assert SENTENCE in text.text and QUOTE in text.text
    assert not any(wrapping in text.text for wrapping in WRAPPING)
    assert "Snapshot of" in text.note and text.imported_by == bob


@pytest.fixture
def site(settings):
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = True
    served = Site()
    yield served
    served.close()


def test_the_first_annotation_on_the_real_page_keeps_it(site, library, bob):
    path = "/news/2020/01/15/access-to-wikipedia-restored-in-turkey/"
    site.pages[path] = (200, {"Content-Type": "text/html; charset=UTF-8"}, PAGE_FILE.read_bytes())
    url = site.url(path)
    body = {
        "uri": url,
        "group": library.slug,
        "permissions": {"read": [f"group:{library.slug}"]},
        "tags": ["Turkey"],
        "text": "The Constitutional Court's ruling of 26 December 2019.",
        "document": {"title": [f"{TITLE} – Wikimedia Foundation"], "link": [{"href": url}],
                     "facebook": {"site_name": ["Wikimedia Foundation"]}},
        "target": [{"source": url, "selector": [
            {"type": "TextPositionSelector", "start": 350, "end": 350 + len(QUOTE)},
            {"type": "TextQuoteSelector", "exact": QUOTE, "prefix": "Court of Turkey that the "
             "more than two and a half year ", "suffix": ". Earlier today"}]}],
    }  # fmt: skip
    made = call("post", "annotations", bob, body)
    assert made.status_code == 200, made.content
    assert site.requests == [path]  # the server fetched the page itself
    source = Source.objects.get()
    assert (source.title, source.url, source.issued) == (TITLE, CANONICAL, "2020-01-15")
    annotation = Annotation.objects.get()
    text = source.current_text
    assert text.text[annotation.start : annotation.end] == QUOTE
    assert annotation.start == text.text.index(QUOTE) and SENTENCE in text.text
    assert [t.name for t in annotation.tags.all()] == ["Turkey"]
    assert made.json()["text"] == "The Constitutional Court's ruling of 26 December 2019."
