"""The vendored Hypothesis client, unmodified, on a page of another origin, against
Marginalia's /hypothesis/ service: it signs in with a grant token Marginalia minted, shows
the annotation made in Marginalia on the page, and what it creates is a Marginalia
annotation on the right code points.

The host page is served on 127.0.0.1 at another port than the live server (localhost), as
a bookmarklet's page is another site; every request to any other host is aborted.
"""

from __future__ import annotations

import html
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from annotations.hypothesis import tokens
from annotations.models import Annotation
from sources.models import Source
from tests.factories import make_annotation, make_source, make_text

ARTICLE = (
    "Mao came to Moscow in December 1949. Stalin kept him waiting for weeks, "
    "and the treaty was signed only in February."
)


class _Host:
    """A one-page site: the article, with the client's config and boot script."""

    def __init__(self) -> None:
        self.html = b""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(host.html)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/2019/mao-in-moscow.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve_plain(self) -> None:
        """The article alone, as a site that knows nothing of Marginalia serves it."""
        self.html = (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Mao in Moscow</title></head><body><article><p id='text'>{ARTICLE}</p>"
            "</article></body></html>"
        ).encode()

    def serve(self, live_url: str, grant: str) -> None:
        config = {
            "openSidebar": True,
            "services": [
                {
                    "apiUrl": f"{live_url}/hypothesis/api/",
                    "authority": tokens.authority(),
                    "grantToken": grant,
                }
            ],
        }
        self.html = (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Mao in Moscow</title></head><body><article>"
            f"<p id='text'>{ARTICLE}</p></article>"
            f"<script type='application/json' class='js-hypothesis-config'>{json.dumps(config)}"
            f"</script><script src='{live_url}/hypothesis/boot.js'></script></body></html>"
        ).encode()


@pytest.fixture
def host():
    site = _Host()
    yield site
    site.server.shutdown()
    site.server.server_close()  # else its socket is collected, and warned about, in a later test


def select_text(page, words: str) -> None:
    """Select `words` of the article with the mouse, as a reader does (the client's adder
    appears on the mouse's release)."""
    box = page.evaluate(
        """(words) => {
          const text = document.getElementById('text');
          const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
          let node = walker.nextNode();
          while (node && !node.data.includes(words)) node = walker.nextNode();
          const start = node.data.indexOf(words);
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + words.length);
          const r = range.getBoundingClientRect();
          return {left: r.left, right: r.right, y: r.top + r.height / 2};
        }""",
        words,
    )
    page.mouse.move(box["left"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move(box["right"] - 1, box["y"], steps=5)
    page.mouse.up()


def annotate(page, sidebar, *, comment: str, tag: str, group: str) -> None:
    """Choose the adder's Annotate on the selection, write `comment` and `tag` in the
    client's editor, and post it to `group`."""
    page.get_by_role("button", name=re.compile(r"^Annotate\b")).click()
    sidebar.get_by_role("textbox", name="Enter comment").fill(comment)
    tags = sidebar.get_by_role("combobox", name="Add tags")
    tags.fill(tag)
    tags.press("Enter")
    sidebar.get_by_role("button", name=f"Remove tag: {tag}").wait_for()
    sidebar.get_by_role("button", name=f"Post to {group}").click()


def serve_with_a_note(host, live_server, library, alice, *, reader):
    """The article held by `library` with alice's note on it, served with the client signed
    in as `reader`; the text."""
    source = make_source(library=library, title="Mao in Moscow", url=host.url)
    text = make_text(source=source, text=ARTICLE, imported_by=alice)
    make_annotation(text=text, creator=alice, quote="Stalin kept him waiting",
                    comment="Shi Zhe says three weeks.")  # fmt: skip
    request = type("Request", (), {"get_host": lambda self: urlsplit(live_server.url).netloc})()
    host.serve(live_server.url, tokens.grant_token(reader, request))
    return text


def test_the_client_shows_marginalias_annotation_and_creates_one(
    page, live_server, host, library, alice, bob
):
    text = serve_with_a_note(host, live_server, library, alice, reader=bob)
    allowed = (urlsplit(live_server.url).netloc, urlsplit(host.url).netloc)
    attempted: list[str] = []

    def only_ours(route):
        if urlsplit(route.request.url).netloc in allowed:
            return route.continue_()
        attempted.append(route.request.url)
        return route.abort()

    page.context.route("**/*", only_ours)
    page.goto(host.url)
    sidebar = page.frame_locator("iframe[src*='/hypothesis/app.html']")
    sidebar.get_by_text("Shi Zhe says three weeks.").wait_for(timeout=20_000)
    page.locator("hypothesis-highlight", has_text="Stalin kept him waiting").first.wait_for()

    select_text(page, "the treaty was signed")
    page.wait_for_timeout(500)
    page.get_by_role("button", name=re.compile(r"^Highlight\b")).click()
    page.locator("hypothesis-highlight", has_text="the treaty was signed").first.wait_for()
    made = None
    for _ in range(50):
        made = Annotation.objects.filter(creator=bob).first()
        if made is not None:
            break
        page.wait_for_timeout(200)
    assert made is not None, page.js_errors
    assert ARTICLE[made.start : made.end] == "the treaty was signed"
    assert made.text_id == text.pk
    assert attempted == [] and page.js_errors == []


def test_the_bookmarklet_loads_the_client_and_its_popup_signs_in(
    page, live_server, sign_in, host, library, alice, bob
):
    """No grant token: the reader clicks the bookmarklet on another site's page, then Log in;
    the popup (Marginalia's own origin, where the reader is signed in) hands the sidebar a
    code, and what the reader highlights is theirs."""
    source = make_source(library=library, title="Mao in Moscow", url=host.url)
    text = make_text(source=source, text=ARTICLE, imported_by=alice)
    make_annotation(text=text, creator=alice, quote="Stalin kept him waiting", comment="Weeks.")
    host.serve_plain()
    sign_in(page, bob)  # a Marginalia session: first-party only in the popup
    start = page.request.get(f"{live_server.url}/hypothesis/")
    bookmarklet = re.search(r'href="(javascript:[^"]+)"', start.text())[1]
    page.goto(host.url)
    page.evaluate(html.unescape(bookmarklet).removeprefix("javascript:"))
    sidebar = page.frame_locator("iframe[src*='/hypothesis/app.html']")
    with page.context.expect_page() as opened:
        sidebar.get_by_role("button", name="Log in").click()
    popup = opened.value
    popup.wait_for_event("close", timeout=15_000)
    sidebar.get_by_text("Weeks.").wait_for(timeout=20_000)
    select_text(page, "the treaty was signed")
    page.get_by_role("button", name=re.compile(r"^Highlight\b")).click()
    made = None
    for _ in range(50):
        made = Annotation.objects.filter(creator=bob).first()
        if made is not None:
            break
        page.wait_for_timeout(200)
    assert made is not None and ARTICLE[made.start : made.end] == "the treaty was signed"
    assert page.js_errors == []


def test_save_to_marginalia_keeps_the_page_read_in_another_site(
    page, live_server, sign_in, host, library, bob
):
    """The *Save to Marginalia* bookmarklet opens Marginalia's window, hands it the page (to
    Marginalia's origin only), and the reader saves it into a library: a source with the
    page's text, which the client can then annotate."""
    host.serve_plain()
    sign_in(page, bob)
    start = page.request.get(f"{live_server.url}/hypothesis/")
    save = re.search(r'href="(javascript:[^"]+)"[^>]*data-save-bookmarklet', start.text())[1]
    page.goto(host.url)
    with page.context.expect_page() as opened:
        page.evaluate(html.unescape(save).removeprefix("javascript:"))
    window = opened.value
    window_errors: list[str] = []
    window.on("pageerror", lambda error: window_errors.append(str(error)))
    window.get_by_role("button", name="Save").wait_for()
    window.wait_for_function("() => document.querySelector('[data-role=save]')?.disabled === false")
    assert window.locator("[data-role=shown-url]").text_content() == host.url
    window.get_by_label("Keywords").fill("Sino-Soviet alliance")
    window.get_by_role("button", name="Save").click()
    window.get_by_role("status").filter(has_text="is now in").wait_for()
    source = Source.objects.get(url=host.url)
    assert source.keywords == ["Sino-Soviet alliance"] and source.title == "Mao in Moscow"
    assert ARTICLE in source.current_text.text
    assert page.js_errors == [] and window_errors == []


def test_a_reader_of_a_library_sees_its_annotations_in_the_client(
    page, live_server, host, library, alice, vera
):
    """vera reads alice's library (a viewer): the client lists it among her groups, marked
    as one she reads (`restricted`), and shows its annotations on the page."""
    serve_with_a_note(host, live_server, library, alice, reader=vera)
    page.goto(host.url)
    sidebar = page.frame_locator("iframe[src*='/hypothesis/app.html']")
    sidebar.get_by_text("Shi Zhe says three weeks.").wait_for(timeout=20_000)
    page.locator("hypothesis-highlight", has_text="Stalin kept him waiting").first.wait_for()
    assert page.js_errors == []
