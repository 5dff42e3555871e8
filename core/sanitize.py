"""The one place HTML is cleaned. Everything stored as `html` has passed through here.

Sanitise on write (imports, comments, edits): bleach costs ~50 ms on a 35 KB page,
so it is paid once per write, never per page view.

The allow-lists were reviewed against the XSS payloads in `tests/security/`:
- no element that runs or embeds anything (script, style, iframe, object, svg, math,
  form controls, img: no tracking pixels either) and no `<base>`, `<meta>`, `<link>`;
- no `id`, `name` or `class`: a document cannot clobber DOM globals the page's scripts
  read, nor borrow the page's own classes to dress itself up as its controls;
- no `style` (the CSS sanitizer allows no property), no `on*` handler, no `target`;
- URLs (`href`, `cite`) only http, https and mailto: no javascript:, data: or vbscript:,
  however encoded; bleach decodes entities and strips control characters before checking;
- comments are stripped (no conditional comments), and the elements below go with their
  content, so that the text of a `<script>` or `<noscript>` never reappears as markup.
"""

from __future__ import annotations

import itertools
import re
import threading

import bleach
import markdown as md
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup, Tag

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "div", "dl",
        "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "li", "mark",
        "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "figure", "figcaption",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "lang"],
    "abbr": ["title"],
    "q": ["cite"],
    "blockquote": ["cite"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
    "*": ["lang", "dir"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
)
# Content of these elements is not text a reader should see; bleach's strip keeps it.
DROP_WITH_CONTENT = (
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
    "noembed", "noframes", "xmp", "plaintext", "title", "textarea", "select", "head",
)  # fmt: skip

# Containers whose children stay valid when cleaned apart from them (not tables: a <tr>
# alone is dropped by the HTML parser).
_SPLITTABLE = frozenset(
    {
        "[document]", "html", "body", "div", "article", "section", "main", "header", "aside",
        "blockquote", "figure", "center", "ul", "ol", "dl",
    }
)  # fmt: skip
_CLEAN_PART = 2_000  # nodes: about 50 KB of ordinary prose
_MAX_DEPTH = 20


def clean_html(html: str) -> str:
    """Allow-listed HTML: no scripts, handlers, styles or javascript: links. Linear in
    the size of the input, however flat (see `clean_html_in_parts`)."""
    return clean_html_in_parts(BeautifulSoup(html, "html.parser"))


def drop_elements(html: str, names: tuple[str, ...]) -> str:
    """Remove elements together with their content (bleach would keep the text)."""
    soup = BeautifulSoup(html, "html.parser")
    _drop(soup, names)
    return str(soup)


def _drop(node: Tag, names: tuple[str, ...]) -> None:
    for element in node.find_all(list(names)):
        if not element.decomposed:  # already gone with an enclosing element
            element.decompose()


def clean_html_in_parts(node: Tag, depth: int = 0) -> str:
    """`clean_html` of a parsed page, a part at a time. bleach's html5lib tree walker is
    quadratic in the number of siblings (measured: 0.5 MB of flat paragraphs 5.5 s, 2 MB
    78 s), so a container of more than ~2,000 nodes is cleaned child group by child group;
    the result is the same, in linear time. Each part is a complete fragment that bleach
    parses and serialises on its own, so no markup can open in one part and close in
    another. Elements in DROP_WITH_CONTENT are removed from `node` first."""
    if depth == 0:
        _drop(node, DROP_WITH_CONTENT)
    if node.name not in _SPLITTABLE or _size(node) < _CLEAN_PART or depth > _MAX_DEPTH:
        return _cleaner.clean(_markup(node))
    opening, closing = _clean_shell(node)
    parts, batch, size = [opening], [], 0
    for child in node.contents:
        child_size = _size(child)
        if child_size >= _CLEAN_PART and isinstance(child, Tag) and child.name in _SPLITTABLE:
            parts += [_cleaner.clean("".join(batch)), clean_html_in_parts(child, depth + 1)]
            batch, size = [], 0
            continue
        if size + child_size > _CLEAN_PART and batch:
            parts.append(_cleaner.clean("".join(batch)))
            batch, size = [], 0
        batch.append(_markup(child))
        size += child_size
    parts += [_cleaner.clean("".join(batch)), closing]
    return "".join(parts)


def _size(node: object) -> int:
    """Nodes in `node`, counted up to _CLEAN_PART only (so that asking is cheap)."""
    if not isinstance(node, Tag):
        return 1
    return 1 + sum(1 for _ in itertools.islice(node.descendants, _CLEAN_PART))


def _markup(node: object) -> str:
    """A node as HTML; text escaped (str() of a text node would not be)."""
    return node.decode() if isinstance(node, Tag) else node.output_ready()


def _clean_shell(node: Tag) -> tuple[str, str]:
    """The cleaned start and end tags of `node` ("", "" if bleach strips the element)."""
    if node.name == "[document]":
        return "", ""
    tag = BeautifulSoup("", "html.parser").new_tag(node.name, attrs=node.attrs)
    shell = _cleaner.clean(str(tag))
    closing = f"</{node.name}>"
    return (shell.removesuffix(closing), closing) if shell.endswith(closing) else ("", "")


MARKDOWN = {"extensions": ["extra", "sane_lists"], "output_format": "html"}
_converters = threading.local()


# One line of words and ordinary punctuation, starting with a letter, words one space apart,
# as many comments are: nothing in it is Markdown, nothing is HTML, so it is one paragraph
# of itself (checked against the long way in tests/core/test_sanitize.py).
_PLAIN = re.compile(r"[^\W\d_](?: ?(?:[^\W_]|[,.;:'\"?!()/-]))*")


def render_markdown(text: str) -> str:
    """Markdown (a comment, a note) to clean HTML; raw HTML inside is cleaned too.

    Plain words need neither Markdown nor bleach: `<p>text</p>` is what both would give.

    Without `<` in the Markdown there is no raw HTML, so the HTML is all Markdown's own: no
    element to drop with its content, nothing malformed, and (short) nothing to clean in
    parts. Without a character reference (`&`) in it either, bleach can clean it directly,
    without parsing it first (`clean_html`): the same result but for whitespace between
    elements, which the parse would collapse (tests/core/test_sanitize.py), in a third of
    the time."""
    if _PLAIN.fullmatch(text):
        return f"<p>{text}</p>"
    html = markdown_html(text)
    if "<" not in text and "&" not in html and len(html) < _CLEAN_PART:
        return _cleaner.clean(html)
    return clean_html(html)


def markdown_html(text: str) -> str:
    """`markdown.markdown(text, **MARKDOWN)` with one converter per thread, reset after
    each use: making a converter with its extensions costs three times converting a
    comment with it (0.3 against 0.1 ms)."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = md.Markdown(**MARKDOWN)
    try:
        return converter.convert(text)
    finally:
        converter.reset()
