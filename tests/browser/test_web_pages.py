"""Annotating the web where it lives (issue #19), in Chromium: the first annotation on a page
Marginalia has never seen keeps the page; the browser extension loads the client where the
page's Content-Security-Policy refuses the bookmarklet; Save to Marginalia reads a new page's
`citation_*` tags, and on a page already held asks before writing.

Pages are served from 127.0.0.1 on another port than the live server (localhost): another
site. The server's fetch of them is allowed by WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES, set here.
"""

from __future__ import annotations

import html
import re

import pytest

from annotations.hypothesis import browser_extension
from annotations.models import Annotation
from sources.models import Source
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS
from tests.browser.test_hypothesis_client import annotate, select_text
from tests.factories import make_annotation, make_source, make_text
from tests.sites import Site

PARAGRAPHS = [
    "When Mao Zedong arrived in Moscow on December 16, 1949, he expected to be received as the "
    "leader of a victorious revolution and to negotiate a new treaty at once.",
    "Instead, Stalin kept him waiting for weeks in a dacha outside the city. Mao complained "
    "that he had come only to eat, sleep and defecate.",
]
HEAD = (
    "<meta charset='utf-8'><title>Mao in Moscow | Foreign Policy</title>"
    "<meta name='citation_title' content='Mao in Moscow: The Visit That Shaped an Alliance'>"
    "<meta name='citation_author' content='Westad, Odd Arne'>"
    "<meta name='citation_author' content='Chen Jian'>"
    "<meta name='citation_publication_date' content='2019/12/16'>"
    "<meta property='og:site_name' content='Foreign Policy'>"
)
BODY = (
    "<nav><a href='/'>Home</a> <a href='/subscribe'>Subscribe</a></nav><main><article id='text'>"
    "<h1>Mao in Moscow</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></main>"
    "<footer>All rights reserved.</footer>"
)


@pytest.fixture
def site(settings):
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = True
    served = Site()
    yield served
    served.close()


def sign_in_with_the_popup(page, sidebar) -> None:
    with page.context.expect_page() as opened:
        sidebar.get_by_role("button", name="Log in").click()
    opened.value.wait_for_event("close", timeout=30_000)  # a busy machine


def wait_for(found, page, tries: int = 75):
    for _ in range(tries):
        if (value := found()) is not None:
            return value
        page.wait_for_timeout(200)
    return None


def test_the_first_annotation_on_a_never_saved_page_keeps_it(
    page, live_server, sign_in, site, library, bob
):
    url = site.html("/2019/12/16/mao-in-moscow/", f"<!DOCTYPE html><html lang='en'><head>{HEAD}"
                    f"<link rel='canonical' href='{site.url('/2019/12/16/mao-in-moscow/')}'>"
                    f"</head><body>{BODY}</body></html>")  # fmt: skip
    sign_in(page, bob)
    start = page.request.get(f"{live_server.url}/hypothesis/")
    bookmarklet = re.search(r'href="(javascript:[^"]+)"[^>]*data-bookmarklet', start.text())[1]
    page.goto(url)
    page.evaluate(html.unescape(bookmarklet).removeprefix("javascript:"))
    sidebar = page.frame_locator("iframe[src*='/hypothesis/app.html']")
    sign_in_with_the_popup(page, sidebar)
    sidebar.get_by_text(library.name).first.wait_for(timeout=20_000)
    select_text(page, "kept him waiting for weeks")
    annotate(page, sidebar, comment="Shi Zhe says three weeks.", tag="Sino-Soviet",
             group=library.name)  # fmt: skip
    made = wait_for(lambda: Annotation.objects.filter(creator=bob).first(), page)
    assert made is not None, page.js_errors
    assert (made.comment_raw, [t.name for t in made.tags.all()]) == (
        "Shi Zhe says three weeks.", ["Sino-Soviet"])  # fmt: skip
    source = Source.objects.get()
    assert (source.title, source.url, source.issued, source.library) == (
        "Mao in Moscow: The Visit That Shaped an Alliance", url, "2019-12-16", library)  # fmt: skip
    assert [c.family for c in source.creators.all()] == ["Westad", "Jian"]
    assert source.container_title == "Foreign Policy" and source.accessed
    assert made.text_id == source.current_text.pk
    assert source.current_text.text[made.start : made.end] == "kept him waiting for weeks"
    assert "Subscribe" not in source.current_text.text
    page.goto(f"{live_server.url}{source.get_absolute_url()}")
    mark = page.locator(f'#reading mark[data-ids~="{made.pk}"]')
    mark.first.wait_for()
    assert "".join(mark.all_text_contents()) == "kept him waiting for weeks"
    assert page.js_errors == []


def test_save_to_marginalia_reads_the_pages_citation_tags(
    page, live_server, sign_in, site, library, bob
):
    """Issue #19's last "Done when" line: *Save to Marginalia* on a page with `citation_*`
    meta tags makes a source with the right title, authors, date, container and URL, and the
    article's text without the site's wrapping."""
    url = site.html("/2019/12/16/mao-in-moscow/", "<!DOCTYPE html><html lang='en'><head>"
                    f"{HEAD}</head><body>{BODY}</body></html>")  # fmt: skip
    sign_in(page, bob)
    start = page.request.get(f"{live_server.url}/hypothesis/")
    save = re.search(r'href="(javascript:[^"]+)"[^>]*data-save-bookmarklet', start.text())[1]
    page.goto(f"{url}?utm_source=newsletter")
    with page.context.expect_page() as opened:
        page.evaluate(html.unescape(save).removeprefix("javascript:"))
    window = opened.value
    window.wait_for_function("() => document.querySelector('[data-role=save]')?.disabled === false")
    window.get_by_label("Keywords").fill("Sino-Soviet alliance")
    window.get_by_role("button", name="Save").click()
    window.get_by_role("status").filter(has_text="is now in").wait_for()
    source = Source.objects.get()
    assert (source.title, source.url, source.issued, source.library) == (
        "Mao in Moscow: The Visit That Shaped an Alliance", url, "2019-12-16", library)  # fmt: skip
    assert [(c.family, c.given) for c in source.creators.all()] == [
        ("Westad", "Odd Arne"), ("Jian", "Chen")]  # fmt: skip
    assert source.container_title == "Foreign Policy" and source.accessed
    assert source.keywords == ["Sino-Soviet alliance"]
    assert source.current_text.text.split("\n\n")[-2:] == PARAGRAPHS
    assert "Subscribe" not in source.current_text.text
    assert page.js_errors == []


# --- the browser extension ------------------------------------------------------------------

STRICT = "default-src 'self'; script-src 'self'; frame-src *; style-src 'self'"


def test_the_extension_loads_the_client_where_the_pages_policy_refuses_the_bookmarklet(
    browser, live_server, sign_in, site, library, alice, bob, tmp_path
):
    url = site.html("/article.html", f"<!DOCTYPE html><html><head>{HEAD}</head><body>{BODY}"
                    "</body></html>", **{"Content-Security-Policy": STRICT})  # fmt: skip
    source = make_source(library=library, title="Mao in Moscow", url=url)
    text = make_text(source=source, text="\n\n".join(PARAGRAPHS), imported_by=alice)
    make_annotation(text=text, creator=alice, quote="a dacha outside the city",
                    comment="Zhou's memoirs say Kuntsevo.")  # fmt: skip
    folder = tmp_path / "extension"
    browser_extension.write(live_server.url, folder)
    args = [a for a in LAUNCH_ARGS if a != "--headless"] + [
        "--headless=new",
        f"--disable-extensions-except={folder}",
        f"--load-extension={folder}",
    ]
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=args, headless=False
    )
    try:
        worker = context.service_workers[0] if context.service_workers else (
            context.wait_for_event("serviceworker", timeout=10_000))  # fmt: skip
        page = context.new_page()
        page.set_default_timeout(10_000)
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        sign_in(page, bob)
        page.goto(url)
        start = page.request.get(f"{live_server.url}/hypothesis/")
        bookmarklet = re.search(r'href="(javascript:[^"]+)"[^>]*data-bookmarklet',
                                start.text())[1]  # fmt: skip
        page.evaluate(html.unescape(bookmarklet).removeprefix("javascript:"))
        page.wait_for_timeout(1000)
        assert page.locator("iframe[src*='/hypothesis/app.html']").count() == 0
        assert any("violates" in m and "script-src" in m for m in refused), refused
        tab = worker.evaluate(
            "async (url) => (await chrome.tabs.query({url})).map((t) => t.id)[0]", url
        )
        assert worker.evaluate("(tab) => annotate(tab)", tab) == "loaded"
        sidebar = page.frame_locator("iframe[src*='/hypothesis/app.html']")
        sign_in_with_the_popup(page, sidebar)
        sidebar.get_by_text("Zhou's memoirs say Kuntsevo.").wait_for(timeout=20_000)
        page.locator("hypothesis-highlight", has_text="a dacha outside").first.wait_for()
        assert worker.evaluate("(tab) => annotate(tab)", tab) == "already"
        saved = worker.evaluate("(tab) => save(tab)", tab)
        assert saved == "ready"
        window = next(p for p in context.pages if "/capture/" in p.url)
        assert window.locator("[data-role=shown-url]").text_content() == url
        window.get_by_role("button", name="Save").click()
        window.get_by_text("already holds this page").wait_for()
    finally:
        context.close()


# --- Save to Marginalia on a page already held --------------------------------------------------


def test_saving_a_held_page_asks_first_and_adds_a_revision(
    page, live_server, sign_in, site, library, alice, bob
):
    url = site.html("/held.html", f"<!DOCTYPE html><html><head>{HEAD}</head><body>{BODY}"
                    "</body></html>")  # fmt: skip
    source = make_source(library=library, title="Mao in Moscow", url=url)
    make_text(source=source, text=PARAGRAPHS[0], imported_by=alice)
    sign_in(page, bob)
    start = page.request.get(f"{live_server.url}/hypothesis/")
    save = re.search(r'href="(javascript:[^"]+)"[^>]*data-save-bookmarklet', start.text())[1]
    page.goto(url)
    with page.context.expect_page() as opened:
        page.evaluate(html.unescape(save).removeprefix("javascript:"))
    window = opened.value
    window.wait_for_function("() => document.querySelector('[data-role=save]')?.disabled === false")
    window.get_by_role("button", name="Save").click()
    window.get_by_text("already holds this page").wait_for()
    assert window.get_by_text("has changed since").count() == 1
    assert window.get_by_label(re.compile("new revision of that source")).is_checked()
    assert source.texts.count() == 1 and Source.objects.count() == 1
    window.get_by_role("button", name="Save").click()
    window.get_by_role("status").filter(has_text="revision 2 of").wait_for()
    assert source.texts.count() == 2 and Source.objects.count() == 1
    assert PARAGRAPHS[1] in source.current_text.text
