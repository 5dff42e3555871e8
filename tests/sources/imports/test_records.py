"""One record never refused for one field; every CSL variable, role and type kept; RIS and
Extra read as the tools that write them mean them; duplicates judged as a historian would."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sources.metadata_import import import_metadata
from sources.models import Source
from tests.factories import make_source


def run_of(library, user, name: str, content: str | bytes):
    data = content.encode() if isinstance(content, str) else content
    return import_metadata(library, SimpleUploadedFile(name, data), user=user)


def only(run) -> tuple[dict, Source]:
    (outcome,) = run.outcomes
    return outcome, Source.objects.get(pk=outcome["source"])


def csl(library, user, **item):
    return only(run_of(library, user, "i.json", json.dumps([{"type": "document", **item}])))


@pytest.mark.parametrize(
    ("written", "edtf", "literal"),
    [
        ("n.d.", "", "n.d."),
        ("1950s", "195X", ""),
        ("c1950", "1950~", ""),
        ("c. 1950", "1950~", ""),
        ("15.03.1950", "1950-03-15", ""),
        ("2003 May 12", "2003-05-12", ""),
        ("May-June 1950", "1950-05/1950-06", ""),
        ("44 BC", "-0043", ""),
        ("Easter Monday, 1950", "", "Easter Monday, 1950"),
    ],
)
def test_dates_are_edtf_where_edtf_can_hold_them_and_kept_as_written_otherwise(
    library, alice, written, edtf, literal
):
    outcome, source = csl(library, alice, title="Dated", issued={"raw": written})
    assert outcome["status"] == "created"
    assert (source.issued, source.issued_literal) == (edtf, literal)
    if literal == "Easter Monday, 1950":
        assert source.issued_earliest.year == 1950  # sorts by the year it names
        assert "kept as written" in outcome["message"]


def test_a_csl_literal_date_and_a_negative_year_are_read(library, alice):
    _, literal = csl(library, alice, title="A", issued={"literal": "Spring 1950"})
    assert literal.issued == "1950-21"
    _, bce = csl(library, alice, title="B", issued={"date-parts": [[-44, 3, 15]]})
    assert bce.issued == "-0043-03-15" and bce.issued_earliest is not None


@pytest.mark.parametrize(
    ("url", "kept_url", "where"),
    [
        ("www.jstor.org/stable/12345", "http://www.jstor.org/stable/12345", ""),
        ("doi:10.1000/abc", "", "DOI"),
        ("internal-pdf://1234/Roshchin.pdf", "", "note"),
    ],
)
def test_a_url_without_a_scheme_never_refuses_the_record(library, alice, url, kept_url, where):
    outcome, source = csl(library, alice, title="Linked", URL=url)
    assert outcome["status"] == "created" and outcome["warnings"]
    assert source.url == kept_url
    if where == "DOI":
        assert source.identifiers == {"DOI": "10.1000/abc"}
    if where == "note":
        assert "URL: internal-pdf://1234/Roshchin.pdf" in source.note


def test_a_good_second_url_in_ris_is_the_url(library, alice):
    ris = (
        "TY  - JOUR\nTI  - Two links\n"
        "UR  - internal-pdf://x.pdf\nUR  - https://example.org/a\nER  - \n"
    )
    outcome, source = only(run_of(library, alice, "r.ris", ris))
    assert source.url == "https://example.org/a" and "Link: internal-pdf://x.pdf" in source.note


def test_an_untitled_letter_is_imported_and_described(library, alice):
    outcome, source = csl(
        library,
        alice,
        type="letter",
        author=[{"family": "Roshchin", "given": "N. V."}],
        recipient=[{"family": "Zhou", "given": "Enlai", "static-ordering": True}],
        issued={"date-parts": [[1950, 1, 2]]},
    )
    assert outcome["status"] == "created" and source.title == ""
    assert source.display_title == "[Letter from Roshchin to Zhou, 1950-01-02]"


def test_every_csl_variable_is_kept(library, alice):
    variables = {
        "number": "12", "authority": "Politburo", "event-title": "Plenum", "event-place": "Moscow",
        "title-short": "Record", "section": "3", "chapter-number": "4", "number-of-pages": "20",
        "number-of-volumes": "2", "collection-number": "7", "dimensions": "30 cm",
        "status": "draft", "source": "CWIHP", "references": "Cited in X",
    }  # fmt: skip
    _, source = csl(library, alice, title="Full", submitted={"raw": "1950-03"}, **variables)
    assert source.variables == variables | {"submitted": "1950-03"}
    _, event = csl(library, alice, title="Old event", event="Congress")  # CSL 1.0.1's name
    assert event.variables == {"event-title": "Congress"}


def test_every_creator_role_is_kept(library, alice):
    roles = ["container-author", "collection-editor", "composer", "reviewed-author", "director"]
    _, source = csl(library, alice, title="Roles", **{r: [{"family": r}] for r in roles})
    assert sorted(c.role for c in source.creators.all()) == sorted(roles)


def test_every_zotero_item_type_keeps_its_csl_type(library, alice):
    from sources.imports.zotero import ITEM_TYPES

    items = [{"itemType": kind, "title": kind} for kind in ITEM_TYPES]
    run = run_of(library, alice, "z.json", json.dumps(items))
    by_title = {s.title: s.csl_type for s in Source.objects.filter(library=library)}
    assert len(run.outcomes) == 37
    assert by_title == dict(ITEM_TYPES.items())
    assert list(ITEM_TYPES.values()).count("document") == 1  # only Zotero's own document


def test_ris_single_space_ids_keywords_m1_and_author_order(library, alice):
    ris = (
        "TY - RPRT\nID - roshchin1950cable\nTI - Cable\nA1 - Roshchin, N. V.\nAU - Kovalev, I.\n"
        "A1 - Zhou Enlai\nKW - Sino-Soviet treaty\nKW - Port Arthur\nM1 - 17\nSN - 978-0-1\n"
        "DA - 1950/01/02/\nER - \n"
    )
    outcome, source = only(run_of(library, alice, "r.ris", ris))
    assert source.citation_key == "roshchin1950cable"
    assert [c.display_name for c in source.creators.order_by("order")] == [
        "Roshchin, N. V.", "Kovalev, I.", "Zhou Enlai",
    ]  # fmt: skip
    assert source.keywords == ["Sino-Soviet treaty", "Port Arthur"]
    assert source.variables["number"] == "978-0-1" and "M1: 17" in source.note
    assert source.issued == "1950-01-02"


def test_extra_pins_the_citation_key_and_fills_fields(library, alice):
    note = (
        "Citation Key: roshchin1950pinned\noriginal-date: 1949\n"
        "Publisher: Foreign Languages Press\nA remark."
    )
    _, source = csl(library, alice, title="Extra", note=note)
    assert source.citation_key == "roshchin1950pinned"
    assert source.variables["original-date"] == "1949"
    assert source.publisher == "Foreign Languages Press"
    assert source.note == "A remark."


def test_notes_keep_their_single_line_breaks(library, alice):
    _, source = csl(library, alice, title="Lines", note="First line\nSecond line\n\nNew paragraph")
    assert source.note == "First line\nSecond line\n\nNew paragraph"


def test_a_nul_in_csl_json_is_stripped(library, alice):
    _, source = csl(library, alice, title="Null\u0000 byte", note="a\u0000b")
    assert source.title == "Null byte" and source.note == "ab"


def test_keywords_from_csl_json_bibtex_and_ris(library, alice):
    _, source = csl(library, alice, title="K", keyword="alliance, treaty")
    assert source.keywords == ["alliance", "treaty"]


# --- Duplicates -------------------------------------------------------------------------


def test_cables_of_one_title_and_year_but_different_days_or_places_are_different(library, alice):
    make_source(
        library=library,
        title="Telegram from Moscow",
        issued="1950-03-12",
        archive_location="f. 1, d. 12",
        creators=[{"family": "Roshchin"}],
    )
    items = [
        {"type": "manuscript", "title": "Telegram from Moscow", "issued": {"raw": "1950-03-19"},
         "author": [{"family": "Roshchin"}], "archive_location": "f. 1, d. 19"},
        {"type": "manuscript", "title": "Telegram from Moscow", "issued": {"raw": "1950-03-12"},
         "author": [{"family": "Roshchin"}], "archive_location": "f. 1, d. 19"},
        {"type": "manuscript", "title": "Telegram from Moscow", "issued": {"raw": "1950-03-12"},
         "author": [{"family": "Roshchin"}], "archive_location": "f. 1, d. 12"},
    ]  # fmt: skip
    run = run_of(library, alice, "c.json", json.dumps(items))
    assert [o["status"] for o in run.outcomes] == ["created", "created", "duplicate"]
    assert run.outcomes[2]["reasons"] == ["title, date and first creator"]


def test_a_bare_site_url_makes_no_duplicate(library, alice):
    make_source(library=library, title="One article", url="https://www.jstor.org/")
    run = run_of(
        library,
        alice,
        "u.json",
        json.dumps([{"title": "Another", "URL": "https://www.jstor.org/"}]),
    )
    assert run.outcomes[0]["status"] == "created"
    make_source(library=library, title="Third", url="https://www.jstor.org/stable/123")
    again = run_of(
        library,
        alice,
        "v.json",
        json.dumps([{"title": "X", "URL": "https://jstor.org/stable/123"}]),
    )
    assert again.outcomes[0]["status"] == "duplicate" and again.outcomes[0]["reasons"] == ["URL"]


def test_a_duplicate_keeps_its_record_for_import_anyway(library, alice):
    from sources.metadata_import import import_record

    make_source(library=library, title="Same", identifiers={"DOI": "10.1/x"})
    run = run_of(library, alice, "d.json", json.dumps([{"title": "Same", "DOI": "10.1/x"}]))
    duplicate = run.outcomes[0]
    assert duplicate["status"] == "duplicate" and duplicate["record"]["DOI"] == "10.1/x"
    forced = import_record(library, duplicate["record"], index=0, user=alice, force=True)
    assert forced["status"] == "created"
