"""Home, libraries, the library page's filters and sort, and escaping on every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sources.models import ImportRun, Library, Role, SourceLink
from tests.factories import add_member, make_library, make_source, make_text


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:2000]
    return [source.title for source in response.context["page"].object_list]


# Home and library creation


def test_home_lists_my_libraries_and_public_ones_with_source_counts(
    as_user, alice, mallory, library, source
):
    make_source(library=library, title="Second record")
    public = make_library(owner=mallory, name="Declassified telegrams", is_public=True)
    make_library(owner=mallory, name="Mallory's private notes")
    response = as_user(alice).get(reverse("home"))
    assert response.status_code == 200
    assert [lib.name for lib in response.context["mine"]] == [library.name]
    assert response.context["mine"][0].source_count == 2
    assert [lib.name for lib in response.context["public"]] == [public.name]
    content = response.content.decode()
    assert "Mallory&#x27;s private notes" not in content
    assert "2 sources" in content
    assert "your role: owner" in content


def test_anonymous_home_shows_public_libraries_and_no_create_form(as_user, mallory):
    make_library(owner=mallory, name="Declassified telegrams", is_public=True)
    response = as_user(None).get(reverse("home"))
    assert response.status_code == 200
    assert "Declassified telegrams" in response.content.decode()
    assert f'action="{reverse("library-create")}"' not in response.content.decode()


def test_signed_in_user_creates_a_library_and_owns_it(as_user, alice):
    response = as_user(alice).post(
        reverse("library-create"),
        {"name": "Sino-Soviet split", "description": "1956–1966", "is_public": ""},
    )
    library = Library.objects.get(name="Sino-Soviet split")
    assert response.status_code == 302
    assert response["Location"] == library.get_absolute_url()
    assert library.role_of(alice) == Role.OWNER
    assert library.is_public is False


def test_library_without_a_name_is_refused_naming_the_field(as_user, alice):
    response = as_user(alice).post(reverse("library-create"), {"name": "", "description": "x"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert "This field is required." in response.content.decode()
    assert not Library.objects.filter(description="x").exists()


def test_anonymous_cannot_create_a_library(as_user, db):
    response = as_user(None).post(reverse("library-create"), {"name": "Mine"})
    assert response.status_code == 302
    assert not Library.objects.filter(name="Mine").exists()


# The library page


@pytest.fixture
def shelf(library):
    """Four sources of different dates, kinds, types and creators, created in this order."""
    return {
        "telegram": make_source(
            library=library,
            title="Telegram from Stalin to Mao",
            issued="1949-12-16",
            csl_type="letter",
            creators=[{"family": "Stalin", "given": "Joseph"}],
        ),
        "memo": make_source(
            library=library,
            title="Memorandum on the treaty",
            issued="196X",
            creators=[{"family": "Zhou", "given": "Enlai"}],
        ),
        "article": make_source(
            library=library,
            title="Face and something delicious",
            issued="2013",
            kind="secondary",
            csl_type="article-magazine",
            creators=[{"family": "Radchenko", "given": "Sergey"}],
        ),
        "undated": make_source(
            library=library,
            title="Undated note",
            issued="",
            creators=[{"literal": "Central Committee"}],
        ),
    }


def library_page(client, library, **params):
    return client.get(reverse("library-detail", args=[library.slug]), params)


def test_library_page_lists_sources_with_creators_type_date_and_kind(as_user, vera, library, shelf):
    response = library_page(as_user(vera), library)
    content = response.content.decode()
    assert titles(response) == [
        "Telegram from Stalin to Mao",
        "Memorandum on the treaty",
        "Face and something delicious",
        "Undated note",
    ]
    for text in ("Stalin, Joseph", "196X", "Magazine article", "Secondary", "Central Committee"):
        assert text in content
    assert "4 sources: 3 primary, 1 secondary" in content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_from": "1965", "date_to": "1965"}, {"memo"}),  # 196X overlaps 1965
        ({"date_from": "1950"}, {"memo", "article"}),
        ({"date_to": "1949"}, {"telegram"}),
        ({"date_from": "1949-12-16", "date_to": "1949-12-16"}, {"telegram"}),
        ({"date_from": "1949-12-17", "date_to": "1959"}, set()),
        ({"kind": "secondary"}, {"article"}),
        ({"kind": "primary"}, {"telegram", "memo", "undated"}),
        ({"csl_type": "letter"}, {"telegram"}),
        ({"creator": "sergey"}, {"article"}),
        ({"creator": "Enlai Zhou"}, {"memo"}),
        ({"creator": "Zhou, Enlai"}, {"memo"}),
        ({"creator": "central"}, {"undated"}),
        ({"creator": "Stalin Enlai"}, set()),  # both words must name the same person
        ({"q": "treaty memorandum"}, {"memo"}),
        ({"q": "TELEGRAM"}, {"telegram"}),
        ({"q": "mao", "kind": "primary", "date_to": "1950"}, {"telegram"}),
    ],
)
def test_filters_narrow_the_list(params, expected, as_user, alice, library, shelf):
    response = library_page(as_user(alice), library, **params)
    assert set(titles(response)) == {shelf[key].title for key in expected}


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["telegram", "memo", "article", "undated"]),
        ("date", ["telegram", "memo", "article", "undated"]),
        ("-date", ["article", "memo", "telegram", "undated"]),
        ("title", ["article", "memo", "telegram", "undated"]),
        ("creator", ["undated", "article", "telegram", "memo"]),
        ("added", ["undated", "article", "memo", "telegram"]),
    ],
)
def test_sort_orders_the_list(sort, order, as_user, alice, library, shelf):
    response = library_page(as_user(alice), library, sort=sort)
    assert titles(response) == [shelf[key].title for key in order]


def test_sort_by_creator_uses_the_first_author_not_the_translator(as_user, alice, library):
    make_source(
        library=library,
        title="Translated",
        creators=[{"role": "translator", "family": "Aaronson"}, {"family": "Zhukov"}],
    )
    make_source(library=library, title="Plain", creators=[{"family": "Molotov"}])
    assert titles(library_page(as_user(alice), library, sort="creator")) == ["Plain", "Translated"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "1950-13"}, "date_to"),
        ({"date_from": "1960", "date_to": "1950"}, "date_to"),
        ({"sort": "price"}, "sort"),
        ({"kind": "tertiary"}, "kind"),
    ],
)
def test_invalid_filters_answer_400_naming_the_field(params, field, as_user, alice, library, shelf):
    response = library_page(as_user(alice), library, **params)
    assert response.status_code == 400
    assert list(response.context["filters"].errors) == [field]
    assert 'class="errorlist' in response.content.decode()


def test_library_page_paginates_and_keeps_the_filters(as_user, alice, library):
    for n in range(53):
        make_source(library=library, title=f"Telegram {n:02}", issued=f"{1900 + n}")
    make_source(library=library, title="Memorandum", issued="1999")
    client = as_user(alice)
    first = library_page(client, library, q="telegram")
    assert len(titles(first)) == 50
    assert "q=telegram&amp;page=2" in first.content.decode()
    assert 'aria-current="page">1<' in first.content.decode()
    second = library_page(client, library, q="telegram", page="2")
    assert titles(second) == ["Telegram 50", "Telegram 51", "Telegram 52"]
    assert titles(library_page(client, library, q="telegram", page="99")) == titles(second)


def test_library_page_shows_members_and_write_links_by_role(as_user, alice, bob, vera, library):
    owner_view = library_page(as_user(alice), library).content.decode()
    for name in ("alice", "bob", "vera", "Editor", "Viewer"):
        assert name in owner_view
    assert reverse("source-create", args=[library.slug]) in owner_view
    assert reverse("import-create", args=[library.slug]) in owner_view
    viewer_view = library_page(as_user(vera), library).content.decode()
    assert reverse("source-create", args=[library.slug]) not in viewer_view
    assert reverse("import-create", args=[library.slug]) not in viewer_view


def test_library_page_hides_other_libraries_sources(as_user, alice, mallory, library):
    theirs = make_library(owner=mallory, name="Other")
    make_source(library=theirs, title="Not yours")
    add_member(library=theirs, user=alice, role=Role.VIEWER)
    make_source(library=library, title="Yours")
    assert titles(library_page(as_user(alice), library)) == ["Yours"]


# Escaping: a title is data, never markup


EVIL = '<script>alert("x")</script>'


def test_a_script_in_user_data_is_escaped_on_every_page(as_user, alice, mallory):
    library = make_library(owner=alice, name=f"Lib {EVIL}", is_public=False)
    source = make_source(
        library=library,
        title=f"Telegram {EVIL}",
        creators=[{"family": EVIL}],
        archive=EVIL,
        identifiers={EVIL: EVIL},
        language="ru",
        note=EVIL,
        abstract=EVIL,
    )
    other = make_source(library=library, title=f"Other {EVIL}")
    make_text(source=source, text=f"Para {EVIL}\n\nSecond", note=EVIL, file_name=f"{EVIL}.txt")
    make_text(source=source, text=f"Para {EVIL}\n\nSecond, corrected", note=EVIL)
    SourceLink.objects.create(
        library=library, subject=other, object=source, relation="quotes", note=EVIL
    )
    run = ImportRun.objects.create(
        library=library,
        user=alice,
        file_name=EVIL,
        format="bibtex",
        outcomes=[
            {"index": 0, "status": "created", "title": EVIL, "source": source.pk},
            {"index": 1, "status": "failed", "title": EVIL, "message": EVIL},
        ],
    )
    client = as_user(alice)
    pages = [
        reverse("home"),
        reverse("library-detail", args=[library.slug]),
        reverse("source-detail", args=[source.pk]),
        reverse("source-detail", args=[source.pk]) + "?revision=1",
        reverse("source-detail", args=[other.pk]),
        reverse("source-compare", args=[source.pk]) + "?a=1&b=2",
        reverse("source-edit", args=[source.pk]),
        reverse("source-delete", args=[source.pk]),
        reverse("text-create", args=[source.pk]),
        reverse("import-create", args=[library.slug]),
        reverse("import-detail", args=[run.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        assert "<script>alert" not in content, url
        assert "&lt;script&gt;alert(" in content, url
