"""In Chromium: the tag manager renames and merges; one tag widget everywhere (chips, a
comma or Enter, suggestions by any word of a name); search filters as removable chips with
suggestions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Annotation, Tag
from search import index as search_index
from tests.browser.test_annotate import READING, open_source, popover, select
from tests.factories import make_annotation, make_claim, make_event, make_source, make_text


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()


@pytest.fixture
def tagged(library, alice):
    source = make_source(library=library, title="Stalin and Mao, 16 December 1949")
    text = make_text(source=source, text=READING, imported_by=alice)
    make_annotation(
        text=text,
        creator=alice,
        quote="Comrade I. V. Stalin",
        tags=["person:Joseph Stalin", "person:Stalin"],
    )
    make_annotation(
        text=text, creator=alice, quote="two hours", tags=["person:Stalin", "theme:face"]
    )
    return source


def test_the_tag_manager_renames_and_merges(page, sign_in, bob, library, tagged):
    sign_in(page, bob)
    page.goto(reverse("tag-manager", args=[library.slug]))
    face = page.locator("tr[data-tag-row='theme:face']")
    face.get_by_label("New name for theme:face").fill("theme:loss of face")
    face.get_by_role("button", name="Rename").click()
    page.get_by_text("“theme:face” renamed to “theme:loss of face”.").wait_for()
    assert Tag.objects.filter(name="theme:loss of face").exists()

    row = page.locator("tr[data-tag-row='person:Stalin']")
    into = row.get_by_role("combobox", name="Merge person:Stalin into")
    into.fill("jos")  # any word of the name
    option = row.get_by_role("option", name="person:Joseph Stalin")
    option.click()
    row.get_by_role("button", name="Preview merge").click()
    page.get_by_text(
        "1 annotations move to “person:Joseph Stalin”; 1 already carries both"
    ).wait_for()
    page.get_by_role("button", name="Merge").click()
    page.get_by_text("“person:Stalin” merged into “person:Joseph Stalin”.").wait_for()
    assert not Tag.objects.filter(name="person:Stalin").exists()
    assert Annotation.objects.filter(tags__name="person:Joseph Stalin").count() == 2
    assert page.js_errors == []


def test_the_popover_takes_several_tags_separated_by_commas(page, sign_in, alice, tagged):
    sign_in(page, alice)
    open_source(page, tagged)
    select(page, READING, "the railway")
    popover(page).get_by_role("button", name="Tag").click()
    field = popover(page).get_by_role("combobox", name="Tags")
    field.fill("St")
    popover(page).get_by_role("option", name="person:Joseph Stalin").wait_for()
    field.fill("place:Moscow, theme:railway,")
    popover(page).get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Annotation saved").wait_for()
    saved = Annotation.objects.get(exact="the railway")
    assert sorted(saved.tags.values_list("name", flat=True)) == ["place:Moscow", "theme:railway"]


def test_search_filters_are_chips_with_suggestions(page, sign_in, alice, library, tagged):
    make_event(
        library=library, creator=alice, name="Mao's visit to Moscow", date="1949-12-16/1950-02-17"
    )
    sign_in(page, alice)
    page.goto(reverse("search") + "?q=Stalin")
    any_tag = page.get_by_role("combobox", name="Tagged with any of")
    any_tag.fill("theme:face, person:joseph")
    page.get_by_role("option", name="person:Joseph Stalin").click()
    page.get_by_role("button", name="Search").click()
    chips = page.get_by_role("list", name="Filters in force")
    chips.get_by_role("link", name="Remove the filter Tagged (any of) theme:face").wait_for()
    assert "any_tag=theme%3Aface" in page.url and "any_tag=person%3AJoseph+Stalin" in page.url
    event = page.get_by_role("combobox", name="Event")
    event.fill("visit")
    page.get_by_role(
        "option", name="Mao's visit to Moscow (16 December 1949 – 17 February 1950)"
    ).click()
    chips.get_by_role("link", name="Remove the filter Event: Mao's visit to Moscow").wait_for()
    chips.get_by_role("link", name="Remove the filter Tagged (any of) theme:face").click()
    chips.get_by_role("link", name="Remove the filter Event: Mao's visit to Moscow").wait_for()
    assert "theme%3Aface" not in page.url and "any_tag=person%3AJoseph+Stalin" in page.url
    assert page.js_errors == []


def test_the_claim_list_filters_by_a_tag_chosen_with_the_tag_widget(page, sign_in, alice, library):
    make_claim(
        library=library,
        creator=alice,
        statement="Stalin kept Mao waiting.",
        tags=["person:Joseph Stalin"],
    )
    make_claim(
        library=library, creator=alice, statement="The treaty was signed.", tags=["theme:treaty"]
    )
    sign_in(page, alice)
    page.goto(reverse("claim-list", args=[library.slug]))
    field = page.get_by_role("combobox", name="Tag", exact=True)
    field.fill("Сталин")  # suggested across scripts
    page.get_by_role("option", name="person:Joseph Stalin").click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**tag=person%3AJoseph+Stalin**")
    page.get_by_text("Stalin kept Mao waiting.").wait_for()
    assert page.get_by_text("The treaty was signed.").count() == 0
    chosen = page.get_by_role("list", name="Chosen tags")
    shown = chosen.get_by_role("listitem").evaluate_all(
        "(items) => items.map((i) => i.dataset.tag)"
    )
    assert shown == ["person:Joseph Stalin"]  # the filter in force, as a chip
    assert page.js_errors == []
