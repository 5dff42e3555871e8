"""The reading view of a long text: the page holds its first screens, the rest of the
paragraphs (`source-text-blocks`) and annotations (`text-annotations`) come as JSON."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import make_annotation, make_source, make_text

TEXT = "\n\n".join(f"Paragraph {n} of the record, Stalin and Mao." for n in range(40))


@pytest.fixture
def long_source(library, alice, monkeypatch):
    monkeypatch.setattr("sources.views.FIRST_SCREEN_CHARS", 200)
    monkeypatch.setattr("sources.views.READING_CHUNK_CHARS", 400)
    source = make_source(library=library, title="A long record")
    text = make_text(source=source, text=TEXT, imported_by=alice)
    make_annotation(text=text, creator=alice, quote="Paragraph 1 ")
    make_annotation(text=text, creator=alice, quote="Paragraph 30")
    make_annotation(text=text, creator=alice, quote="Paragraph 35", visibility="private")
    return source


def test_the_page_holds_the_first_screens_and_says_where_the_rest_is(as_user, vera, long_source):
    content = as_user(vera).get(reverse("source-detail", args=[long_source.pk])).content.decode()
    assert content.count("<p data-start=") == 4  # 4 paragraphs of ~45 code points ≤ 200
    assert 'data-chunks="4 13 22 31"' in content
    assert '"count": 2' in content  # both library annotations; the private one is alice's
    # The slow request is asked for with the page; the paragraphs, quick, by the script.
    text = long_source.current_text
    preloads = re.findall(
        r'<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]+)"', content
    )
    window_end = TEXT.index("Paragraph 4 ") - 2  # the end of the fourth paragraph
    assert preloads == [f"{reverse('text-annotations', args=[text.pk])}?after={window_end}"]


def test_blocks_come_in_chunks_with_offsets_and_page_breaks(as_user, vera, long_source):
    url = reverse("source-text-blocks", args=[long_source.pk])
    body = as_user(vera).get(url, {"from": 4, "revision": 1}).json()
    assert body["next"] == 13 and len(body["blocks"]) == 9
    start, text, breaks = body["blocks"][0]
    assert TEXT[start : start + len(text)] == text == "Paragraph 4 of the record, Stalin and Mao."
    assert breaks == []
    assert as_user(vera).get(url, {"from": 31}).json()["next"] is None


def test_the_rest_of_the_annotations_respects_who_sees_what(as_user, alice, vera, long_source):
    text = long_source.texts.get()
    url = reverse("text-annotations", args=[text.pk])
    assert [a["exact"] for a in as_user(vera).get(url, {"after": 200}).json()] == ["Paragraph 30"]
    mine = as_user(alice).get(url, {"after": 200}).json()
    assert [a["exact"] for a in mine] == ["Paragraph 30", "Paragraph 35"]


def test_outsiders_get_404_and_bad_offsets_400_naming_them(as_user, mallory, vera, long_source):
    text = long_source.texts.get()
    blocks = reverse("source-text-blocks", args=[long_source.pk])
    annotations = reverse("text-annotations", args=[text.pk])
    assert as_user(mallory).get(blocks).status_code == 404
    assert as_user(mallory).get(annotations).status_code == 404
    assert "from" in as_user(vera).get(blocks, {"from": "-1"}).json()
    assert "after" in as_user(vera).get(annotations, {"after": "x"}).json()
    assert as_user(vera).post(blocks).status_code == 405
