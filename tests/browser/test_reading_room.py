"""The reading room's daily comfort in Chromium (issue #20): the popover that stays closed
after Esc, one-key shortcuts, every highlight reachable by keyboard, a long text that opens
with its first screens and streams the rest."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Annotation
from tests.browser.test_annotate import READING, open_source, popover, select
from tests.factories import make_annotation, make_source, make_text


@pytest.fixture
def reading(library, alice):
    source = make_source(library=library, title="Stalin and Mao, 16 December 1949")
    make_text(source=source, text=READING, imported_by=alice)
    return source


def test_escape_keeps_the_popover_closed_while_the_selection_stays(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    select(page, READING, "the railway")
    popover(page).wait_for()
    page.keyboard.press("Escape")
    assert popover(page).is_hidden()
    page.wait_for_timeout(600)  # past the selection's 200 ms settling time, twice over
    assert popover(page).is_hidden()
    assert page.evaluate("document.getSelection().toString()") == "the railway"
    select(page, READING, "two hours")  # another selection opens it again
    popover(page).wait_for()
    assert page.js_errors == []


def test_j_and_k_step_through_every_highlight_and_enter_opens_its_card(
    page, sign_in, alice, reading
):
    text = reading.current_text
    first = make_annotation(text=text, creator=alice, quote="Comrade I. V. Stalin")
    second = make_annotation(text=text, creator=alice, quote="the loan")
    third = make_annotation(text=text, creator=alice, quote="two hours")
    sign_in(page, alice)
    open_source(page, reading)
    focused = "document.activeElement.matches('mark.hl') ? document.activeElement.dataset.ids : ''"
    seen = []
    for _ in range(4):
        page.keyboard.press("j")
        seen.append(page.evaluate(focused))
    assert seen == [str(first.pk), str(second.pk), str(third.pk), str(first.pk)]
    page.keyboard.press("k")
    assert page.evaluate(focused) == str(third.pk)
    page.keyboard.press("Enter")
    card = page.locator(f'.ann-card[data-id="{third.pk}"]')
    assert card.evaluate("c => c === document.activeElement")
    assert page.js_errors == []


def test_question_mark_lists_the_shortcuts_and_keys_act_on_the_selection(
    page, sign_in, alice, reading
):
    sign_in(page, alice)
    open_source(page, reading)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible()
    assert "Next highlight" in dialog.inner_text()
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    select(page, READING, "the railway")
    popover(page).wait_for()
    page.keyboard.press("h")
    page.get_by_role("status").filter(has_text="Highlight saved").wait_for()
    assert Annotation.objects.get().exact == "the railway"
    page.keyboard.press("l")
    assert page.locator(".ann-list[data-role=list]").is_hidden()
    page.keyboard.press("l")
    assert page.locator(".ann-list[data-role=list]").is_visible()


def test_typing_in_a_comment_never_triggers_a_shortcut(page, sign_in, alice, reading):
    sign_in(page, alice)
    open_source(page, reading)
    select(page, READING, "two hours")
    popover(page).get_by_role("button", name="Comment").click()
    page.keyboard.type("jkhl?")
    assert page.get_by_label("Comment (Markdown)").input_value() == "jkhl?"
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_hidden()
    assert not Annotation.objects.exists()


def long_text(paragraphs: int = 120) -> str:
    return "\n\n".join(
        f"Paragraph {n}: Stalin and Mao spoke about the treaty, the loan and the railway "
        f"at length, and the record of conversation notes every word of it. {'—' * 60}"
        for n in range(paragraphs)
    )


def test_a_long_text_opens_with_its_first_screens_and_streams_the_rest(
    page, sign_in, alice, library, monkeypatch
):
    monkeypatch.setattr("sources.views.FIRST_SCREEN_CHARS", 2_000)
    monkeypatch.setattr("sources.views.READING_CHUNK_CHARS", 4_000)
    text = long_text()
    source = make_source(library=library, title="A long record")
    revision = make_text(source=source, text=text, imported_by=alice)
    last = make_annotation(text=revision, creator=alice, quote="Paragraph 119")
    first = make_annotation(text=revision, creator=alice, quote="Paragraph 0")
    sign_in(page, alice)
    response = page.goto(reverse("source-detail", args=[source.pk]))
    assert response.text().count("<p data-start=") < 20  # the page holds the first screens
    page.locator("[data-annotate][data-loaded=all]").wait_for()
    assert page.locator("#reading p[data-start]").count() == 120
    starts = page.eval_on_selector_all(
        "#reading p[data-start]", "ps => ps.map((p) => Number(p.dataset.start))"
    )
    assert starts == [text.index(f"Paragraph {n}:") for n in range(120)]
    assert page.locator(f'.ann-card[data-id="{last.pk}"]').count() == 1
    page.keyboard.press("k")  # from the top, backwards: the last highlight, streamed in
    assert page.evaluate("document.activeElement.dataset.ids") == str(last.pk)
    assert page.locator(f'#reading mark[data-ids="{first.pk}"]').count() == 1
    assert page.locator("[data-role=reading-more]").count() == 0
    assert page.js_errors == []
