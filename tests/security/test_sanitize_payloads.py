"""Every XSS payload through the sanitiser, then parsed as a browser would (html5lib):
only allow-listed elements and attributes survive, and no link leaves http(s)/mailto."""

from __future__ import annotations

import time

import pytest
from bleach._vendor import html5lib  # the parser bleach itself uses: HTML5 as browsers parse it

from core.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    clean_html,
    render_markdown,
)
from tests.security.payloads import PAYLOADS

URL_ATTRIBUTES = {"href", "cite"}


def problems(html: str) -> list[str]:
    """What a browser parsing `html` would find that the allow-list forbids."""
    fragment = html5lib.parseFragment(html, namespaceHTMLElements=False)
    found = []
    for element in fragment.iter():
        if not isinstance(element.tag, str):  # comments
            found.append("a comment")
            continue
        tag = element.tag
        if tag == "DOCUMENT_FRAGMENT":
            continue
        if tag not in ALLOWED_TAGS:
            found.append(f"<{tag}>")
        allowed = set(ALLOWED_ATTRIBUTES.get(tag, [])) | set(ALLOWED_ATTRIBUTES["*"])
        for name, value in element.attrib.items():
            if name not in allowed:
                found.append(f"<{tag} {name}>")
            scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
            if name in URL_ATTRIBUTES and scheme and scheme not in ALLOWED_PROTOCOLS:
                found.append(f"<{tag} {name}={value!r}>")
    return found


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(1, len(PAYLOADS) + 1))
def test_the_sanitiser_leaves_a_browser_nothing_to_run(payload):
    assert problems(clean_html(payload)) == []
    assert problems(render_markdown(payload)) == []


def test_all_payloads_at_once_leave_nothing_to_run():
    page = "<div>" + "".join(f"<p>{p}</p>" for p in PAYLOADS) + "</div>"
    assert problems(clean_html(page)) == []
    assert problems(render_markdown("\n\n".join(PAYLOADS))) == []


def test_text_survives_cleaning():
    raw = '<p lang="ru">Мао <a href="https://example.org" onclick="x()">сказал</a></p>'
    cleaned = clean_html(raw)
    assert cleaned == '<p lang="ru">Мао <a href="https://example.org">сказал</a></p>'


def test_cleaning_a_flat_two_megabyte_page_takes_linear_time():
    small = "".join(f"<p>Paragraph {n} of the telegram.</p>" for n in range(2_000))
    large = small * 16  # about 2 MB of flat siblings, bleach's worst case on its own
    started = time.monotonic()
    clean_html(small)
    small_time = time.monotonic() - started
    started = time.monotonic()
    cleaned = clean_html(large)
    large_time = time.monotonic() - started
    assert cleaned.count("<p>") == 32_000
    assert large_time < max(small_time, 0.05) * 16 * 4  # linear, with room for noise
