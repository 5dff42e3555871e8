"""The one place HTML is cleaned. Everything stored as `html` has passed through here.

Sanitise on write (imports, comments, edits): bleach costs ~50 ms on a 35 KB page,
so it is paid once per write, never per page view.
"""

from __future__ import annotations

import bleach
import markdown as md
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup

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
_DROP_WITH_CONTENT = ("script", "style", "template", "noscript", "iframe", "object", "svg")


def clean_html(html: str) -> str:
    """Allow-listed HTML: no scripts, handlers, styles or javascript: links."""
    return _cleaner.clean(drop_elements(html, _DROP_WITH_CONTENT))


def drop_elements(html: str, names: tuple[str, ...]) -> str:
    """Remove elements together with their content (bleach would keep the text)."""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup(list(names)):
        element.decompose()
    return str(soup)


def render_markdown(text: str) -> str:
    """Markdown (a comment, a note) to clean HTML; raw HTML inside is cleaned too."""
    return clean_html(md.markdown(text, extensions=["extra", "sane_lists"], output_format="html"))
