"""Issue #19's "Done when", in Chromium, for what the other browser tests leave out: the
unmodified Hypothesis client on a page of another origin *annotates* (the adder's Annotate,
a comment and a tag written in its editor) after characters outside the Basic Multilingual
Plane, and Marginalia's reading view marks exactly that quote on the page's snapshot; a
reload re-anchors it in the client; a reply made in the client is a Marginalia reply, and
one made in Marginalia's reading view is a reply in the client's thread.

The page is served by `_Host` (127.0.0.1, another port than the live server's localhost);
every request to any other host is aborted and counted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from annotations.hypothesis import tokens
from annotations.models import Annotation
from sources.models import Source
from tests.browser.test_hypothesis_client import ARTICLE, _Host, annotate, select_text
from tests.browser.test_threads import card_of, open_source, reply_item
from tests.factories import make_annotation, make_source, make_text

QUOTE = "kept him waiting for weeks"
# Astral characters before the quote: a CJK Extension B ideograph, an emoji, a flag (two
# regional indicators) and a family (a ZWJ sequence): each code point is two UTF-16 units.
PARAGRAPHS = [
    "The archive's catalogue marks the file 𠮷田 📜 with the flag 🇨🇳 of the People's Republic "
    "and the family 👨‍👩‍👧 of the interpreter Shi Zhe, who left his own memoir of the journey.",
    "When Mao Zedong arrived in Moscow on December 16, 1949, he expected to be received as the "
    "leader of a victorious revolution and to negotiate a new treaty at once.",
    f"Instead, Stalin {QUOTE} in a dacha outside the city. Mao complained that he had come "
    "only to eat, sleep and defecate.",
]
ASTRAL = sum(1 for ch in "".join(PARAGRAPHS) if ord(ch) > 0xFFFF)
SLOW = 30_000  # the client boots two bundles and an iframe: a shared, slow machine


@pytest.fixture
def host():
    site = _Host()
    yield site
    site.server.shutdown()
    site.server.server_close()


def serve_article(host: _Host, live_url: str, user) -> None:
    """The article, with the client's config (a grant token minted for `user`) and boot
    script, as `_Host.serve` writes it, with these paragraphs for its text."""
    request = type("Request", (), {"get_host": lambda self: urlsplit(live_url).netloc})()
    host.serve(live_url, tokens.grant_token(user, request))
    article = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    body = f"<article id='text'><h1>Mao in Moscow</h1>{article}</article>"
    host.html = host.html.replace(
        f"<article><p id='text'>{ARTICLE}</p></article>".encode(), body.encode()
    )
    assert body.encode() in host.html


def only_ours(page, live_url: str, host: _Host) -> list[str]:
    """Abort every request to a host other than Marginalia's and the page's; the list of
    those attempted."""
    allowed = (urlsplit(live_url).netloc, urlsplit(host.url).netloc)
    attempted: list[str] = []

    def route(route):
        if urlsplit(route.request.url).netloc in allowed:
            return route.continue_()
        attempted.append(route.request.url)
        return route.abort()

    page.context.route("**/*", route)
    return attempted


def wait_for(found, page, tries: int = 150):
    """Poll the database (the client saves in the background) for up to 30 s."""
    for _ in range(tries):
        if (value := found()) is not None:
            return value
        page.wait_for_timeout(200)
    return None


def sidebar_of(page):
    return page.frame_locator("iframe[src*='/hypothesis/app.html']")


def test_annotate_with_a_comment_and_a_tag_after_astral_characters_and_reload(
    page, live_server, sign_in, host, library, bob, settings
):
    """The page is new to Marginalia: its first annotation keeps it (the server fetches it)
    and the annotation is anchored on the snapshot, in code points."""
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = True
    serve_article(host, live_server.url, bob)
    attempted = only_ours(page, live_server.url, host)
    page.goto(host.url)
    sidebar = sidebar_of(page)
    sidebar.get_by_text(library.name).first.wait_for(timeout=SLOW)  # signed in, its groups
    # The page's own text: the quote comes after ASTRAL astral code points, and its UTF-16
    # offset (what the client's TextPositionSelector counts) is that many more.
    utf16 = page.evaluate("(q) => document.getElementById('text').textContent.indexOf(q)", QUOTE)
    content = page.evaluate("() => document.getElementById('text').textContent")
    assert ASTRAL == 7 and utf16 == content.index(QUOTE) + ASTRAL  # Python counts code points

    select_text(page, QUOTE)
    annotate(page, sidebar, comment="Shi Zhe says three 🕰 weeks.", tag="Sino-Soviet",
             group=library.name)  # fmt: skip
    made = wait_for(lambda: Annotation.objects.filter(creator=bob).first(), page)
    assert made is not None, page.js_errors
    source = Source.objects.get()
    assert source.url == host.url and made.text_id == source.current_text.pk
    snapshot = source.current_text.text
    assert snapshot[made.start : made.end] == QUOTE
    assert made.start == snapshot.index(QUOTE)  # code points, not the client's UTF-16 units
    assert sum(1 for ch in snapshot[: made.start] if ord(ch) > 0xFFFF) == ASTRAL
    assert (made.comment_raw, made.kind, made.reply_to_id) == (
        "Shi Zhe says three 🕰 weeks.", "passage", None)  # fmt: skip
    assert [t.name for t in made.tags.all()] == ["Sino-Soviet"]
    sidebar.get_by_text("Shi Zhe says three 🕰 weeks.").wait_for()

    page.reload()  # the client anchors what it is given back by the search endpoint
    page.locator("hypothesis-highlight", has_text=QUOTE).first.wait_for(timeout=SLOW)
    highlights = page.locator("hypothesis-highlight").all_text_contents()
    assert "".join(highlights) == QUOTE
    sidebar = sidebar_of(page)
    card = sidebar.locator("article", has_text="Shi Zhe says three 🕰 weeks.")
    card.first.wait_for(timeout=SLOW)
    assert card.first.get_by_text("Sino-Soviet").count() == 1
    assert sidebar.get_by_text("Orphaned").count() == 0
    assert attempted == [] and page.js_errors == []

    sign_in(page, bob)
    open_source(page, source)
    mark = page.locator(f'#reading mark[data-ids~="{made.pk}"]')
    mark.first.wait_for()
    assert "".join(mark.all_text_contents()) == QUOTE
    assert card_of(page, made).get_by_text("Shi Zhe says three 🕰 weeks.").count() == 1
    assert page.js_errors == []


def test_replies_made_in_the_client_and_in_marginalia_meet_in_both_threads(
    page, live_server, sign_in, host, library, alice, bob
):
    source = make_source(library=library, title="Mao in Moscow", url=host.url)
    text = make_text(source=source, text="\n\n".join(["Mao in Moscow", *PARAGRAPHS]),
                     imported_by=alice)  # fmt: skip
    first = make_annotation(text=text, creator=alice, quote=QUOTE, comment="Three weeks?")
    serve_article(host, live_server.url, bob)
    attempted = only_ours(page, live_server.url, host)
    page.goto(host.url)
    sidebar = sidebar_of(page)
    sidebar.get_by_text("Three weeks?").wait_for(timeout=SLOW)
    page.locator("hypothesis-highlight", has_text=QUOTE).first.wait_for(timeout=SLOW)

    sidebar.get_by_role("button", name="Reply", exact=True).click()
    sidebar.get_by_role("textbox", name="Enter reply").fill("Shi Zhe's memoir 📜 says so.")
    sidebar.get_by_role("button", name=f"Post to {library.name}").click()
    from_client = wait_for(
        lambda: Annotation.objects.filter(reply_to=first, creator=bob).first(), page
    )
    assert from_client is not None, page.js_errors
    assert from_client.comment_raw == "Shi Zhe's memoir 📜 says so."
    assert (from_client.motivation, from_client.text_id) == ("replying", text.pk)
    assert attempted == [] and page.js_errors == []

    sign_in(page, alice)  # the reading view, on Marginalia's own origin
    open_source(page, source)
    card = card_of(page, first)
    assert card.get_by_role("button", name="1 reply").get_attribute("aria-expanded") == "true"
    assert reply_item(page, from_client).get_by_text("Shi Zhe's memoir 📜 says so.").count() == 1
    card.get_by_role("button", name="Reply", exact=True).click()
    page.get_by_label("Reply (Markdown)").fill("Zhou's memoir says *Kuntsevo*.")
    page.get_by_role("button", name="Post reply").click()
    card.get_by_role("button", name="2 replies").wait_for()
    from_marginalia = Annotation.objects.get(reply_to=first, creator=alice)
    assert page.js_errors == []

    page.goto(host.url)  # back on the article: the client's thread has both replies
    sidebar = sidebar_of(page)
    sidebar.get_by_text("Three weeks?").wait_for(timeout=SLOW)
    sidebar.get_by_role("button", name="Show replies (2)").click()  # collapsed at first
    answer = sidebar.locator("em", has_text="Kuntsevo")
    answer.wait_for(timeout=SLOW)
    assert sidebar.get_by_text("Shi Zhe's memoir 📜 says so.").count() == 1
    assert from_marginalia.comment_raw == "Zhou's memoir says *Kuntsevo*."
    assert attempted == [] and page.js_errors == []
