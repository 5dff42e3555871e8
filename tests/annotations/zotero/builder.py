"""Zotero data directories for the tests and the benchmark, from Zotero's published schema
(tests/data/zotero/README.md): a zotero.sqlite and storage/<key>/<file>, zipped."""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
import zipfile
from pathlib import Path

SCHEMA = (Path(__file__).parents[2] / "data" / "zotero" / "userdata-123.sql").read_text("utf-8")
KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"  # Zotero.Utilities.generateObjectKey
TYPES = {"highlight": 1, "note": 2, "image": 3, "ink": 4, "underline": 5, "text": 6}
VARIANTS = ("userdata-107", "userdata-123", "later")


class ZoteroLibrary:
    """A Zotero library being written; `zip()` gives its data directory as a .zip."""

    def __init__(self, variant: str = "userdata-123", root: str = "Zotero/") -> None:
        assert variant in VARIANTS
        self.variant, self.root = variant, root
        self.db = sqlite3.connect(":memory:")
        self.db.executescript(SCHEMA)
        if variant == "userdata-107":
            self.db.executescript("DROP TABLE itemAnnotations; DROP TABLE deletedCollections;")
        if variant == "later":
            self.db.executescript(
                "ALTER TABLE itemAttachments ADD COLUMN lastRead INT;"
                "ALTER TABLE itemAnnotations ADD COLUMN textNormalized TEXT;"
                "ALTER TABLE itemAnnotations ADD COLUMN commentNormalized TEXT;"
            )
        version = {"userdata-107": 107, "userdata-123": 123, "later": 125}[variant]
        self.db.execute("INSERT INTO version VALUES ('userdata', ?)", (version,))
        self.db.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) "
                        "VALUES (1, 'user', 1, 1)")  # fmt: skip
        self.files: dict[str, bytes] = {}
        self._keys = (self._key(n) for n in itertools.count(1))

    @staticmethod
    def _key(number: int) -> str:
        digits = []
        for _ in range(8):
            number, digit = divmod(number, len(KEY_CHARS))
            digits.append(KEY_CHARS[digit])
        return "".join(reversed(digits))

    def _id(self, table: str, column: str, name: str) -> int:
        id_column = {"itemTypes": "itemTypeID", "fields": "fieldID",
                     "creatorTypes": "creatorTypeID", "tags": "tagID"}[table]  # fmt: skip
        row = self.db.execute(f"SELECT {id_column} FROM {table} WHERE {column} = ?", (name,))
        if found := row.fetchone():
            return found[0]
        new = self.db.execute(f"INSERT INTO {table} ({column}) VALUES (?)", (name,)).lastrowid
        if table == "fields":
            self.db.execute("INSERT INTO fieldsCombined VALUES (?, ?, NULL, NULL, 0)", (new, name))
        if table == "itemTypes":
            self.db.execute("INSERT INTO itemTypesCombined VALUES (?, ?, 1, 0)", (new, name))
        return new

    def add_group(self, name: str) -> int:
        """A group library; its id is what `add_item(..., library=)` takes."""
        library = self.db.execute(
            "INSERT INTO libraries (type, editable, filesEditable) VALUES ('group', 1, 1)"
        ).lastrowid
        self.db.execute(
            "INSERT INTO groups VALUES (?, ?, ?, '', 0)", (library * 1000, library, name)
        )
        return library

    def _item(self, item_type: str, library: int = 1) -> tuple[int, str]:
        key = next(self._keys)
        item_id = self.db.execute(
            "INSERT INTO items (itemTypeID, libraryID, key) VALUES (?, ?, ?)",
            (self._id("itemTypes", "typeName", item_type), library, key),
        ).lastrowid
        return item_id, key

    def set_field(self, item_id: int, field: str, value: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
        value_id = self.db.execute(
            "SELECT valueID FROM itemDataValues WHERE value = ?", (value,)
        ).fetchone()[0]
        self.db.execute(
            "INSERT INTO itemData VALUES (?, ?, ?)",
            (item_id, self._id("fields", "fieldName", field), value_id),
        )

    def tag(self, item_id: int, *names: str) -> None:
        for name in names:
            self.db.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
            self.db.execute(
                "INSERT INTO itemTags VALUES (?, ?, 0)", (item_id, self._id("tags", "name", name))
            )

    def add_item(
        self,
        item_type: str,
        fields: dict[str, str],
        *,
        creators: list[tuple[str, str, str | None]] = (),  # (creatorType, last, first|None)
        tags: list[str] = (),
        collections: list[int] = (),
        library: int = 1,
    ) -> int:
        item_id, _key = self._item(item_type, library)
        for field, value in fields.items():
            self.set_field(item_id, field, value)
        for order, (kind, last, first) in enumerate(creators):
            mode = 1 if first is None else 0
            self.db.execute(
                "INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                (first or "", last, mode),
            )
            creator_id = self.db.execute(
                "SELECT creatorID FROM creators WHERE lastName = ? AND firstName = ? "
                "AND fieldMode = ?",
                (last, first or "", mode),
            ).fetchone()[0]
            self.db.execute(
                "INSERT INTO itemCreators VALUES (?, ?, ?, ?)",
                (item_id, creator_id, self._id("creatorTypes", "creatorType", kind), order),
            )
        self.tag(item_id, *tags)
        for collection in collections:
            self.db.execute("INSERT INTO collectionItems VALUES (?, ?, 0)", (collection, item_id))
        return item_id

    def add_collection(self, name: str, parent: int | None = None) -> int:
        return self.db.execute(
            "INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) "
            "VALUES (?, ?, 1, ?)",
            (name, parent, next(self._keys)),
        ).lastrowid

    def add_note(self, parent: int | None, html: str, title: str = "") -> int:
        item_id, _key = self._item("note")
        self.db.execute("INSERT INTO itemNotes VALUES (?, ?, ?, ?)", (item_id, parent, html, title))
        return item_id

    def add_file(
        self,
        parent: int | None,
        name: str,
        data: bytes | None,
        content_type: str,
        *,
        title: str = "",
        link_mode: int = 0,
        path: str | None = None,
    ) -> int:
        """An attachment: stored under storage/<key>/ (link modes 0, 1), else linked."""
        item_id, key = self._item("attachment")
        if title:
            self.set_field(item_id, "title", title)
        stored = path if path is not None else f"storage:{name}"
        self.db.execute(
            "INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
            "VALUES (?, ?, ?, ?, ?)",
            (item_id, parent, link_mode, content_type, stored),
        )
        if data is not None:
            self.files[f"storage/{key}/{name}"] = data
        return item_id

    def add_annotation(
        self,
        attachment: int,
        kind: str,
        *,
        text: str = "",
        comment: str = "",
        color: str = "#ffd400",
        page_label: str = "1",
        page_index: int = 0,
        tags: list[str] = (),
    ) -> int:
        if self.variant == "userdata-107":
            return 0  # Zotero 5's reader kept no annotations in the database
        item_id, _key = self._item("annotation")
        position = json.dumps({"pageIndex": page_index, "rects": [[72.0, 700.0, 300.0, 712.0]]})
        self.db.execute(
            "INSERT INTO itemAnnotations (itemID, parentItemID, type, text, comment, color, "
            "pageLabel, sortIndex, position, isExternal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (item_id, attachment, TYPES[kind], text, comment, color, page_label,
             f"{page_index:05d}|000000|00000", position),
        )  # fmt: skip
        self.tag(item_id, *tags)
        return item_id

    def trash(self, item_id: int) -> None:
        self.db.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (item_id,))

    def sqlite(self) -> bytes:
        self.db.commit()
        return self.db.serialize()

    def zip(self, extra: dict[str, bytes] | None = None) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(self.root + "zotero.sqlite", self.sqlite())
            for name, data in {**self.files, **(extra or {})}.items():
                archive.writestr(self.root + name, data)
        return buffer.getvalue()
