"""A captured page's HTML is sanitised before anything shows it, on both ways in: *Save to
Marginalia* (the reader's browser hands the page over) and the first annotation made by the
Hypothesis client on a page Marginalia does not hold (the server fetches it).

The page hides scripts, handlers, `javascript:` links, frames and styles in its article and
in its metadata; each carries a marker that must not reach what is stored and shown (the
revision's text and HTML, the source's fields) nor the reading page, except
escaped as text where a plain-text field holds it. Two layers stand in the way: the snapshot
is trafilatura's main text, and the importer cleans it as any uploaded HTML
(`core/sanitize.py`); either alone keeps these out.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from sources.models import Source
from tests.annotations.hypothesis.test_api import call
from tests.sites import Site

QUOTE = "Stalin kept him waiting for weeks in a dacha"
HOSTILE = {
    "script": "<script>alert('xss-script')</script>",
    "onerror": "<img src='x.png' onerror=\"alert('xss-onerror')\">",
    "onclick": "<span onclick=\"alert('xss-onclick')\">Shi Zhe</span>",
    "javascript": "<a href=\"javascript:alert('xss-javascript')\">the record</a>",
    "iframe": "<iframe src='https://evil.example/xss-iframe'></iframe>",
    "style": "<style>p { background: url('https://evil.example/xss-style') }</style>",
    "styled": "<b style=\"background:url('https://evil.example/xss-styled')\">three</b>",
}
PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Mao in Moscow<script>alert('xss-title-tag')</script></title>"
    "<meta name='citation_title' content=\"Mao in Moscow <img src=x onerror=alert('xss-meta')>\">"
    "<meta name='citation_author' content='Westad, Odd Arne'>"
    "<meta name='description' content=\"<script>alert('xss-abstract')</script>A visit.\">"
    f"{HOSTILE['style']}</head><body><main><article><h1>Mao in Moscow</h1>"
    "<p>When Mao Zedong arrived in Moscow on December 16, 1949, he expected to be received as "
    f"the leader of a victorious revolution {HOSTILE['script']} and to negotiate at once.</p>"
    f"<p>Instead, {QUOTE} outside the city, as {HOSTILE['onclick']} recalls in "
    f"{HOSTILE['javascript']}. {HOSTILE['onerror']} Mao complained that he had come only to "
    f"eat, sleep and {HOSTILE['styled']} defecate.</p>{HOSTILE['iframe']}"
    "<p>The Treaty of Friendship, Alliance and Mutual Assistance was signed only on February "
    "14, 1950, after Zhou Enlai had joined the negotiations.</p></article></main></body></html>"
)
MARKERS = [f"xss-{name}" for name in HOSTILE] + ["xss-title-tag"]
ESCAPED_ONLY = ["xss-meta", "xss-abstract"]  # in plain-text fields: may be shown, as text
LIVE = re.compile(
    r"<[^>]*\son[a-z]+\s*=|<[^>]*\sstyle\s*=|<a\b[^>]*href\s*=\s*[\"']?\s*javascript:"
    r"|<(?:iframe|frame|object|embed|style)\b|<script(?![^>]*\bsrc=)(?![^>]*application/json)",
    re.IGNORECASE,
)
pytestmark = pytest.mark.django_db


def unsafe_markup(html: str) -> list[str]:
    """The page's hostile markup live in `html` (a marker escaped as text is not live)."""
    escaped = [m for m in ESCAPED_ONLY if re.search(rf"<[^>]*{m}", html)]
    return [m for m in MARKERS if m in html] + escaped + LIVE.findall(html)


def assert_kept_clean(source: Source, reader) -> None:
    revision = source.current_text
    assert QUOTE in revision.text and "Zhou Enlai" in revision.text
    assert [m for m in MARKERS + ESCAPED_ONLY if m in revision.text] == []
    assert unsafe_markup(revision.html) == [] and "xss" not in revision.html
    fields = [source.title, source.abstract, source.url, *(str(c) for c in source.creators.all())]
    assert [m for m in MARKERS if any(m in field for field in fields)] == [], fields
    page = reader.get(reverse("source-detail", args=[source.pk])).content.decode()
    assert QUOTE in page and unsafe_markup(page) == []
    # The page as it was read is kept whole as the revision's raw HTML, which nothing shows
    # (the reading page above) and no API serialises.
    assert revision.html_raw == PAGE
    for name, kwargs in (("list", {}), ("detail", {"revision": revision.revision})):
        api = reader.get(reverse(f"api-source-text-{name}",
                                 kwargs={"source_pk": source.pk, **kwargs}))  # fmt: skip
        body = api.content.decode()
        assert api.status_code == 200 and "xss" not in body and "html_raw" not in body
        assert QUOTE in body or name == "list"  # the list names revisions, without text


def test_save_to_marginalia_keeps_none_of_a_pages_scripts_handlers_frames_or_styles(
    client, library, bob, vera
):
    client.force_login(bob)
    url = "https://foreignpolicy.com/2019/12/16/mao-in-moscow/"
    form = {"library": library.pk, "url": url, "html": PAGE, "keywords": ""}
    saved = client.post(reverse("web-capture"), form)
    assert saved.status_code == 200 and unsafe_markup(saved.content.decode()) == []
    reader = Client()
    reader.force_login(vera)
    assert_kept_clean(Source.objects.get(), reader)


def test_the_first_annotation_keeps_none_of_them_either(settings, library, bob, vera):
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = True
    site = Site()
    try:
        url = site.html("/2019/mao.html", PAGE)
        made = call("post", "annotations", bob, {
            "uri": url, "group": library.slug, "permissions": {"read": [f"group:{library.slug}"]},
            "tags": [], "text": "Shi Zhe says three weeks.", "document": {"title": ["Mao"]},
            "target": [{"source": url, "selector": [
                {"type": "TextQuoteSelector", "exact": QUOTE, "prefix": "Instead, ",
                 "suffix": " outside"}]}],
        })  # fmt: skip
    finally:
        site.close()
    assert made.status_code == 200, made.content
    reader = Client()
    reader.force_login(vera)
    assert_kept_clean(Source.objects.get(), reader)
