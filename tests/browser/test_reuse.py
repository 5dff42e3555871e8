"""Text reuse in Chromium, on the demo library's own texts: the source page's Shared
passages panel, a highlighted passage's other occurrences, one click to record the link."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from sources.models import Library, SourceLink
from tests.browser.test_annotate import open_source, select


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", stdout=StringIO())
    library = Library.objects.get(slug="mao-in-moscow")
    sources = {s.citation_key: s for s in library.sources.all()}
    return sources, get_user_model().objects.get(username="demo")


def test_a_selected_quotation_is_found_in_the_primary_record(page, sign_in, demo):
    sources, user = demo
    draft = sources["draftmaoinmoscow"]
    sign_in(page, user)
    open_source(page, draft)
    panel = page.get_by_role("region", name="Shared passages")
    assert "Passages also found in Mao zedong and stalin relationship" in panel.inner_text()
    assert "Passages also found in Record of conversation" in panel.inner_text()

    find = panel.get_by_role("button", name="Find the selected passage elsewhere")
    assert find.is_disabled()
    quotation = "Последние четыре дня я уже сплю нормально по 8 часов в сутки"
    assert select(page, draft.current_text.text, quotation) == quotation
    find.click()
    results = panel.locator("[data-role=results]")
    results.get_by_text("Record of conversation", exact=False).first.wait_for()
    found = results.inner_text()
    assert "сплю нормально по 8 часов" in found
    assert "Mao zedong and stalin relationship" not in found  # the compilation lacks it
    assert page.js_errors == []


def test_one_click_records_the_link_the_dates_suggest(page, sign_in, demo):
    sources, user = demo
    draft, record = sources["draftmaoinmoscow"], sources["roshchin1950record"]
    sign_in(page, user)
    open_source(page, record)
    match = page.locator(".reuse-match").filter(has_text="Passages also found in Mao in Moscow")
    button = match.get_by_role("button", name="Record: “Mao in Moscow", exact=False)
    assert "quotes this source" in button.inner_text()  # 2026 quotes 1950
    button.click()
    page.get_by_text("Recorded:", exact=False).first.wait_for()
    link = SourceLink.objects.get(subject=draft, object=record)
    assert link.relation == "quotes"
    assert link.passages.count() == 2  # the two Russian quotations
    assert page.js_errors == []


def test_an_undated_match_is_recorded_by_saying_which_way(page, sign_in, demo):
    sources, user = demo
    draft, compilation = sources["draftmaoinmoscow"], sources["compilationmaostalin"]
    sign_in(page, user)
    open_source(page, compilation)
    match = page.locator(".reuse-match").filter(has_text="Passages also found in Mao in Moscow")
    assert match.get_by_role("button", name="Record:", exact=False).count() == 0  # undated
    match.get_by_text("Record as a source link").click()
    match.get_by_label("took them from this source", exact=False).check()
    match.get_by_label("Relation").select_option("quotes")
    match.get_by_role("button", name="Record link").click()
    page.get_by_text("Recorded:", exact=False).first.wait_for()
    link = SourceLink.objects.get(subject=draft, object=compilation)
    assert link.relation == "quotes"
    assert link.passages.count() == 5  # every passage the panel listed
    page.goto(reverse("source-detail", args=[draft.pk]))
    assert "Recorded:" in page.locator(".reuse-panel").inner_text()
    assert page.js_errors == []
