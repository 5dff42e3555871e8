"""The SourceQuerySet filters and sorts behind the library page and /api/sources/,
the If-Match rules of the source API, and EDTF seasons."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from core.dates import edtf_bounds, is_edtf
from sources.metadata_import import import_metadata
from sources.models import Source
from tests.factories import make_source

LIST = "/api/sources/"


@pytest.fixture
def russian(library):
    """Sources whose titles and creators are in Cyrillic, in mixed case."""
    return {
        "zhukov": make_source(
            library=library,
            title="Запись беседы с Мао Цзэдуном",
            issued="1949-12-16",
            creators=[{"family": "ЖУКОВ", "given": "Георгий"}],
        ),
        "pravda": make_source(
            library=library,
            title="ДОГОВОР О ДРУЖБЕ",
            issued="1950-02-14",
            creators=[{"literal": "Министерство иностранных дел СССР"}],
        ),
        "latin": make_source(library=library, title="Telegram", issued="1950-03"),
    }


def titles(sources) -> list[str]:
    return [source.title for source in sources]


def test_title_search_ignores_cyrillic_case(russian):
    found = Source.objects.search_title("беседы МАО")
    assert titles(found) == ["Запись беседы с Мао Цзэдуном"]
    assert titles(Source.objects.search_title("договор")) == ["ДОГОВОР О ДРУЖБЕ"]


def test_creator_search_ignores_cyrillic_case_and_word_order(russian):
    assert titles(Source.objects.by_creator("жуков")) == ["Запись беседы с Мао Цзэдуном"]
    assert titles(Source.objects.by_creator("Георгий Жуков")) == ["Запись беседы с Мао Цзэдуном"]
    assert titles(Source.objects.by_creator("министерство ссср")) == ["ДОГОВОР О ДРУЖБЕ"]
    assert list(Source.objects.by_creator("Жуков министерство")) == []


def test_search_treats_like_wildcards_as_letters(library):
    make_source(library=library, title="Growth of 50% in grain")
    make_source(library=library, title="Growth of 500 in grain")
    assert titles(Source.objects.search_title("50%")) == ["Growth of 50% in grain"]
    assert list(Source.objects.search_title("_")) == []


def test_title_sort_folds_cyrillic_case(library):
    for title in ("Яблоко раздора", "апрельские тезисы", "Telegram"):
        make_source(library=library, title=title)
    ordered = ["Telegram", "апрельские тезисы", "Яблоко раздора"]
    assert titles(Source.objects.ordered_by("title")) == ordered
    assert titles(Source.objects.ordered_by("-title")) == ordered[::-1]


def test_sqlite_lower_keeps_null_and_folds_every_script(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT LOWER(%s), UPPER(%s), LOWER(NULL)", ["ЖУКОВ Ё", "жуков ё"])
        assert cursor.fetchone() == ("жуков ё", "ЖУКОВ Ё", None)


def test_library_page_and_api_find_cyrillic_in_any_case(as_user, alice, library, russian):
    page = as_user(alice).get(reverse("library-detail", args=[library.slug]), {"q": "ЗАПИСЬ"})
    assert titles(page.context["page"].object_list) == ["Запись беседы с Мао Цзэдуном"]
    api = as_user(alice).get(LIST, {"creator": "жуков"}).json()
    assert [item["title"] for item in api["results"]] == ["Запись беседы с Мао Цзэдуном"]


def test_open_ended_dates_overlap_a_range_they_reach_into(as_user, alice, library):
    make_source(library=library, title="Until 1950", issued="../1950")
    make_source(library=library, title="From 1960", issued="1960/..")
    make_source(library=library, title="Undated", issued="")
    client = as_user(alice)
    found = client.get(LIST, {"issued_from": "1940", "issued_to": "1945"}).json()["results"]
    assert [item["title"] for item in found] == ["Until 1950"]
    found = client.get(LIST, {"issued_from": "1970"}).json()["results"]
    assert [item["title"] for item in found] == ["From 1960"]


def test_api_title_search_matches_every_word_in_any_order(as_user, alice, library):
    make_source(library=library, title="Visit to Moscow")
    found = as_user(alice).get(LIST, {"q": "moscow VISIT"}).json()["results"]
    assert [item["title"] for item in found] == ["Visit to Moscow"]


def test_api_sorts_by_creator_as_the_library_page_does(as_user, alice, library):
    make_source(library=library, title="B", creators=[{"family": "Zhou"}])
    make_source(library=library, title="A", creators=[{"family": "Andropov"}])
    make_source(library=library, title="C", creators=[])
    page = as_user(alice).get(reverse("library-detail", args=[library.slug]), {"sort": "creator"})
    assert titles(page.context["page"].object_list) == ["A", "B", "C"]
    assert titles(Source.objects.ordered_by("-creator")) == ["B", "A", "C"]


# If-Match on /api/sources/<id>/ ---------------------------------------------------------


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "1", '"7", "1"', "*"])
def test_source_update_accepts_the_current_version_in_any_form(as_user, source, alice, tag):
    response = as_user(alice).patch(
        f"/api/sources/{source.pk}/", {"title": "New"}, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 200
    assert response["ETag"] == '"2"'


def test_stale_source_update_names_the_current_etag(as_user, source, alice):
    response = as_user(alice).patch(
        f"/api/sources/{source.pk}/", {"title": "New"}, format="json", HTTP_IF_MATCH='"9"'
    )
    assert response.status_code == 412
    assert response.json()["etag"] == '"1"'
    source.refresh_from_db()
    assert source.title != "New"


# EDTF ---------------------------------------------------------------------------------


def test_seasons_have_bounds_and_count_as_edtf():
    assert edtf_bounds("1950-21") == (dt.date(1950, 3, 1), dt.date(1950, 5, 31))
    assert is_edtf("1950-21")
    assert not is_edtf("1950-13")
    assert not is_edtf("1950-02-30")


def test_a_source_dated_by_season_is_saved_with_its_bounds(library):
    source = make_source(library=library, issued="1950-21")
    assert (source.issued_earliest, source.issued_latest) == (
        dt.date(1950, 3, 1),
        dt.date(1950, 5, 31),
    )


def test_a_record_whose_creator_differs_only_in_cyrillic_case_is_a_duplicate(library, alice):
    def csl_json(family: str) -> SimpleUploadedFile:
        record = {"type": "book", "title": "Дневник", "issued": {"date-parts": [[1950]]},
                  "author": [{"family": family, "given": "Георгий"}]}  # fmt: skip
        return SimpleUploadedFile("diary.json", json.dumps([record]).encode())

    first = import_metadata(library, csl_json("Жуков"), user=alice)
    second = import_metadata(library, csl_json("ЖУКОВ"), user=alice)
    assert [o["status"] for o in first.outcomes] == ["created"]
    assert [o["status"] for o in second.outcomes] == ["duplicate"]
    assert second.outcomes[0]["duplicate_of"] == first.outcomes[0]["source"]
