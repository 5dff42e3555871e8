"""Import → export → import gives the same records, field by field, in every format we
write (CSL-JSON, RIS, BibTeX, BibLaTeX): citation keys, types, archival fields, every
identifier, keywords, rights, dates EDTF cannot say in the format, notes' line breaks."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citations import exports
from sources.csl import source_to_csl
from sources.metadata_import import import_metadata
from sources.models import Library, Source
from tests.factories import make_library

DATA = Path(__file__).resolve().parents[2] / "data" / "metadata"
FIELDS = [
    "citation_key", "csl_type", "kind", "title", "container_title", "collection_title",
    "publisher", "publisher_place", "volume", "issue", "page", "edition", "issued",
    "issued_literal", "archive", "archive_place", "archive_collection", "archive_location",
    "call_number", "genre", "medium", "url", "accessed", "language", "original_language",
    "rights", "identifiers", "abstract", "keywords", "note", "variables",
]  # fmt: skip
RICH = {
    "id": "roshchin1950record",
    "type": "manuscript",
    "title": "Record of Conversation with Mao Zedong, Moscow",
    "genre": "Record of conversation",
    "author": [{"family": "Roshchin", "given": "N. V."}, {"family": "Hicks", "given": "Michael",
               "non-dropping-particle": "von", "suffix": "III"}],
    "translator": [{"family": "Rozas", "given": "Danny"}],
    "recipient": [{"literal": "Ministry of Foreign Affairs"}],
    "issued": {"raw": "1950?-01-01"},
    "archive": "AVP RF", "archive-place": "Moscow", "archive_collection": "Referentura",
    "archive_location": "f. 07, op. 23a, d. 18", "call-number": "AVP 07/23a/18",
    "URL": "https://digitalarchive.wilsoncenter.org/document/110404", "language": "ru",
    "note": "First line\nSecond line\n\nA paragraph.", "keyword": "treaty, Port Arthur",
    "number": "12", "event-place": "Moscow",
    "custom": {"rights": "Public domain", "original_language": "ru",
               "identifiers": {"wilson_center": "110404", "wilson_center_transcript": "33548"}},
}  # fmt: skip
LETTER = {
    "id": "stalin1950letter", "type": "letter", "title": "Letter to Mao",
    "author": [{"family": "Stalin", "given": "I. V."}], "issued": {"raw": "1960-07~"},
    "recipient": [{"family": "Mao", "given": "Zedong"}], "ISBN": "978-0-691-13590-8",
}  # fmt: skip
MAP = {"id": "map1950", "type": "map", "title": "Map of Port Arthur", "issued": {"raw": "195X"}}


def fields(source: Source) -> dict:
    values = {name: getattr(source, name) for name in FIELDS}
    values["creators"] = [
        (c.role, c.family, c.given, c.literal, c.suffix)
        for c in sorted(source.creators.all(), key=lambda c: (c.role, c.order))
    ]
    return values


def import_into(library: Library, user, name: str, content: str | bytes) -> dict[str, dict]:
    data = content.encode() if isinstance(content, str) else content
    run = import_metadata(library, SimpleUploadedFile(name, data), user=user)
    assert {o["status"] for o in run.outcomes} == {"created"}, run.outcomes
    return {s.citation_key: fields(s) for s in library.sources.prefetch_related("creators")}


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("csl-json", "x.json"), ("ris", "x.ris"), ("bibtex", "x.bib"), ("biblatex", "x.bib")],
)
def test_our_records_come_back_field_by_field(library, alice, fmt, name):
    first = import_into(library, alice, "rich.json", json.dumps([RICH, LETTER, MAP]))
    text = exports.export_sources(library.sources.prefetch_related("creators"), fmt)
    second = import_into(make_library(owner=alice, name="Again"), alice, name, text)
    assert second == first


@pytest.mark.parametrize(
    ("source_file", "fmt", "name"),
    [
        ("zotero-cold-war.json", "csl-json", "x.json"),
        ("zotero-cold-war.ris", "ris", "x.ris"),
        ("zotero-cold-war-biblatex.bib", "biblatex", "x.bib"),
        ("zotero-cold-war-bibtex.bib", "bibtex", "x.bib"),
        ("jabref/MODSImporterTestModsCollection.xml", "ris", "x.ris"),
        ("public-records/mathscinet.bib", "biblatex", "x.bib"),
    ],
)
def test_real_exports_come_back_field_by_field(library, alice, source_file, fmt, name):
    first = import_into(library, alice, Path(source_file).name, (DATA / source_file).read_bytes())
    text = exports.export_sources(library.sources.prefetch_related("creators"), fmt)
    second = import_into(make_library(owner=alice, name="Again"), alice, name, text)
    assert second == first


def test_csl_json_keeps_static_ordering(library, alice):
    item = {
        "id": "mao1950",
        "type": "letter",
        "title": "T",
        "author": [{"family": "Mao", "given": "Zedong", "static-ordering": True}],
    }
    import_into(library, alice, "m.json", json.dumps([item]))
    source = Source.objects.get(library=library)
    assert source_to_csl(source)["author"] == [item["author"][0] | {"literal": "Mao Zedong"}]
