"""Keywords, other CSL variables, name suffixes and family-first names: in the API, on the
form and on the source page (issues #17 and #20)."""

from django.urls import reverse

from sources.models import Creator, Source
from tests.factories import make_source


def test_the_api_keeps_keywords_variables_suffixes_and_family_first(as_user, library, bob):
    payload = {
        "library": library.slug, "type": "letter", "title": "",
        "keywords": ["Sino-Soviet alliance", "collection:Cold War/Moscow"],
        "variables": {"number": "12", "event-place": "Geneva"},
        "issued_literal": "Easter Monday, 1950",
        "creators": [
            {"role": "author", "family": "Mao", "given": "Zedong", "family_first": True},
            {"role": "recipient", "family": "King", "given": "Martin Luther", "suffix": "Jr."},
        ],
    }  # fmt: skip
    response = as_user(bob).post("/api/sources/", payload, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["keywords"] == payload["keywords"] and data["variables"] == payload["variables"]
    source = Source.objects.get(pk=data["id"])
    assert source.issued_earliest.year == 1950
    assert source.display_title == "[Letter from Mao to King, Easter Monday, 1950]"
    assert [c.natural_name for c in source.creators.order_by("order")] == [
        "Mao Zedong", "Martin Luther King Jr.",
    ]  # fmt: skip


def test_the_api_names_a_bad_variable_or_keyword_list(as_user, library, bob):
    for field, value in (("variables", {"novel": "x"}), ("keywords", "not-a-list" * 0 or 7)):
        response = as_user(bob).post(
            "/api/sources/", {"library": library.slug, "title": "T", field: value}, format="json"
        )
        assert response.status_code == 400 and field in response.json(), response.content


def test_a_name_in_a_cjk_script_is_family_first_from_its_script(library):
    source = make_source(library=library, creators=[{"family": "周", "given": "恩来"}])
    creator = source.creators.get()
    assert creator.family_first and creator.display_name == creator.natural_name == "周恩来"
    latin = Creator.objects.create(source=source, family="Zhou", given="Enlai")
    assert not latin.family_first and latin.natural_name == "Enlai Zhou"


def test_the_form_edits_keywords_and_variables_and_the_page_shows_them(as_user, library, bob):
    source = make_source(library=library, keywords=["treaty"], variables={"number": "3"})
    page = as_user(bob).get(reverse("source-edit", args=[source.pk])).content.decode()
    assert "treaty" in page and "number: 3" in page
    detail = as_user(bob).get(source.get_absolute_url()).content.decode()
    assert "Keywords" in detail and "Other CSL variables" in detail and "number" in detail
