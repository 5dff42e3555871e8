"""Bring a whole Zotero library across: its data directory (zotero.sqlite and storage/)."""
