"""The source page, revision comparison, and creating, editing and deleting sources."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from sources.models import Creator, Source, SourceText
from tests.factories import make_source, make_text

RUSSIAN = "Мао Цзэдун сказал, что договор важен.\n\nСталин ответил 𠀀 не сразу.\n\nТретий абзац."


def detail(source, **params):
    return reverse("source-detail", args=[source.pk]), params


# The source page


@pytest.fixture
def record(library, alice):
    source = make_source(
        library=library,
        title="Record of conversation with Mao Zedong",
        issued="1950-01-01~",
        language="ru",
        original_language="ru",
        archive="Archive of Foreign Policy of the Russian Federation",
        archive_location="f. 0100, op. 43, d. 8, papka 302, ll. 1-4",
        identifiers={"wilson_center": "110404"},
        url="https://digitalarchive.wilsoncenter.org/document/110404",
        creators=[
            {"family": "Roshchin", "given": "N. V."},
            {"role": "translator", "family": "Weathersby", "given": "Kathryn"},
            {"role": "recipient", "literal": "Ministry of Foreign Affairs"},
        ],
    )
    make_text(source=source, text=RUSSIAN, imported_by=alice, encoding="utf-8", note="first")
    return source


def test_source_page_shows_metadata_with_human_labels(as_user, vera, record):
    response = as_user(vera).get(reverse("source-detail", args=[record.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    for text in (
        "<dt>Archive location</dt>",
        "f. 0100, op. 43, d. 8, papka 302, ll. 1-4",
        "<dt>Translator</dt>",
        "Kathryn Weathersby",
        "<dt>Recipient</dt>",
        "<dt>Original language</dt>",
        "<dd>Russian</dd>",
        "wilson_center",
        "110404",
        '<time datetime="1950-01-01" title="EDTF: 1950-01-01~" data-edtf="1950-01-01~">'
        "1 January 1950 (approximate)</time>",
        "<code>roshchin1950record</code>",
        'href="https://digitalarchive.wilsoncenter.org/document/110404"',
    ):
        assert text in content, text
    assert "<dt>Publisher</dt>" not in content  # unset fields are left out


def test_reading_view_carries_code_point_offsets_and_language(as_user, vera, record):
    content = as_user(vera).get(reverse("source-detail", args=[record.pk])).content.decode()
    starts = [int(n) for n in re.findall(r'<p data-start="(\d+)"[^>]*>', content)]
    text = record.current_text.text
    assert starts == [0, text.index("Сталин"), text.index("Третий")]
    assert starts[2] < len(text[: starts[2]].encode("utf-16-le")) // 2  # 𠀀 counts once
    assert 'class="reading" id="reading" lang="ru"' in content
    assert 'data-sha256="' + record.current_text.sha256 in content


def test_page_breaks_sit_at_their_offsets_without_changing_the_text(as_user, vera, library):
    source = make_source(library=library, title="Paginated")
    text = "First page text.\n\nSecond page begins here and\ncontinues.\n\nLast."
    SourceText.objects.add_revision(
        source,
        text=text,
        page_map=[[0, "1"], [text.index("Second") - 1, "2"], [text.index("continues"), "2a"]],
    )
    content = as_user(vera).get(reverse("source-detail", args=[source.pk])).content.decode()
    assert re.findall(r'data-page="([^"]+)"', content) == ["1", "2", "2a"]
    second = re.search(r'<p data-start="(\d+)">(.*?)</p>', content.split("First page")[1], re.S)
    assert int(second.group(1)) == text.index("Second")
    assert second.group(2).startswith('<span class="page-break"')  # a break in the gap
    assert re.sub(r"<[^>]+>", "", second.group(2)) == "Second page begins here and\ncontinues."
    assert 'and\n<span class="page-break" role="doc-pagebreak" aria-label="Page 2a"' in content


def test_provenance_panel_lists_every_revision_with_checksum(as_user, vera, record, bob):
    make_text(source=record, text=RUSSIAN + " Исправлено.", imported_by=bob, note="corrected")
    content = as_user(vera).get(reverse("source-detail", args=[record.pk])).content.decode()
    for text in record.texts.all():
        assert f"<code>{text.sha256}</code>" in content
    assert content.count("✓ matches the text") == 2
    assert "corrected" in content and "first" in content
    assert "by bob" in content and "by alice" in content
    assert reverse("source-compare", args=[record.pk]) in content


def test_a_tampered_revision_is_flagged(as_user, vera, record):
    SourceText.objects.filter(source=record).update(text="Tampered.")
    content = as_user(vera).get(reverse("source-detail", args=[record.pk])).content.decode()
    assert "✗ does not match the stored text" in content


def test_an_earlier_revision_stays_readable(as_user, vera, record):
    make_text(source=record, text="Corrected translation.")
    client = as_user(vera)
    current = client.get(reverse("source-detail", args=[record.pk])).content.decode()
    assert "Corrected translation." in current and "Третий абзац" not in current
    old = client.get(reverse("source-detail", args=[record.pk]), {"revision": "1"})
    assert old.status_code == 200
    assert "Третий абзац" in old.content.decode()
    assert "it is not the current text" in old.content.decode()


@pytest.mark.parametrize("revision", ["9", "x", ""])
def test_an_unknown_revision_is_404(as_user, vera, record, revision):
    response = as_user(vera).get(reverse("source-detail", args=[record.pk]), {"revision": revision})
    assert response.status_code == 404


def test_sanitised_html_is_shown_only_as_the_original_view(as_user, vera, library):
    source = make_source(library=library, title="Web page")
    SourceText.objects.add_revision(
        source, text="Bold words.", html="<p><strong>Bold</strong> words.</p>", html_raw="<x>"
    )
    client = as_user(vera)
    plain = client.get(reverse("source-detail", args=[source.pk])).content.decode()
    assert "<strong>Bold</strong>" not in plain
    original = client.get(reverse("source-detail", args=[source.pk]), {"view": "original"})
    assert "<p><strong>Bold</strong> words.</p>" in original.content.decode()


def test_source_without_text_invites_an_upload(as_user, alice, vera, library):
    source = make_source(library=library, title="Empty")
    url = reverse("source-detail", args=[source.pk])
    upload = reverse("text-create", args=[source.pk])
    assert upload in as_user(alice).get(url).content.decode()
    assert upload not in as_user(vera).get(url).content.decode()


# Comparing revisions


def test_compare_marks_insertions_and_deletions_word_by_word(as_user, vera, record):
    make_text(source=record, text=RUSSIAN.replace("важен", "очень важен").replace("не ", ""))
    response = as_user(vera).get(reverse("source-compare", args=[record.pk]), {"a": "1", "b": "2"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<ins>очень </ins>" in content
    assert "<del>не </del>" in content
    for text in record.texts.all():
        assert text.sha256 in content
    assert "1 insertion and 1 deletion" in content


def test_compare_defaults_to_the_last_two_revisions(as_user, vera, record):
    make_text(source=record, text="Second.")
    make_text(source=record, text="Third.")
    response = as_user(vera).get(reverse("source-compare", args=[record.pk]))
    assert (response.context["old"].revision, response.context["new"].revision) == (2, 3)


def test_compare_with_one_revision_explains_there_is_nothing_to_compare(as_user, vera, record):
    response = as_user(vera).get(reverse("source-compare", args=[record.pk]))
    assert response.status_code == 200
    assert "only one revision" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [({"a": "7", "b": "2"}, "a"), ({"a": "2", "b": "2"}, "b"), ({"b": "x"}, "b")],
)
def test_compare_with_bad_revisions_is_400_naming_the_field(params, field, as_user, vera, record):
    make_text(source=record, text="Second.")
    response = as_user(vera).get(reverse("source-compare", args=[record.pk]), params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


# Creating sources


def management(prefix: str = "creators", total: int = 3, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def new_source(**overrides) -> dict:
    data = {
        "csl_type": "manuscript",
        "kind": "primary",
        "title": "Telegram from Zhou Enlai to Mao Zedong",
        "issued": "1960-07?",
        "archive": "PRC FMA",
        "archive_location": "109-00925-05",
        "identifiers": "wilson_center: 114355\nDOI: 10.1000/182",
        "language": "en",
        "original_language": "zh",
        **management(),
        "creators-0-role": "recipient",
        "creators-0-family": "Mao",
        "creators-0-given": "Zedong",
        "creators-0-order": "1",
        "creators-1-role": "author",
        "creators-1-family": "Zhou",
        "creators-1-given": "Enlai",
        "creators-1-order": "0",
        "creators-2-role": "author",
        "creators-2-order": "0",
    }
    return {**data, **overrides}


def test_editor_creates_a_source_with_creators(as_user, bob, library):
    response = as_user(bob).post(reverse("source-create", args=[library.slug]), new_source())
    source = Source.objects.get(title="Telegram from Zhou Enlai to Mao Zedong")
    assert response.status_code == 302
    assert response["Location"] == source.get_absolute_url()
    assert source.citation_key == "zhou1960telegram"  # from the first author by order
    assert source.identifiers == {"wilson_center": "114355", "DOI": "10.1000/182"}
    assert source.issued_earliest.isoformat() == "1960-07-01"
    assert source.created_by == bob
    assert source.version == 1
    assert [(c.role, c.family) for c in source.creators.order_by("order")] == [
        ("author", "Zhou"),
        ("recipient", "Mao"),
    ]


def test_creators_without_an_order_keep_their_place_in_the_form(as_user, bob, library):
    data = new_source(**{"creators-0-order": "", "creators-1-order": ""})
    response = as_user(bob).post(reverse("source-create", args=[library.slug]), data)
    assert response.status_code == 302
    source = Source.objects.get()
    assert [c.family for c in source.creators.order_by("order")] == ["Mao", "Zhou"]
    assert source.citation_key == "mao1960telegram"


def test_create_form_groups_fields_and_labels_every_input(as_user, alice, library):
    content = as_user(alice).get(reverse("source-create", args=[library.slug])).content.decode()
    for legend in ("Bibliographic", "Archival", "Identifiers and access", "Creators"):
        assert f"<legend>{legend}</legend>" in content
    form = content[content.index('<form method="post" class="source-form"') :]
    tags = re.findall(r"<(?:input|select|textarea)\b[^>]*>", form)
    ids = [re.search(r'id="([^"]+)"', tag).group(1) for tag in tags if 'type="hidden"' not in tag]
    labelled = set(re.findall(r'<label for="([^"]+)"', form))
    assert len(ids) > 30
    assert [i for i in ids if i not in labelled] == []
    assert 'src="/static/js/formset.js"' in content


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"issued": "1960-13"}, "issued", "is not an EDTF date"),
        ({"accessed": "soon"}, "accessed", "is not an EDTF date"),
        ({"identifiers": "DOI 10.1000/182"}, "identifiers", "Line 1"),
        ({"identifiers": "a: 1\n\nnote without colon"}, "identifiers", "Line 3"),
        ({"identifiers": "a: 1\na: 2"}, "identifiers", "given twice"),
        ({"title": "x" * 1001}, "title", "at most 1000"),  # empty is allowed: untitled letters
        ({"language": "Russian language"}, "language", "BCP 47"),
        ({"url": "javascript:alert(1)"}, "url", "valid URL"),
        ({"csl_type": "novel"}, "csl_type", "valid choice"),
    ],
)
def test_invalid_metadata_is_400_naming_the_field(overrides, field, message, as_user, bob, library):
    response = as_user(bob).post(
        reverse("source-create", args=[library.slug]), new_source(**overrides)
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Source.objects.exists()


def test_a_creator_without_a_name_is_refused(as_user, bob, library):
    data = new_source(**{"creators-2-given": "Anonymous"})
    response = as_user(bob).post(reverse("source-create", args=[library.slug]), data)
    assert response.status_code == 400
    assert "family" in response.context["creators"].forms[2].errors
    assert not Source.objects.exists()
    assert not Creator.objects.exists()


# Editing sources


def edit_data(client, source, **overrides) -> dict:
    """The edit form as the browser would send it back, with `overrides` typed in."""
    context = client.get(reverse("source-edit", args=[source.pk])).context
    data = {}
    for form in [context["form"], context["creators"].management_form, *context["creators"]]:
        for field in form:
            value = field.value()
            if value is not None and value is not False:
                data[field.html_name] = value
    return {**data, **overrides}


def test_editing_bumps_the_version_and_keeps_the_citation_key(as_user, bob, source):
    client = as_user(bob)
    key = source.citation_key
    data = edit_data(client, source, title="A retitled record", issued="1950-01-02")
    response = client.post(reverse("source-edit", args=[source.pk]), data)
    assert response.status_code == 302, response.context["creators"].errors
    source.refresh_from_db()
    assert (source.title, source.version, source.citation_key) == ("A retitled record", 2, key)
    assert source.issued_latest.isoformat() == "1950-01-02"
    assert source.history.count() == 2


def test_editing_changes_adds_and_removes_creators(as_user, bob, source):
    client = as_user(bob)
    data = edit_data(
        client,
        source,
        **{
            "creators-0-DELETE": "on",
            "creators-1-role": "translator",
            "creators-1-family": "Weathersby",
        },
    )
    response = client.post(reverse("source-edit", args=[source.pk]), data)
    assert response.status_code == 302
    assert [(c.role, c.family) for c in source.creators.all()] == [("translator", "Weathersby")]


def test_identifiers_are_shown_as_lines_in_the_edit_form(as_user, bob, library):
    source = make_source(library=library, identifiers={"DOI": "10.1000/182", "id": "7"})
    content = as_user(bob).get(reverse("source-edit", args=[source.pk])).content.decode()
    assert "DOI: 10.1000/182\nid: 7</textarea>" in content


def test_invalid_edit_is_400_and_changes_nothing(as_user, bob, source):
    client = as_user(bob)
    data = edit_data(client, source, issued="1950-02-30", title="Changed")
    response = client.post(reverse("source-edit", args=[source.pk]), data)
    assert response.status_code == 400
    assert "issued" in response.context["form"].errors
    source.refresh_from_db()
    assert (source.title, source.version) == ("Record of conversation with Mao Zedong", 1)


def test_an_edit_made_meanwhile_is_not_overwritten(as_user, alice, bob, source):
    stale = edit_data(as_user(bob), source, title="Bob's title")
    first = edit_data(as_user(alice), source, title="Alice's title")
    assert as_user(alice).post(reverse("source-edit", args=[source.pk]), first).status_code == 302
    response = as_user(bob).post(reverse("source-edit", args=[source.pk]), stale)
    assert response.status_code == 409
    assert "Someone saved this source" in response.content.decode()
    source.refresh_from_db()
    assert (source.title, source.version) == ("Alice's title", 2)


# Deleting sources


def test_delete_asks_for_confirmation_and_lists_what_goes(as_user, bob, source):
    response = as_user(bob).get(reverse("source-delete", args=[source.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "1 source text<" in content and "1 creator<" in content
    assert Source.objects.filter(pk=source.pk).exists()


def test_editor_deletes_a_source_by_post(as_user, bob, source, library):
    response = as_user(bob).post(reverse("source-delete", args=[source.pk]))
    assert response.status_code == 302
    assert response["Location"] == library.get_absolute_url()
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not SourceText.objects.filter(source_id=source.pk).exists()


def test_family_first_names_read_family_first_on_the_pages(as_user, vera, library):
    """Zhou Enlai entered as family/given once read "Enlai Zhou" (issue #20); the pages show
    names through `Creator.display_name` / `natural_name`, which keep the order written."""
    source = make_source(
        library=library,
        title="Conversation with Zhou Enlai",
        creators=[
            {"family": "Zhou", "given": "Enlai", "family_first": True},
            {"role": "recipient", "family": "Roshchin", "given": "N. V."},
        ],
    )
    client = as_user(vera)
    detail = client.get(reverse("source-detail", args=[source.pk])).content.decode()
    listed = client.get(reverse("library-detail", args=[library.slug])).content.decode()
    assert "<dd>Zhou Enlai</dd>" in detail and "Enlai Zhou" not in detail
    assert "Zhou Enlai; Roshchin, N. V. (to)" in listed
    assert "Zhou, Enlai" not in listed
