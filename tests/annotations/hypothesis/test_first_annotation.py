"""The first annotation on a page Marginalia does not hold: the server fetches the page (from
a site on 127.0.0.1, allowed here by WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES alone), keeps it
as *Save to Marginalia* does, and anchors the annotation on the snapshot, all or nothing.
"""

from __future__ import annotations

import time

import pytest

from annotations.hypothesis import tokens
from annotations.hypothesis.models import ClientProfile
from annotations.models import Annotation
from sources.models import Source, SourceText
from tests.annotations.hypothesis.test_api import call
from tests.sites import Site

QUOTE = "Stalin kept him waiting for weeks in a dacha"
ARTICLE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Mao in Moscow | FP</title>"
    "<meta name='citation_title' content='Mao in Moscow: The Visit That Shaped an Alliance'>"
    "<meta name='citation_author' content='Westad, Odd Arne'>"
    "<meta name='citation_publication_date' content='2019/12/16'>"
    "<link rel='canonical' href='{canonical}'></head><body><nav>Home · Subscribe</nav>"
    "<main><article><h1>Mao in Moscow</h1>"
    "<p>When Mao Zedong arrived in Moscow on December 16, 1949, he expected to be received as "
    "the leader of a victorious revolution and to negotiate a new treaty at once.</p>"
    f"<p>Instead, {QUOTE} outside the city. Mao complained that he had come only to eat, "
    "sleep and defecate.</p></article></main><footer>All rights reserved.</footer></body></html>"
)
PAYWALL = (
    "<html><head><title>Subscribe</title></head><body><main><article><p>This article is for "
    "subscribers. Sign in or subscribe to read the rest of this story today, from only one "
    "dollar a week, cancel any time.</p></article></main></body></html>"
)
pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings):
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = True
    served = Site()
    yield served
    served.close()


def body(url: str, group: str, quote: str = QUOTE, **extra) -> dict:
    """The client's create body for `quote` on the page at `url` (document as it reads it)."""
    return {
        "uri": url,
        "group": group,
        "permissions": {"read": [f"group:{group}"]},
        "tags": ["Sino-Soviet"],
        "text": "Shi Zhe says three weeks.",
        "document": {"title": ["Mao in Moscow | FP"], "link": [{"href": url}],
                     "highwire": {"title": ["Mao in Moscow: The Visit That Shaped an Alliance"]}},
        "target": [{"source": url, "selector": [
            {"type": "TextPositionSelector", "start": 300, "end": 300 + len(quote)},
            {"type": "TextQuoteSelector", "exact": quote, "prefix": "Instead, " * (quote == QUOTE),
             "suffix": " outside"}]}],
        **extra,
    }  # fmt: skip


def nothing_written() -> bool:
    return not (
        Source.objects.exists() or SourceText.objects.exists() or Annotation.objects.exists()
    )


def test_the_first_annotation_keeps_the_page_and_the_second_finds_it(site, library, bob):
    url = site.html("/2019/mao.html", ARTICLE.format(canonical=site.url("/2019/mao.html")))
    made = call("post", "annotations", bob, body(url + "?utm_source=x", library.slug))
    assert made.status_code == 200, made.content
    source = Source.objects.get()
    assert (source.library, source.title, source.url) == (
        library, "Mao in Moscow: The Visit That Shaped an Alliance", url)  # fmt: skip
    assert [(c.family, c.given) for c in source.creators.all()] == [("Westad", "Odd Arne")]
    assert source.issued == "2019-12-16" and source.accessed
    annotation = Annotation.objects.get()
    text = source.current_text
    assert text.text[annotation.start : annotation.end] == QUOTE
    assert "Snapshot of" in text.note and "Subscribe" not in text.text
    assert made.json()["uri"] == url and made.json()["text"] == "Shi Zhe says three weeks."
    again = call("post", "annotations", bob, body(url + "#top", library.slug, quote="dacha"))
    assert again.status_code == 200, again.content
    assert Source.objects.count() == 1 and Annotation.objects.count() == 2
    assert site.requests == ["/2019/mao.html?utm_source=x"]  # the second did not fetch


def test_the_fetched_pages_canonical_address_finds_the_source_already_held(site, library, bob):
    canonical = site.url("/2019/mao.html")
    site.html("/2019/mao.html", ARTICLE.format(canonical=canonical))
    shared = site.html("/amp/mao", ARTICLE.format(canonical=canonical))
    assert call("post", "annotations", bob, body(canonical, library.slug)).status_code == 200
    client_read = body(shared, library.slug, quote="dacha")
    assert call("post", "annotations", bob, client_read).status_code == 200
    assert Source.objects.count() == 1 and SourceText.objects.count() == 1


def test_redirects_are_followed_and_counted(site, library, bob):
    target = site.html("/mao.html", ARTICLE.format(canonical=""))
    for hop in range(6):
        site.pages[f"/r{hop}"] = (
            302,
            {"Location": f"/r{hop + 1}" if hop < 5 else "/mao.html"},
            b"",
        )
    assert call("post", "annotations", bob, body(site.url("/r1"), library.slug)).status_code == 200
    assert Source.objects.get().url == site.url("/r1")  # the page as the reader reached it
    Source.objects.all().delete()
    too_many = call("post", "annotations", bob, body(site.url("/r0"), library.slug))
    assert too_many.status_code == 400 and "redirected more than 5" in too_many.json()["reason"]
    assert target


def test_a_private_address_is_refused_without_the_setting(site, library, bob, settings):
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = False
    url = site.html("/mao.html", ARTICLE.format(canonical=""))
    refused = call("post", "annotations", bob, body(url, library.slug))
    assert refused.status_code == 400 and "private or local address" in refused.json()["reason"]
    assert site.requests == [] and nothing_written()
    for address in ("http://[::1]/x", "http://169.254.169.254/latest/meta-data/",
                    "http://10.0.0.1/", "ftp://example.org/x"):  # fmt: skip
        answer = call("post", "annotations", bob, body(address, library.slug))
        assert answer.status_code == 400, address
    assert nothing_written()


def test_a_redirect_to_a_private_address_is_refused_at_that_hop(site, library, bob, settings):
    """Each hop is checked: a public page redirecting to the server's own network."""
    settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = False
    from sources.web import fetch

    checked: list[str] = []
    real = fetch._allowed_address

    def public_first(host, port, deadline):
        checked.append(host)
        if len(checked) == 1:  # pretend the first host is a public one
            return "127.0.0.1"
        return real(host, port, deadline)

    site.pages["/go"] = (302, {"Location": "http://localhost:9/admin"}, b"")
    fetch._allowed_address = public_first
    try:
        refused = call("post", "annotations", bob, body(site.url("/go"), library.slug))
    finally:
        fetch._allowed_address = real
    assert refused.status_code == 400 and "private or local" in refused.json()["reason"]
    assert checked == ["127.0.0.1", "localhost"] and nothing_written()


def test_an_oversize_page_is_refused_while_it_is_read(site, library, bob, settings):
    settings.WEB_CAPTURE_MAX_BYTES = 100_000
    big = ARTICLE.format(canonical="").replace("<footer>", "<p>" + "x" * 200_000 + "</p><footer>")
    url = site.html("/big.html", big)
    refused = call("post", "annotations", bob, body(url, library.slug))
    assert refused.status_code == 400 and "larger than" in refused.json()["reason"]
    assert nothing_written()


def test_a_slow_page_is_given_up_on_within_the_time_allowed(site, library, bob, settings):
    settings.WEB_CAPTURE_SECONDS = 1

    def drip(handler):  # headers at once, then a byte every 0.3 s: each read is quick
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(20):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.3)

    site.pages["/slow"] = drip
    began = time.monotonic()
    refused = call("post", "annotations", bob, body(site.url("/slow"), library.slug))
    assert time.monotonic() - began < 2.5
    assert refused.status_code == 400 and "within 1 seconds" in refused.json()["reason"]
    assert nothing_written()


def test_a_quote_not_in_the_fetched_page_is_refused_and_nothing_is_kept(site, library, bob):
    url = site.html("/paywalled", PAYWALL)
    refused = call("post", "annotations", bob, body(url, library.slug))
    assert refused.status_code == 400
    assert "use Save to Marginalia from the page" in refused.json()["reason"]
    assert nothing_written()


def test_a_failure_after_the_snapshot_leaves_no_source(site, library, bob, monkeypatch):
    from annotations.hypothesis import first_annotation

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(first_annotation, "create_annotation", broken)
    url = site.html("/mao.html", ARTICLE.format(canonical=""))
    with pytest.raises(RuntimeError):
        call("post", "annotations", bob, body(url, library.slug))
    assert nothing_written()


def test_only_a_writer_of_the_group_may_save_the_page(site, library, vera, mallory, bob):
    url = site.html("/mao.html", ARTICLE.format(canonical=""))
    viewer = call("post", "annotations", vera, body(url, library.slug))
    assert viewer.status_code == 403 and "not annotate" in viewer.json()["reason"]
    outsider = call("post", "annotations", mallory, body(url, library.slug))
    assert outsider.status_code == 400 and "group" in outsider.json()["reason"]
    anonymous = call("post", "annotations", None, body(url, library.slug))
    assert anonymous.status_code == 401
    note = body(url, library.slug)
    note["target"] = [{"source": url}]
    assert call("post", "annotations", bob, note).status_code == 400
    assert site.requests == [] and nothing_written()


def test_only_me_on_a_new_page_is_private(site, library, bob):
    url = site.html("/mao.html", ARTICLE.format(canonical=""))
    mine = body(url, library.slug, permissions={"read": [tokens.userid(bob)]})
    assert call("post", "annotations", bob, mine).status_code == 200
    assert Annotation.objects.get().visibility == "private"


# --- profile preferences --------------------------------------------------------------------


def test_the_clients_preferences_are_kept_per_user(alice, bob):
    assert call("get", "profile", alice).json()["preferences"] == {"show_sidebar_tutorial": False}
    changed = call("patch", "profile", alice, {"preferences": {"show_sidebar_tutorial": True}})
    assert changed.status_code == 200
    assert changed.json()["preferences"] == {"show_sidebar_tutorial": True}
    assert call("get", "profile", alice).json()["preferences"]["show_sidebar_tutorial"] is True
    assert call("get", "profile", bob).json()["preferences"]["show_sidebar_tutorial"] is False
    for wrong in ({"preferences": {"theme": "dark"}}, {"preferences": {"show_sidebar_tutorial": 1}},
                  {"preferences": []}):  # fmt: skip
        refused = call("patch", "profile", alice, wrong)
        assert refused.status_code == 400 and "preferences" in refused.json()["reason"]
    assert call("patch", "profile", None, {"preferences": {}}).status_code == 401
    assert call("post", "profile", alice, {}).status_code == 405
    assert ClientProfile.objects.get().preferences == {"show_sidebar_tutorial": True}
