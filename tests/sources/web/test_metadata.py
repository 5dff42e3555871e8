"""What a page says of itself when it speaks only Dublin Core, or only JSON-LD.

Archives and institutional repositories (DSpace, Omeka, the Wilson Center's digital archive)
write Dublin Core, as `DC.*` or as DCMI terms `DCTERMS.*`; publishers and newspapers write
schema.org JSON-LD, often as one node of an `@graph` (Yoast, Project MUSE), with authors as
`Person` objects, a name string, or an `Organization`, and the journal reached through
`isPartOf` (issue → volume → periodical).

trafilatura guesses some of these too; here it guesses nothing, so that what is checked is
Marginalia's own reading, whatever a trafilatura release changes.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from sources.web.extract import page_metadata

BODY = (
    "<body><article><h1>On the record</h1><p>"
    + "The telegram reports on the preparations for closing the sector border in Berlin. " * 8
    + "</p></article></body>"
)
RECORD = "https://digitalarchive.wilsoncenter.org/document/116205"


@pytest.fixture(autouse=True)
def _no_guessing(monkeypatch):
    guesser = SimpleNamespace(extract_metadata=lambda html, default_url: None)
    monkeypatch.setattr("sources.web.extract.trafilatura_module", lambda: guesser)


def _dublin_core(prefix: str, date: str) -> str:
    return f"""<!DOCTYPE html><html><head><title>Digital Archive</title>
<meta name="{prefix}.title" content="Telegram from Ambassador Pervukhin to Khrushchev">
<meta name="{prefix}.creator" content="Pervukhin, Mikhail">
<meta name="{prefix}.creator" content="Hope M. Harrison">
<meta name="{prefix}.{date}" content="1961-08-04">
<meta name="{prefix}.publisher" content="Wilson Center Digital Archive">
<meta name="{prefix}.type" content="Text">
<meta name="{prefix}.language" content="ru">
</head>{BODY}</html>"""


@pytest.mark.parametrize(
    ("prefix", "date"),
    [("DC", "date"), ("dc", "date"), ("DCTERMS", "issued"), ("dcterms", "created")],
)
def test_a_page_with_only_dublin_core_is_read_from_it(prefix, date):
    item = page_metadata(_dublin_core(prefix, date), RECORD + "?utm_source=newsletter")
    assert item["title"] == "Telegram from Ambassador Pervukhin to Khrushchev"
    assert item["author"] == [{"family": "Pervukhin", "given": "Mikhail"},
                              {"family": "Harrison", "given": "Hope M."}]  # fmt: skip
    assert item["issued"] == {"date-parts": [[1961, 8, 4]]}
    assert item["container-title"] == "Wilson Center Digital Archive"
    assert item["language"] == "ru"
    assert (item["type"], item["URL"]) == ("webpage", RECORD)


def _json_ld(*nodes: dict, graph: bool = False) -> str:
    data = {"@context": "https://schema.org", "@graph": list(nodes)} if graph else nodes[0]
    return f"""<!DOCTYPE html><html><head><title>Page | Site</title>
<script type="application/ld+json">{json.dumps(data)}</script>
</head>{BODY}</html>"""


ARTICLE = {
    "@type": "ScholarlyArticle",
    "headline": "The Sino-Soviet Split Reconsidered",
    "author": [
        {"@type": "Person", "name": "Lorenz M. Lüthi"},
        {"@type": "Person", "givenName": "Sergey", "familyName": "Radchenko"},
        {"@type": "Organization", "name": "Cold War International History Project"},
    ],
    "datePublished": "2008-03",
    "isPartOf": {
        "@type": "PublicationIssue",
        "issueNumber": "2",
        "isPartOf": {
            "@type": "PublicationVolume",
            "volumeNumber": "10",
            "isPartOf": {"@type": "Periodical", "name": "Journal of Cold War Studies"},
        },
    },
    "publisher": {"@type": "Organization", "name": "MIT Press"},
}
MUSE = "https://muse.jhu.edu/pub/6/article/233712"


@pytest.mark.parametrize("graph", [False, True])
def test_a_scholarly_article_in_json_ld_names_its_authors_and_journal(graph):
    website = {"@type": "WebSite", "name": "Project MUSE", "url": "https://muse.jhu.edu/"}
    page = _json_ld(website, ARTICLE, graph=True) if graph else _json_ld(ARTICLE)
    item = page_metadata(page, MUSE + "?fbclid=abc")
    assert item["title"] == "The Sino-Soviet Split Reconsidered"
    assert item["author"] == [
        {"family": "Lüthi", "given": "Lorenz M."},
        {"family": "Radchenko", "given": "Sergey"},
        {"literal": "Cold War International History Project"},
    ]
    assert item["issued"] == {"date-parts": [[2008, 3]]}
    assert item["container-title"] == "Journal of Cold War Studies"
    assert (item["type"], item["URL"]) == ("article-journal", MUSE)


def test_a_news_article_in_json_ld_with_a_named_author_and_no_headline():
    story = {"@type": "NewsArticle", "name": "Berlin Wall: 60 years on", "author": "Kate Connolly",
             "datePublished": "2021-08-13T05:00:00+00:00",
             "publisher": {"@type": "NewsMediaOrganization", "name": "The Guardian"}}  # fmt: skip
    url = "https://www.theguardian.com/world/2021/aug/13/berlin-wall-60-years-on"
    item = page_metadata(_json_ld(story, graph=True), url)
    assert item["title"] == "Berlin Wall: 60 years on"
    assert item["author"] == [{"family": "Connolly", "given": "Kate"}]
    assert item["issued"] == {"date-parts": [[2021, 8, 13]]}
    assert item["container-title"] == "The Guardian"
    assert (item["type"], item["URL"]) == ("article-newspaper", url)
