"""Reply threads on the reading view's cards, and notes on the whole text, in Chromium."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Annotation
from annotations.writes import create_annotation
from tests.factories import make_annotation, make_source, make_text

TEXT = (
    "Record of conversation between Stalin and Mao Zedong, 16 December 1949.\n\n"
    "Mao said that the treaty mattered for China's face."
)


@pytest.fixture
def record(library, alice):
    source = make_source(library=library, title="Stalin and Mao, 16 December 1949")
    make_text(source=source, text=TEXT, imported_by=alice)
    return source


@pytest.fixture
def highlight(record, alice):
    return make_annotation(text=record.current_text, creator=alice, quote="the treaty mattered")


def open_source(page, source, suffix=""):
    page.goto(reverse("source-detail", args=[source.pk]) + suffix)
    page.locator("[data-annotate][data-state=ready]").wait_for()
    page.locator("[data-annotate][data-loaded=all]").wait_for(state="attached")


def card_of(page, annotation):
    return page.locator(f'.ann-card[data-id="{annotation.pk}"]')


def reply_item(page, reply):
    return page.locator(f'.ann-reply[data-reply-id="{reply.pk}"]')


def test_reply_nest_and_count_with_the_keyboard_and_survive_a_reload(
    page, sign_in, bob, alice, highlight
):
    first = create_annotation(text=highlight.text, creator=alice, reply_to=highlight,
                              comment="Which *meeting*?")  # fmt: skip
    sign_in(page, bob)
    open_source(page, highlight.text.source)
    card = card_of(page, highlight)
    assert card.get_by_role("button", name="1 reply").get_attribute("aria-expanded") == "true"
    assert reply_item(page, first).locator(".ann-comment em").inner_text() == "meeting"
    assert reply_item(page, first).get_by_role("button", name="Edit: reply by alice").count() == 0

    card.get_by_role("button", name="Reply", exact=True).focus()
    page.keyboard.press("Enter")
    page.keyboard.type("The **first** one. <script>window.pwned = 1</script>")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Post reply"
    card.get_by_role("button", name="2 replies").wait_for()
    mine = Annotation.objects.get(reply_to=highlight, creator=bob)
    assert mine.motivation == "replying" and "<script" not in mine.comment_html
    assert reply_item(page, mine).locator(".ann-comment strong").inner_text() == "first"

    reply_item(page, first).get_by_role("button", name="Reply: reply by alice").click()
    page.get_by_label("Reply (Markdown)").fill("On the 16th.")
    page.get_by_role("button", name="Post reply").click()
    card.get_by_role("button", name="3 replies").wait_for()
    nested = Annotation.objects.get(reply_to=first)
    assert reply_item(page, first).locator(f'.ann-replies [data-reply-id="{nested.pk}"]').count()

    page.reload()
    page.locator("[data-annotate][data-state=ready]").wait_for()
    assert card.get_by_role("button", name="3 replies").is_visible()
    assert reply_item(page, first).locator(".ann-reply").inner_text().count("On the 16th.") == 1
    assert page.evaluate("window.pwned") is None
    assert page.js_errors == []


def test_a_writer_edits_and_deletes_their_reply_and_the_owner_moderates(
    page, sign_in, bob, alice, highlight
):
    mine = create_annotation(text=highlight.text, creator=bob, reply_to=highlight, comment="Draft")
    sign_in(page, bob)
    open_source(page, highlight.text.source)
    reply_item(page, mine).get_by_role("button", name="Edit: reply by bob").click()
    page.get_by_label("Your reply (Markdown)").fill("Final")
    page.get_by_role("button", name="Save", exact=True).click()
    reply_item(page, mine).get_by_text("Final").wait_for()
    assert Annotation.objects.get(pk=mine.pk).comment_raw == "Final"
    reply_item(page, mine).get_by_role("button", name="Delete: reply by bob").click()
    reply_item(page, mine).get_by_role("button", name="Delete", exact=True).click()
    reply_item(page, mine).wait_for(state="detached")
    assert not Annotation.objects.filter(pk=mine.pk).exists()
    assert card_of(page, highlight).get_by_role("button", name="1 reply").count() == 0

    other = create_annotation(text=highlight.text, creator=bob, reply_to=highlight, comment="x")
    sign_in(page, alice)  # the library's owner moderates what the library sees
    open_source(page, highlight.text.source)
    assert reply_item(page, other).get_by_role("button", name="Delete: reply by bob").count() == 1
    assert page.js_errors == []


def test_a_viewer_reads_threads_without_reply_controls(page, sign_in, vera, alice, highlight):
    create_annotation(text=highlight.text, creator=alice, reply_to=highlight, comment="Shared")
    sign_in(page, vera)
    open_source(page, highlight.text.source)
    card = card_of(page, highlight)
    assert card.get_by_text("Shared").is_visible()
    assert card.get_by_role("button", name="Reply", exact=True).is_hidden()
    assert page.locator(".ann-reply button").count() == 0


def test_a_deep_thread_continues_and_a_search_hit_opens_it_on_a_phone(
    browser, live_server, sign_in, bob, alice, highlight
):
    parent, chain = highlight, []
    for depth in range(6):
        parent = create_annotation(text=highlight.text, creator=alice if depth % 2 else bob,
                                   reply_to=parent, comment=f"Level {depth + 1}")  # fmt: skip
        chain.append(parent)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, locale="en-US"
    )
    page = context.new_page()
    sign_in(page, bob)
    open_source(page, highlight.text.source)
    card = card_of(page, highlight)
    assert card.locator(".ann-reply").count() == 4  # four levels, then "Continue this thread"
    card.get_by_role("button", name="Continue this thread (2 replies)").click()
    assert reply_item(page, chain[5]).is_visible()
    card.get_by_role("button", name="Back to the whole thread").click()
    assert reply_item(page, chain[5]).count() == 0
    width = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert width <= 0

    deep = chain[5]  # a search hit links to it (search.engine.hit_url)
    open_source(page, highlight.text.source, f"?annotation={deep.pk}#annotation-{deep.pk}")
    target = reply_item(page, deep)
    target.wait_for()
    assert "is-target" in target.get_attribute("class")
    assert page.evaluate("document.activeElement.dataset.replyId") == str(deep.pk)
    context.close()


def test_a_note_on_the_whole_text_with_tags_and_replies(page, sign_in, bob, alice, record):
    sign_in(page, bob)
    open_source(page, record)
    notes = page.get_by_role("region", name="Notes on this source")
    notes.get_by_role("button", name="Add a note on the whole text").click()
    page.get_by_label("Note on the whole text (Markdown)").fill("Compare the *Chinese* record.")
    tags = notes.get_by_role("combobox", name="Tags")
    tags.fill("theme:sources")
    tags.press("Enter")
    notes.get_by_role("button", name="Save note").click()
    notes.locator(".ann-card em").wait_for()
    made = Annotation.objects.get()
    assert (made.kind, made.comment_raw) == ("note", "Compare the *Chinese* record.")
    assert [t.name for t in made.tags.all()] == ["theme:sources"]
    assert page.locator("#reading mark.hl").count() == 0
    assert (
        page.get_by_role("list", name="Annotations in the order of the text")
        .locator(".ann-card")
        .count()
        == 0
    )

    answer = create_annotation(text=record.current_text, creator=alice, reply_to=made,
                               comment="The Chinese minutes differ.")  # fmt: skip
    page.reload()
    page.locator("[data-annotate][data-state=ready]").wait_for()
    card = card_of(page, made)
    assert card.get_by_role("button", name="1 reply").is_visible()
    assert reply_item(page, answer).is_visible()
    assert card.locator(".chip").inner_text().replace("\n", "") == "theme:sources"
    assert page.js_errors == []
