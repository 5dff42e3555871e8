"""CSL-JSON and Zotero's own JSON (its web API's items, `{"items": [{"data": …}]}`).

A file of Zotero items is recognised by their `itemType`; each becomes a CSL item through
`sources.imports.zotero`, with its child notes in its note and its attachments named
there; a standalone note is a record of its own (a document titled by its first line).
"""

from __future__ import annotations

import json
from typing import Any

from core.uploads import UploadError
from sources.imports.notes import note_text
from sources.imports.zotero import zotero_item_to_csl

CHILD_TYPES = {"note", "attachment", "annotation"}


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UploadError(
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise UploadError("The file is not CSL-JSON: it is nested too deeply.") from None


def json_items(data: Any) -> list[Any]:
    """The list of items of a CSL-JSON or Zotero JSON file (one object is one item)."""
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise UploadError("The file is not CSL-JSON: expected a list of items.")
    return data


def is_zotero_json(items: list[Any]) -> bool:
    return any(isinstance(_zotero_data(item), dict) for item in items[:50])


def _zotero_data(item: Any) -> dict | None:
    if not isinstance(item, dict):
        return None
    data = item.get("data") if isinstance(item.get("data"), dict) else item
    return data if "itemType" in data else None


def csl_json_records(text: str) -> list[dict | Exception]:
    """Every item of a CSL-JSON or Zotero JSON file, or why one is not an item."""
    items = json_items(load_json(text))
    if is_zotero_json(items):
        return zotero_json_records(items)
    return [
        item if isinstance(item, dict) else ValueError("The record is not a JSON object.")
        for item in items
    ]


def zotero_json_records(items: list[Any]) -> list[dict | Exception]:
    """CSL items for Zotero's items, their children gathered into their notes."""
    datas = [_zotero_data(item) for item in items]
    children: dict[str, list[dict]] = {}
    for data in datas:
        if data and data.get("itemType") in CHILD_TYPES and data.get("parentItem"):
            children.setdefault(str(data["parentItem"]), []).append(data)
    records: list[dict | Exception] = []
    for data in datas:
        if data is None:
            records.append(ValueError("The record is not a Zotero item."))
        elif data.get("itemType") in CHILD_TYPES and data.get("parentItem"):
            continue
        elif data.get("itemType") == "note":
            records.append(_standalone_note(data))
        else:
            notes = [_child_text(child) for child in children.get(str(data.get("key")), [])]
            records.append(zotero_item_to_csl(data, notes=[n for n in notes if n]))
    return records


def _child_text(child: dict) -> str:
    if child.get("itemType") == "note":
        return note_text(str(child.get("note") or ""))
    if child.get("itemType") == "attachment":
        where = child.get("url") or child.get("filename") or child.get("path") or ""
        return f"Attachment: {child.get('title') or 'untitled'}" + (f" ({where})" if where else "")
    return ""


def _standalone_note(data: dict) -> dict:
    text = note_text(str(data.get("note") or ""))
    title = text.split("\n", 1)[0][:300]
    item = zotero_item_to_csl({k: v for k, v in data.items() if k != "note"}, notes=[text])
    return item | {"type": "document", "title": title}
