"""Every page fits a phone (390×844) and a tablet (768×1024) without sideways scrolling, its
header one row, on the demo library (Chromium). A failure names the page and the elements
that stick out."""

from __future__ import annotations

import pprint
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from annotations.claims.models import Claim, Event
from annotations.models import Annotation, Tag
from sources.models import Library, Source

SIZES = [(390, 844), (768, 1024)]
# The page's width beyond the viewport, and the elements whose right edge passes it.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > width + 1 && getComputedStyle(el).position !== 'fixed'
      && !el.closest('[hidden], .visually-hidden, .skip-link, .ann-popover');
  }).slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
    + ` (${Math.round(el.getBoundingClientRect().right)}px)`);
  const header = document.querySelector('.site-header nav').getBoundingClientRect().height;
  return {overflow: document.documentElement.scrollWidth - width, wide, header};
}"""
# The header stays one row (it scrolls sideways by itself on a phone): it wrapped to three.
HEADER_ROW_PX = 64


def demo_pages() -> list[str]:
    library = Library.objects.get(slug__startswith="mao")
    sources = list(Source.objects.filter(library=library).order_by("pk"))
    claim = Claim.objects.filter(library=library).order_by("pk").first()
    event = Event.objects.filter(library=library).order_by("pk").first()
    slug = library.slug
    pages = [
        reverse("home"),
        reverse("library-detail", args=[slug]),
        reverse("library-members", args=[slug]),
        reverse("library-jobs", args=[slug]),
        reverse("claim-list", args=[slug]),
        reverse("timeline", args=[slug]),
        reverse("tag-manager", args=[slug]),
        reverse("import-create", args=[slug]),
        reverse("source-create", args=[slug]),
        reverse("claim-detail", args=[claim.pk]),
        reverse("claim-edit", args=[claim.pk]),
        reverse("claim-history", args=[claim.pk]),
        reverse("event-detail", args=[event.pk]),
        reverse("search"),
        reverse("search") + "?q=Stalin",
        reverse("export") + f"?library={slug}",
        reverse("token-list"),
        reverse("invitation-list"),
    ]
    for source in sources:
        pages += [
            reverse("source-detail", args=[source.pk]),
            reverse("source-cite", args=[source.pk]),
        ]
        if source.texts.exists():
            pages += [
                reverse("reuse-source", args=[source.pk]),
                reverse("reuse-compilation", args=[source.pk]),
            ]
    pages += [
        reverse("source-edit", args=[sources[0].pk]),
        reverse("source-history", args=[sources[0].pk]),
        reverse("text-create", args=[sources[0].pk]),
        reverse("source-compare", args=[sources[0].pk]),
    ]
    annotation = Annotation.objects.filter(library=library).order_by("pk").first()
    pages.append(reverse("annotation-history", args=[annotation.pk]))
    tag, other = Tag.objects.filter(library=library).order_by("pk")[:2]
    pages.append(reverse("tag-merge", args=[tag.pk]) + "?" + urlencode({"into": other.name}))
    return pages


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_page_fits_the_screen(browser, live_server, sign_in, transactional_db, width, height):
    call_command("load_demo")
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}, locale="en-US"
    )
    page = context.new_page()
    sign_in(page, get_user_model().objects.get(username="demo"))
    too_wide = {}
    for url in demo_pages():
        response = page.goto(url)
        assert response.status == 200, url
        found = page.evaluate(OVERFLOW_JS)
        if found["overflow"] > 0 or found["header"] > HEADER_ROW_PX:
            too_wide[url] = found
    context.close()
    assert not too_wide, pprint.pformat(too_wide, width=100)


def phone(browser, live_server, sign_in):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, locale="en-US"
    )
    page = context.new_page()
    sign_in(page, get_user_model().objects.get(username="demo"))
    return page


def test_a_source_pages_annotations_are_one_tap_away_on_a_phone(
    browser, live_server, sign_in, transactional_db
):
    call_command("load_demo")
    page = phone(browser, live_server, sign_in)
    source = Source.objects.get(title__startswith="Record of conversation")
    page.goto(reverse("source-detail", args=[source.pk]))
    page.locator("[data-annotate][data-state=ready]").wait_for()
    heading = page.get_by_role("heading", name="Annotations")
    assert heading.bounding_box()["y"] > 844  # below the text, far down the page
    page.get_by_role("link", name="Annotations").click()
    box = heading.bounding_box()
    assert 0 <= box["y"] < 844
    assert page.locator(".ann-card").first.is_visible()
    page.keyboard.press("Escape")
    assert heading.bounding_box()["y"] > 844
    page.context.close()


def test_search_results_start_on_a_phones_first_screen(
    browser, live_server, sign_in, transactional_db
):
    call_command("load_demo")
    page = phone(browser, live_server, sign_in)
    page.goto(reverse("search") + "?q=Stalin&source_kind=primary")
    assert page.locator(".hit").first.bounding_box()["y"] < 844
    page.get_by_text("Filters (1 applied)").click()  # the filters fold away, one tap to open
    assert page.get_by_label("Words").is_visible() and page.get_by_text("Look in").is_visible()
    page.context.close()
