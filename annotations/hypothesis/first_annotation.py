"""The first annotation on a page Marginalia does not hold yet: the page becomes a source.

The client's create names a group (a library the reader may annotate in), the page's
address and what the client read of the page (`document`: its title, links, Highwire,
Dublin Core and Open Graph tags). The server fetches the page itself, within a budget
(`sources.web.fetch`), keeps it exactly as *Save to Marginalia* keeps a page
(`sources.web.capture`: its metadata, the client's reading of it filling the gaps, and a
snapshot of its main text as a revision), and anchors the annotation on that snapshot by
its quote. A quote that is not in the fetched text (a paywall, a sign-in page, text the
page's scripts write) is refused, and the reader is told to save the page from their
browser, which sees what they see. The source, its revision and the annotation are
written in one transaction: a refusal leaves nothing behind.
"""

from __future__ import annotations

import html
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from annotations import w3c
from annotations.hypothesis.uris import normalised
from annotations.models import Annotation
from annotations.writes import create_annotation
from sources.models import WRITE_ROLES, Library
from sources.web.capture import capture_page, existing_source
from sources.web.extract import page_metadata
from sources.web.fetch import fetch_page

NOT_IN_PAGE = (
    "The passage you selected is not in the page as Marginalia fetched it (a paywall, a "
    "sign-in page, or text the page's scripts write): use Save to Marginalia from the page, "
    "then annotate it."
)
PREFIXES = {"highwire": "citation_", "dc": "dc.", "prism": "prism.", "eprints": "eprints."}


def annotate_new_page(
    data: dict[str, Any], user, *, comment: str, tags: list[str], visibility: str
) -> Annotation:
    """Make the page at `data["uri"]` a source in the group's library and annotate it."""
    library = _library(data.get("group"), user)
    uri = data.get("uri")
    if not isinstance(uri, str) or not normalised(uri):
        raise ValidationError({"uri": "Give the page's web address (http or https)."})
    parsed = w3c.parse_annotation({"target": data.get("target")}, hypothesis=True)
    if parsed.quote is None:
        raise ValidationError(
            {"target": "Select a passage of the page first: its first annotation keeps it."}
        )
    fetched = fetch_page(uri)  # outside the transaction: it may take seconds
    known = document_metadata(data.get("document"), uri)
    with transaction.atomic():
        source = existing_source(library, uri, fetched.html)
        if source is None or source.current_text is None:
            text = capture_page(
                library, url=uri, html=fetched.html, user=user, known=known
            ).revision
        else:  # the page's canonical address names a source the client's did not
            text = source.current_text
        try:
            spot = w3c.place(text, parsed, allow_fuzzy=True)
        except ValidationError:
            raise ValidationError({"target": NOT_IN_PAGE}) from None
        return create_annotation(
            text=text, start=spot.start, end=spot.end, creator=user, comment=comment,
            tags=tags, visibility=visibility, state=spot.state, anchor_score=spot.score,
        )  # fmt: skip


def _library(group: Any, user) -> Library:
    """The group's library: one the user may write in (else 403), or 400 naming `group`."""
    found = None
    if isinstance(group, str) and group:
        found = Library.objects.visible_to(user).filter(slug=group).first()
    if found is None:
        raise ValidationError(
            {"group": "This page is not in a library you edit yet: choose one of your "
                      "libraries as the group, and its first annotation saves it there."}
        )  # fmt: skip
    if found.role_of(user) not in WRITE_ROLES:
        raise PermissionDenied("You may read this library but not annotate in it.")
    return found


def document_metadata(document: Any, uri: str) -> dict[str, Any]:
    """A CSL item of what the client read of the page: its tags written back as the <head>
    they came from, read by the same `page_metadata` a fetched page is read by."""
    if not isinstance(document, dict):
        return {}
    head: list[str] = []
    for block, prefix in PREFIXES.items():
        head += _metas(document.get(block), "name", prefix)
    head += _metas(document.get("facebook"), "property", "og:")
    titles = [t for t in _values(document.get("title")) if isinstance(t, str)]
    if titles:
        head.append(f"<title>{html.escape(titles[0][:2000])}</title>")
    item = page_metadata("<html><head>" + "".join(head) + "</head><body></body></html>", uri)
    item.pop("URL", None)  # the fetched page's address (or its canonical one) is the source's
    return item


def _metas(block: Any, attribute: str, prefix: str) -> list[str]:
    tags: list[str] = []
    if not isinstance(block, dict):
        return tags
    for key, values in list(block.items())[:200]:
        for value in _values(values)[:50]:
            if isinstance(key, str) and isinstance(value, str) and len(key) < 100:
                name, content = html.escape(prefix + key), html.escape(value[:5000])
                tags.append(f'<meta {attribute}="{name}" content="{content}">')
    return tags


def _values(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]
