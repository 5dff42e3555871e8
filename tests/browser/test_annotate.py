"""The annotating reading view in Chromium: select, highlight, tag, comment, edit,
delete with undo; offsets counted in code points; roles enforced."""

from __future__ import annotations

import io
import time

import pytest
from django.urls import reverse
from PIL import Image

from annotations.models import Annotation
from tests.factories import make_annotation, make_source, make_text

READING = (
    "Record of conversation between Comrade I. V. Stalin and Chairman Mao Zedong.\n\n"
    "Mao said the treaty mattered more than the loan. Stalin asked about the railway.\n\n"
    "The conversation lasted two hours."
)
# Characters outside the Basic Multilingual Plane (two UTF-16 units each), Cyrillic with
# combining stress marks that NFC keeps as two code points, and Chinese, all BEFORE the
# passages the tests select.
ASTRAL = (
    "𠮷野家で食べた 👍🏽 — Ю́ля и я́блоко: «При́вет, мир». 毛泽东同志。\n\n"
    "第二段 🇨🇳 x\u0301 Сталин сказал: 𝔗𝔥𝔢 treaty is 👍 signed.\n\n"
    "Last paragraph 😀 with the word railway."
)

# The test's own code-point → DOM conversion (Array.from iterates code points), kept
# apart from static/js/codepoints.js so that it checks that module instead of reusing it.
SELECT_JS = """([start, end]) => {
  const paragraphs = [...document.querySelectorAll('#reading p[data-start]')];
  const point = (offset) => {
    const p = paragraphs.filter((el) => Number(el.dataset.start) <= offset).pop();
    const before = Array.from(p.textContent).slice(0, offset - Number(p.dataset.start));
    const units = before.join('').length;
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    let left = units;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (left <= node.data.length) return [node, left];
      left -= node.data.length;
    }
    throw new Error('offset ' + offset + ' is not in the reading view');
  };
  const range = document.createRange();
  range.setStart(...point(start));
  range.setEnd(...point(end));
  const selection = document.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return selection.toString();
}"""

MARKS_JS = """(id) => [...document.querySelectorAll(`#reading mark[data-ids~="${id}"]`)]
  .map((m) => m.textContent).join('')"""


@pytest.fixture
def reading(library, alice):
    source = make_source(library=library, title="Stalin and Mao, 16 December 1949")
    make_text(source=source, text=READING, imported_by=alice)
    return source


def open_source(page, source):
    page.goto(reverse("source-detail", args=[source.pk]))
    page.locator("[data-annotate][data-state=ready]").wait_for()


def select(page, text, passage, occurrence=0):
    """Select `passage` (its `occurrence`-th appearance in `text`) by code points."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(passage, start + 1)
    return page.evaluate(SELECT_JS, [start, start + len(passage)])


def popover(page):
    return page.get_by_role("dialog", name="Annotate the selected passage")


def card_of(page, annotation):
    return page.locator(f'.ann-card[data-id="{annotation.pk}"]')


def test_select_highlight_and_tag_survive_a_reload(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    assert select(page, READING, "the treaty mattered") == "the treaty mattered"
    popover(page).get_by_role("button", name="Tag").click()
    tags = popover(page).get_by_role("combobox", name="Tags")
    tags.fill("person:Mao Zedong")
    tags.press("Enter")
    popover(page).get_by_role("button", name="Save").click()
    page.locator("#reading mark.hl").first.wait_for()

    saved = Annotation.objects.get()
    assert (saved.exact, saved.creator) == ("the treaty mattered", alice)
    assert [t.name for t in saved.tags.all()] == ["person:Mao Zedong"]
    page.reload()
    page.locator("[data-annotate][data-state=ready]").wait_for()
    assert page.evaluate(MARKS_JS, saved.pk) == "the treaty mattered"
    card = page.locator(f'.ann-card[data-id="{saved.pk}"]')
    assert card.locator(".chip").inner_text().replace("\n", "") == "person:Mao Zedong"
    assert page.js_errors == []


def test_mouse_drag_selects_and_highlights(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    box = page.evaluate(
        """(word) => {
          const p = document.querySelectorAll('#reading p[data-start]')[1];
          const node = p.firstChild;
          const at = node.data.indexOf(word);
          const rect = (i) => {
            const r = document.createRange();
            r.setStart(node, i);
            r.setEnd(node, i + 1);
            return r.getBoundingClientRect();
          };
          const first = rect(at), last = rect(at + word.length - 1);
          return {x1: first.left + 1, y: (first.top + first.bottom) / 2, x2: last.right - 1};
        }""",
        "railway",
    )
    page.mouse.move(box["x1"], box["y"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y"], steps=8)
    page.mouse.up()
    popover(page).get_by_role("button", name="Highlight").click()
    page.locator("#reading mark.hl").wait_for()

    saved = Annotation.objects.get()
    assert saved.exact == "railway"
    assert READING[saved.start : saved.end] == "railway"
    assert page.evaluate(MARKS_JS, saved.pk) == "railway"


def test_astral_text_before_the_selection_gives_the_servers_offsets(page, sign_in, alice, library):
    source = make_source(library=library, title="Astral")
    text = make_text(source=source, text=ASTRAL, imported_by=alice).text
    sign_in(page, alice)
    open_source(page, source)
    for passage, occurrence in (("treaty is 👍 signed", 0), ("railway", 0), ("Ю́ля", 0)):
        select(page, text, passage, occurrence)
        popover(page).get_by_role("button", name="Highlight").click()
        page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
        saved = Annotation.objects.latest("pk")
        start = text.index(passage)  # Python counts code points, as the W3C model does
        assert (saved.start, saved.end) == (start, start + len(passage))
        assert text[saved.start : saved.end] == saved.exact == passage
        assert page.evaluate(MARKS_JS, saved.pk) == passage
    page.reload()
    page.locator("[data-annotate][data-state=ready]").wait_for()
    for saved in Annotation.objects.all():
        assert page.evaluate(MARKS_JS, saved.pk) == saved.exact
    assert page.js_errors == []


def test_codepoints_module_converts_both_ways(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    result = page.evaluate(
        """async () => {
          const m = await import('/static/js/codepoints.js');
          const text = 'a𠮷b👍🏽c Ю́ д';
          return {
            length: m.codePointLength(text),
            toUnits: [0, 1, 2, 3, 4, 5, 6].map((cp) => m.codePointsToUnits(text, cp)),
            toCodePoints: [0, 1, 3, 4, 6, 8, 9].map((u) => m.unitsToCodePoints(text, u)),
            insidePairStart: m.unitsToCodePoints(text, 2),
            insidePairEnd: m.unitsToCodePoints(text, 2, {snap: 'end'}),
            slice: m.sliceCodePoints(text, 1, 5),
          };
        }"""
    )
    text = "a𠮷b👍🏽c Ю́ д"
    assert result["length"] == len(text)
    assert result["toUnits"] == [0, 1, 3, 4, 6, 8, 9]
    assert result["toCodePoints"] == [0, 1, 2, 3, 4, 5, 6]
    assert (result["insidePairStart"], result["insidePairEnd"]) == (1, 2)
    assert result["slice"] == text[1:5]


def test_overlapping_highlights_are_both_visible(page, sign_in, alice, bob, reading):
    text = reading.current_text
    wide = make_annotation(text=text, creator=alice, quote="treaty mattered more than")
    narrow = make_annotation(text=text, creator=bob, quote="mattered more than the loan")
    sign_in(page, alice)
    open_source(page, reading)
    assert page.evaluate(MARKS_JS, wide.pk) == "treaty mattered more than"
    assert page.evaluate(MARKS_JS, narrow.pk) == "mattered more than the loan"
    both = page.locator(f'#reading mark[data-ids~="{wide.pk}"][data-ids~="{narrow.pk}"]')
    assert both.inner_text() == "mattered more than"
    assert "hl-d2" in both.get_attribute("class")
    # Painting never changes the text the offsets count in.
    paragraph = page.locator("#reading p[data-start]").nth(1)
    assert paragraph.evaluate("p => p.textContent") == READING.split("\n\n")[1]
    cards = page.locator(".ann-list .ann-card .ann-quote")
    assert cards.all_inner_texts() == ["treaty mattered more than", "mattered more than the loan"]


def test_clicking_a_highlight_focuses_its_card_and_back(page, sign_in, alice, reading):
    text = reading.current_text
    first = make_annotation(text=text, creator=alice, quote="Comrade I. V. Stalin")
    second = make_annotation(text=text, creator=alice, quote="two hours")
    sign_in(page, alice)
    open_source(page, reading)
    page.locator(f'#reading mark[data-ids="{second.pk}"]').click()
    card = card_of(page, second)
    assert card.evaluate("c => c === document.activeElement")
    assert "is-focused" in card.get_attribute("class")
    card_of(page, first).get_by_role("button", name="Show in text").click()
    focused = page.locator("#reading mark.is-focused")
    assert focused.all_inner_texts() == ["Comrade I. V. Stalin"]


def test_keyboard_selection_opens_the_popover_and_saves(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    select(page, READING, "S", occurrence=1)  # the S of "Stalin asked"
    for _ in range(5):
        page.keyboard.press("Shift+ArrowRight")
    page.get_by_role("status").filter(has_text="Press Enter").wait_for()
    page.keyboard.press("Enter")
    highlight = popover(page).get_by_role("button", name="Highlight")
    assert highlight.evaluate("b => b === document.activeElement")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
    assert Annotation.objects.get().exact == "Stalin"
    assert popover(page).is_hidden()


def test_escape_closes_the_popover_and_returns_focus(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    select(page, READING, "railway")
    popover(page).get_by_role("button", name="Comment").click()
    assert page.get_by_label("Comment (Markdown)").evaluate("t => t === document.activeElement")
    page.keyboard.press("Escape")
    assert popover(page).is_hidden()
    assert not Annotation.objects.exists()


def test_comment_is_rendered_from_markdown_and_tags_are_text(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    select(page, READING, "the loan")
    popover(page).get_by_role("button", name="Comment").click()
    popover(page).get_by_label("Comment (Markdown)").fill(
        "**Key** point <script>window.owned=1</script>"
    )
    tags = popover(page).get_by_role("combobox", name="Tags")
    tags.fill("<img src=x onerror=window.owned=2>")
    tags.press("Enter")
    popover(page).get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Annotation saved").wait_for()
    card = page.locator(".ann-card").first
    assert card.locator(".ann-comment strong").inner_text() == "Key"
    assert card.locator(".ann-tags .chip").inner_text() == "<img src=x onerror=window.owned=2>"
    assert card.locator(".ann-tags img, .ann-comment script").count() == 0
    assert page.evaluate("window.owned") is None
    assert Annotation.objects.get().motivation == "commenting"


def test_tag_autocomplete_suggests_the_librarys_tags(page, sign_in, alice, reading):
    make_annotation(
        text=reading.current_text, creator=alice, quote="loan", tags=["person:Mao Zedong"]
    )
    sign_in(page, alice)
    open_source(page, reading)
    select(page, READING, "railway")
    popover(page).get_by_role("button", name="Tag").click()
    popover(page).get_by_role("combobox", name="Tags").fill("mao")
    option = popover(page).get_by_role("option", name="person:Mao Zedong")
    option.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    popover(page).get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Annotation saved").wait_for()
    saved = Annotation.objects.get(exact="railway")
    assert [t.name for t in saved.tags.all()] == ["person:Mao Zedong"]


def test_edit_comment_and_tags_is_saved_with_if_match(page, sign_in, alice, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the railway")
    sign_in(page, alice)
    open_source(page, reading)
    card = card_of(page, note)
    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Comment (Markdown)").fill("Stalin *changes* the subject.")
    tags = card.get_by_role("combobox", name="Tags")
    tags.fill("place:Port Arthur")
    tags.press("Enter")
    card.get_by_role("button", name="Save").click()
    card.locator(".ann-comment em").wait_for()

    note.refresh_from_db()
    assert note.comment_raw == "Stalin *changes* the subject."
    assert [t.name for t in note.tags.all()] == ["place:Port Arthur"]
    assert note.version == 2
    assert card.locator(".chip").inner_text().replace("\n", "") == "place:Port Arthur"


def test_a_stale_edit_is_refused_readably_and_the_annotation_reloaded(
    page, sign_in, alice, reading
):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the railway")
    sign_in(page, alice)
    open_source(page, reading)
    note.apply_changes({"comment": "Changed in another tab."}, user=alice)
    card = card_of(page, note)
    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Comment (Markdown)").fill("My edit")
    card.get_by_role("button", name="Save").click()

    alert = card.get_by_role("alert")
    alert.filter(has_text="changed elsewhere").wait_for()
    assert card.locator(".ann-comment").inner_text() == "Changed in another tab."
    assert card.get_by_label("Comment (Markdown)").input_value() == "My edit"
    note.refresh_from_db()
    assert note.comment_raw == "Changed in another tab."
    card.get_by_role("button", name="Save").click()  # saving again, knowingly, wins
    card.locator(".ann-comment").filter(has_text="My edit").wait_for()
    note.refresh_from_db()
    assert note.comment_raw == "My edit"


def test_delete_can_be_undone(page, sign_in, alice, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, alice)
    open_source(page, reading)
    card_of(page, note).get_by_role("button", name="Delete").click()
    assert page.locator("#reading mark").count() == 0
    undo = card_of(page, note).get_by_role("button", name="Undo")
    assert undo.evaluate("b => b === document.activeElement")
    undo.click()
    assert page.evaluate(MARKS_JS, note.pk) == "the loan"
    page.wait_for_timeout(6500)
    assert Annotation.objects.filter(pk=note.pk).exists()


def test_delete_is_sent_after_the_undo_delay(page, sign_in, alice, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, alice)
    open_source(page, reading)
    card_of(page, note).get_by_role("button", name="Delete").click()
    page.wait_for_timeout(1000)
    assert Annotation.objects.filter(pk=note.pk).exists()
    card_of(page, note).wait_for(state="detached", timeout=8000)
    assert not Annotation.objects.filter(pk=note.pk).exists()
    assert page.js_errors == []


def test_leaving_the_page_sends_a_pending_delete(page, sign_in, alice, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, alice)
    open_source(page, reading)
    card_of(page, note).get_by_role("button", name="Delete").click()
    page.goto(reverse("home"))
    for _ in range(50):
        if not Annotation.objects.filter(pk=note.pk).exists():
            break
        page.wait_for_timeout(100)
    assert not Annotation.objects.filter(pk=note.pk).exists()


def test_filters_by_tag_and_by_annotator(page, sign_in, alice, bob, reading):
    text = reading.current_text
    mao = make_annotation(text=text, creator=alice, quote="Mao Zedong", tags=["person:Mao Zedong"])
    loan = make_annotation(text=text, creator=bob, quote="the loan", tags=["theme:money"])
    railway = make_annotation(text=text, creator=bob, quote="railway", tags=["Person:mao zedong"])
    sign_in(page, alice)
    open_source(page, reading)
    filters = page.get_by_role("group", name="Filter annotations")
    filters.get_by_label("Tag").select_option("person:Mao Zedong")
    assert page.locator(".ann-list .ann-card:visible .ann-quote").all_inner_texts() == [
        "Mao Zedong",
        "railway",
    ]
    assert page.evaluate(MARKS_JS, loan.pk) == ""
    filters.get_by_label("Annotator").select_option("bob")
    assert page.locator(".ann-list .ann-card:visible").count() == 1
    assert page.evaluate(MARKS_JS, railway.pk) == "railway"
    assert page.evaluate(MARKS_JS, mao.pk) == ""
    assert page.locator("[data-role=count]").inner_text() == "1 of 3"


def test_a_viewer_sees_highlights_but_cannot_annotate(page, sign_in, alice, vera, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, vera)
    open_source(page, reading)
    assert page.evaluate(MARKS_JS, note.pk) == "the loan"
    select(page, READING, "railway")
    page.wait_for_timeout(600)
    assert popover(page).count() == 0
    card = card_of(page, note)
    assert card.get_by_role("button", name="Edit").count() == 0
    assert card.get_by_role("button", name="Delete").count() == 0
    forced = page.evaluate(
        """async () => {
          const config = JSON.parse(document.getElementById('annotate-config').textContent);
          const response = await fetch(config.api.annotations, {
            method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': config.csrfToken},
            body: JSON.stringify({text: config.text, start: 0, end: 6}),
          });
          return response.status;
        }"""
    )
    assert forced == 403
    assert Annotation.objects.count() == 1


def test_an_outsider_gets_404_on_the_page(page, sign_in, mallory, reading):
    sign_in(page, mallory)
    response = page.goto(reverse("source-detail", args=[reading.pk]))
    assert response.status == 404
    assert page.locator("[data-annotate]").count() == 0


def test_an_editor_cannot_edit_someone_elses_annotation(page, sign_in, alice, bob, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, bob)
    open_source(page, reading)
    assert card_of(page, note).get_by_role("button", name="Edit").count() == 0
    select(page, READING, "railway")
    popover(page).get_by_role("button", name="Highlight").wait_for()


def test_orphans_are_listed_and_reattached_to_a_selection(page, sign_in, alice, library):
    source = make_source(library=library, title="Revised")
    old = make_text(source=source, text="The first draft said Port Arthur.", imported_by=alice)
    new = make_text(
        source=source, text="The corrected text names Lüshun instead.", imported_by=alice
    )
    lost = make_annotation(text=old, creator=alice, quote="Port Arthur", state="orphaned")
    sign_in(page, alice)
    open_source(page, source)
    orphan = page.locator(".ann-orphans .ann-card")
    orphan.scroll_into_view_if_needed()
    assert orphan.locator(".ann-quote").inner_text() == "Port Arthur"
    assert orphan.locator("[data-role=state]").inner_text().lower() == "orphaned"
    orphan.get_by_role("button", name="Re-attach to selection").click()
    orphan.get_by_role("alert").filter(has_text="First select the passage").wait_for()
    select(page, new.text, "Lüshun")
    orphan.get_by_role("button", name="Re-attach to selection").click()
    page.get_by_role("status").filter(has_text="re-attached").wait_for()

    lost.refresh_from_db()
    assert (lost.text_id, lost.exact, lost.state) == (new.pk, "Lüshun", "anchored")
    assert page.evaluate(MARKS_JS, lost.pk) == "Lüshun"
    assert page.locator(".ann-orphans").is_hidden()


def test_first_paint_sets_a_performance_mark(page, sign_in, alice, reading):
    make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, alice)
    open_source(page, reading)
    marks = page.evaluate("performance.getEntriesByName('annotate:painted').length")
    assert marks == 1


def test_a_selection_across_paragraphs_is_saved_with_the_servers_quote(
    page, sign_in, alice, library
):
    source = make_source(library=library, title="Astral")
    text = make_text(source=source, text=ASTRAL, imported_by=alice).text
    sign_in(page, alice)
    open_source(page, source)
    passage = "毛泽东同志。\n\n第二段"
    select(page, text, passage)
    popover(page).get_by_role("button", name="Highlight").click()
    page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
    saved = Annotation.objects.get()
    assert (saved.start, saved.exact) == (text.index(passage), passage)
    assert page.evaluate(MARKS_JS, saved.pk) == "毛泽东同志。第二段"


def test_a_triple_click_highlights_exactly_one_paragraph(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    page.locator("#reading p[data-start]").nth(2).click(click_count=3)
    popover(page).get_by_role("button", name="Highlight").click()
    page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
    assert Annotation.objects.get().exact == "The conversation lasted two hours."


def test_private_notes_are_shown_only_to_their_creator(page, sign_in, alice, bob, reading):
    text = reading.current_text
    note = make_annotation(text=text, creator=alice, quote="the loan", visibility="private")
    sign_in(page, bob)
    open_source(page, reading)
    assert page.locator("#reading mark").count() == 0
    assert card_of(page, note).count() == 0
    sign_in(page, alice)
    open_source(page, reading)
    assert card_of(page, note).locator("[data-role=private]").is_visible()
    assert page.evaluate(MARKS_JS, note.pk) == "the loan"


def wait_until(page, expression: str, timeout: float = 15) -> None:
    """Poll `expression` from the test. `page.wait_for_function` evaluates a string inside the
    page, which the Content-Security-Policy (no 'unsafe-eval') refuses as soon as it has to
    poll: it failed whenever the page was not done at the first look."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


def test_a_long_list_grows_as_needed_and_finds_any_card(page, sign_in, alice, library):
    body = "\n\n".join(f"Paragraph {n} of the telegram." for n in range(120))
    source = make_source(library=library, title="Long")
    text = make_text(source=source, text=body, imported_by=alice)
    notes = [
        make_annotation(text=text, creator=alice, quote=f"Paragraph {n} of") for n in range(120)
    ]
    sign_in(page, alice)
    open_source(page, source)
    assert page.locator(".ann-list .ann-card").count() < 120
    wait_until(page, "performance.getEntriesByName('annotate:painted-all').length")
    assert page.locator("#reading mark").count() == 120
    last = page.locator(f'#reading mark[data-ids="{notes[-1].pk}"]')
    last.click()
    card = card_of(page, notes[-1])
    assert card.evaluate("c => c === document.activeElement")
    assert card.locator(".ann-quote").inner_text() == "Paragraph 119 of"


def test_a_stale_delete_is_refused_and_the_annotation_kept(page, sign_in, alice, reading):
    note = make_annotation(text=reading.current_text, creator=alice, quote="the loan")
    sign_in(page, alice)
    open_source(page, reading)
    note.apply_changes({"comment": "Edited elsewhere."}, user=alice)
    card_of(page, note).get_by_role("button", name="Delete").click()
    alert = card_of(page, note).get_by_role("alert").filter(has_text="was not deleted")
    alert.wait_for(timeout=10_000)
    assert Annotation.objects.filter(pk=note.pk).exists()
    assert card_of(page, note).locator(".ann-comment").inner_text() == "Edited elsewhere."
    assert page.evaluate(MARKS_JS, note.pk) == "the loan"


def test_a_highlight_made_by_the_claims_panel_is_painted_and_listed(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    claim_button = page.locator(".ann-popover [data-action=make-claim]")
    assert claim_button.count() == 1 and claim_button.is_hidden()  # no claims panel here
    made = make_annotation(text=reading.current_text, creator=alice, quote="the railway")
    page.evaluate(
        """(id) => document.dispatchEvent(new CustomEvent('marginalia:claim-saved',
             {detail: {claim: {id: 1}, annotation: id}}))""",
        made.pk,
    )
    card_of(page, made).wait_for()
    assert page.evaluate(MARKS_JS, made.pk) == "the railway"


# Where each page-break marker stands in the reading view: [page label, code point of the
# text it precedes], read from the DOM (the text before it in its paragraph).
BREAKS_JS = """() => [...document.querySelectorAll('#reading .page-break')].map((mark) => {
  const p = mark.closest('p[data-start]');
  const before = document.createRange();
  before.setStart(p, 0);
  before.setEndBefore(mark);
  return [mark.dataset.page, Number(p.dataset.start) + Array.from(before.toString()).length];
})"""


def test_page_breaks_stay_where_they_stand_when_highlights_are_painted(
    page, sign_in, alice, library
):
    """The first screen (painted by the server, repainted by the script), the streamed rest
    (painted by the script) and a new highlight all keep the page markers at their offsets,
    also after characters outside the BMP."""
    line = "𠮷 Paragraph {}: Stalin asked about the railway and the loan."
    body = "\n\n".join(line.format(n) for n in range(400))
    assert len(body) > 12_000 * 2  # the rest is streamed in
    starts = [body.index(f"Paragraph {n}:") for n in (0, 3, 150, 399)]
    page_map = [[starts[0], "1"], [starts[1] + 10, "2"], [starts[2] + 20, "3"]]
    page_map.append([starts[3] + 5, "4"])
    source = make_source(library=library, title="Paginated")
    text = make_text(source=source, text=body, imported_by=alice, page_map=page_map)
    # Highlights across the breaks in the first screen and in the streamed part.
    for at in (starts[1] + 10, starts[2] + 20):
        make_annotation(text=text, creator=alice, start=at - 4, end=at + 6)
    sign_in(page, alice)
    open_source(page, source)
    wait_until(page, "performance.getEntriesByName('annotate:painted-all').length")
    expected = [[label, start] for start, label in page_map]
    assert page.evaluate(BREAKS_JS) == expected
    assert page.locator("#reading mark.hl").count() >= 4  # each highlight cut by its break

    assert select(page, body, "Paragraph 3: Stalin asked") == "Paragraph 3: Stalin asked"
    popover(page).get_by_role("button", name="Highlight").click()
    wait_until(page, "performance.getEntriesByName('annotate:saved').length")
    assert Annotation.objects.count() == 3
    assert page.evaluate(BREAKS_JS) == expected
    assert "".join(page.locator("#reading p").all_text_contents()) == body.replace("\n\n", "")
    assert page.js_errors == []


def ink(png: bytes) -> int:
    """How many pixels of a screenshot differ clearly from its most common colour."""
    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    background = histogram.index(max(histogram))
    return sum(n for value, n in enumerate(histogram) if abs(value - background) > 60)


def test_page_numbers_show_in_the_margin_of_a_long_text(page, sign_in, alice, library):
    """Paragraphs far from the screen skip layout and paint (content-visibility), which
    clips what they draw outside their box unless told otherwise: the page number in the
    margin must still be drawn, near the screen and far down the text."""
    body = "\n\n".join(f"Paragraph {n}: Stalin asked about the railway." for n in range(600))
    at = body.index("Paragraph 500:") + 10
    source = make_source(library=library, title="Paginated")
    make_text(source=source, text=body, imported_by=alice, page_map=[[0, "17"], [at, "18"]])
    sign_in(page, alice)
    open_source(page, source)
    wait_until(page, "performance.getEntriesByName('annotate:loaded-all').length")
    for label in ("17", "18"):
        marker = page.locator(f'#reading .page-break[data-page="{label}"]')
        marker.scroll_into_view_if_needed()
        page.wait_for_timeout(100)
        box = page.evaluate(
            """(mark) => { const p = mark.closest('p').getBoundingClientRect();
                           const m = mark.getBoundingClientRect();
                           return {left: p.left, top: m.top, height: m.height}; }""",
            marker.element_handle(),
        )
        margin = {"x": box["left"] - 80, "y": box["top"], "width": 75, "height": box["height"]}
        below = {**margin, "y": box["top"] + 3 * box["height"]}  # a line without a label
        assert ink(page.screenshot(clip=margin)) > ink(page.screenshot(clip=below)) + 10, label
