import json
from pathlib import Path

import jsonschema
import pytest
from django.core.exceptions import ValidationError

from sources.csl import (
    csl_date_to_edtf,
    csl_to_fields,
    edtf_to_csl_date,
    language_tag,
    loose_edtf,
    source_to_csl,
)
from sources.models import Source
from tests.factories import make_source

DATA = Path(__file__).resolve().parent.parent / "data"
SCHEMA = json.loads((DATA / "csl" / "csl-data.json").read_text(encoding="utf-8"))

CWIHP = {
    "title": "Record of Conversation between N. V. Roshchin and Zhou Enlai",
    "csl_type": "manuscript",
    "kind": "primary",
    "container_title": "Cold War International History Project Bulletin",
    "collection_title": "Sino-Soviet Alliance",
    "publisher": "Woodrow Wilson International Center for Scholars",
    "publisher_place": "Washington, DC",
    "volume": "6–7",
    "issue": "Winter",
    "page": "165–167",
    "edition": "2",
    "issued": "1950-01-01?",
    "archive": "Arkhiv vneshnei politiki Rossiiskoi Federatsii (AVP RF)",
    "archive_place": "Moscow",
    "archive_collection": "Referentura po Kitaiu",
    "archive_location": "f. 0100, op. 43, pap. 302, d. 10, ll. 1–5",
    "call_number": "AVP RF 0100/43/302/10",
    "genre": "Record of conversation",
    "medium": "Typescript",
    "url": "https://digitalarchive.wilsoncenter.org/document/110404",
    "accessed": "2024-03-01",
    "language": "en",
    "original_language": "ru",
    "rights": "Translation © Wilson Center; for research use.",
    "identifiers": {"DOI": "10.5555/cwihp.110404", "wilson_center": "110404"},
    "abstract": "Roshchin reports Zhou's questions on the draft treaty.\n\nSecond paragraph.",
    "note": "Compare the Chinese record of the same meeting.",
    "issued_literal": "",
    "keywords": ["Sino-Soviet alliance", "collection:Cold War/Moscow"],
    "variables": {"number": "12", "event-place": "Beijing", "submitted": "1950-01-03"},
}
PLAIN_NAME = {"suffix": "", "family_first": False}
CWIHP_CREATORS = [
    {"role": "author", "family": "Рощин", "given": "Николай Васильевич", "literal": ""}
    | PLAIN_NAME,
    {"role": "translator", "family": "Rozas", "given": "Danny", "literal": ""} | PLAIN_NAME,
    {"role": "recipient", "family": "", "given": "", "literal": "Ministry of Foreign Affairs"}
    | PLAIN_NAME,
    {"role": "editor", "family": "Westad", "given": "Odd Arne", "literal": ""} | PLAIN_NAME,
    {"role": "contributor", "family": "Zubok", "given": "Vladislav", "literal": ""} | PLAIN_NAME,
    {"role": "reviewed-author", "family": "King", "given": "Martin Luther", "literal": ""}
    | {"suffix": "Jr.", "family_first": False},
    {"role": "container-author", "family": "Mao", "given": "Zedong", "literal": ""}
    | {"suffix": "", "family_first": True},
]
MODEL_FIELDS = [*CWIHP, "citation_key"]


def validate_csl(item: dict) -> None:
    jsonschema.validate([item], SCHEMA, cls=jsonschema.Draft7Validator)


def creators_of(source: Source) -> list[dict]:
    ordered = sorted(source.creators.all(), key=lambda c: c.order)
    return [
        {"role": c.role, "family": c.family, "given": c.given, "literal": c.literal}
        | {"suffix": c.suffix, "family_first": c.family_first}
        for c in ordered
    ]


def by_role(creators: list[dict]) -> dict[str, list[dict]]:
    """Creators grouped by role, in order: what a citation shows (authors, then editors …)."""
    grouped: dict[str, list[dict]] = {}
    for creator in creators:
        grouped.setdefault(creator["role"], []).append(creator)
    return grouped


@pytest.fixture
def cwihp(library):
    return make_source(library=library, creators=CWIHP_CREATORS, **CWIHP)


@pytest.fixture
def several(library, cwihp):
    """Sources of every shape a historian keeps, beside the fully described record."""
    return [
        cwihp,
        make_source(
            library=library,
            csl_type="article-magazine",
            kind="secondary",
            title="‘Face’ and Something ‘Delicious’",
            container_title="Foreign Policy",
            issued="2013",
            creators=[{"family": "Radchenko", "given": "Sergey"}],
        ),
        make_source(
            library=library,
            csl_type="interview",
            title="Interview with a former interpreter",
            issued="1958/1962",
            creators=[
                {"role": "interviewee", "family": "Li", "given": "Yueran"},
                {"role": "interviewer", "family": "Zubok", "given": "Vladislav"},
            ],
        ),
        make_source(
            library=library,
            csl_type="webpage",
            title="Sino-Soviet Relations",
            issued="196X",
            accessed="2024-03-01",
            url="https://digitalarchive.wilsoncenter.org/topics/sino-soviet-relations",
            creators=[{"literal": "Cold War International History Project"}],
        ),
        make_source(
            library=library, csl_type="book", title="Anonymous pamphlet", issued="", creators=[]
        ),
    ]


def test_every_source_shape_validates_against_the_csl_schema(several):
    for source in several:
        validate_csl(source_to_csl(source))


def test_the_schema_check_can_fail(cwihp):
    item = source_to_csl(cwihp) | {"rights": "not a CSL variable"}
    with pytest.raises(jsonschema.ValidationError):
        validate_csl(item)


def test_fields_map_to_csl_variables_and_the_rest_to_custom(cwihp):
    item = source_to_csl(cwihp)
    assert item["id"] == item["citation-key"] == cwihp.citation_key
    assert item["type"] == "manuscript"
    assert item["archive_location"] == "f. 0100, op. 43, pap. 302, d. 10, ll. 1–5"
    assert item["archive-place"] == "Moscow"
    assert item["call-number"] == "AVP RF 0100/43/302/10"
    assert item["URL"].endswith("/110404")
    assert item["DOI"] == "10.5555/cwihp.110404"
    assert item["issued"] == {"date-parts": [[1950, 1, 1]], "circa": True}
    assert item["accessed"] == {"date-parts": [[2024, 3, 1]]}
    assert item["author"] == [{"family": "Рощин", "given": "Николай Васильевич"}]
    assert item["recipient"] == [{"literal": "Ministry of Foreign Affairs"}]
    assert "genre" not in item  # the title says it: a note would print it twice (issue #20)
    assert item["custom"] == {
        "kind": "primary",
        "genre": "Record of conversation",
        "original_language": "ru",
        "rights": "Translation © Wilson Center; for research use.",
        "identifiers": {"wilson_center": "110404"},
        "edtf": {"issued": "1950-01-01?", "accessed": "2024-03-01", "submitted": "1950-01-03"},
    }
    assert item["number"] == "12" and item["event-place"] == "Beijing"
    assert item["submitted"] == {"date-parts": [[1950, 1, 3]]}
    assert item["keyword"] == "Sino-Soviet alliance, collection:Cold War/Moscow"
    assert item["container-author"] == [
        {"family": "Mao", "given": "Zedong", "static-ordering": True, "literal": "Mao Zedong"}
    ]
    assert item["reviewed-author"] == [
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."}
    ]


def test_round_trip_reproduces_every_field_and_creator(cwihp):
    fields, creators = csl_to_fields(source_to_csl(cwihp))
    assert {name: fields[name] for name in MODEL_FIELDS} == {
        name: getattr(cwihp, name) for name in MODEL_FIELDS
    }
    assert set(fields) == set(MODEL_FIELDS)
    assert by_role(creators) == by_role(creators_of(cwihp))
    assert creators[0]["role"] == "author"


def test_round_trip_keeps_interviewees_and_undatable_dates(several):
    for source in several:
        fields, creators = csl_to_fields(source_to_csl(source))
        assert {name: fields[name] for name in MODEL_FIELDS} == {
            name: getattr(source, name) for name in MODEL_FIELDS
        }
        assert by_role(creators) == by_role(creators_of(source))


def test_interviewee_has_no_csl_role_and_goes_to_custom(several):
    item = source_to_csl(several[2])
    assert item["custom"]["interviewee"] == [{"family": "Li", "given": "Yueran"}]
    assert item["interviewer"] == [{"family": "Zubok", "given": "Vladislav"}]
    assert "author" not in item


def test_round_trip_from_csl_through_the_model_and_back(library):
    zotero = json.loads((DATA / "metadata" / "zotero-cold-war.json").read_text("utf-8"))[:5]
    for original in zotero:
        fields, creators = csl_to_fields(original)
        source = Source.objects.create_with_creators(library=library, creators=creators, **fields)
        again = source_to_csl(source)
        validate_csl(again)
        for variable in ("type", "title", "container-title", "publisher", "archive_location"):
            assert again.get(variable) == original.get(variable)
        for variable in ("author", "translator", "ISBN", "URL", "language"):
            assert again.get(variable) == original.get(variable)
        assert csl_to_fields(again) == (fields | {"citation_key": source.citation_key}, creators)


@pytest.mark.parametrize(
    ("edtf", "csl"),
    [
        ("1949-12-16", {"date-parts": [[1949, 12, 16]]}),
        ("1960-07?", {"date-parts": [[1960, 7]], "circa": True}),
        ("1950-01-01~", {"date-parts": [[1950, 1, 1]], "circa": True}),
        ("1950%", {"date-parts": [[1950]], "circa": True}),
        ("1958/1962", {"date-parts": [[1958], [1962]]}),
        ("1950-01-01/1950-02-14", {"date-parts": [[1950, 1, 1], [1950, 2, 14]]}),
        ("1950-21", {"date-parts": [[1950]], "season": 1}),
        ("196X", {"raw": "196X"}),
        ("../1950", {"raw": "../1950"}),
    ],
)
def test_edtf_becomes_a_csl_date(edtf, csl):
    assert edtf_to_csl_date(edtf) == csl


@pytest.mark.parametrize(
    ("csl", "edtf"),
    [
        ({"date-parts": [[1949, 12, 16]]}, "1949-12-16"),
        ({"date-parts": [["1950", 1, 1]]}, "1950-01-01"),  # Zotero writes the year as text
        ({"date-parts": [[1950, 1]], "circa": True}, "1950-01~"),  # CSL's circa: approximate
        ({"date-parts": [[1958], [1962]]}, "1958/1962"),
        ({"date-parts": [[1950]], "season": "Winter"}, "1950-24"),
        ({"date-parts": [["1950"]], "season": "ca."}, "1950~"),  # Zotero's "ca. 1950"
        ({"date-parts": [[1950, 14]]}, "1950-22"),  # citeproc-js season as a month
        ({"raw": "16 December 1949"}, "1949-12-16"),
        ({"literal": "ca. 1950"}, "1950~"),
        ({"date-parts": [[-44, 3, 15]]}, "-0043-03-15"),  # 44 BC: EDTF counts a year 0
        ({"raw": "1960-07~"}, "1960-07~"),
        ("1949-12-16", "1949-12-16"),
        ({}, ""),
    ],
)
def test_csl_date_becomes_edtf(csl, edtf):
    assert csl_date_to_edtf(csl) == edtf


def test_unreadable_dates_are_kept_as_written_beside_an_empty_edtf():
    assert loose_edtf("the winter after the treaty") == "the winter after the treaty"
    fields = csl_to_fields({"type": "book", "issued": {"raw": "1950-13"}})[0]
    assert (fields["issued"], fields["issued_literal"]) == ("", "1950-13")


def test_every_csl_type_is_kept_and_unknown_types_become_documents():
    for csl_type in SCHEMA["items"]["properties"]["type"]["enum"]:
        assert csl_to_fields({"type": csl_type})[0]["csl_type"] == csl_type
    assert csl_to_fields({"type": "film"})[0]["csl_type"] == "document"
    assert csl_to_fields({})[0]["csl_type"] == "document"


def test_kind_is_inferred_from_type_when_not_given():
    assert csl_to_fields({"type": "letter"})[0]["kind"] == "primary"
    assert csl_to_fields({"type": "article-newspaper"})[0]["kind"] == "secondary"


def test_names_keep_particles_suffixes_and_literals():
    _, creators = csl_to_fields(
        {
            "type": "book",
            "author": [
                {"family": "Gaulle", "given": "Charles", "non-dropping-particle": "de"},
                {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
                {"literal": "Central Committee of the CPSU"},
                {"given": "Sukarno"},
                {},
            ],
            "collection-editor": [{"family": "Westad", "given": "Odd Arne"}],
        }
    )
    plain = {"suffix": "", "family_first": False}
    assert creators == [
        {"role": "author", "family": "de Gaulle", "given": "Charles", "literal": ""} | plain,
        {"role": "author", "family": "King", "given": "Martin Luther", "literal": ""}
        | {"suffix": "Jr.", "family_first": False},
        {"role": "author", "family": "", "given": "", "literal": "Central Committee of the CPSU"}
        | plain,
        {"role": "author", "family": "", "given": "", "literal": "Sukarno"} | plain,
        {"role": "collection-editor", "family": "Westad", "given": "Odd Arne", "literal": ""}
        | plain,
    ]


def test_citation_key_comes_from_citation_key_or_a_key_like_id():
    assert csl_to_fields({"id": "radchenko2013face"})[0]["citation_key"] == "radchenko2013face"
    zotero_uri = "http://zotero.org/users/local/T7gYbSqs/items/8ZQN5JSB"
    assert csl_to_fields({"id": zotero_uri})[0]["citation_key"] == ""
    item = {"id": zotero_uri, "citation-key": "luthi2008sinosoviet"}
    assert csl_to_fields(item)[0]["citation_key"] == "luthi2008sinosoviet"


def test_identifiers_gather_csl_variables_and_custom_ones():
    fields, _ = csl_to_fields(
        {
            "DOI": "https://doi.org/10.1017/S0020859000000000",
            "PMID": 12345,
            "custom": {"identifiers": {"wilson_center": 110404}},
        }
    )
    assert fields["identifiers"] == {
        "DOI": "10.1017/S0020859000000000",
        "PMID": "12345",
        "wilson_center": "110404",
    }


@pytest.mark.parametrize(
    ("value", "tag"),
    [("ru", "ru"), ("en_US", "en-US"), ("Russian", "ru"), ("russian", "ru"), ("", "")],
)
def test_language_names_become_bcp47_tags(value, tag):
    assert language_tag(value) == tag


@pytest.mark.parametrize(
    ("item", "variable"),
    [
        ({"author": {"family": "Mao"}}, "author"),
        ({"issued": {"date-parts": [["spring", 1]]}}, "issued"),
        ({"issued": {"date-parts": "1950"}}, "issued"),
        ({"title": {"text": "nested"}}, "title"),
        ({"custom": "kind=primary"}, "custom"),
    ],
)
def test_wrong_shapes_raise_an_error_naming_the_variable(item, variable):
    with pytest.raises(ValidationError) as info:
        csl_to_fields(item)
    assert variable in info.value.message_dict


def test_a_record_that_is_not_an_object_is_rejected():
    with pytest.raises(ValidationError):
        csl_to_fields(["not", "an", "item"])
