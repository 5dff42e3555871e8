"""Zotero's item model in CSL terms: its 37 item types, its fields and creator types.

The tables follow the `csl` section of Zotero's own schema (zotero/zotero-schema,
`schema.json`, AGPL-3.0: item types → CSL types, base fields → CSL variables, creator types
→ CSL name variables) and its base-field mappings (a letter's "Type" is the base field
"type"). `zotero_item_to_csl` turns one item as Zotero's web API, its RDF and its
database hold it (`itemType`, fields, `creators`, `tags`, `notes`) into a CSL item for
`sources.csl.csl_to_fields`, keeping what CSL has no variable for as Extra lines
("Country: France"), which Zotero itself reads back.
"""

from __future__ import annotations

import re
from typing import Any

from sources.imports.notes import note_text

# Zotero item type → CSL type (Zotero 7's schema; `letter` stays our letter).
ITEM_TYPES = {
    "artwork": "graphic",
    "audioRecording": "song",
    "bill": "bill",
    "blogPost": "post-weblog",
    "book": "book",
    "bookSection": "chapter",
    "case": "legal_case",
    "computerProgram": "software",
    "conferencePaper": "paper-conference",
    "dataset": "dataset",
    "dictionaryEntry": "entry-dictionary",
    "document": "document",
    "email": "personal_communication",
    "encyclopediaArticle": "entry-encyclopedia",
    "film": "motion_picture",
    "forumPost": "post",
    "hearing": "hearing",
    "instantMessage": "personal_communication",
    "interview": "interview",
    "journalArticle": "article-journal",
    "letter": "letter",
    "magazineArticle": "article-magazine",
    "manuscript": "manuscript",
    "map": "map",
    "newspaperArticle": "article-newspaper",
    "patent": "patent",
    "podcast": "broadcast",
    "preprint": "article",
    "presentation": "speech",
    "radioBroadcast": "broadcast",
    "report": "report",
    "standard": "standard",
    "statute": "legislation",
    "thesis": "thesis",
    "tvBroadcast": "broadcast",
    "videoRecording": "motion_picture",
    "webpage": "webpage",
}
# CSL types several Zotero types share: the Zotero type is kept (custom.zotero_type).
SHARED_CSL_TYPES = {"personal_communication", "broadcast", "motion_picture"}
# Type-specific fields → their base field (Zotero's schema: "baseField").
BASE_FIELDS = {
    "caseName": "title",
    "nameOfAct": "title",
    "subject": "title",
    "blogTitle": "publicationTitle",
    "bookTitle": "publicationTitle",
    "dictionaryTitle": "publicationTitle",
    "encyclopediaTitle": "publicationTitle",
    "forumTitle": "publicationTitle",
    "proceedingsTitle": "publicationTitle",
    "programTitle": "publicationTitle",
    "websiteTitle": "publicationTitle",
    "label": "publisher",
    "distributor": "publisher",
    "company": "publisher",
    "university": "publisher",
    "institution": "publisher",
    "network": "publisher",
    "studio": "publisher",
    "letterType": "type",
    "manuscriptType": "type",
    "mapType": "type",
    "thesisType": "type",
    "reportType": "type",
    "presentationType": "type",
    "postType": "type",
    "websiteType": "type",
    "genre": "type",
    "audioFileType": "medium",
    "artworkMedium": "medium",
    "audioRecordingFormat": "medium",
    "interviewMedium": "medium",
    "videoRecordingFormat": "medium",
    "billNumber": "number",
    "docketNumber": "number",
    "documentNumber": "number",
    "episodeNumber": "number",
    "patentNumber": "number",
    "publicLawNumber": "number",
    "reportNumber": "number",
    "codeVolume": "volume",
    "reporterVolume": "volume",
    "codePages": "pages",
    "firstPage": "pages",
    "dateDecided": "date",
    "dateEnacted": "date",
    "issueDate": "date",
    "court": "authority",
    "legislativeBody": "authority",
    "issuingAuthority": "authority",
}
# Base field → CSL variable (Zotero's schema, csl.fields.text and csl.fields.date).
FIELD_VARIABLES = {
    "title": "title",
    "abstractNote": "abstract",
    "archive": "archive",
    "archiveLocation": "archive_location",
    "authority": "authority",
    "callNumber": "call-number",
    "applicationNumber": "call-number",
    "session": "chapter-number",
    "citationKey": "citation-key",
    "seriesNumber": "collection-number",
    "seriesTitle": "collection-title",
    "series": "collection-title",
    "publicationTitle": "container-title",
    "reporter": "container-title",
    "code": "container-title",
    "artworkSize": "dimensions",
    "runningTime": "dimensions",
    "DOI": "DOI",
    "edition": "edition",
    "eventPlace": "event-place",
    "meetingName": "event-title",
    "conferenceName": "event-title",
    "type": "genre",
    "programmingLanguage": "genre",
    "ISBN": "ISBN",
    "ISSN": "ISSN",
    "issue": "issue",
    "priorityNumbers": "issue",
    "journalAbbreviation": "container-title-short",
    "language": "language",
    "rights": "license",
    "medium": "medium",
    "system": "medium",
    "extra": "note",
    "number": "number",
    "numPages": "number-of-pages",
    "numberOfVolumes": "number-of-volumes",
    "originalPublisher": "original-publisher",
    "originalPlace": "original-publisher-place",
    "partNumber": "part",
    "partTitle": "part-title",
    "pages": "page",
    "PMID": "PMID",
    "PMCID": "PMCID",
    "publisher": "publisher",
    "place": "publisher-place",
    "history": "references",
    "references": "references",
    "scale": "scale",
    "section": "section",
    "committee": "section",
    "shortTitle": "title-short",
    "libraryCatalog": "source",
    "status": "status",
    "url": "URL",
    "versionNumber": "version",
    "volume": "volume",
    "codeNumber": "volume",
    "accessDate": "accessed",
    "date": "issued",
    "filingDate": "submitted",
    "originalDate": "original-date",
}
DATE_VARIABLES = {"accessed", "issued", "submitted", "original-date"}
# Zotero creator type → CSL name variable (Zotero's schema, csl.names), and ours.
CREATOR_TYPES = {
    "author": "author",
    "bookAuthor": "container-author",
    "chair": "chair",
    "castMember": "performer",
    "composer": "composer",
    "contributor": "contributor",
    "creator": "author",
    "director": "director",
    "editor": "editor",
    "executiveProducer": "executive-producer",
    "guest": "guest",
    "host": "host",
    "interviewer": "interviewer",
    "narrator": "narrator",
    "originalCreator": "original-author",
    "organizer": "organizer",
    "podcaster": "host",
    "producer": "producer",
    "recipient": "recipient",
    "reviewedAuthor": "reviewed-author",
    "seriesCreator": "series-creator",
    "seriesEditor": "collection-editor",
    "scriptwriter": "script-writer",
    "translator": "translator",
    "interviewee": "interviewee",
}
# The first creator type of each item type, which CSL calls its author.
PRIMARY_CREATOR_TYPES = {
    "artist", "performer", "sponsor", "programmer", "cartographer", "inventor",
    "presenter", "podcaster", "interviewee",
}  # fmt: skip
# Human names of the fields kept as Extra lines (Zotero reads them back from Extra).
LABELS = {
    "seriesText": "Series Text",
    "country": "Country",
    "assignee": "Assignee",
    "legalStatus": "Legal Status",
    "identifier": "Identifier",
    "repository": "Repository",
    "repositoryLocation": "Repo. Location",
    "format": "Format",
    "organization": "Organization",
    "archiveID": "Archive ID",
}
SKIPPED_FIELDS = {"key", "version", "itemType", "creators", "tags", "collections", "relations",
                  "dateAdded", "dateModified", "parentItem", "notes", "note", "attachments",
                  "accessed", "deleted", "inPublications", "linkMode", "contentType",
                  "charset", "filename", "md5", "mtime", "path", "seeAlso"}  # fmt: skip


def csl_type_for(item_type: str) -> str:
    return ITEM_TYPES.get(item_type, "document")


def variable_for(field: str) -> str | None:
    """The CSL variable a Zotero field (type-specific or base) holds, if any."""
    return FIELD_VARIABLES.get(BASE_FIELDS.get(field, field))


def zotero_item_to_csl(data: dict[str, Any], *, notes: list[str] | None = None) -> dict:
    """A CSL item for one Zotero item (the `data` of its web API JSON); `notes` are its
    child notes as text, kept in the note after Extra."""
    item_type = str(data.get("itemType") or "document")
    csl_type = csl_type_for(item_type)
    item: dict[str, Any] = {"type": csl_type, "custom": {}}
    if csl_type in SHARED_CSL_TYPES:
        item["custom"]["zotero_type"] = item_type
    extra_lines: list[str] = []
    for field, value in data.items():
        if field in SKIPPED_FIELDS or value in (None, "", [], {}):
            continue
        _put_field(item, field, value, extra_lines)
    _put_creators(item, data.get("creators") or [], item_type)
    if tags := [t.get("tag") if isinstance(t, dict) else t for t in data.get("tags") or []]:
        item["keyword"] = [str(tag) for tag in tags if tag]
    item["note"] = "\n".join(filter(None, [str(item.pop("note", "")), *extra_lines]))
    notes = [*(notes or []), *_embedded_children(data)]
    if notes:  # child notes: kept after Extra, never read as Extra lines
        item["_notes"] = [n for n in notes if n]
    if not item["custom"]:
        del item["custom"]
    return item


def _embedded_children(data: dict) -> list[str]:
    """Notes and attachments a translator or the connector hands over inside the item."""
    lines = []
    for note in data.get("notes") or []:
        text = note.get("note") if isinstance(note, dict) else note
        lines.append(note_text(str(text or "")))
    for attachment in data.get("attachments") or []:
        if isinstance(attachment, dict):
            kind = attachment.get("mimeType") or attachment.get("contentType") or ""
            where = attachment.get("url") or attachment.get("path") or kind
            lines.append(
                f"Attachment: {attachment.get('title') or 'untitled'}"
                + (f" ({where})" if where else "")
            )
    return lines


def _put_field(item: dict, field: str, value: Any, extra_lines: list[str]) -> None:
    variable = variable_for(field)
    if variable is None:
        label = LABELS.get(field) or re.sub(r"(?<!^)([A-Z])", r" \1", field).capitalize()
        extra_lines.append(f"{label}: {value}")
    elif variable in DATE_VARIABLES:
        item[variable] = {"raw": str(value)}
    elif variable in item and variable == "publisher-place":
        return
    else:
        item[variable] = str(value)


def _put_creators(item: dict, creators: list, item_type: str) -> None:
    for creator in creators:
        if not isinstance(creator, dict):
            continue
        variable = name_variable(str(creator.get("creatorType") or "author"))
        name = _csl_name(creator)
        if variable == "interviewee":
            item["custom"].setdefault("interviewee", []).append(name)
        else:
            item.setdefault(variable, []).append(name)


def name_variable(kind: str) -> str:
    """The CSL name variable of a Zotero creator type: its own, "author" for an item
    type's first creator type (artist, sponsor, cartographer…), else "contributor"."""
    if kind in CREATOR_TYPES:
        return CREATOR_TYPES[kind]
    return "author" if kind in PRIMARY_CREATOR_TYPES else "contributor"


def _csl_name(creator: dict) -> dict[str, Any]:
    if creator.get("name"):
        return {"literal": str(creator["name"])}
    name = {"family": str(creator.get("lastName") or "")}
    if creator.get("firstName"):
        name["given"] = str(creator["firstName"])
    if not name["family"] and name.get("given"):
        return {"literal": name["given"]}
    return name
