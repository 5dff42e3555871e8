"""The vendored Hypothesis client, unmodified, on a page of another origin, against
Marginalia's /hypothesis/ service: it signs in with a grant token Marginalia minted, shows
the annotation made in Marginalia on the page, and what it creates is a Marginalia
annotation on the right code points.

The host page is served on 127.0.0.1 at another port than the live server (localhost), as
a bookmarklet's page is another site; every request to any other host is aborted.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from annotations.hypothesis import tokens
from annotations.models import Annotation
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


def test_the_client_shows_marginalias_annotation_and_creates_one(
    page, live_server, host, library, alice, bob
):
    source = make_source(library=library, title="Mao in Moscow", url=host.url)
    text = make_text(source=source, text=ARTICLE, imported_by=alice)
    make_annotation(text=text, creator=alice, quote="Stalin kept him waiting",
                    comment="Shi Zhe says three weeks.")  # fmt: skip
    request = type("Request", (), {"get_host": lambda self: urlsplit(live_server.url).netloc})()
    host.serve(live_server.url, tokens.grant_token(bob, request))
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

    # Select "the treaty was signed" with the mouse, and highlight it with the client's adder.
    box = page.evaluate(
        """() => {
          const text = document.getElementById('text');
          const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
          let node = walker.nextNode();
          while (node && !node.data.includes('the treaty was signed')) node = walker.nextNode();
          const start = node.data.indexOf('the treaty was signed');
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, start + 'the treaty was signed'.length);
          const r = range.getBoundingClientRect();
          return {left: r.left, right: r.right, y: r.top + r.height / 2};
        }"""
    )
    page.mouse.move(box["left"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move(box["right"] - 1, box["y"], steps=5)
    page.mouse.up()
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
