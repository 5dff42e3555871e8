"""Claims, events and the timeline in Chromium: make a claim from a selection, attach a
highlight to a claim found as you type, see sources disagree side by side on the event
page, and open an event from the timeline."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from annotations.claims.demo import load_demo_claims
from annotations.claims.models import Claim, Event, Evidence
from sources.models import Library
from tests.factories import make_annotation, make_claim, make_source, make_text

TEXT = (
    "Записи беседы. 𠮷 Мао сказал, что отдохнёт ещё неделю.\n\n"
    "After their first meeting, Stalin refused to see Mao for days."
)

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
    throw new Error('offset not in the reading view');
  };
  const range = document.createRange();
  range.setStart(...point(start));
  range.setEnd(...point(end));
  document.getSelection().removeAllRanges();
  document.getSelection().addRange(range);
  return document.getSelection().toString();
}"""


@pytest.fixture
def record(library, alice):
    source = make_source(library=library, title="Record of conversation", language="ru")
    make_text(source=source, text=TEXT, imported_by=alice)
    return source


def select(page, passage: str) -> str:
    start = TEXT.index(passage)
    return page.evaluate(SELECT_JS, [start, start + len(passage)])


def open_source(page, source) -> None:
    page.goto(reverse("source-detail", args=[source.pk]))
    page.locator("[data-claims]").wait_for()


def test_make_a_claim_from_a_selection(page, sign_in, bob, record):
    sign_in(page, bob)
    open_source(page, record)
    panel = page.locator("[data-claims]")
    passage = "Мао сказал, что отдохнёт ещё неделю"  # after a character outside the BMP
    assert select(page, passage) == passage
    panel.get_by_text(f"“{passage}”").wait_for()
    panel.get_by_role("button", name="Make claim").click()
    form = panel.locator("form[data-role=make]")
    form.get_by_label("The claim, in your words").fill("Mao chose to rest another week")
    form.get_by_label("The passage").select_option("contradicts")
    form.get_by_role("button", name="Save claim").click()
    panel.get_by_role("status").get_by_text("Claim saved.").wait_for()
    claim = Claim.objects.get()
    evidence = claim.evidence.get()
    assert evidence.annotation.exact == passage and evidence.stance == "contradicts"
    assert evidence.annotation.start == TEXT.index(passage)
    assert panel.get_by_role("link", name="Mao chose to rest another week").is_visible()
    assert page.js_errors == []


def test_a_claim_made_in_the_reading_view_can_be_private(page, sign_in, bob, vera, record):
    sign_in(page, bob)
    open_source(page, record)
    panel = page.locator("[data-claims]")
    select(page, "Stalin refused to see Mao for days")
    panel.get_by_role("button", name="Make claim").click()
    form = panel.locator("form[data-role=make]")
    form.get_by_label("The claim, in your words").fill("A guess of mine, not yet shared")
    form.get_by_label("Only I can see this claim").check()
    form.get_by_role("button", name="Save claim").click()
    panel.get_by_role("status").get_by_text("Claim saved.").wait_for()
    claim = Claim.objects.get()
    assert claim.visibility == "private" and claim.creator == bob
    assert not Claim.objects.visible_to(vera).exists()
    assert page.js_errors == []


def test_the_annotation_popover_opens_the_claim_form(page, sign_in, bob, record):
    sign_in(page, bob)
    open_source(page, record)
    page.locator("[data-annotate][data-state=ready]").wait_for()
    passage = "Stalin refused to see Mao for days"
    select(page, passage)
    popover = page.get_by_role("dialog", name="Annotate the selected passage")
    popover.get_by_role("button", name="Claim…").click()
    statement = page.get_by_label("The claim, in your words")
    assert statement.is_visible()
    statement.fill("Stalin kept Mao waiting")
    page.locator("form[data-role=make]").get_by_role("button", name="Save claim").click()
    page.locator("[data-claims]").get_by_role("status").get_by_text("Claim saved.").wait_for()
    assert Claim.objects.get().evidence.get().annotation.exact == passage
    assert page.js_errors == []


def test_attach_a_highlight_to_a_claim_found_as_you_type(page, sign_in, bob, library, record):
    text = record.current_text
    claim = make_claim(library=library, creator=bob, statement="Stalin kept Mao waiting for days")
    make_claim(library=library, creator=bob, statement="The treaty was signed in February")
    highlight = make_annotation(text=text, creator=bob, quote="Stalin refused to see Mao for days")
    sign_in(page, bob)
    open_source(page, record)
    page.locator("[data-annotate][data-state=ready]").wait_for()
    page.locator(f'#reading mark[data-ids~="{highlight.pk}"]').first.click()
    panel = page.locator("[data-claims]")
    panel.get_by_role("button", name="Attach to claim…").click()
    search = panel.get_by_role("combobox", name="Find the claim")
    search.press_sequentially("mao wait", delay=30)
    results = panel.get_by_role("listbox", name="Matching claims")
    results.get_by_role("option", name="Stalin kept Mao waiting for days").wait_for()
    assert results.get_by_role("option").count() == 1
    search.press("Enter")
    panel.get_by_role("button", name="Attach", exact=True).click()
    panel.get_by_role("status").get_by_text("Passage attached to the claim.").wait_for()
    assert Evidence.objects.get().annotation == highlight
    assert Evidence.objects.get().claim == claim
    assert page.js_errors == []


def test_viewer_sees_claims_but_no_claim_form(page, sign_in, vera, record):
    sign_in(page, vera)
    open_source(page, record)
    assert page.get_by_role("button", name="Make claim").count() == 0


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", stdout=StringIO())
    library = Library.objects.get(slug="mao-in-moscow")
    user = get_user_model().objects.get(username="demo")
    load_demo_claims(library, user)
    return library, user


def test_event_page_shows_the_disagreement_side_by_side(page, sign_in, demo):
    library, user = demo
    visit = Event.objects.get(library=library, name="Mao Zedong's visit to Moscow")
    sign_in(page, user)
    page.goto(reverse("event-detail", args=[visit.pk]))
    box = page.locator(".claim-card .side-by-side.disagreement").first
    supporting = box.locator(".side-supports")
    contradicting = box.locator(".side-contradicts")
    assert "Stalin refused to see Mao for days" in supporting.inner_text()
    assert "отдохнуть еще одну неделю" in contradicting.inner_text()
    left, right = supporting.bounding_box(), contradicting.bounding_box()
    assert left["x"] + left["width"] <= right["x"]  # beside, not below
    assert abs(left["y"] - right["y"]) < 5
    assert supporting.locator(".kind-secondary").count() >= 1
    assert contradicting.locator(".kind-primary").count() >= 1
    assert page.js_errors == []


def test_timeline_renders_zooms_and_opens_an_event(page, sign_in, demo):
    library, user = demo
    sign_in(page, user)
    page.goto(reverse("timeline", args=[library.slug]))
    root = page.locator("[data-timeline-root][data-state=ready]")
    root.wait_for()
    events = page.locator("svg[data-timeline] a.tl-event")
    assert events.count() == Event.objects.filter(library=library).count()
    assert root.get_attribute("data-zoom") == "1.00"
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    assert float(root.get_attribute("data-zoom")) > 2
    # labels keep their size on screen however far the time axis is stretched
    label = page.locator("svg[data-timeline] text.tl-label").first
    assert 8 < label.bounding_box()["height"] < 20
    page.get_by_role("button", name="Whole period").click()
    treaty = Event.objects.get(library=library, name__startswith="Sino-Soviet Treaty")
    page.locator(f'svg[data-timeline] a[data-id="{treaty.pk}"] text').click()
    page.wait_for_url(f"**{reverse('event-detail', args=[treaty.pk])}")
    assert page.get_by_role("heading", level=1).inner_text() == treaty.name
    assert page.js_errors == []


def test_a_link_to_a_quote_scrolls_to_its_highlight(page, sign_in, vera, bob, record):
    quote = make_annotation(text=record.current_text, creator=bob, quote="Stalin refused")
    sign_in(page, vera)
    page.goto(reverse("source-detail", args=[record.pk]) + f"#annotation-{quote.pk}")
    target = page.locator("#reading mark.hl-target")
    target.first.wait_for()
    assert target.first.inner_text() == "Stalin refused"
    assert page.js_errors == []
