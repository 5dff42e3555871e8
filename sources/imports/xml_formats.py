"""Zotero RDF, MODS and EndNote XML records as CSL items.

XML is parsed by defusedxml (ElementTree underneath): a document type with entities, an
external entity or a DTD retrieval is refused as a whole-file error, never followed. Each
format is read into Zotero's item shape (`itemType`, fields, creators, tags) and made a
CSL item by `sources.imports.zotero`, as Zotero's own translators (RDF.js, MODS.js,
Endnote XML.js) read them; what has no field is kept as a `name: value` line of the note.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from core.uploads import UploadError
from sources.imports.common import record_or_error
from sources.imports.notes import note_text
from sources.imports.zotero import ITEM_TYPES, zotero_item_to_csl
from sources.models import ImportFormat

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
NS = {
    "bib": "http://purl.org/net/biblio#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "prism": "http://prismstandard.org/namespaces/1.2/basic/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://nwalsh.com/rdf/vCard#",
    "link": "http://purl.org/rss/1.0/modules/link/",
    "z": "http://www.zotero.org/namespaces/export#",
}
MODS = "{http://www.loc.gov/mods/v3}"


def parse_xml(text: str) -> Element:
    """The document's root; UploadError for XML that is malformed or asks for entities."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # decoded already, by its declaration
    try:
        return SafeET.fromstring(text.encode("utf-8"), forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as error:
        raise UploadError(
            "The XML file declares entities or fetches outside files "
            f"({error.__class__.__name__}); they are never read."
        ) from None
    except SafeET.ParseError as error:
        raise UploadError(f"The file is not well-formed XML: {error}.") from None


def sniff_xml(head: str) -> str | None:
    if re.search(r"<rdf:RDF|<RDF\b|zotero\.org/namespaces/export", head):
        return ImportFormat.ZOTERO_RDF
    if re.search(r"<(?:\w+:)?mods(?:Collection)?\b", head):
        return ImportFormat.MODS
    if re.search(r"<xml>\s*<records>|<records>\s*<record>", head):
        return ImportFormat.ENDNOTE_XML
    return None


def _q(name: str) -> str:
    prefix, _, local = name.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def _text(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


# --- Zotero RDF --------------------------------------------------------------------------


class _Graph:
    """The RDF/XML tree with its resources found by rdf:about and rdf:nodeID."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.by_id: dict[str, Element] = {}
        for element in root.iter():
            key = element.get(f"{RDF}about") or element.get(f"{RDF}nodeID")
            if key and element is not root:
                self.by_id.setdefault(key, element)

    def target(self, prop: Element) -> Element | None:
        """The resource a property points to: by reference, or nested inside it."""
        ref = prop.get(f"{RDF}resource") or prop.get(f"{RDF}nodeID")
        if ref:
            return self.by_id.get(ref)
        return next(iter(prop), None)


def zotero_rdf_records(text: str) -> list[dict | Exception]:
    graph = _Graph(parse_xml(text))
    collections = _collection_paths(graph)
    records: list[dict | Exception] = []
    for element in graph.root:
        item_type = _text(element.find(_q("z:itemType")))
        if item_type and item_type not in ("note", "attachment"):
            key = element.get(f"{RDF}about") or ""
            read = lambda e, k=key: _rdf_item(graph, e, collections.get(k, []))  # noqa: E731
            records.append(record_or_error(read, element, "The RDF item"))
    return records


def count_rdf(text: str) -> int:
    return len(re.findall(r"<z:itemType>(?!note<|attachment<)", text))


def _rdf_item(graph: _Graph, element: Element, collections: list[str]) -> dict:
    data: dict[str, Any] = {"itemType": _text(element.find(_q("z:itemType"))), "creators": []}
    data["tags"] = [{"tag": f"collection:{path}"} for path in collections]
    notes: list[str] = []
    for prop in element:
        _rdf_property(graph, data, prop, notes, element)
    return zotero_item_to_csl(data, notes=notes)


def _rdf_property(graph: _Graph, data: dict, prop: Element, notes: list, item: Element) -> None:
    tag, value = prop.tag, _text(prop)
    simple = {
        _q("dc:title"): "title",
        _q("dcterms:abstract"): "abstractNote",
        _q("dc:date"): "date",
        _q("dcterms:dateSubmitted"): "accessDate",
        _q("dcterms:issued"): "issueDate",
        _q("bib:pages"): "pages",
        _q("prism:edition"): "edition",
        _q("dc:rights"): "rights",
        _q("dc:description"): "extra",
        _q("dc:coverage"): "archiveLocation",
        _q("dcterms:medium"): "medium",
        _q("dc:type"): "type",
        _q("dcterms:alternative"): "shortTitle",
        _q("prism:volume"): "volume",
        _q("prism:number"): _number_field(data["itemType"]),
    }
    if tag in simple and value and len(prop) == 0:
        data.setdefault(simple[tag], value)
    elif (
        tag.startswith(f"{{{NS['z']}}}")
        and tag.endswith("s")
        and len(prop)
        or tag in (_q("bib:authors"), _q("bib:editors"), _q("bib:contributors"))
    ):
        _rdf_creators(graph, data, prop, tag.split("}")[1][:-1])
    elif tag.startswith(f"{{{NS['z']}}}") and value and len(prop) == 0:
        name = tag.split("}")[1]
        if name not in ("itemType", "displayTitle"):
            data.setdefault(name, value)
    elif tag == _q("dc:identifier"):
        _rdf_identifier(graph, data, prop)
    elif tag == _q("dc:subject"):
        _rdf_subject(graph, data, prop)
    elif tag == _q("dc:publisher"):
        _rdf_publisher(graph, data, graph.target(prop))
    elif tag == _q("dcterms:isPartOf"):
        _rdf_container(graph, data, graph.target(prop))
    elif tag == _q("bib:presentedAt") and (target := graph.target(prop)) is not None:
        data["conferenceName"] = _text(target.find(_q("dc:title")))
    elif tag == _q("dcterms:isReferencedBy") and (memo := graph.target(prop)) is not None:
        notes.append(note_text(_text_raw(memo.find(f"{RDF}value"))))
    elif tag == _q("link:link") and (attachment := graph.target(prop)) is not None:
        notes.append(_rdf_attachment(attachment))


def _number_field(item_type: str) -> str:
    return "issue" if item_type.endswith("Article") else "number"


def _text_raw(element: Element | None) -> str:
    return "".join(element.itertext()) if element is not None else ""


def _rdf_creators(graph: _Graph, data: dict, prop: Element, creator_type: str) -> None:
    people = prop.iter(_q("foaf:Person"))
    refs = [graph.target(li) for li in prop.iter(f"{RDF}li") if li.get(f"{RDF}resource")]
    for person in [*people, *(r for r in refs if r is not None)]:
        family = _text(person.find(_q("foaf:surname")))
        given = _text(person.find(_q("foaf:givenname"))) or _text(person.find(_q("foaf:givenName")))
        name = {"creatorType": creator_type, "lastName": family, "firstName": given}
        data["creators"].append(name if given else {"creatorType": creator_type, "name": family})


def _rdf_identifier(graph: _Graph, data: dict, prop: Element) -> None:
    target = graph.target(prop) if len(prop) or prop.get(f"{RDF}resource") else None
    if target is not None:
        data.setdefault("url", _text(target.find(f"{RDF}value")))
        return
    scheme, _, value = _text(prop).partition(" ")
    if scheme.upper() in ("ISBN", "ISSN", "DOI") and value:
        data.setdefault(scheme.upper(), value)
    elif _text(prop):
        data.setdefault("accessionNumber", _text(prop))


def _rdf_subject(graph: _Graph, data: dict, prop: Element) -> None:
    target = graph.target(prop) if len(prop) or prop.get(f"{RDF}resource") else None
    if target is None:
        data["tags"].append({"tag": _text(prop)})
    elif target.tag == _q("dcterms:LCC"):
        data["callNumber"] = _text(target.find(f"{RDF}value"))
    else:
        data["tags"].append({"tag": _text(target.find(f"{RDF}value")) or _text(target)})


def _rdf_publisher(graph: _Graph, data: dict, organization: Element | None) -> None:
    if organization is None:
        return
    if name := _text(organization.find(_q("foaf:name"))):
        data["publisher"] = name
    if place := _text(organization.find(f".//{_q('vcard:locality')}")):
        data["place"] = place


SERIES_FIELDS = (
    ("dc:title", "series"),
    ("dcterms:alternative", "seriesTitle"),
    ("dc:description", "seriesText"),
    ("dc:identifier", "seriesNumber"),
)


def _rdf_container(graph: _Graph, data: dict, container: Element | None, depth: int = 0) -> None:
    if container is None or depth > 3:
        return
    kind = container.tag
    if kind == _q("bib:Series"):
        for tag, field in SERIES_FIELDS:
            if value := _text(container.find(_q(tag))):
                data.setdefault(field, value)
        return
    if kind == _q("bib:Part"):
        data.setdefault("section", _text(container.find(_q("dc:title"))))
    else:
        data.setdefault("publicationTitle", _text(container.find(_q("dc:title"))))
        if abbreviation := _text(container.find(_q("dcterms:alternative"))):
            data.setdefault("journalAbbreviation", abbreviation)
        for prop in container:
            if prop.tag in (_q("prism:volume"), _q("prism:number")):
                field = (
                    "volume" if prop.tag == _q("prism:volume") else _number_field(data["itemType"])
                )
                data.setdefault(field, _text(prop))
            elif prop.tag == _q("dc:identifier"):
                _rdf_identifier(graph, data, prop)
    for prop in container.findall(_q("dcterms:isPartOf")):
        _rdf_container(graph, data, graph.target(prop), depth + 1)


def _rdf_attachment(attachment: Element) -> str:
    title = _text(attachment.find(_q("dc:title"))) or "untitled"
    where = attachment.get(f"{RDF}resource") or ""
    for resource in attachment.findall(f"{RDF}resource"):
        where = resource.get(f"{RDF}resource") or where
    return f"Attachment: {title}" + (f" ({where})" if where else "")


def _collection_paths(graph: _Graph) -> dict[str, list[str]]:
    """Each item's collections as paths ("Cold War/Moscow"), from z:Collection nodes."""
    collections = [e for e in graph.root if e.tag == _q("z:Collection")]
    parent: dict[str, str] = {}
    names: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for collection in collections:
        key = collection.get(f"{RDF}about") or ""
        names[key] = _text(collection.find(_q("dc:title")))
        for part in collection.findall(_q("dcterms:hasPart")):
            ref = part.get(f"{RDF}resource") or ""
            if graph.by_id.get(ref) is not None and graph.by_id[ref].tag == _q("z:Collection"):
                parent[ref] = key
            else:
                members.setdefault(ref, []).append(key)
    return {item: [_path(key, names, parent) for key in keys] for item, keys in members.items()}


def _path(key: str, names: dict[str, str], parent: dict[str, str]) -> str:
    parts, seen = [], set()
    while key and key not in seen:
        seen.add(key)
        parts.append(names.get(key, ""))
        key = parent.get(key, "")
    return "/".join(reversed([p for p in parts if p]))


# --- MODS ------------------------------------------------------------------------------

MARC_ROLES = {
    "aut": "author", "edt": "editor", "trl": "translator", "rcp": "recipient",
    "ive": "interviewee", "ivr": "interviewer", "ctb": "contributor", "cmp": "composer",
    "drt": "director", "pro": "producer", "cre": "author", "art": "artist",
    "ctg": "cartographer", "inv": "inventor", "prg": "programmer", "spk": "presenter",
    "prf": "performer", "cph": "contributor", "pbd": "seriesEditor",
}  # fmt: skip
MARC_GENRES = {
    "book": "book", "letter": "letter", "periodical": "journalArticle",
    "newspaper": "newspaperArticle", "thesis": "thesis", "map": "map",
    "patent": "patent", "legislation": "statute", "technical report": "report",
    "web site": "webpage", "motion picture": "film", "interview": "interview",
    "conference publication": "conferencePaper", "encyclopedia": "encyclopediaArticle",
    "dictionary": "dictionaryEntry", "videorecording": "videoRecording",
    "sound": "audioRecording", "art original": "artwork", "law report or digest": "case",
}  # fmt: skip


def _m(path: str) -> str:
    return "/".join(
        f"{MODS}{part}" if part and part not in (".",) else part for part in path.split("/")
    )


def mods_records(text: str) -> list[dict | Exception]:
    root = parse_xml(text)
    mods = [root] if root.tag == f"{MODS}mods" else list(root.iter(f"{MODS}mods"))
    return [record_or_error(_mods_item, element, "The MODS record") for element in mods]


def count_mods(text: str) -> int:
    return len(re.findall(r"<(?:\w+:)?mods[\s>]", text))


def _mods_item(mods: Element) -> dict:
    host = mods.find(_m("relatedItem[@type='host']"))
    data: dict[str, Any] = {"itemType": _mods_type(mods, host), "creators": [], "tags": []}
    _mods_titles(data, mods)
    _mods_names(data, mods, host)
    _mods_origin(data, mods.find(_m("originInfo")))
    _mods_parts(data, mods, host)
    _mods_identifiers(data, mods, host)
    _mods_location(data, mods)
    notes = [_text(note) for note in mods.findall(_m("note")) if _text(note)]
    for tag, field in (("abstract", "abstractNote"), ("accessCondition", "rights"),
                       ("classification", "callNumber"), ("tableOfContents", "extra")):  # fmt: skip
        if value := _text(mods.find(_m(tag))):
            data.setdefault(field, value)
    if language := mods.find(_m("language/languageTerm")):
        data["language"] = _text(language)
    for subject in mods.findall(_m("subject")):
        data["tags"] += [{"tag": _text(part)} for part in subject if _text(part)]
    if form := _text(mods.find(_m("physicalDescription/form"))):
        data["medium"] = form
    if extent := _text(mods.find(_m("physicalDescription/extent"))):
        data["numPages"] = extent
    return zotero_item_to_csl(data, notes=notes)


def _mods_type(mods: Element, host: Element | None) -> str:
    for genre in mods.findall(_m("genre")):
        value = _text(genre)
        if genre.get("authority") == "local" and value in ITEM_TYPES:
            return value
        if value.lower() in MARC_GENRES:
            found = MARC_GENRES[value.lower()]
            return "bookSection" if found == "book" and host is not None else found
    if host is not None:
        host_genres = {_text(g).lower() for g in host.findall(_m("genre"))}
        if host_genres & {"periodical", "academic journal", "journal"}:
            return "journalArticle"
        if "newspaper" in host_genres:
            return "newspaperArticle"
        return "bookSection"
    if mods.find(_m("typeOfResource[@manuscript='yes']")) is not None:
        return "manuscript"
    return "book" if mods.find(_m("originInfo/publisher")) is not None else "document"


def _mods_titles(data: dict, mods: Element) -> None:
    for info in mods.findall(_m("titleInfo")):
        parts = [_text(info.find(_m(p))) for p in ("nonSort", "title")]
        title = " ".join(p for p in parts if p)
        if subtitle := _text(info.find(_m("subTitle"))):
            title = f"{title}: {subtitle}"
        if info.get("type") == "abbreviated":
            data.setdefault("shortTitle", title)
        elif info.get("type") in (None, "uniform"):
            data.setdefault("title", title)


def _mods_names(data: dict, mods: Element, host: Element | None) -> None:
    for name in mods.findall(_m("name")):
        data["creators"].append(_mods_name(name, "author"))
    if host is not None:
        default = "bookAuthor" if data["itemType"] == "bookSection" else "editor"
        for name in host.findall(_m("name")):
            creator = _mods_name(name, default)
            if creator["creatorType"] == "author":
                creator["creatorType"] = default
            data["creators"].append(creator)


def _mods_name(name: Element, default: str) -> dict:
    roles = [_text(term) for term in name.findall(_m("role/roleTerm"))]
    role = next((MARC_ROLES[r] for r in roles if r in MARC_ROLES), None)
    role = role or next((r.lower() for r in roles if r and r.isalpha()), default)
    family = _text(name.find(_m("namePart[@type='family']")))
    given = " ".join(_text(p) for p in name.findall(_m("namePart[@type='given']")))
    if family:
        return {"creatorType": role, "lastName": family, "firstName": given}
    whole = " ".join(_text(p) for p in name.findall(_m("namePart")) if not p.get("type"))
    if name.get("type") != "corporate" and "," in whole:
        last, first = (p.strip() for p in whole.split(",", 1))
        return {"creatorType": role, "lastName": last, "firstName": first}
    return {"creatorType": role, "name": whole}


def _mods_origin(data: dict, origin: Element | None) -> None:
    if origin is None:
        return
    if place := _text(origin.find(_m("place/placeTerm[@type='text']"))) or _text(
        origin.find(_m("place/placeTerm"))
    ):
        data.setdefault("place", place)
    for tag, field in (("publisher", "publisher"), ("edition", "edition")):
        if value := _text(origin.find(_m(tag))):
            data.setdefault(field, value)
    for tag in ("dateIssued", "dateCreated", "copyrightDate", "dateOther"):
        if value := _text(origin.find(_m(tag))):
            data.setdefault("date", value)
            break


def _mods_parts(data: dict, mods: Element, host: Element | None) -> None:
    for owner in (mods, host):
        if owner is None:
            continue
        if owner is host:
            data.setdefault("publicationTitle", _text(host.find(_m("titleInfo/title"))))
            _mods_origin(data, host.find(_m("originInfo")))
        for part in owner.findall(_m("part")):
            for detail in part.findall(_m("detail")):
                kind = {"issue": _number_field(data["itemType"])}.get(detail.get("type", ""))
                field = kind or detail.get("type", "")
                if field in ("volume", "issue", "number", "section") and _text(detail):
                    data.setdefault(field, _text(detail.find(_m("number"))) or _text(detail))
            if (extent := part.find(_m("extent"))) is not None:
                start, end = _text(extent.find(_m("start"))), _text(extent.find(_m("end")))
                data.setdefault("pages", "–".join(p for p in (start, end) if p) or _text(extent))
            if date := _text(part.find(_m("date"))):
                data.setdefault("date", date)
    for series in mods.findall(_m("relatedItem[@type='series']")):
        data.setdefault("series", _text(series.find(_m("titleInfo/title"))))


def _mods_identifiers(data: dict, mods: Element, host: Element | None) -> None:
    for owner in (mods, host):
        for identifier in owner.findall(_m("identifier")) if owner is not None else []:
            kind, value = (identifier.get("type") or "").lower(), _text(identifier)
            field = {"doi": "DOI", "isbn": "ISBN", "issn": "ISSN", "uri": "url", "url": "url"}
            if kind in field and value:
                data.setdefault(field[kind], value)


def _mods_location(data: dict, mods: Element) -> None:
    for location in mods.findall(_m("location")):
        for url in location.findall(_m("url")):
            data.setdefault("url", _text(url))
            if accessed := url.get("dateLastAccessed"):
                data.setdefault("accessDate", accessed)
        if archive := _text(location.find(_m("physicalLocation"))):
            data.setdefault("archive", archive)
        if shelf := _text(location.find(_m("shelfLocator"))):
            data.setdefault("archiveLocation", shelf)


# --- EndNote XML -------------------------------------------------------------------------

ENDNOTE_TYPES = {
    "artwork": "artwork", "audiovisual material": "videoRecording", "bill": "bill",
    "book section": "bookSection", "book": "book", "case": "case", "catalog": "book",
    "computer program": "computerProgram", "conference proceedings": "conferencePaper",
    "web page": "webpage", "generic": "document", "hearing": "hearing",
    "journal article": "journalArticle", "magazine article": "magazineArticle", "map": "map",
    "film or broadcast": "film", "newspaper article": "newspaperArticle",
    "pamphlet": "manuscript", "patent": "patent", "personal communication": "letter",
    "report": "report", "edited book": "book", "statute": "statute", "thesis": "thesis",
    "unpublished work": "manuscript", "manuscript": "manuscript", "figure": "artwork",
    "chart or table": "artwork", "electronic article": "journalArticle",
    "electronic book": "book", "online database": "webpage", "government document": "report",
    "conference paper": "presentation", "online multimedia": "webpage",
    "classical work": "book", "legal rule or regulation": "report", "ancient text": "book",
    "dictionary": "dictionaryEntry", "encyclopedia": "encyclopediaArticle", "grant": "report",
    "blog": "blogPost", "serial": "book", "standard": "standard", "dataset": "dataset",
    "electronic book section": "bookSection", "music": "audioRecording",
    "interview": "interview",
}  # fmt: skip
ENDNOTE_NUMBERS = {
    2: "artwork", 3: "videoRecording", 4: "bill", 5: "bookSection", 6: "book", 7: "case",
    9: "computerProgram", 10: "conferencePaper", 12: "webpage", 13: "document",
    14: "hearing", 17: "journalArticle", 19: "magazineArticle", 20: "map", 21: "film",
    23: "newspaperArticle", 25: "patent", 26: "letter", 27: "report", 28: "book",
    31: "statute", 32: "thesis", 34: "manuscript", 36: "manuscript", 43: "journalArticle",
    47: "conferencePaper", 52: "dictionaryEntry", 53: "encyclopediaArticle", 56: "blogPost",
}  # fmt: skip
ENDNOTE_FIELDS = {
    "pages": "pages", "volume": "volume", "edition": "edition", "section": "section",
    "pub-location": "place", "publisher": "publisher", "call-num": "callNumber",
    "electronic-resource-num": "DOI", "abstract": "abstractNote", "language": "language",
    "access-date": "accessDate", "remote-database-name": "libraryCatalog",
    "work-type": "type", "num-vols": "numberOfVolumes", "accession-num": "archiveLocation",
    "remote-database-provider": "archive",
}  # fmt: skip
ENDNOTE_SKIPPED = {
    "database", "source-app", "rec-number", "foreign-keys", "ref-type", "contributors",
    "titles", "periodical", "alt-periodical", "keywords", "dates", "urls", "notes",
    "research-notes", "isbn", "number", "issue",
}  # fmt: skip


def endnote_records(text: str) -> list[dict | Exception]:
    root = parse_xml(text)
    return [record_or_error(_endnote_item, r, "The EndNote record") for r in root.iter("record")]


def count_endnote(text: str) -> int:
    return len(re.findall(r"<record>", text))


def _endnote_item(record: Element) -> dict:
    item_type = _endnote_type(record.find("ref-type"))
    data: dict[str, Any] = {"itemType": item_type, "creators": [], "tags": []}
    _endnote_titles(data, record, item_type)
    _endnote_contributors(data, record.find("contributors"), item_type)
    year = _text(record.find("dates/year"))
    when = _text(record.find("dates/pub-dates/date"))
    if year or when:
        data["date"] = f"{when} {year}".strip() if year and year not in when else when or year
    lines: list[str] = []
    for child in record:
        _endnote_field(data, child, item_type, lines)
    data["tags"] = [{"tag": _text(k)} for k in record.findall("keywords/keyword") if _text(k)]
    _endnote_urls(data, record, lines)
    notes = [note_text(_text_raw(record.find(tag))) for tag in ("notes", "research-notes")]
    return zotero_item_to_csl(data, notes=[n for n in [*notes, "\n".join(lines)] if n])


def _endnote_type(element: Element | None) -> str:
    if element is None:
        return "journalArticle"
    name = (element.get("name") or "").strip().lower()
    if name in ENDNOTE_TYPES:
        return ENDNOTE_TYPES[name]
    number = _text(element)
    return ENDNOTE_NUMBERS.get(int(number), "document") if number.isdigit() else "document"


def _endnote_titles(data: dict, record: Element, item_type: str) -> None:
    titles = record.find("titles")
    get = lambda tag: _text(titles.find(tag)) if titles is not None else ""  # noqa: E731
    data["title"] = get("title")
    secondary = get("secondary-title") or _text(record.find("periodical/full-title"))
    if secondary:
        field = {"book": "series", "report": "seriesTitle", "map": "seriesTitle",
                 "computerProgram": "seriesTitle", "conferencePaper": "proceedingsTitle",
                 "presentation": "meetingName", "hearing": "committee"}.get(item_type)  # fmt: skip
        data[field or "publicationTitle"] = secondary
    if tertiary := get("tertiary-title"):
        data["series" if item_type in ("bookSection", "conferencePaper") else "seriesTitle"] = (
            tertiary
        )
    if short := get("short-title"):
        data["shortTitle"] = short
    if abbreviation := _text(record.find("periodical/abbr-1")):
        data["journalAbbreviation"] = abbreviation
    if alternative := get("alt-title"):
        data.setdefault("shortTitle", alternative)


def _endnote_contributors(data: dict, contributors: Element | None, item_type: str) -> None:
    if contributors is None:
        return
    roles = {
        "authors": {"interview": "interviewee", "letter": "author"}.get(item_type, "author"),
        "secondary-authors": {
            "letter": "recipient",
            "interview": "interviewer",
            "book": "seriesEditor",
            "report": "seriesEditor",
        }.get(item_type, "editor"),  # fmt: skip
        "tertiary-authors": "editor" if item_type == "book" else "seriesEditor",
        "subsidiary-authors": "translator",
        "translated-authors": "translator",
    }
    for group in contributors:
        role = roles.get(group.tag, "contributor")
        for author in group.findall("author"):
            name = _text(author)
            if "," in name:
                last, first = (p.strip() for p in name.split(",", 1))
                data["creators"].append({"creatorType": role, "lastName": last, "firstName": first})
            elif name:
                data["creators"].append({"creatorType": role, "name": name})


def _endnote_field(data: dict, child: Element, item_type: str, lines: list[str]) -> None:
    tag, value = child.tag, _text(child)
    if tag in ENDNOTE_SKIPPED or not value:
        if tag == "isbn" and value:
            data["ISSN" if item_type.endswith("Article") else "ISBN"] = value
        elif tag in ("number", "issue") and value:
            field = "issue" if item_type.endswith("Article") else "number"
            field = "seriesNumber" if item_type in ("book", "bookSection") else field
            data.setdefault(field, value)
        return
    if tag in ENDNOTE_FIELDS:
        data.setdefault(ENDNOTE_FIELDS[tag], value)
    else:
        lines.append(f"{tag}: {value}")


def _endnote_urls(data: dict, record: Element, lines: list[str]) -> None:
    for group in ("related-urls", "web-urls"):
        for url in record.findall(f"urls/{group}/url"):
            if re.match(r"(?i)(https?|ftp)://", _text(url)) and "url" not in data:
                data["url"] = _text(url)
            elif _text(url):
                lines.append(f"Link: {_text(url)}")
    for group in ("pdf-urls", "text-urls", "image-urls"):
        lines += [f"Attachment: {_text(url)}" for url in record.findall(f"urls/{group}/url")]


COUNTERS = {
    ImportFormat.ZOTERO_RDF: count_rdf,
    ImportFormat.MODS: count_mods,
    ImportFormat.ENDNOTE_XML: count_endnote,
}
