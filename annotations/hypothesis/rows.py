"""Annotations as Hypothesis API rows, and Hypothesis bodies as Marginalia writes.

A row (h's `AnnotationJSONPresenter`): `id`, `created`/`updated` (ISO 8601 with
microseconds: the client pages by the last row's `created`), `user` and `user_info`, `uri`,
`text` (the comment's Markdown), `tags`, `group` (the library's slug), `permissions`,
`target` (the passage's TextQuoteSelector and a TextPositionSelector in UTF-16 code units,
as the client counts; a reply's and a page note's target has no selector), `document`,
`references` (a reply's thread, its root first), `links`, `hidden`, `flagged`. The client
shows a row without selector and without references in its Page Notes tab: Marginalia's
note on the whole text, and a target without selector makes one (`placement`).

Who sees what stays `AnnotationQuerySet.visible_to`: an annotation shared with the library
reads as `group:<slug>`, a private one as the creator alone ("Only me").
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from annotations import w3c
from annotations.hypothesis.tokens import authority, userid
from annotations.models import Annotation, Visibility
from sources.models import SourceText


def utf16_offset(text: str, code_points: int) -> int:
    """Code points → UTF-16 code units (the client's offsets), for the first `code_points`."""
    head = text[:code_points]
    return code_points + sum(1 for ch in head if ord(ch) > 0xFFFF)


def thread(annotation: Annotation, parents: dict[int, int | None]) -> list[str]:
    """The ids of the annotations `annotation` answers, its thread's root first."""
    chain: list[str] = []
    current = annotation.reply_to_id
    while current is not None and len(chain) < 1000:
        chain.append(str(current))
        current = parents.get(current)
    return chain[::-1]


def row(annotation: Annotation, request, *, uri: str, parents: dict[int, int | None]) -> dict:
    """The Hypothesis row for `annotation` (its text and source, tags and creator loaded)."""
    text = annotation.text
    source = text.source
    creator = annotation.creator
    owner = userid(creator) if creator is not None else f"acct:former-member@{authority()}"
    group = annotation.library.slug
    readers = [owner] if annotation.visibility == Visibility.PRIVATE else [f"group:{group}"]
    target: dict[str, Any] = {"source": uri}
    if annotation.kind == "passage":
        quote = {"type": "TextQuoteSelector", "exact": annotation.exact,
                 "prefix": annotation.prefix, "suffix": annotation.suffix}  # fmt: skip
        position = {
            "type": "TextPositionSelector",
            "start": utf16_offset(text.text, annotation.start),
            "end": utf16_offset(text.text, annotation.end),
        }
        target["selector"] = [position, quote]
    link = request.build_absolute_uri(
        reverse("source-detail", args=[source.pk]) + f"#annotation-{annotation.pk}"
    )
    return {
        "id": str(annotation.pk),
        "created": annotation.created.isoformat(timespec="microseconds"),
        "updated": annotation.modified.isoformat(timespec="microseconds"),
        "user": owner,
        "user_info": {"display_name": creator.get_username() if creator else "a former member"},
        "uri": uri,
        "text": annotation.comment_raw,
        "tags": sorted((tag.name for tag in annotation.tags.all()), key=str.casefold),
        "group": group,
        "permissions": {"read": readers, "update": [owner], "delete": [owner], "admin": [owner]},
        "target": [target],
        "document": {"title": [source.display_title]},
        "references": thread(annotation, parents),
        "links": {"html": link, "incontext": link},
        "hidden": False,
        "flagged": False,
        "moderation_status": None,
    }


def placement(target: Any, text: SourceText) -> dict[str, Any]:
    """Where a new (not replying) annotation goes on `text`, as `create_annotation`'s
    arguments: a page note (the whole text) when no target has a selector, else the passage
    the selectors find (fuzzily if need be). ValidationError on `target` otherwise."""
    targets = target if isinstance(target, list) else [] if target is None else [target]
    if not any(isinstance(t, dict) and t.get("selector") for t in targets):
        return {"whole_text": True}
    parsed = w3c.parse_annotation({"target": target}, hypothesis=True)
    spot = w3c.place(text, parsed, allow_fuzzy=True)
    return {"start": spot.start, "end": spot.end, "state": spot.state,
            "anchor_score": spot.score}  # fmt: skip


def visibility_of(permissions: Any, user) -> str:
    """Private when only the user may read it ("Only me"), else shared with the library."""
    readers = permissions.get("read") if isinstance(permissions, dict) else None
    if isinstance(readers, list) and readers == [userid(user)]:
        return Visibility.PRIVATE
    return Visibility.LIBRARY
