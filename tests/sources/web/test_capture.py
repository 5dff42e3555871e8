"""*Save to Marginalia*: a web page's metadata and a snapshot of its main text.

The page below is written here in the shape news and journal sites publish (Highwire
`citation_*` tags as Google Scholar asks for them, JSON-LD `NewsArticle` as schema.org
defines it, Open Graph, a canonical link, navigation, a cookie banner and comments around
the article); the extraction itself is trafilatura's.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotations.models import AnchorState
from sources.models import Source
from sources.web.capture import capture_page
from sources.web.extract import page_metadata
from tests.factories import make_annotation

URL = "https://foreignpolicy.com/2019/12/16/mao-stalin-moscow-visit-1949/?utm_source=twitter#top"
CANONICAL = "https://foreignpolicy.com/2019/12/16/mao-stalin-moscow-visit-1949/"
PARAGRAPHS = [
    "When Mao Zedong arrived in Moscow on December 16, 1949, he expected to be received as "
    "the leader of a victorious revolution and to negotiate a new treaty at once.",
    "Instead, Stalin kept him waiting for weeks in a dacha outside the city. Mao complained "
    "that he had come only to eat, sleep and defecate.",
    "The Treaty of Friendship, Alliance and Mutual Assistance was signed only on February "
    "14, 1950, after Zhou Enlai had joined the negotiations.",
]
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Mao in Moscow | Foreign Policy</title>
<link rel="canonical" href="{CANONICAL}">
<meta name="citation_title" content="Mao in Moscow: The Visit That Shaped an Alliance">
<meta name="citation_author" content="Westad, Odd Arne">
<meta name="citation_author" content="Chen Jian">
<meta name="citation_publication_date" content="2019/12/16">
<meta name="citation_doi" content="doi:10.1000/fp.2019.1216">
<meta property="og:site_name" content="Foreign Policy">
<meta property="og:type" content="article">
<meta name="description" content="How Stalin kept Mao waiting.">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Mao in Moscow", "datePublished": "2019-12-16T08:00:00Z",
 "publisher": {{"@type": "Organization", "name": "Foreign Policy"}}}}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/subscribe">Subscribe to Foreign Policy for $1</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<main><article><h1>Mao in Moscow</h1>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
</article></main>
<section class="comments"><p>Great article!!! Visit my site for cheap watches.</p></section>
<footer>© 2019 The FP Group. All rights reserved. Privacy policy.</footer>
</body></html>"""


def test_the_page_says_what_it_is():
    item = page_metadata(PAGE, URL)
    assert item["title"] == "Mao in Moscow: The Visit That Shaped an Alliance"
    assert item["author"] == [{"family": "Westad", "given": "Odd Arne"},
                              {"family": "Jian", "given": "Chen"}]  # fmt: skip
    assert item["issued"] == {"date-parts": [[2019, 12, 16]]}
    assert item["DOI"] == "10.1000/fp.2019.1216" and item["URL"] == CANONICAL
    assert item["container-title"] == "Foreign Policy"
    assert item["type"] == "article-newspaper" and "accessed" in item


@pytest.mark.parametrize(
    ("visited", "wanted"),
    [
        (URL, "https://foreignpolicy.com/2019/12/16/mao-stalin-moscow-visit-1949/#top"),
        ("https://example.org/a?id=7&utm_medium=email&Fbclid=x&q=mao%20zedong&gclid",
         "https://example.org/a?id=7&q=mao%20zedong"),
        ("https://example.org/a?p=2", "https://example.org/a?p=2"),
    ],
)  # fmt: skip
def test_a_page_without_a_canonical_link_cites_its_address_without_tracking(visited, wanted):
    page = PAGE.replace(f'<link rel="canonical" href="{CANONICAL}">', "")
    assert page_metadata(page, visited)["URL"] == wanted


def test_a_saved_page_keeps_its_article_and_not_its_wrapping(library, alice):
    kept = capture_page(library, url=URL, html=PAGE, user=alice, keywords=["Sino-Soviet"])
    assert kept.created
    source = kept.source
    assert (source.title, source.url, source.keywords) == (
        "Mao in Moscow: The Visit That Shaped an Alliance", CANONICAL, ["Sino-Soviet"])  # fmt: skip
    text = kept.revision.text
    for paragraph in PARAGRAPHS:
        assert paragraph in text
    for wrapping in ("Subscribe", "cookies", "cheap watches", "All rights reserved"):
        assert wrapping not in text
    assert "Snapshot of" in kept.revision.note and "trafilatura" in kept.revision.note
    assert kept.revision.imported_by == alice
    # The page itself, as it was read, is kept beside the snapshot (never shown).
    assert kept.revision.html_raw == PAGE
    assert "Subscribe" not in kept.revision.html and PARAGRAPHS[0] in kept.revision.html


def test_saving_a_page_again_adds_a_revision_and_carries_the_annotations(library, alice, bob):
    first = capture_page(library, url=URL, html=PAGE, user=alice)
    note = make_annotation(text=first.revision, creator=bob, quote="kept him waiting for weeks")
    changed = PAGE.replace("for weeks in a dacha", "for weeks, as guests recall, in a dacha")
    again = capture_page(library, url=CANONICAL + "?fbclid=abc", html=changed, user=bob)
    assert not again.created and again.source == first.source
    assert again.revision.revision == first.revision.revision + 1
    assert Source.objects.filter(library=library).count() == 1
    note.refresh_from_db()
    assert note.text_id == again.revision.pk and note.state != AnchorState.ORPHANED


@pytest.mark.parametrize(
    ("url", "html", "field"),
    [
        ("ftp://example.org/x", PAGE, "url"),
        (URL, "<html><head><title>Empty</title></head><body></body></html>", "html"),
    ],
)
def test_what_cannot_be_kept_is_refused_naming_the_field(library, alice, url, html, field):
    with pytest.raises(ValidationError) as refused:
        capture_page(library, url=url, html=html, user=alice)
    assert field in refused.value.message_dict
    assert not Source.objects.exists()


def test_the_window_needs_a_sign_in_that_keeps_its_opener(client, db):
    response = client.get(reverse("web-capture"))
    assert response.status_code == 302 and "next=/capture/" in response["Location"]
    assert client.get(response["Location"])["Cross-Origin-Opener-Policy"] == "unsafe-none"


def test_an_editor_saves_and_a_reader_cannot(client, library, bob, vera, settings):
    client.force_login(bob)
    page = client.get(reverse("web-capture"))
    assert page.status_code == 200 and page["Cross-Origin-Opener-Policy"] == "unsafe-none"
    form = {"library": library.pk, "url": URL, "html": PAGE, "keywords": "cold war, Mao"}
    saved = client.post(reverse("web-capture"), form)
    assert saved.status_code == 200 and b"is now in" in saved.content
    assert Source.objects.get().keywords == ["cold war", "Mao"]
    client.force_login(vera)
    refused = client.post(reverse("web-capture"), form)  # vera only reads the library
    assert refused.status_code == 400 and b"to no library yet" in refused.content
    settings.MAX_UPLOAD_BYTES = 1000
    client.force_login(bob)
    too_big = client.post(reverse("web-capture"), form)
    assert too_big.status_code == 400 and b"larger than" in too_big.content
    assert Source.objects.count() == 1


def test_a_page_already_held_is_shown_and_nothing_is_written_until_the_reader_chooses(
    client, library, alice, bob
):
    first = capture_page(library, url=URL, html=PAGE, user=alice)
    client.force_login(bob)
    form = {"library": library.pk, "url": CANONICAL + "?fbclid=x", "html": PAGE, "keywords": ""}
    same = client.post(reverse("web-capture"), form)
    page = same.content.decode()
    assert same.status_code == 200 and "already holds this page" in page
    assert "is the same as then" in page and "revision 1" in page
    assert first.source.get_absolute_url() in page
    assert 'name="held" value="revision" checked' in page
    assert first.source.texts.count() == 1 and Source.objects.count() == 1
    changed = {**form, "html": PAGE.replace("for weeks in a dacha", "for a month in a dacha")}
    offered = client.post(reverse("web-capture"), changed).content.decode()
    assert "has changed since" in offered and first.source.texts.count() == 1
    kept = client.post(reverse("web-capture"), {**changed, "held": "revision"})
    assert kept.status_code == 200 and b"revision 2 of" in kept.content
    assert first.source.texts.count() == 2 and Source.objects.count() == 1
    separate = client.post(reverse("web-capture"), {**changed, "held": "separate"})
    assert separate.status_code == 200 and b"is now in" in separate.content
    assert Source.objects.count() == 2 and first.source.texts.count() == 2
    wrong = client.post(reverse("web-capture"), {**changed, "held": "overwrite"})
    assert wrong.status_code == 400 and Source.objects.count() == 2
