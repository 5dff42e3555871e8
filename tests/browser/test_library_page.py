"""The library page in Chromium: its tabs styled, bulk selection with a deletion that waits
for Undo; a new API token copied with one click."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from sources.models import Source
from tests.factories import make_source


def test_the_library_tabs_are_styled_on_the_library_page(page, sign_in, alice, library):
    sign_in(page, alice)
    page.goto(reverse("library-detail", args=[library.slug]))
    tabs = page.get_by_role("navigation", name=library.name)
    assert tabs.evaluate("el => getComputedStyle(el).display") == "flex"
    current = tabs.get_by_role("link", name="Sources")
    assert current.evaluate("el => getComputedStyle(el).textDecorationLine") == "none"


def test_bulk_delete_waits_for_undo_then_deletes(page, sign_in, bob, library):
    first = make_source(library=library, title="First record", citation_key="first")
    second = make_source(library=library, title="Second record", citation_key="second")
    sign_in(page, bob)
    page.goto(reverse("library-detail", args=[library.slug]))
    delete = page.get_by_role("button", name="Delete…")
    assert delete.is_disabled()  # nothing selected yet
    page.get_by_role("checkbox", name="Select all the sources listed here").check()
    page.get_by_text("(2 selected)").wait_for()
    delete.click()
    page.get_by_role("heading", name="Delete 2 sources?").wait_for()
    page.get_by_role("button", name="Delete them").click()
    page.get_by_role("button", name="Undo").click()
    page.get_by_text("Not deleted.").wait_for()
    page.wait_for_timeout(1500)
    assert Source.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    page.get_by_role("button", name="Delete them").click()
    page.get_by_text("2 sources deleted.").wait_for(timeout=15_000)
    assert not Source.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert page.js_errors == []


def copy_a_new_token(page, sign_in, user) -> tuple[str, str]:
    """Make a token as `user`, press its Copy button; (its key, what the page then says)."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, user)
    page.goto(reverse("token-list"))
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create").click()
    key = page.get_by_label("Key").input_value()
    # The clipboard refuses a document without focus ("Document is not focused"), which a
    # headless page beside others' may be (seen twice in CI, bring_to_front() or not):
    # Chromium is told to treat this page as focused, as a reader's window is.
    page.context.new_cdp_session(page).send("Emulation.setFocusEmulationEnabled", {"enabled": True})
    copy = page.get_by_role("button", name="Copy")
    copy.click()
    status = page.locator(f"#{copy.get_attribute('data-copy-status')}")
    expect(status).not_to_be_empty()
    return key, status.text_content()


def test_a_new_token_is_copied_with_one_click(page, sign_in, alice):
    key, said = copy_a_new_token(page, sign_in, alice)
    assert said == "Copied to the clipboard."
    assert page.evaluate("navigator.clipboard.readText()") == key and key.startswith("mgl_")


def test_a_token_is_still_copied_when_the_clipboard_refuses(page, sign_in, alice):
    """Where the asynchronous clipboard refuses (a document without focus, plain HTTP), the
    key is copied by the older copy command on the selection."""
    refuse = "() => Promise.reject(new DOMException('Document is not focused.'))"
    page.add_init_script(f"navigator.clipboard.writeText = {refuse}")
    key, said = copy_a_new_token(page, sign_in, alice)
    assert said == "Copied to the clipboard."
    assert page.evaluate("navigator.clipboard.readText()") == key
