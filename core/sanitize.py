"""The one place HTML is cleaned and Markdown rendered. Everything stored as `html` has
passed through here.

Sanitise on write (imports, comments, edits), never per page view: bleach costs ~50 ms on
a 35 KB page. Markdown is rendered by cmark-gfm (GitHub's C implementation of CommonMark,
with tables and strikethrough), linear in its input whatever it holds; Python-Markdown,
used before, took 16 s on a comment of 100,000 `[` and ended in a RecursionError on
`> ` × 50,000.

bleach stays linear thanks to two bounds. Its html5lib tree walker is quadratic in the
number of siblings, so a large container is cleaned child group by child group
(`clean_html_in_parts`: 0.5 MB of flat paragraphs took 5.5 s in one piece). And parsing
costs in proportion to the depth of the open elements for each element opened (`<p><b>x`
× 14,000, 14,000 unclosed `<b>`, took 14 s), so HTML or Markdown nesting elements more than
MAX_NESTING_DEPTH deep is refused (`MarkupTooDeep`: the caller answers 400 naming its
field), counted by `nesting_depth` before anything is parsed. So is Markdown whose HTML
would be out of all proportion to it (`MarkupTooLarge`). tests/security/test_budgets.py
holds pathological comments and uploads to their budgets.

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

import bleach
import cmarkgfm
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup, Tag
from cmarkgfm.cmark import Options
from django.conf import settings

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
# Content of these elements is not text a reader should see: they go with their content.
DROP_WITH_CONTENT = (
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
    "noembed", "noframes", "xmp", "plaintext", "title", "textarea", "select", "head",
)  # fmt: skip

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
)
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


class MarkupRefused(ValueError):
    """Markup that is not rendered; the message completes "The comment …" or "x.md …"."""


class MarkupTooDeep(MarkupRefused):
    """HTML or Markdown that nests elements deeper than MAX_NESTING_DEPTH."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"nests elements more than {limit:,} deep (MAX_NESTING_DEPTH); "
            "flatten its quotations, lists or tags"
        )


class MarkupTooLarge(MarkupRefused):
    """Markdown whose HTML would be more than MARKDOWN_MAX_EXPANSION times its length, or
    hold more elements than its caller allows."""

    def __init__(self, elements: int | None = None) -> None:
        super().__init__(
            f"would hold more than {elements:,} HTML elements once rendered; simplify it"
            if elements is not None
            else f"would be more than {MARKDOWN_MAX_EXPANSION} times its length once rendered "
            "(a table of thousands of empty cells?); simplify it"
        )


_START_TAG = re.compile(r"<[A-Za-z]")


def count_elements(html: str, *, stop_past: int) -> int:
    """Start tags in `html`, counted without parsing, up to `stop_past` + 1: what bleach's
    cost follows (~50 µs an element: 1 MB of flat markup takes 6 s to clean)."""
    return sum(1 for _ in itertools.islice(_START_TAG.finditer(html), stop_past + 1))


def clean_html(html: str) -> str:
    """Allow-listed HTML: no scripts, handlers, styles or javascript: links. Linear in
    the size of the input, however flat (`clean_html_in_parts`); MarkupTooDeep past
    MAX_NESTING_DEPTH, before anything is parsed."""
    check_depth(html)
    return clean_html_in_parts(BeautifulSoup(html, "html.parser"))


def check_depth(html: str) -> None:
    limit = settings.MAX_NESTING_DEPTH
    if nesting_depth(html, stop_past=limit) > limit:
        raise MarkupTooDeep(limit)


_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
        "param", "source", "track", "wbr",
    }
)  # fmt: skip
# Elements that the HTML parser closes by itself when the next one opens (`<p>a<p>b` is
# two paragraphs, not one inside the other): they add no depth of their own.
_SELF_CLOSING = frozenset(
    {
        "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody",
        "tfoot", "colgroup", "caption", "rb", "rt", "rp", "rtc",
    }
)  # fmt: skip


def nesting_depth(html: str, *, stop_past: int | None = None) -> int:
    """How deep elements nest in `html`, as a browser would build it, near enough: a start
    tag opens (void and self-closing elements aside), an end tag closes up to its element
    if that is open and is ignored otherwise. Linear: each element is opened and closed at
    most once. Counting stops once the depth passes `stop_past`."""
    stack: list[str] = []
    open_count: dict[str, int] = {}
    deepest = 0
    for match in _TAG.finditer(html):
        name = match[2].lower()
        if name in _VOID or name in _SELF_CLOSING:
            continue
        if not match[1]:
            stack.append(name)
            open_count[name] = open_count.get(name, 0) + 1
            deepest = max(deepest, len(stack))
            if stop_past is not None and deepest > stop_past:
                break
        elif open_count.get(name):
            while (closed := stack.pop()) != name:
                open_count[closed] -= 1
            open_count[name] -= 1
    return deepest


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


# CommonMark with GitHub's tables, strikethrough and footnotes (historians' comments cite);
# raw HTML is passed to bleach (UNSAFE means "not filtered by cmark", which would keep
# <script>'s text as a paragraph). bleach strips the footnotes' ids and classes, as it did
# Python-Markdown's: the notes stay, numbered, at the end.
_CMARK_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
# Markdown's HTML is at most about twice its length (measured on long documents: 1.2 to 1.7);
# a table whose rows leave out their cells is filled up to 54 times (cmark-gfm stops at
# half a million cells): 100,000 characters of comment became 5.4 MB, stored twice (the
# history keeps a copy). Past this ratio, Markdown is refused (`MarkupTooLarge`).
MARKDOWN_MAX_EXPANSION = 20
_CMARK_EXTENSIONS = ["table", "strikethrough"]
_SURROGATES = re.compile("[\ud800-\udfff]")
# A table's delimiter row (`--|:-:|--`, perhaps inside quotations or a list), and the blank
# line that ends the table. cmark-gfm builds every cell of a table before writing any HTML
# (160 MB of C memory for the table above), so the cells are counted first.
_DELIMITER_ROW = re.compile(r"^[ \t>]*(?=[^\n]*\|)(?=[^\n]*-)[|:\- \t]+$", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t>]*(?:\n|\Z)")
_DASHES = re.compile(r"-+")
_SMALLEST_CELL = len("<td></td>\n")

# One line of words and ordinary punctuation, starting with a letter, words one space apart,
# as many comments are: nothing in it is Markdown, nothing is HTML, so it is one paragraph
# of itself (checked against the long way in tests/core/test_sanitize.py).
_PLAIN = re.compile(r"[^\W\d_](?: ?(?:[^\W_]|[,.;:'\"?!()/-]))*")


def render_markdown(text: str, *, most_elements: int | None = None) -> str:
    """Markdown (a comment, a note, an uploaded .md) to clean HTML; raw HTML inside is
    cleaned too. MarkupTooDeep past MAX_NESTING_DEPTH, MarkupTooLarge past
    MARKDOWN_MAX_EXPANSION or past `most_elements` (a comment's bound on cleaning time).

    Plain words need neither Markdown nor cleaning: `<p>text</p>` is what both would give.

    Without `<` in the Markdown there is no raw HTML, so the HTML is all Markdown's own: no
    element to drop with its content, nothing malformed, nothing nested past what Markdown
    nests, and (short) nothing to clean in parts. Without a character reference (`&`) in
    it either, bleach can clean it directly, without parsing it first: the same result but
    for whitespace between elements (tests/core/test_sanitize.py), in a third of the time."""
    if _PLAIN.fullmatch(text):
        return f"<p>{text}</p>"
    longest = MARKDOWN_MAX_EXPANSION * len(text) + 1_000  # of the HTML
    cells = table_cells(text) if "|" in text else 0
    if _SMALLEST_CELL * cells > longest:
        raise MarkupTooLarge()
    if most_elements is not None and cells > most_elements:
        raise MarkupTooLarge(most_elements)
    html = markdown_html(text)
    if len(html) > longest:
        raise MarkupTooLarge()
    check_depth(html)
    if most_elements is not None and count_elements(html, stop_past=most_elements) > most_elements:
        raise MarkupTooLarge(most_elements)
    if "<" not in text and "&" not in html and len(html) < _CLEAN_PART:
        return _cleaner.clean(html).strip()
    return clean_html_in_parts(BeautifulSoup(html, "html.parser")).strip()


def table_cells(text: str) -> int:
    """At most how many cells the tables in `text` would have: each delimiter row's columns
    times the lines down to the next blank line, where a table ends (cmark-gfm fills the
    rows that leave cells out). Linear: a table's lines are counted once."""
    cells = 0
    counted_to = 0
    for row in _DELIMITER_ROW.finditer(text):
        if row.start() < counted_to:
            continue  # a line of the table counted already
        blank = _BLANK_LINE.search(text, row.end())
        counted_to = blank.start() if blank else len(text)
        rows = 1 + text.count("\n", row.end(), counted_to)
        cells += len(_DASHES.findall(row.group())) * rows
    return cells


def markdown_html(text: str) -> str:
    """cmark-gfm's HTML for `text`, not yet cleaned. Lone surrogates (JSON can carry them)
    are not text: they become U+FFFD, as cmark does with other invalid input."""
    text = _SURROGATES.sub("\ufffd", text)
    return cmarkgfm.markdown_to_html_with_extensions(
        text, options=_CMARK_OPTIONS, extensions=_CMARK_EXTENSIONS
    )
