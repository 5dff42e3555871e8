"""The first screens of the reading view come with their highlights painted by the server
(`annotation_reader.reading_paragraphs`), as static/js/annotate-paint.js paints them: one
`<mark>` a run, shaded by how many highlights cover it, with their ids; the text itself
unchanged, so the script's offsets and its own painting take over without a difference.
Only what the reader may see is painted; replies and regions quote no passage."""

from __future__ import annotations

import re
from html import unescape

from django.urls import reverse

from annotations.writes import create_annotation
from tests.factories import make_annotation, make_source, make_text

TEXT = "Stalin <kept> Mao waiting & silent.\n\nThe treaty came in February."


def reading(content: str) -> str:
    return content.split('id="reading"', 1)[1].split("</div>", 1)[0]


def test_the_first_screen_arrives_with_the_highlights_the_reader_sees(
    as_user, library, alice, bob, vera
):
    source = make_source(library=library, url="https://example.org/r")
    text = make_text(source=source, text=TEXT, imported_by=alice)
    whole = make_annotation(text=text, creator=bob, quote="Stalin <kept> Mao")
    inner = make_annotation(text=text, creator=alice, quote="<kept>")
    make_annotation(text=text, creator=bob, quote="waiting", visibility="private")
    create_annotation(text=text, creator=alice, reply_to=whole, comment="Which day?")
    html = reading(as_user(vera).get(reverse("source-detail", args=[source.pk])).content.decode())
    marks = re.findall(r'<mark class="([^"]+)" data-ids="([^"]+)">([^<]*)</mark>', html)
    assert marks == [
        ("hl hl-d1", str(whole.pk), "Stalin "),
        ("hl hl-d2", f"{whole.pk} {inner.pk}", "&lt;kept&gt;"),
        ("hl hl-d1", str(whole.pk), " Mao"),
    ]
    first = re.search(r"<p [^>]*>(.*?)</p>", html)[1]
    assert unescape(re.sub(r"<[^>]+>", "", first)) == TEXT.split("\n\n")[0]  # text unchanged
    assert 'elementtiming="reading-first-screen"' in html.split("</p>")[0]
    bobs = reading(as_user(bob).get(reverse("source-detail", args=[source.pk])).content.decode())
    assert ">waiting</mark>" in bobs  # his private highlight, for him alone
