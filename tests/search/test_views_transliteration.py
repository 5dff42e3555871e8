"""A name searched in one script finds it written in another (issue #20, item 4): creators,
tags and events in Cyrillic, Latin or Chinese characters meet a query in any of them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.claims.claims import EventLink
from core.transliterate import pinyin_of_palladius, romanised
from search import index as search_index
from tests.factories import make_annotation, make_claim, make_event, make_source, make_text


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()


@pytest.fixture
def sources(library):
    return {
        "stalin_ru": make_source(
            library=library, title="Letter one", creators=[{"family": "Сталин", "given": "И. В."}]
        ),
        "mao_ru": make_source(
            library=library,
            title="Letter two",
            creators=[{"family": "Мао", "given": "Цзэдун", "family_first": True}],
        ),
        "mao_en": make_source(
            library=library,
            title="Letter three",
            creators=[{"family": "Mao", "given": "Zedong", "family_first": True}],
        ),
        "mao_zh": make_source(
            library=library, title="Letter four", creators=[{"literal": "毛泽东"}]
        ),
        "stalin_en": make_source(
            library=library, title="Letter five", creators=[{"family": "Stalin", "given": "J."}]
        ),
    }


def found_titles(client, q: str) -> set[str]:
    response = client.get(reverse("search"), {"q": q, "in": "source"})
    assert response.status_code == 200
    content = response.content.decode()
    titles = ["Letter one", "Letter two", "Letter three", "Letter four", "Letter five"]
    return {title for title in titles if title in content}


def test_a_russian_name_and_its_latin_form_find_each_other(as_user, alice, sources):
    client = as_user(alice)
    assert found_titles(client, "Stalin") == {"Letter one", "Letter five"}
    assert found_titles(client, "Сталин") == {"Letter one", "Letter five"}


def test_a_chinese_name_is_found_in_pinyin_palladius_and_characters(as_user, alice, sources):
    client = as_user(alice)
    mao = {"Letter two", "Letter three", "Letter four"}
    assert found_titles(client, '"Mao Zedong"') == mao
    assert found_titles(client, '"Мао Цзэдун"') == mao
    assert found_titles(client, "Цзэдун") == mao
    assert found_titles(client, "毛泽东") == mao


def test_tags_and_events_are_found_across_scripts(as_user, alice, library):
    source = make_source(library=library, title="Memo")
    text = make_text(source=source, text="He received us in the evening.")
    make_annotation(text=text, creator=alice, quote="received us", tags=["person:Joseph Stalin"])
    event = make_event(library=library, creator=alice, name="Мао Цзэдун в Москве")
    make_claim(library=library, creator=alice, statement="A long visit.", events=[EventLink(event)])
    client = as_user(alice)
    by_tag = client.get(reverse("search"), {"q": "Сталин", "in": "annotation"}).content.decode()
    by_event = client.get(reverse("search"), {"q": "zedong", "in": "claim"}).content.decode()
    assert "received us" in by_tag
    assert "A long visit." in by_event


def test_palladius_syllables_read_as_pinyin_and_other_words_do_not():
    assert pinyin_of_palladius("Цзэдун") == "zedong"
    assert pinyin_of_palladius("Эньлай") == "enlai"
    assert pinyin_of_palladius("Сяопин") == "xiaoping"
    assert pinyin_of_palladius("Хуэй") == "hui"
    assert pinyin_of_palladius("Сталин") == ""
    assert romanised("Чжоу Эньлай") == ["chzhou enlai", "zhou enlai"]
    assert romanised("Mao Zedong") == []


def test_creators_are_suggested_in_any_script_and_case(as_user, alice, sources):
    client = as_user(alice)

    def values(typed: str) -> list[str]:
        response = client.get(reverse("search-suggest"), {"kind": "creator", "q": typed})
        assert response.status_code == 200
        return sorted(s["value"] for s in response.json())

    assert values("stal") == ["Stalin", "Сталин"]
    assert values("СТАЛ") == ["Stalin", "Сталин"]
    assert values("Цзэдун") == ["Mao", "Мао", "毛泽东"]
    assert values("mao zedong") == ["Mao", "Мао", "毛泽东"]
    assert values("Roshchin") == []


def test_the_creator_filter_finds_a_name_in_either_script(as_user, alice, sources):
    client = as_user(alice)

    def by_creator(name: str) -> set[str]:
        response = client.get(reverse("search"), {"creator": name, "in": "source"})
        assert response.status_code == 200
        content = response.content.decode()
        titles = ["Letter one", "Letter two", "Letter three", "Letter four", "Letter five"]
        return {title for title in titles if title in content}

    assert by_creator("Сталин") == {"Letter one", "Letter five"}
    assert by_creator("stalin") == {"Letter one", "Letter five"}
    assert by_creator("Мао") == {"Letter two", "Letter three"}
    assert by_creator("Mao") == {"Letter two", "Letter three"}
    assert by_creator("毛泽东") == {"Letter four"}
    assert by_creator("Roshchin") == set()


def test_the_creator_filter_asks_for_each_spelling_of_the_name():
    from search import index

    assert index.creator_tokens("Stalin") == [index.token("c", "stalin")]
    assert index.creator_tokens("Сталин") == [
        index.token("c", "сталин"),
        index.token("c", "stalin"),
    ]
    assert index.creator_tokens("Чжоу") == [
        index.token("c", "чжоу"),
        index.token("c", "chzhou"),
        index.token("c", "zhou"),
    ]
