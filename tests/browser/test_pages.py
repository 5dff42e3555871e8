"""The page view in Chromium: page images with their invisible text layer; words selected
on a page image make the same annotation as the same words selected in the text view;
highlights drawn on the page within their words' boxes; pages loaded as one scrolls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.claims import link_event
from annotations.models import Annotation, Tag
from sources.pages import pdf
from sources.pages.models import Page
from tests.factories import make_annotation, make_claim, make_event, make_evidence, make_source
from tests.sources.pages.conftest import import_pdf
from tests.sources.pages.scans import english_text, russian_text, text_pdf, wrapped

PHRASE = "the national security of this country"
RUSSIAN = "Центрального народного правительства"

# The text view's selection, by code points (as tests/browser/test_annotate.py makes it).
SELECT_JS = """([start, end]) => {
  const paragraphs = [...document.querySelectorAll('#reading p[data-start]')];
  const point = (offset) => {
    const p = paragraphs.filter((el) => Number(el.dataset.start) <= offset).pop();
    const before = Array.from(p.textContent).slice(0, offset - Number(p.dataset.start));
    let left = before.join('').length;
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (left <= node.data.length) return [node, left];
      left -= node.data.length;
    }
    throw new Error('offset ' + offset + ' is not in the reading view');
  };
  const range = document.createRange();
  range.setStart(...point(start));
  range.setEnd(...point(end));
  document.getSelection().removeAllRanges();
  document.getSelection().addRange(range);
  return document.getSelection().toString();
}"""

# Where a word of the page's text layer is on the screen.
WORD_BOX_JS = """(start) => {
  const span = document.querySelector(`.page-text span[data-start="${start}"]`);
  const r = span.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
}"""

# Each highlight drawn on the pages, and the box its word is given by the stored layout.
MARKS_JS = """(id) => [
  ...document.querySelectorAll(`.page-hl[data-annotation="${id}"]`)].map((m) => {
  const sheet = m.closest('.page-sheet').getBoundingClientRect();
  const r = m.getBoundingClientRect();
  return {start: Number(m.dataset.start), end: Number(m.dataset.end),
          left: r.left - sheet.left, right: r.right - sheet.left,
          top: r.top - sheet.top, bottom: r.bottom - sheet.top,
          width: sheet.width, height: sheet.height};
})"""


@pytest.fixture(autouse=True)
def _close_documents():
    """The live server keeps the PDFs it rendered open (sources.pages.pdf); close them."""
    yield
    pdf.forget_documents()


@pytest.fixture
def pdf_source(library, alice):
    source = make_source(library=library, title="Truman and Roshchin, typed")
    lines = [wrapped(english_text())[:14], wrapped(russian_text())[:14]]
    revision = import_pdf(source, alice, text_pdf(lines), "typed.pdf")
    return source, revision


def open_pages(page, source):
    """The page view, once its annotations and its first page's words are in: a test that
    ended with requests in flight left the live server's database to the next one."""
    page.goto(reverse("source-pages", args=[source.pk]))
    page.locator("[data-pages][data-ready=true][data-annotations]").wait_for(state="attached")
    page.locator("#page-1 .page-text span").first.wait_for(state="attached")


def drag_over_words(page, first_start: int, last_start: int) -> None:
    """Press on the first word's left edge, release on the last word's right edge."""
    number = page.evaluate(
        """(start) => [...document.querySelectorAll('[data-page]')]
             .findIndex((li) => Number(li.dataset.end) > start) + 1""",
        first_start,
    )
    page.locator(f"#page-{number}").scroll_into_view_if_needed()  # its words load near view
    page.locator(f'.page-text span[data-start="{last_start}"]').wait_for(state="attached")
    # The words, not their page: a page is taller than the window.
    page.locator(f'.page-text span[data-start="{first_start}"]').scroll_into_view_if_needed()
    first = page.evaluate(WORD_BOX_JS, first_start)
    last = page.evaluate(WORD_BOX_JS, last_start)
    page.mouse.move(first["left"] + 1, (first["top"] + first["bottom"]) / 2)
    page.mouse.down()
    page.mouse.move(last["right"] - 1, (last["top"] + last["bottom"]) / 2, steps=10)
    page.mouse.up()


def word_starting(revision, index: int) -> int:
    """The start of the word of the page layout that begins at `index` of the text."""
    for page in Page.objects.filter(text=revision):
        for word in page.words:
            if word[0] == index:
                return word[0]
    raise AssertionError(f"no word begins at {index}")


def last_word_start(revision, end: int) -> int:
    for page in Page.objects.filter(text=revision):
        for word in page.words:
            if word[1] == end:
                return word[0]
    raise AssertionError(f"no word ends at {end}")


@pytest.mark.parametrize("phrase", [PHRASE, RUSSIAN])
def test_words_selected_on_the_page_are_the_annotation_the_text_view_makes(
    page, sign_in, alice, pdf_source, phrase
):
    source, revision = pdf_source
    start = revision.text.index(phrase)
    end = start + len(phrase)
    sign_in(page, alice)

    open_pages(page, source)
    drag_over_words(page, word_starting(revision, start), last_word_start(revision, end))
    page.get_by_role("button", name="Highlight").click()
    page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
    on_the_page = Annotation.objects.get()
    on_the_page_span = (on_the_page.start, on_the_page.end, on_the_page.exact)
    on_the_page.delete()

    page.goto(reverse("source-detail", args=[source.pk]))
    page.locator("[data-annotate][data-state=ready]").wait_for()
    assert page.evaluate(SELECT_JS, [start, end]) == phrase
    page.get_by_role("dialog", name="Annotate the selected passage").get_by_role(
        "button", name="Highlight"
    ).click()
    page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
    in_the_text = Annotation.objects.get()
    assert on_the_page_span == (in_the_text.start, in_the_text.end, in_the_text.exact)
    assert in_the_text.exact == phrase
    assert page.js_errors == []


def test_a_highlight_shows_on_the_page_within_its_words_boxes(page, sign_in, alice, pdf_source):
    source, revision = pdf_source
    quote = PHRASE
    annotation = make_annotation(text=revision, creator=alice, quote=quote)
    sign_in(page, alice)
    open_pages(page, source)
    page.locator(f'.page-hl[data-annotation="{annotation.pk}"]').first.wait_for()
    marks = page.evaluate(MARKS_JS, annotation.pk)
    words = [
        w for w in Page.objects.get(text=revision, index=0).words
        if w[0] < annotation.end and w[1] > annotation.start
    ]  # fmt: skip
    assert [(m["start"], m["end"]) for m in marks] == [(w[0], w[1]) for w in words]
    assert " ".join(revision.text[m["start"] : m["end"]] for m in marks) == quote
    for mark, (_, _, left, top, right, bottom) in zip(marks, words, strict=True):
        x = (left / 10_000 * mark["width"], right / 10_000 * mark["width"])
        y = (top / 10_000 * mark["height"], bottom / 10_000 * mark["height"])
        assert x[0] - 1 <= mark["left"] < mark["right"] <= x[1] + 1
        assert y[0] - 1 <= mark["top"] < mark["bottom"] <= y[1] + 1
    assert page.js_errors == []


def test_a_reader_sees_highlights_but_is_offered_no_highlight_button(
    page, sign_in, alice, vera, pdf_source
):
    source, revision = pdf_source
    make_annotation(text=revision, creator=alice, quote=PHRASE)
    sign_in(page, vera)
    open_pages(page, source)
    page.locator(".page-hl").first.wait_for()
    start = revision.text.index(PHRASE)
    drag_over_words(page, start, last_word_start(revision, start + len(PHRASE)))
    page.locator("[data-role=toolbar]").wait_for()
    assert page.get_by_role("button", name="Highlight").is_hidden()
    assert page.get_by_role("button", name="Show in text").is_visible()


def test_pages_and_their_words_load_as_the_reader_scrolls(page, sign_in, alice, library):
    source = make_source(library=library, title="Thirty pages")
    lines = wrapped(english_text())[:8]
    import_pdf(source, alice, text_pdf([lines] * 30), "thirty.pdf")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, alice)
    open_pages(page, source)
    page.locator("#page-1 .page-text span").first.wait_for()
    last = Page.objects.get(text__source=source, index=29)
    assert not any(f"/pages/{last.pk}/" in url for url in requested)
    page.evaluate(  # a function, not a string: the page's CSP refuses eval
        """() => { const img = document.querySelector('#page-1 img');
                   return img.complete || new Promise((done) => { img.onload = done; }); }"""
    )
    assert page.evaluate("document.querySelector('#page-1 img').naturalWidth") > 0
    page.locator("#page-30").scroll_into_view_if_needed()
    page.locator("#page-30 .page-text span").first.wait_for()
    assert any(f"/pages/{last.pk}/image/" in url for url in requested)
    assert any(f"/pages/{last.pk}/words/" in url for url in requested)
    assert page.js_errors == []


def test_words_ocr_doubted_are_marked_on_the_page(page, sign_in, alice, pdf_source):
    source, revision = pdf_source
    first = Page.objects.get(text=revision, index=0)
    words = [[*w, 95] for w in first.words]
    words[2][6] = 31
    Page.objects.filter(pk=first.pk).update(words=words)
    sign_in(page, alice)
    open_pages(page, source)
    doubted = page.locator("#page-1 .page-text span.ocr-doubt")
    doubted.first.wait_for(state="attached")
    assert doubted.count() == 1
    assert doubted.get_attribute("data-confidence") == "31"


SHEET_BOX_JS = """(n) => {
  const r = document.querySelector(`#page-${n} .page-sheet`).getBoundingClientRect();
  return {left: r.left, top: r.top, width: r.width, height: r.height};
}"""


def test_a_region_drawn_on_a_page_becomes_an_annotation_with_comment_and_tags(
    page, sign_in, alice, pdf_source
):
    source, revision = pdf_source
    sign_in(page, alice)
    open_pages(page, source)
    page.get_by_role("button", name="Mark a region").click()
    page.locator("#page-1 .page-sheet").scroll_into_view_if_needed()
    box = page.evaluate(SHEET_BOX_JS, 1)
    at = lambda x, y: (box["left"] + box["width"] * x / 100, box["top"] + box["height"] * y / 100)  # noqa: E731
    page.mouse.move(*at(60, 5))
    page.mouse.down()
    page.mouse.move(*at(90, 20), steps=8)
    page.mouse.up()
    form = page.get_by_role("group", name="Region on page 1")
    form.get_by_label("Comment").fill("The registry stamp")
    form.get_by_role("combobox", name="Tags").fill("stamp, provenance")
    form.get_by_role("button", name="Save region").click()
    page.get_by_role("status").filter(has_text="Region saved on page 1").wait_for()

    region = Annotation.objects.get()
    assert (region.text_id, region.page, region.comment_raw) == (
        revision.pk,
        0,
        "The registry stamp",
    )
    assert sorted(t.name for t in region.tags.all()) == ["provenance", "stamp"]
    for key, wanted in {"x": 60, "y": 5, "w": 30, "h": 15}.items():
        assert region.region[key] == pytest.approx(wanted, abs=0.5), key
    mark = page.locator(f'.page-region[data-annotation="{region.pk}"]')
    assert "The registry stamp" in mark.get_attribute("title")
    crop = page.request.get(mark.get_attribute("href"))
    assert crop.status == 200 and crop.headers["content-type"] == "image/png"
    assert page.js_errors == []

    # The region as a claim's evidence: the claim and event pages show the page area.
    claim = make_claim(library=source.library, creator=alice, statement="The record was filed.")
    make_evidence(claim=claim, annotation=region, creator=alice)
    event = make_event(library=source.library, creator=alice)
    link_event(claim, event, relation="about")
    for url in (reverse("claim-detail", args=[claim.pk]), reverse("event-detail", args=[event.pk])):
        page.goto(url)
        image = page.get_by_role("img", name="Region of page 1: The registry stamp")
        image.wait_for()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        shown = image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
        assert shown[0] > 0 and shown[0] > shown[1], shown  # wider than tall, as drawn (30 × 15 %)
    assert page.js_errors == []


def test_a_region_is_marked_with_the_keyboard_alone(page, sign_in, alice, pdf_source):
    source, revision = pdf_source
    sign_in(page, alice)
    open_pages(page, source)
    page.get_by_role("button", name="Mark a region").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # on the first page
    form = page.get_by_role("group", name="Region on page 1")
    for label, value in {"x": "5", "y": "70", "width": "40", "height": "12.5"}.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("Comment").fill("Signature")
    form.get_by_label("Comment").press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Save region
    page.get_by_role("status").filter(has_text="Region saved").wait_for()
    assert Annotation.objects.get().region == {"x": 5, "y": 70, "w": 40, "h": 12.5}


def test_a_region_is_tagged_with_the_tag_widget_and_its_suggestions_in_any_script(
    page, sign_in, alice, pdf_source
):
    source, _ = pdf_source
    Tag.objects.for_names(source.library, ["person:Joseph Stalin", "person:Mao Zedong"])
    sign_in(page, alice)
    open_pages(page, source)
    page.get_by_role("button", name="Mark a region").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # on the first page
    form = page.get_by_role("group", name="Region on page 1")
    tags = form.get_by_role("combobox", name="Tags")
    tags.fill("Сталин")  # the tag is written in Latin letters
    form.get_by_role("option", name="person:Joseph Stalin").click()
    tags.fill("мао")
    form.get_by_role("option", name="person:Mao Zedong").wait_for()
    tags.press("ArrowDown")
    tags.press("Enter")
    tags.press_sequentially("place:Moscow,")  # a comma ends a tag, as everywhere
    chosen = form.get_by_role("list", name="Chosen tags").get_by_role("listitem")
    assert chosen.count() == 3
    form.get_by_role("button", name="Save region").click()
    page.get_by_role("status").filter(has_text="Region saved on page 1").wait_for()
    assert sorted(t.name for t in Annotation.objects.get().tags.all()) == [
        "person:Joseph Stalin",
        "person:Mao Zedong",
        "place:Moscow",
    ]
    assert page.js_errors == []


def test_a_reader_is_not_offered_to_mark_a_region(page, sign_in, vera, pdf_source):
    source, _ = pdf_source
    sign_in(page, vera)
    open_pages(page, source)
    assert page.get_by_role("button", name="Mark a region").count() == 0


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                    return r.bottom > 0 && r.top < innerHeight; }""",
        selector,
    )


def test_switching_views_keeps_the_reading_position(page, sign_in, alice, library):
    source = make_source(library=library, title="Six pages")
    lines = wrapped(english_text())[:30]
    revision = import_pdf(source, alice, text_pdf([lines] * 6), "six.pdf")
    fifth = Page.objects.get(text=revision, index=4)
    sign_in(page, alice)
    page.goto(reverse("source-detail", args=[source.pk]))
    paragraph = page.evaluate(
        """(offset) => [...document.querySelectorAll('#reading p[data-start]')]
             .filter((p) => Number(p.dataset.start) <= offset).pop().dataset.start""",
        fifth.start + 5,
    )
    page.evaluate(
        "(s) => document.querySelector(`#reading p[data-start='${s}']`).scrollIntoView()",
        paragraph,
    )
    page.locator("a[data-view-switch]").click()
    page.locator("[data-pages][data-ready=true]").wait_for()
    page.locator("#page-5 .page-text span").first.wait_for(state="attached")
    page.wait_for_timeout(300)
    assert in_view(page, "#page-5")
    assert not in_view(page, "#page-1")

    page.evaluate("document.querySelector('#page-3').scrollIntoView()")
    page.locator("#page-3 .page-text span").first.wait_for(state="attached")
    third = Page.objects.get(text=revision, index=2)
    page.locator("a[data-view-switch]").click()
    page.wait_for_url("**#offset-*")
    offset = int(page.url.rsplit("#offset-", 1)[1])
    assert third.start <= offset < third.end
    # The paragraph is held at the top while the page settles (paragraphs above it drawn
    # at their real heights); then it must still be in view, with nothing holding it.
    page.wait_for_load_state("load")
    page.locator("#reading:not([data-holding])").wait_for(state="attached")
    held = page.evaluate(
        """(offset) => [...document.querySelectorAll('#reading p[data-start]')]
             .filter((p) => Number(p.dataset.start) <= offset).pop().dataset.start""",
        offset,
    )
    assert in_view(page, f"#reading p[data-start='{held}']")
    assert page.js_errors == []


def test_words_ocr_doubted_are_underlined_in_the_text_view(page, sign_in, alice, pdf_source):
    source, revision = pdf_source
    first = Page.objects.get(text=revision, index=0)
    words = [[*w, 95] for w in first.words]
    words[2][6] = 31
    Page.objects.filter(pk=first.pk).update(words=words)
    sign_in(page, alice)
    page.goto(reverse("source-detail", args=[source.pk]))
    page.locator("#reading[data-doubts]").wait_for(state="attached")
    assert page.evaluate("CSS.highlights.get('ocr-doubt').size") == 1
    underlined = page.evaluate("[...CSS.highlights.get('ocr-doubt')][0].toString()")
    assert underlined == revision.text[words[2][0] : words[2][1]]
    assert page.js_errors == []


def test_a_reader_sees_the_regions_marked_on_a_page_where_they_were_drawn(
    page, sign_in, alice, vera, pdf_source
):
    from annotations.writes import create_annotation

    source, revision = pdf_source
    region = {"x": 50.0, "y": 10.0, "w": 25.0, "h": 40.0}
    marked = create_annotation(
        text=revision, creator=alice, page=1, region=region, comment="A stamp", tags=["stamp"]
    )
    sign_in(page, vera)
    open_pages(page, source)
    mark = page.locator(f'#page-2 .page-region[data-annotation="{marked.pk}"]')
    mark.wait_for()
    assert page.locator("#page-1 .page-region").count() == 0
    assert mark.get_attribute("aria-label") == "Region of page 2: A stamp · stamp"
    sheet = page.evaluate(SHEET_BOX_JS, 2)
    box = mark.bounding_box()
    assert box["x"] - sheet["left"] == pytest.approx(sheet["width"] * 0.5, abs=2)
    assert box["y"] - sheet["top"] == pytest.approx(sheet["height"] * 0.1, abs=2)
    assert box["width"] == pytest.approx(sheet["width"] * 0.25, abs=2)
    assert box["height"] == pytest.approx(sheet["height"] * 0.4, abs=2)
