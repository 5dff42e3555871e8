"""Readers of reference-manager exports, each giving CSL-JSON-shaped items.

One module per format (`json_formats`: CSL-JSON and Zotero's web API JSON; `ris`;
`bibtex` with `latex`; `xml_formats`: Zotero RDF, MODS, EndNote XML), what they share
(`dates`: messy dates into EDTF; `extra`: Zotero's Extra lines; `zotero`: Zotero's item
model in CSL terms; `notes`; `languages`; `common`), and `duplicates`, the catalogue an
import checks records against. `sources.metadata_import` runs an import with them;
`sources.csl` maps the items to our model.
"""
