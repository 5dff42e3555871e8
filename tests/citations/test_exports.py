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
    # biber's data model has no translator for @unpublished: it is a typed name list there,
    # which pandoc does not read (docs/exports.md: give pandoc the CSL-JSON)
    assert memo["author"] == MEMO["author"]
    assert memo["issued"]["date-parts"] == [[1961, 8, 3]]
    assert memo["archive_location"] == MEMO["archive_location"]


# --- BibLaTeX and BibTeX --------------------------------------------------------------


def test_biblatex_keeps_archive_fields_edtf_dates_and_languages():
    """Archival fields in the standard fields biber's default data model has (docs/exports.md),
    with an addendum standard styles print; names BibLaTeX has no field for typed by role."""
    text = exports.to_biblatex(ITEMS)
    assert "@unpublished{gromyko1961zapis," in text
    assert "  date = {1961-08-03?}," in text
    assert "  date = {1958/1962}," in text
    assert "  library = {Russian State Archive of Contemporary History (RGANI)}," in text
    assert "  userc = {f. 5, op. 30, d. 365, ll. 1–5}," in text
    assert "  userb = {General Department}," in text  # not braced as a title
    assert "  usera = {Moscow}," in text
    assert (
        "  addendum = {General Department, Russian State Archive of Contemporary History (RGANI),"
        " Moscow, f. 5, op. 30, d. 365, ll. 1–5}," in text
    )
    assert "  nameb = {Weathersby, Kathryn},\n  namebtype = {translator}," in text
    assert "  namea = {Mao, Zedong},\n  nameatype = {recipient}," in text
    assert "  langid = {russian}," in text and "original-language: ru" in text
    assert "@misc{khrushchev1958letter,\n  entrysubtype = {letter}," in text
    assert "  author = {{Ministry of Foreign Affairs of the USSR}}," in text
    for field in ("archive", "archive_location", "archive_place", "recipient", "callnumber"):
        assert f"  {field} = " not in text


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
    # biber's data model has no translator for @unpublished: it is a typed name list there,
    # which pandoc does not read (docs/exports.md: give pandoc the CSL-JSON)
    assert memo["author"] == MEMO["author"]
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
    assert "  library = {AVP RF}," in text


# --- Exports their readers accept (issue #17, #20) --------------------------------------

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

HICKS = {
    "id": "hicks2001", "type": "book", "title": "Design of a Grid Structure",
    "author": [
        {"family": "Hicks", "non-dropping-particle": "von", "given": "Michael", "suffix": "III"},
        {"family": "Mao", "given": "Zedong", "static-ordering": True},
    ],
    "issued": {"raw": "1950?-01-01"}, "custom": {"edtf": {"issued": "1950?-01-01"}},
}  # fmt: skip
APPROXIMATE = {
    "id": "cable1960", "type": "motion_picture", "title": "Cable with a NUL\u0000 in it",
    "issued": {"date-parts": [[1960, 7]], "circa": True},
    "custom": {"edtf": {"issued": "1960-07~"}},
    "recipient": [{"family": "Zhou", "given": "Enlai"}], "call-number": "AVP 1/2",
    "custom-free": "x",
}  # fmt: skip


def biber() -> str:
    """biber, or a visible skip outside CI; with CI=true it must be there (.ci/run)."""
    if path := shutil.which("biber"):
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("biber is required in CI: .ci/run installs Debian's biber")
    pytest.skip("biber is not installed (apt-get install biber): the data-model check needs it")


def biber_tool(tmp_path: Path, text: str) -> tuple[str, str]:
    (tmp_path / "x.bib").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [biber(), "--tool", "--validate-datamodel", "--output-directory", str(tmp_path), "x.bib"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = tmp_path / "x_bibertool.bib"
    return result.stdout + result.stderr, out.read_text("utf-8") if out.exists() else ""


def test_biber_validates_our_biblatex_with_no_field_ignored(tmp_path):
    log, rewritten = biber_tool(tmp_path, exports.to_biblatex([*ITEMS, HICKS, APPROXIMATE]))
    assert "Invalid field" not in log and "WARN" not in log and "ERROR" not in log, log
    assert "1960-07~" in rewritten  # read as approximate, not escaped and dropped
    assert "1950-01-01?" in rewritten and "1950?-01-01" in rewritten  # readable + exact
    assert "{von Hicks, III, Michael}" not in rewritten
    assert "LIBRARY" in rewritten.upper() and "USERC" in rewritten.upper()


def test_bibtex_names_are_in_bibtex_order_and_family_first_names_whole():
    text = exports.to_biblatex([HICKS])
    assert "  author = {von Hicks, III, Michael and {Mao Zedong}}," in text


def test_control_characters_never_reach_an_export():
    for fmt in ("biblatex", "bibtex", "ris", "csl-json"):
        assert "\u0000" not in exports.export_items([APPROXIMATE], fmt)


def test_titles_are_braced_by_runs_of_capitals_without_their_punctuation():
    title = exports.latex_title("Conversation with Mao Zedong, Moscow, 1 January 1950")
    assert title == "{Conversation} with {Mao Zedong}, {Moscow}, 1 {January} 1950"


def test_ris_dates_are_ris_and_the_exact_edtf_an_extra_line():
    tags = dict(
        exports.ris_tags({"id": "a", "type": "book", "custom": {"edtf": {"issued": "1958/1962"}}})
    )
    assert tags["DA"] == "1958///" and tags["PY"] == "1958"
    lines = exports.ris_tags(
        {"id": "b", "type": "book", "custom": {"edtf": {"issued": "1950?-01-01"}}}
    )
    assert ("DA", "1950/01/01/?") in lines and ("M2", "issued: 1950?-01-01") in lines


def test_ris_carries_sn_rights_every_identifier_and_keywords():
    item = {
        "id": "k", "type": "book", "ISBN": "978-0-691-13590-8", "keyword": "treaty, Port Arthur",
        "custom": {"rights": "CC BY", "identifiers": {"wilson_center": "1", "transcript": "2"}},
    }  # fmt: skip
    lines = exports.ris_tags(item)
    assert ("SN", "978-0-691-13590-8") in lines and ("KW", "Port Arthur") in lines
    assert ("M2", "rights: CC BY") in lines
    assert ("M2", "identifier wilson_center: 1") in lines and (
        "M2",
        "identifier transcript: 2",
    ) in lines


def test_export_file_names_keep_dashes_and_tell_biblatex_from_bibtex():
    day = dt.date(2024, 5, 1)
    name = "Mao in Moscow, 1949–1950"
    assert exports.export_filename(name, "biblatex", today=day) == (
        "mao-in-moscow-1949-1950-2024-05-01.bib"
    )
    assert exports.export_filename(name, "bibtex", today=day) == (
        "mao-in-moscow-1949-1950-bibtex-2024-05-01.bib"
    )


def test_a_failed_bibtex_entry_says_why():
    (record,) = bibtex_records("@book{broken, title = {unclosed }\n")
    assert isinstance(record, ValueError)
    assert not str(record).rstrip().endswith(":"), str(record)


def test_chicago_note_neither_repeats_the_genre_nor_drops_an_uncertain_day(library):
    from sources.csl import source_to_csl
    from tests.factories import make_source

    source = make_source(
        library=library,
        title="Record of conversation of Soviet Ambassador N. V. Roshchin with Mao Zedong",
        genre="Record of conversation",
        issued="1950?-01-01",
        archive="AVPRF",
    )
    (note,) = exports.export_items([source_to_csl(source)], "text", content="notes").split("\n\n")[
        1:
    ]
    assert note.casefold().count("record of conversation") == 1, note
    assert "January 1, 1950" in note, note


def test_a_chinese_name_prints_family_first_in_a_chicago_note(library):
    """pandoc's citeproc honours CSL's static-ordering: "Mao Zedong", never "Zedong Mao"."""
    from sources.csl import source_to_csl
    from tests.factories import make_source

    source = make_source(
        library=library, title="Telegram to Stalin", csl_type="letter",
        creators=[{"family": "Mao", "given": "Zedong", "family_first": True},
                  {"role": "recipient", "family": "毛", "given": "泽东"}],
    )  # fmt: skip
    note = exports.export_items([source_to_csl(source)], "text", content="notes")
    assert "Mao Zedong" in note and "Zedong Mao" not in note, note
    assert source.creators.get(role="recipient").family_first  # from its script
    assert source.creators.get(role="recipient").natural_name == "毛泽东"


def test_every_demo_source_appears_in_its_chicago_bibliography_with_what_was_left_out(db):
    """Chicago (CMOS 18 14.114) lists no unpublished manuscript no reader can retrieve: the
    demo's chapter draft printed nothing, in silence. It follows now, named, with why."""
    from django.core.management import call_command

    from sources.csl import source_to_csl
    from sources.models import Library

    call_command("load_demo")
    sources = list(Library.objects.get(slug="mao-in-moscow").sources.prefetch_related("creators"))
    text = exports.export_items([source_to_csl(s) for s in sources], "text")
    for source in sources:
        assert source.title.split(",")[0][:25].casefold() in text.casefold(), source.title
    cited, left_out = text.split(exports.LEFT_OUT_HEADING)
    assert "Mao in Moscow, December 1949" in left_out
    assert "held in no archive and with no publisher or URL" in left_out


def test_the_preview_page_names_what_the_style_leaves_out_and_offers_another(
    as_user, library, alice
):
    """A draft held nowhere prints nothing in Chicago's bibliography: the page says so,
    with why, and offers another style instead of a blank."""
    from tests.factories import make_source

    cache.clear()
    make_source(library=library, title="Chapter draft on the treaty", csl_type="manuscript",
                archive="", url="", publisher="")  # fmt: skip
    make_source(library=library, title="Brothers in Arms", csl_type="book", publisher="Stanford")
    response = as_user(alice).get("/export/preview/", {"library": library.slug})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 source this style cites in notes only" in html
    notice = html.split('class="notice left-out"')[1].split("</section>")[0]
    assert "chapter draft on the treaty" in notice.casefold() and "no archive" in notice
    assert "choose another style" in html and "Brothers in Arms" in html
