"""`render_markdown`'s short cuts give what the long way gives: one Markdown converter per
thread, reset after each use, renders as a new one would; Markdown without raw HTML is
cleaned by bleach directly, as `clean_html` (parse, drop, clean) would clean it."""

from __future__ import annotations

import re
import threading

import markdown as md
from hypothesis import given, settings
from hypothesis import strategies as st

from core import sanitize

# Pieces of Markdown that exercise every extension of "extra" (abbreviations, attribute
# lists, definition lists, fenced code, footnotes, tables) and the links bleach polices.
PIECES = [
    *"ab *_`#>-+1.[]()!:|\n\\;\"'=~^{}",
    "http://x.org", "[x](javascript:alert(1))", "![i](http://x/y.png)", "[^1]", "[^1]: note",
    "*[HTML]: Hyper Text", "HTML", "```", "    ", "| a | b |\n|---|---|\n| 1 | 2 |",
    "Term\n: Definition", "{: #id .cls}", "\t", "\n\n", "Сталин", "毛泽东",
]  # fmt: skip
markdown_texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


# What a plain comment is made of, and the characters that would make it Markdown.
plain_texts = st.lists(
    st.sampled_from([*"abZ 9,.;:'\"?!()/-", "Сталин", "毛泽东", "é", *"_*[]#>`~=+|\\{}&<\t\n"]),
    max_size=30,
).map("".join)


def the_long_way(text: str) -> str:
    return sanitize.clean_html(md.markdown(text, **sanitize.MARKDOWN))


def as_shown(html: str) -> str:
    """Whitespace as a browser shows it outside <pre>: a run is one space."""
    parts = re.split(r"(<pre>.*?</pre>)", html, flags=re.DOTALL)
    return "".join(p if p.startswith("<pre>") else re.sub(r"\s+", " ", p) for p in parts)


@settings(max_examples=600, deadline=None)
@given(markdown_texts)
def test_rendering_is_the_long_way_up_to_whitespace_between_elements(text):
    assert as_shown(sanitize.render_markdown(text)) == as_shown(the_long_way(text))


@settings(max_examples=3000, deadline=None)
@given(plain_texts)
def test_plain_words_are_one_paragraph_as_the_long_way_makes_them(text):
    rendered, expected = sanitize.render_markdown(text), the_long_way(text)
    if sanitize._PLAIN.fullmatch(text):
        assert rendered == expected
    else:
        assert as_shown(rendered) == as_shown(expected)


def test_plain_words_take_the_shortest_way():
    assert sanitize._PLAIN.fullmatch("Mao asked, twice: why (and for whom)?")
    for markdown in ("1. first", "a  b", "a_b_", "a\tb", "- a", "a\nb", "a *b*", "a ", " a"):
        assert not sanitize._PLAIN.fullmatch(markdown), markdown


@settings(max_examples=300, deadline=None)
@given(st.lists(markdown_texts, min_size=2, max_size=4))
def test_a_reused_converter_renders_as_a_new_one(texts):
    """Footnotes and abbreviations are state; reset() clears it between comments."""
    assert [sanitize.markdown_html(t) for t in texts] == [
        md.markdown(t, **sanitize.MARKDOWN) for t in texts
    ]


def test_the_direct_way_is_taken_only_without_raw_html_or_references(monkeypatch):
    footnoted = the_long_way("x[^1]\n\n[^1]: n")
    parsed = []
    real = sanitize.clean_html
    monkeypatch.setattr(sanitize, "clean_html", lambda html: parsed.append(html) or real(html))
    assert sanitize.render_markdown("*kept* waiting") == "<p><em>kept</em> waiting</p>"
    assert sanitize.render_markdown("kept waiting") == "<p>kept waiting</p>"
    assert parsed == []
    assert (
        sanitize.render_markdown("<script>x</script>\n\n**b**").strip()
        == "<p><strong>b</strong></p>"
    )
    assert sanitize.render_markdown("a &copy; b") == "<p>a © b</p>"
    assert sanitize.render_markdown("x[^1]\n\n[^1]: n") == footnoted
    assert len(parsed) == 3


def test_each_thread_has_its_own_converter():
    seen = []

    def render() -> None:
        sanitize.markdown_html("x[^1]\n\n[^1]: note")
        seen.append(sanitize._converters.markdown)  # kept alive: ids stay distinct

    threads = [threading.Thread(target=render) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(converter) for converter in seen}) == 3
