"""Read a Zotero library out of its zotero.sqlite, read-only, as Zotero's web API shapes it.

The tables are Zotero's own (zotero/zotero, `resource/schema/userdata.sql`, AGPL-3.0):
`items` with their `itemTypes`, field values through `itemData` → `fieldsCombined` (or
`fields`) → `itemDataValues`, `itemCreators` → `creators` + `creatorTypes`, `itemTags` →
`tags`, `collections` (nested by `parentCollectionID`) and `collectionItems`, `itemNotes`,
`itemAttachments` (files under storage/<attachment key>/, `path` = "storage:<name>") and,
since Zotero 6, `itemAnnotations` (the PDF reader's highlights, with their text, comment,
colour, page label and position). Zotero 5 has no annotations table: none are read.

The file is untrusted. It is opened from memory (`deserialize`, never the upload's path),
with `query_only`, `trusted_schema` off (a view or trigger in the file calls no function),
checked cells, and a budget of SQLite steps per query, so a crafted file cannot write,
run code or spin.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from core.uploads import UploadError

# Zotero's annotation types (chrome/content/zotero/xpcom/annotations.js).
ANNOTATION_TYPES = {1: "highlight", 2: "note", 3: "image", 4: "ink", 5: "underline", 6: "text"}
# itemAttachments.linkMode (Zotero.Attachments.LINK_MODE_*).
IMPORTED_FILE, IMPORTED_URL, LINKED_FILE, LINKED_URL, EMBEDDED_IMAGE = 0, 1, 2, 3, 4
NOT_ITEMS = {"note", "attachment", "annotation"}
STEP_BUDGET = 50_000_000  # SQLite VM steps per query (~10 s); a 10,000-item library needs ~1%
_REQUIRED = {"items", "itemTypes", "itemData", "itemDataValues", "creators", "itemCreators"}


@dataclass
class Annotation:
    key: str
    kind: str
    text: str
    comment: str
    color: str
    page_label: str
    page_index: int | None
    tags: list[str]


@dataclass
class Attachment:
    item_id: int
    key: str
    title: str
    link_mode: int
    content_type: str
    path: str
    url: str
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class Item:
    """One regular item (or a standalone note or file, as a `document`): `data` is its web
    API JSON (`itemType`, fields, `creators`, `tags`), what `zotero_item_to_csl` reads."""

    item_id: int
    key: str
    data: dict[str, Any]
    collections: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # HTML, as Zotero keeps them
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Library:
    version: int  # userdata schema version (Zotero 6: ~113-120, Zotero 7: 120+)
    items: list[Item]
    skipped: dict[str, int]  # what was not read, and how many: {"in the trash": 3}


def connect(data: bytes) -> sqlite3.Connection:
    """A read-only in-memory copy of the database in `data`; UploadError if it is none."""
    if not data.startswith(b"SQLite format 3\x00"):
        raise UploadError("zotero.sqlite in the archive is not an SQLite database.")
    if data[18:20] == b"\x02\x02":  # WAL mode: an in-memory copy cannot open it as such
        data = data[:18] + b"\x01\x01" + data[20:]
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        connection.deserialize(data)
        for pragma in ("query_only = ON", "trusted_schema = OFF", "cell_size_check = ON"):
            connection.execute(f"PRAGMA {pragma}")
        connection.row_factory = sqlite3.Row
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        connection.close()
        raise UploadError(f"zotero.sqlite cannot be read: {error}.") from None
    if missing := _REQUIRED - tables:
        connection.close()
        raise UploadError(
            "zotero.sqlite is not a Zotero database (it has no "
            + ", ".join(sorted(missing))
            + " table)."
        )
    return connection


def _budget() -> Any:
    """A progress handler that stops the query past STEP_BUDGET steps."""
    left = [STEP_BUDGET]

    def tick() -> int:
        left[0] -= 10_000
        return 1 if left[0] < 0 else 0

    return tick


def _query(connection: sqlite3.Connection, sql: str, *params: Any) -> list[sqlite3.Row]:
    connection.set_progress_handler(_budget(), 10_000)
    try:
        return connection.execute(sql, params).fetchall()
    except sqlite3.OperationalError as error:
        if "interrupted" in str(error):
            raise UploadError("zotero.sqlite takes too long to read; not imported.") from None
        raise UploadError(f"zotero.sqlite cannot be read: {error}.") from None
    except sqlite3.DatabaseError as error:
        raise UploadError(f"zotero.sqlite cannot be read: {error}.") from None


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in _query(connection, "SELECT name FROM sqlite_master")}


def read_library(connection: sqlite3.Connection) -> Library:
    """Every item of the user's and the group libraries (not feeds, not the trash), with
    its fields, creators, tags, collections, child notes, attachments and annotations."""
    tables = _tables(connection)
    rows = _query(
        connection,
        "SELECT i.itemID, i.key, i.libraryID, t.typeName FROM items i "
        "JOIN itemTypes t ON t.itemTypeID = i.itemTypeID ORDER BY i.itemID",
    )
    excluded, skipped = _excluded(connection, tables)
    kinds = {row["itemID"]: row["typeName"] for row in rows}
    items: dict[int, Item] = {}
    for row in rows:
        if row["itemID"] in excluded or row["typeName"] in NOT_ITEMS:
            continue
        items[row["itemID"]] = Item(row["itemID"], row["key"], {"itemType": row["typeName"]})
    keys = {row["itemID"]: row["key"] for row in rows}
    _fields(connection, tables, items)
    _creators(connection, tables, items)
    tags = _tags(connection, tables)
    for item_id, item in items.items():
        item.data["tags"] = [{"tag": tag} for tag in tags.get(item_id, [])]
    _collections(connection, tables, items)
    _notes(connection, tables, items, excluded, kinds)
    attachments = _attachments(connection, tables, items, excluded, keys)
    _annotations(connection, tables, attachments, excluded, keys, tags)
    _groups(connection, tables, items, {row["itemID"]: row["libraryID"] for row in rows})
    version = _version(connection, tables)
    return Library(version, sorted(items.values(), key=lambda i: i.item_id), skipped)


def _groups(connection, tables, items: dict[int, Item], libraries: dict[int, int]) -> None:
    """A group library's items keep its name, as a `zotero-group:` tag."""
    if "groups" not in tables:
        return
    names = {r[0]: r[1] for r in _query(connection, "SELECT libraryID, name FROM groups")}
    for item_id, item in items.items():
        if name := names.get(libraries.get(item_id)):
            item.data.setdefault("tags", []).append({"tag": f"zotero-group:{name}"})


def _excluded(connection: sqlite3.Connection, tables: set[str]) -> tuple[set[int], dict]:
    """Items in the trash and feed items, which a library export leaves out too."""
    excluded: set[int] = set()
    skipped: dict[str, int] = {}
    if "deletedItems" in tables:
        trash = {r[0] for r in _query(connection, "SELECT itemID FROM deletedItems")}
        excluded |= trash
        if trash:
            skipped["in the trash"] = len(trash)
    if "feedItems" in tables:
        feed = {r[0] for r in _query(connection, "SELECT itemID FROM feedItems")}
        excluded |= feed
        if feed:
            skipped["from feeds"] = len(feed)
    return excluded, skipped


def _fields(connection: sqlite3.Connection, tables: set[str], items: dict[int, Item]) -> None:
    for row in _query(
        connection,
        f"SELECT d.itemID, f.fieldName, v.value FROM itemData d "
        f"JOIN {_field_names(tables)} f ON f.fieldID = d.fieldID "
        "JOIN itemDataValues v ON v.valueID = d.valueID",
    ):
        if (item := items.get(row["itemID"])) is not None and row["value"] is not None:
            item.data[row["fieldName"]] = str(row["value"])


def _field_names(tables: set[str]) -> str:
    return "fieldsCombined" if "fieldsCombined" in tables else "fields"


def _creators(connection: sqlite3.Connection, tables: set[str], items: dict[int, Item]) -> None:
    kinds = {}
    if "creatorTypes" in tables:
        kinds = {
            r[0]: r[1]
            for r in _query(connection, "SELECT creatorTypeID, creatorType FROM creatorTypes")
        }
    for row in _query(
        connection,
        "SELECT ic.itemID, ic.creatorTypeID, c.firstName, c.lastName, c.fieldMode "
        "FROM itemCreators ic JOIN creators c ON c.creatorID = ic.creatorID "
        "ORDER BY ic.itemID, ic.orderIndex",
    ):
        if (item := items.get(row["itemID"])) is None:
            continue
        creator: dict[str, str] = {"creatorType": kinds.get(row["creatorTypeID"], "author")}
        if row["fieldMode"] == 1:  # one field: an institution, a name not to be split
            creator["name"] = row["lastName"] or ""
        else:
            creator["lastName"] = row["lastName"] or ""
            creator["firstName"] = row["firstName"] or ""
        item.data.setdefault("creators", []).append(creator)


def _tags(connection: sqlite3.Connection, tables: set[str]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    if {"itemTags", "tags"} <= tables:
        for row in _query(
            connection,
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID "
            "ORDER BY it.itemID, t.name",
        ):
            if row["name"]:
                tags[row["itemID"]].append(str(row["name"]))
    return tags


def _collections(connection: sqlite3.Connection, tables: set[str], items: dict[int, Item]) -> None:
    """Each item's collections as paths ("Cold War/Sino-Soviet"), parents first."""
    if not {"collections", "collectionItems"} <= tables:
        return
    deleted: set[int] = set()
    if "deletedCollections" in tables:
        deleted = {r[0] for r in _query(connection, "SELECT collectionID FROM deletedCollections")}
    rows = _query(
        connection, "SELECT collectionID, collectionName, parentCollectionID FROM collections"
    )
    parents = {r["collectionID"]: (r["collectionName"], r["parentCollectionID"]) for r in rows}
    paths = {cid: _path(cid, parents, deleted) for cid in parents}
    for row in _query(connection, "SELECT collectionID, itemID FROM collectionItems"):
        path = paths.get(row["collectionID"])
        if path and (item := items.get(row["itemID"])) is not None:
            item.collections.append(path)
    for item in items.values():
        item.collections.sort()


def _path(cid: int, parents: dict, deleted: set[int]) -> str | None:
    names, seen = [], set()
    while cid is not None and cid in parents and cid not in seen:
        if cid in deleted:
            return None
        seen.add(cid)
        name, cid = parents[cid]
        names.append(" ".join(str(name or "").replace("/", "∕").split()))
    return "/".join(reversed(names))


def _notes(connection, tables, items: dict[int, Item], excluded: set[int], kinds) -> None:
    """Child notes onto their items; a standalone note becomes an item of its own."""
    if "itemNotes" not in tables:
        return
    for row in _query(connection, "SELECT itemID, parentItemID, note, title FROM itemNotes"):
        if row["itemID"] in excluded or kinds.get(row["itemID"]) != "note":
            continue  # attachments keep notes in this table too
        note = str(row["note"] or "")
        if row["parentItemID"] is None:
            items[row["itemID"]] = Item(
                row["itemID"],
                "",
                {"itemType": "document", "title": str(row["title"] or ""),
                 "extra": "Zotero: a standalone note"},
                notes=[note],
            )  # fmt: skip
        elif (item := items.get(row["parentItemID"])) is not None:
            item.notes.append(note)


def _attachments(connection, tables, items, excluded, keys) -> dict[int, Attachment]:
    found: dict[int, Attachment] = {}
    if "itemAttachments" not in tables:
        return found
    value = (
        "(SELECT v.value FROM itemData d JOIN itemDataValues v ON v.valueID = d.valueID "
        f"JOIN {_field_names(tables)} f ON f.fieldID = d.fieldID "
        "WHERE d.itemID = a.itemID AND f.fieldName = '{}')"
    )
    for row in _query(
        connection,
        "SELECT a.itemID, a.parentItemID, a.linkMode, a.contentType, a.path, "
        f"{value.format('title')} AS title, {value.format('url')} AS url "
        "FROM itemAttachments a ORDER BY a.itemID",
    ):
        if row["itemID"] in excluded:
            continue
        attachment = Attachment(
            row["itemID"],
            keys.get(row["itemID"], ""),
            str(row["title"] or ""),
            int(row["linkMode"] if row["linkMode"] is not None else IMPORTED_FILE),
            str(row["contentType"] or ""),
            str(row["path"] or ""),
            str(row["url"] or ""),
        )
        parent = row["parentItemID"]
        if parent is None:  # a standalone file: an item of its own, as Zotero lists it
            name = attachment.title or attachment.path.removeprefix("storage:")
            items[row["itemID"]] = Item(
                row["itemID"], attachment.key,
                {"itemType": "document", "title": name, "url": attachment.url},
            )  # fmt: skip
            parent = row["itemID"]
        if (item := items.get(parent)) is not None:
            item.attachments.append(attachment)
            found[row["itemID"]] = attachment
    return found


def _annotations(connection, tables, attachments, excluded, keys, tags) -> None:
    if "itemAnnotations" not in tables:
        return  # Zotero 5: its PDF reader had no annotations
    for row in _query(
        connection,
        "SELECT itemID, parentItemID, type, text, comment, color, pageLabel, position "
        "FROM itemAnnotations ORDER BY parentItemID, sortIndex, itemID",
    ):
        attachment = attachments.get(row["parentItemID"])
        if attachment is None or row["itemID"] in excluded:
            continue
        attachment.annotations.append(
            Annotation(
                key=keys.get(row["itemID"], ""),
                kind=ANNOTATION_TYPES.get(row["type"], f"type {row['type']}"),
                text=str(row["text"] or ""),
                comment=str(row["comment"] or ""),
                color=str(row["color"] or ""),
                page_label=str(row["pageLabel"] or ""),
                page_index=_page_index(row["position"]),
                tags=tags.get(row["itemID"], []),
            )
        )


def _page_index(position: Any) -> int | None:
    try:
        index = json.loads(position or "{}").get("pageIndex")
    except (ValueError, AttributeError, RecursionError):
        return None
    return index if isinstance(index, int) and index >= 0 else None


def _version(connection: sqlite3.Connection, tables: set[str]) -> int:
    if "version" not in tables:
        return 0
    rows = _query(connection, "SELECT version FROM version WHERE schema = 'userdata'")
    try:
        return int(rows[0][0]) if rows else 0
    except (TypeError, ValueError):
        return 0
