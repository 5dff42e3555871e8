"""The readers against real exports nobody here wrote (tests/data/metadata/README.md):
MathSciNet's upper-case fields, CrossRef's bare ampersands and HTML, Zotero's translator
test cases, JabRef's EndNote XML, MODS and Scopus RIS, Zotero's item JSON."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.uploads import UploadError
from sources.metadata_import import detect_format, import_metadata, parse_records
from sources.models import Source

DATA = Path(__file__).resolve().parents[2] / "data" / "metadata"


def imported(library, user, path: str) -> dict[str, Source]:
    run = import_metadata(library, SimpleUploadedFile(path, (DATA / path).read_bytes()), user=user)
    assert {o["status"] for o in run.outcomes} == {"created"}, run.outcomes
    return {s.citation_key: s for s in Source.objects.filter(library=library)}


def creators(source: Source, role: str = "author") -> list[str]:
    return [c.display_name for c in source.creators.all() if c.role == role]


def test_mathscinet_upper_case_fields_keep_their_authors(library, alice):
    """`AUTHOR = {…}` imported with no creators at all, reported as created."""
    by_key = imported(library, alice, "public-records/mathscinet.bib")
    assert creators(by_key["MR0241312"]) == ["Shelah, Saharon"]
    assert creators(by_key["MR1417720"]) == ["Golub, Gene H.", "Van Loan, Charles F."]
    assert by_key["MR0241312"].title == "Note on a min-max problem of Leo Moser"
    assert by_key["Dohrmann:2008:DDL"].identifiers["mrnumber"] == "2399412"


def test_crossref_bare_ampersands_and_html_become_text(library, alice):
    by_key = imported(library, alice, "public-records/crossref.bib")
    assert by_key["Xu_2025"].title == "Cool flame n-heptane droplets & soot"
    assert by_key["Pron_2019"].identifiers["DOI"] == "10.1149/2.0941910jes"
    assert by_key["P_rez_Salinas_2020"].issued == "2020-02"


def test_zotero_bibtex_test_cases(library, alice):
    by_key = imported(library, alice, "zotero-translators/BibTeX-testcases.bib")
    assert by_key["Oliveira_2009"].container_title == "Oil & Gas Journal"
    frit = by_key["Frit2"]  # @ARTICLE, upper case; maths as Unicode
    assert creators(frit) == ["Fritz, U.", "Corti, C.", "Päckert, M."]
    assert "Mitochondrial DNA₂ sequences" in frit.title
    assert frit.container_title == "Actes du 4ème Congrès Français d'Acoustique"
    hicks = by_key["hicks2001"].creators.get()  # von Last, Jr, First
    assert (hicks.family, hicks.given, hicks.suffix) == ("von Hicks", "Michael", "III")
    paper = by_key["author:06"]  # crossref resolved
    assert paper.container_title == "Proceedings of the Xth Conference on XYZ"
    assert paper.issued == "2006-10" and creators(paper, "editor") == [
        "Editor, First",
        "Editor, Second",
    ]
    assert by_key["Adams2001"].keywords == ["Vulcanian eruptions", "breadcrust", "plinian"]


def test_percent_in_a_bibtex_value_does_not_cut_it(library, alice):
    content = b"@article{k, title = {Growth of 50% in the 1950s & after}, year = {1950}}"
    run = import_metadata(library, SimpleUploadedFile("p.bib", content), user=alice)
    assert Source.objects.get(pk=run.outcomes[0]["source"]).title == (
        "Growth of 50% in the 1950s & after"
    )


def test_jabref_endnote_xml(library, alice):
    (article,) = imported(library, alice, "jabref/EndnoteXmlImporterTestArticle.xml").values()
    assert article.csl_type == "article-journal" and article.container_title == "Br J Cancer"
    assert creators(article) == ["Ahmad, AS", "Ormiston-Smith, N", "Sasieni, PD"]
    assert article.issued == "2015-03-03" and article.identifiers["DOI"] == "10.1038/bjc.2014.606"
    assert "Aged, 80 and over" in article.keywords
    assert "Ahmad%20et%20al%202015.pdf" in article.note  # the PDF link kept


def test_jabref_mods_in_iso_8859_1(library, alice):
    sources = imported(library, alice, "jabref/MODSImporterTestModsCollection.xml")
    by_title = {s.title[:20]: s for s in sources.values()}
    mock = by_title["A new microcosm to i"]
    assert mock.container_title == "Aquatic Microbial Ecology" and mock.page == "197–205"
    assert (mock.volume, mock.issue) == ("30", "2")
    assert "Sea ice" in mock.keywords
    book = by_title["Sea ice - an introduc"[:20]]
    assert book.csl_type == "book" and creators(book, "editor") == ["Thomas, DN", "Dieckmann, GS"]


def test_jabref_scopus_ris_keeps_every_tag(library, alice):
    run = import_metadata(
        library,
        SimpleUploadedFile("s.ris", (DATA / "jabref/RisImporterTestScopus.ris").read_bytes()),
        user=alice,
    )
    outcome = run.outcomes[0]
    source = Source.objects.get(pk=outcome["source"])
    assert source.keywords == [
        "Composite",
        "Inclusions",
        "Statistical distribution",
        "Transverse isotropy",
    ]
    assert "AD: Human Performance Laboratory" in source.note
    assert outcome["warnings"] == ["RIS tag(s) AD kept in the note"]
    assert "with 1 warning: RIS tag(s) AD kept in the note" in outcome["message"]


def test_zotero_item_json_keeps_types_roles_and_attachments(library, alice):
    sources = imported(library, alice, "zotero-translators/PapersPast-items.json")
    letter = next(s for s in sources.values() if s.csl_type == "letter")
    assert creators(letter, "recipient") == ["Donald, McLean"]
    assert letter.variables == {"source": "Papers Past"}
    assert "Attachment: Image (image/jpeg)" in letter.note


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (b'{"items": [{"key": "A", "data": {"itemType": "book", "title": "T"}}]}', "zotero-json"),
        (b'<?xml version="1.0"?><modsCollection xmlns="http://www.loc.gov/mods/v3"/>', "mods"),
        (b"<xml><records><record></record></records></xml>", "endnote-xml"),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "zotero-rdf"),
        (b"TY - JOUR\nTI - One space\nER - \n", "ris"),
    ],
)
def test_new_formats_are_detected(content, fmt):
    assert detect_format(content, "upload") == fmt


def test_xml_with_entities_is_refused_whole():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b"<xml><records><record><titles><title>&b;</title></titles></record></records></xml>"
    )
    with pytest.raises(UploadError, match="entities"):
        parse_records(bomb, "endnote-xml")
    external = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>'
    with pytest.raises(UploadError):
        parse_records(external, "endnote-xml")
