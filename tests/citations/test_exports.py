"""Export writers, read back by the tools historians use: pandoc, rispy, our importers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pypandoc
import pytest
import rispy
from django.core.cache import cache

from citations import exports
from sources.csl import csl_to_fields
from sources.metadata_import import bibtex_records, ris_records

DATA = Path(__file__).resolve().parent.parent / "data" / "csl"
SCHEMA = json.loads((DATA / "csl-data.json").read_text(encoding="utf-8"))
SAMPLE = json.loads((DATA / "examples" / "cwihp-sample.csl.json").read_text(encoding="utf-8"))

MEMO = {
    "id": "gromyko1961zapis",
    "citation-key": "gromyko1961zapis",
    "type": "manuscript",
    "title": "Запись беседы с послом ГДР: 50% & $5_{x}~",
    "genre": "Memorandum of conversation",
    "author": [{"family": "Громыко", "given": "Андрей Андреевич"}],
    "translator": [{"family": "Weathersby", "given": "Kathryn"}],
    "issued": {"date-parts": [[1961, 8, 3]], "circa": True},
    "archive": "Russian State Archive of Contemporary History (RGANI)",
    "archive-place": "Moscow",
    "archive_collection": "General Department",
    "archive_location": "f. 5, op. 30, d. 365, ll. 1–5",
    "URL": "https://digitalarchive.wilsoncenter.org/document/110404?lang=en&x=a_b%20c",
    "language": "ru",
    "custom": {"edtf": {"issued": "1961-08-03?"}, "original_language": "ru", "kind": "primary"},
}
LETTER = {
    "id": "khrushchev1958letter",
    "type": "letter",
    "title": "Letter from Khrushchev to Mao",
    "author": [{"family": "Khrushchev", "given": "Nikita"}],
    "recipient": [{"family": "Mao", "given": "Zedong"}],
    "issued": {"date-parts": [[1958], [1962]]},
    "archive": "Archive of the Ministry of Foreign Affairs of the PRC",
    "archive_location": "109-00000-00",
    "language": "zh",
    "custom": {"edtf": {"issued": "1958/1962"}},
}
INSTITUTION = {
    "id": "mfa1950treaty",
    "type": "treaty",
    "title": "Treaty of Friendship, Alliance and Mutual Assistance",
    "author": [{"literal": "Ministry of Foreign Affairs of the USSR"}],
    "issued": {"date-parts": [[1950, 2, 14]]},
    "note": "Signed in Moscow.\n\nRatified in April.",
}
ITEMS = [MEMO, LETTER, INSTITUTION]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def fields_of(record: dict) -> dict:
    """Model fields our importer makes of one record."""
    fields, creators = csl_to_fields(record)
    return fields | {"creators": {(c["role"], c["family"] or c["literal"]) for c in creators}}


# --- CSL-JSON -------------------------------------------------------------------------


def test_csl_json_validates_against_the_csl_schema():
    data = json.loads(exports.to_csl_json([*ITEMS, *SAMPLE]))
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    assert data[0]["custom"]["edtf"] == {"issued": "1961-08-03?"}


def test_csl_json_maps_our_letter_type_and_keeps_it_under_custom():
    [letter] = json.loads(exports.to_csl_json([LETTER | {"shelf": "B-12"}]))
    assert letter["type"] == "personal_communication"
    assert letter["custom"] == {"edtf": {"issued": "1958/1962"}, "type": "letter", "shelf": "B-12"}


def test_pandoc_reads_our_csl_json_back():
    back = json.loads(
        pypandoc.convert_text(exports.to_csl_json(ITEMS), "csljson", format="csljson")
    )
    memo = next(item for item in back if item["id"] == MEMO["id"])
    assert memo["title"] == MEMO["title"]
    assert memo["author"] == MEMO["author"] and memo["translator"] == MEMO["translator"]
    assert memo["issued"]["date-parts"] == [[1961, 8, 3]]
    assert memo["archive_location"] == MEMO["archive_location"]


# --- BibLaTeX and BibTeX --------------------------------------------------------------


def test_biblatex_keeps_archive_fields_edtf_dates_and_languages():
    text = exports.to_biblatex(ITEMS)
    assert "@unpublished{gromyko1961zapis," in text
    assert "  date = {1961-08-03?}," in text
    assert "  date = {1958/1962}," in text
    assert "  archive = {Russian State Archive of Contemporary History (RGANI)}," in text
    assert "  archive_location = {f. 5, op. 30, d. 365, ll. 1–5}," in text
    assert "  archive_collection = {{General} {Department}}," not in text  # not a title
    assert "  archive_collection = {General Department}," in text
    assert "  archive_place = {Moscow}," in text
    assert "  translator = {Weathersby, Kathryn}," in text
    assert "  recipient = {Mao, Zedong}," in text
    assert "  langid = {russian}," in text and "  origlanguage = {russian}," in text
    assert "@letter{khrushchev1958letter," in text
    assert "  author = {{Ministry of Foreign Affairs of the USSR}}," in text


def test_biblatex_escapes_latex_specials_but_not_urls():
    text = exports.to_biblatex([MEMO])
    assert r"50\% \& \$5\_\{x\}\textasciitilde{}" in text
    assert (
        "url = {https://digitalarchive.wilsoncenter.org/document/110404?lang=en&x=a_b%20c}" in text
    )


def test_pandoc_reads_our_biblatex_back():
    back = json.loads(
        pypandoc.convert_text(exports.to_biblatex(ITEMS), "csljson", format="biblatex")
    )
    memo, letter, treaty = (next(i for i in back if i["id"] == item["id"]) for item in ITEMS)
    assert memo["title"] == MEMO["title"]
    assert memo["author"] == MEMO["author"] and memo["translator"] == MEMO["translator"]
    assert memo["issued"]["date-parts"] == [[1961, 8, 3]]
    assert memo["language"] == "ru-RU"
    assert letter["title"] == "Letter from Khrushchev to Mao"  # capitals protected
    assert letter["issued"]["date-parts"] == [[1958], [1962]]
    assert treaty["author"] == [{"literal": "Ministry of Foreign Affairs of the USSR"}]


def test_our_importer_reads_our_biblatex_back_with_archive_fields():
    records = bibtex_records(exports.to_biblatex(ITEMS))
    memo, letter, treaty = (fields_of(record) for record in records)
    assert memo["citation_key"] == "gromyko1961zapis"
    assert memo["title"] == MEMO["title"]
    assert memo["issued"] == "1961-08-03?"
    assert memo["archive"] == MEMO["archive"]
    assert memo["archive_location"] == MEMO["archive_location"]
    assert memo["language"] == "ru" and memo["original_language"] == "ru"
    assert memo["creators"] == {("author", "Громыко"), ("translator", "Weathersby")}
    assert letter["issued"] == "1958/1962"
    assert ("recipient", "Mao") in letter["creators"]
    assert treaty["csl_type"] == "treaty"
    assert treaty["note"] == "Signed in Moscow.\n\nRatified in April."


def test_bibtex_uses_classic_types_and_year_but_keeps_the_rest():
    text = exports.to_bibtex(ITEMS)
    assert "@misc{khrushchev1958letter," in text
    assert "  year = {1961},\n  month = {8}," in text
    assert "  date = {1961-08-03?}," in text
    assert "  archive_location = {f. 5, op. 30, d. 365, ll. 1–5}," in text
    assert r"  howpublished = {\url{https://digitalarchive" in text
    records = bibtex_records(text)
    assert fields_of(records[0])["issued"] == "1961-08-03?"
    assert fields_of(records[1])["archive"] == LETTER["archive"]


def test_citation_keys_are_kept_and_must_be_unique():
    assert exports.citation_key({"id": "roshchin 1950,{a}"}) == "roshchin1950a"
    with pytest.raises(ValueError, match="share the citation key 'same'"):
        exports.to_biblatex([{"id": "same", "type": "book"}, {"id": "same", "type": "book"}])


# --- RIS ------------------------------------------------------------------------------


def test_ris_follows_zoteros_tags():
    text = exports.to_ris(ITEMS)
    memo, letter, treaty = text.split("\r\n\r\n")
    assert memo.startswith("TY  - MANSCPT\r\nID  - gromyko1961zapis\r\n")
    assert "\r\nA4  - Weathersby, Kathryn\r\n" in memo
    assert "\r\nDA  - 1961/08/03/?\r\n" in memo
    assert "\r\nDB  - Russian State Archive of Contemporary History (RGANI)\r\n" in memo
    assert "\r\nAN  - f. 5, op. 30, d. 365, ll. 1–5\r\n" in memo
    assert "\r\nM2  - archive-place: Moscow\r\n" in memo
    assert "\r\nA2  - Mao, Zedong\r\n" in letter and letter.startswith("TY  - PCOMM")
    assert "\r\nAU  - Ministry of Foreign Affairs of the USSR\r\n" in treaty
    assert "N1  - <p>Signed in Moscow.</p><p>Ratified in April.</p>" in treaty
    assert text.endswith("ER  - \r\n")


def test_rispy_reads_our_ris_with_archive_fields():
    memo, letter, _ = rispy.loads(exports.to_ris(ITEMS))
    assert memo["type_of_reference"] == "MANSCPT"
    assert memo["title"] == MEMO["title"]
    assert memo["authors"] == ["Громыко, Андрей Андреевич"]
    assert memo["subsidiary_authors"] == ["Weathersby, Kathryn"]  # A4: the translator
    assert memo["name_of_database"] == MEMO["archive"]
    assert memo["accession_number"] == MEMO["archive_location"]
    assert memo["date"] == "1961/08/03/?"
    assert memo["language"] == "ru"
    assert letter["secondary_authors"] == ["Mao, Zedong"]


def test_our_importer_reads_our_ris_back():
    memo, letter, treaty = (fields_of(record) for record in ris_records(exports.to_ris(ITEMS)))
    assert memo["title"] == MEMO["title"]
    assert memo["issued"] == "1961-08-03?"
    assert memo["archive"] == MEMO["archive"]
    assert memo["archive_location"] == MEMO["archive_location"]
    assert memo["archive_place"] == "Moscow"  # from M2 lines: RIS has no tag for them
    assert memo["archive_collection"] == "General Department"
    assert memo["original_language"] == "ru"
    assert memo["language"] == "ru"
    assert memo["creators"] == {("author", "Громыко"), ("translator", "Weathersby")}
    assert letter["issued"] == "1958/1962"
    assert letter["creators"] == {("author", "Khrushchev"), ("recipient", "Mao")}
    assert treaty["creators"] == {("author", "Ministry of Foreign Affairs of the USSR")}


# --- Formatted exports, names and types ----------------------------------------------


def test_formatted_html_export_is_a_page_with_the_csl_attribution():
    page = exports.export_items(SAMPLE, "html", style="apa", title="Cold War <sources>")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Cold War &lt;sources&gt;</title>" in page
    assert page.count('class="csl-entry"') == 10
    assert "https://citationstyles.org/" in page


def test_formatted_notes_export_numbers_full_notes():
    text = exports.export_items(SAMPLE[:2], "markdown", content="notes", title="Notes")
    assert text.startswith("# Notes\n\n1. A. A. Gromyko, “Memorandum")
    assert "\n\n2. Nikita Khrushchev" in text


def test_export_refuses_unknown_format_content_and_style():
    with pytest.raises(ValueError, match="Accepted: csl-json, biblatex, bibtex, ris, html"):
        exports.export_items(SAMPLE, "docx")
    with pytest.raises(ValueError, match="Accepted: bibliography, notes"):
        exports.export_items(SAMPLE, "text", content="claims")
    with pytest.raises(ValueError, match="Unknown citation style"):
        exports.export_items(SAMPLE, "text", style="nope")


def test_export_file_names_are_ascii_and_dated():
    today = dt.date(2024, 5, 1)
    assert exports.export_filename("Советско-китайские связи", "ris", today=today) == (
        "sovetsko-kitaiskie-svyazi-2024-05-01.ris"
    )
    assert (
        exports.export_filename("", "biblatex", today=today) == "marginalia-export-2024-05-01.bib"
    )
    assert exports.export_filename("Mao's visit", "csl-json", today=today).endswith(".json")


def test_every_export_format_has_a_content_type():
    assert set(exports.CONTENT_TYPES) == set(exports.EXTENSIONS)
    assert exports.CONTENT_TYPES["ris"].startswith("application/x-research-info-systems")
    assert exports.CONTENT_TYPES["csl-json"].startswith("application/vnd.citationstyles.csl+json")


@pytest.mark.django_db
def test_sources_export_through_the_csl_mapping(library):
    from tests.factories import make_source

    source = make_source(library=library, archive="AVP RF", archive_location="f. 0100, op. 43")
    text = exports.export_sources([source], "biblatex")
    assert f"@unpublished{{{source.citation_key}," in text
    assert "  archive = {AVP RF}," in text
