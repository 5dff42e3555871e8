"""Passage citations: the locator of a highlight (page, folio, paragraph) and its footnote."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from citations import engine as citations
from citations.passages import (
    Locator,
    cite_annotation,
    cite_annotations,
    classify_page_label,
    is_archival,
    pandoc_citation,
    paragraph_numbers,
    passage_locator,
)
from tests.factories import make_annotation, make_source, make_text

# A PDF import: three pages; the page map says where each starts.
PAGES = [
    "Memorandum of conversation.",
    "Mao said the treaty\nmattered more than the loan.",
    "Stalin answered that the loan was ready.",
]
PDF_TEXT = "\n\n".join(PAGES)
PDF_MAP = [[0, "1"], [len(PAGES[0]) + 2, "2"], [len(PAGES[0]) + len(PAGES[1]) + 4, "3"]]
PLAIN_TEXT = "First paragraph.\n\nSecond paragraph.\n\nThird paragraph: the treaty mattered."


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pandoc_runs(monkeypatch):
    runs: list[str] = []
    real = citations.run_driver

    def counting(job, references):
        runs.append(job["mode"])
        return real(job, references)

    monkeypatch.setattr(citations, "run_driver", counting)
    return runs


@pytest.fixture
def article(library):
    """A secondary source (not archival) with a paginated text."""
    source = make_source(
        library=library,
        title="The Sino-Soviet Alliance",
        csl_type="article-journal",
        kind="secondary",
        container_title="Cold War History",
        issued="2001",
        creators=[{"family": "Shen", "given": "Zhihua"}],
    )
    make_text(source=source, text=PDF_TEXT, page_map=PDF_MAP, media_type="application/pdf")
    return source


@pytest.fixture
def archival(library):
    """An archival file whose page map counts leaves (listy)."""
    return make_source(
        library=library,
        title="Record of conversation with Mao Zedong",
        archive="Archive of Foreign Policy of the Russian Federation (AVP RF)",
        archive_place="Moscow",
        archive_location="f. 0100, op. 43, d. 43",
    )


def annotate(source, alice, quote: str, **text_fields):
    text = source.current_text or make_text(source=source, **text_fields)
    return make_annotation(text=text, creator=alice, quote=quote)


# --- Locators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "archival", "expected"),
    [
        ("2", False, Locator("2", "page")),
        ("p. 12", False, Locator("12", "page")),
        ("pp. 12", False, Locator("12", "page")),
        ("с. 7", False, Locator("7", "page")),
        ("xiv", False, Locator("xiv", "page")),
        ("fol. 2v", False, Locator("2v", "folio")),
        ("ff. 3", True, Locator("3", "folio")),
        ("l. 2", True, Locator("2", "folio")),
        ("ll. 2", True, Locator("2", "folio")),
        ("л. 5", True, Locator("5", "folio")),
        ("5об.", True, Locator("5об.", "folio")),
        ("2v", True, Locator("2v", "folio")),
        ("2v", False, Locator("2v", "page")),
        ("l. 2", False, Locator("l. 2", "page")),  # a line in a printed book, not a leaf
    ],
)
def test_page_map_labels_become_page_or_folio_locators(label, archival, expected):
    assert classify_page_label(label, archival=archival) == expected


def test_pdf_page_map_gives_the_page_of_the_passage(article, alice):
    annotation = annotate(article, alice, "the treaty\nmattered")
    locator = passage_locator(annotation.text, annotation.start, annotation.end, archival=False)
    assert locator == Locator("2", "page")


def test_passage_across_a_page_break_cites_both_pages(article, alice):
    annotation = annotate(article, alice, "the loan.\n\nStalin answered")
    locator = passage_locator(annotation.text, annotation.start, annotation.end, archival=False)
    assert locator == Locator("2–3", "page")


def test_trailing_line_break_does_not_cite_the_next_page(article, alice):
    annotation = annotate(article, alice, "than the loan.\n\n")
    locator = passage_locator(annotation.text, annotation.start, annotation.end, archival=False)
    assert locator == Locator("2", "page")


def test_archival_page_map_of_leaves_gives_folios(archival, alice):
    text = make_text(source=archival, text=PDF_TEXT, page_map=[[0, "l. 1"], [29, "l. 1ob."]])
    annotation = make_annotation(text=text, creator=alice, quote="treaty")
    assert passage_locator(text, annotation.start, annotation.end, archival=True) == Locator(
        "1ob.", "folio"
    )


def test_without_a_page_map_the_paragraph_is_counted(library, alice):
    source = make_source(library=library)
    annotation = annotate(source, alice, "the treaty mattered", text=PLAIN_TEXT)
    locator = passage_locator(annotation.text, annotation.start, annotation.end, archival=True)
    assert locator == Locator("3", "paragraph")


def test_a_passage_over_two_paragraphs_cites_both(library, alice):
    text = make_text(source=make_source(library=library), text=PLAIN_TEXT)
    start = PLAIN_TEXT.index("Second")
    assert paragraph_numbers(text, start, PLAIN_TEXT.index("Third") + 5) == (2, 3)


def test_front_matter_before_the_first_page_falls_back_to_paragraphs(library, alice):
    source = make_source(library=library)
    text = make_text(source=source, text=PLAIN_TEXT, page_map=[[18, "1"]])
    annotation = make_annotation(text=text, creator=alice, quote="First")
    assert passage_locator(text, annotation.start, annotation.end, archival=False) == Locator(
        "1", "paragraph"
    )


def test_archival_means_an_archive_or_a_manuscript(library, archival):
    book = make_source(library=library, title="A book", csl_type="book")
    assert is_archival(archival)
    assert is_archival(make_source(library=library, title="Memo", csl_type="manuscript"))
    assert not is_archival(book)


# --- Pandoc citations ------------------------------------------------------------------


def test_pandoc_citation_uses_the_locale_term_and_braces_odd_keys():
    assert pandoc_citation("shen2001sino", Locator("2", "page"), lang="en-US") == (
        "[@shen2001sino, p. 2]"
    )
    assert pandoc_citation("roshchin1950", Locator("2v", "folio"), lang="ru-RU") == (
        "[@roshchin1950, л. 2v]"
    )
    assert pandoc_citation("key-", Locator("3", "paragraph"), lang="en-US") == "[@{key-}, para. 3]"
    assert pandoc_citation("plain", None, lang="en-US") == "[@plain]"


# --- Footnotes -------------------------------------------------------------------------


def test_annotation_on_a_pdf_gets_a_chicago_note_with_its_page(article, alice):
    annotation = annotate(article, alice, "Mao said the treaty\nmattered")
    cited = cite_annotation(annotation, fmt="text")
    assert cited.full_note.startswith("Zhihua Shen, “The Sino-Soviet Alliance,” Cold War History")
    assert cited.full_note.endswith(", 2.")
    assert cited.short_note == "Shen, “The Sino-Soviet Alliance,” 2."
    assert (cited.locator, cited.label, cited.locator_text) == ("2", "page", "p. 2")
    assert cited.quote == "Mao said the treaty mattered"
    assert cited.pandoc == f"[@{article.citation_key}, p. 2]"
    assert (cited.source_id, cited.annotation_id) == (article.pk, annotation.pk)


def test_archival_note_runs_from_folio_to_archive(archival, alice):
    text = make_text(source=archival, text=PDF_TEXT, page_map=[[0, "l. 1"], [29, "l. 2"]])
    annotation = make_annotation(text=text, creator=alice, quote="the loan was ready")
    cited = cite_annotation(annotation, fmt="text")
    assert cited.locator_text == "fol. 2"
    assert "f. 0100, op. 43, d. 43, fol. 2, Archive of Foreign Policy" in cited.full_note
    assert cited.full_note.endswith("Moscow.")
    assert cited.short_note.endswith("fol. 2.")


def test_paragraph_locator_in_the_note(library, alice):
    source = make_source(library=library, title="Memoirs", csl_type="book", issued="1970")
    annotation = annotate(source, alice, "the treaty mattered", text=PLAIN_TEXT)
    cited = cite_annotation(annotation, fmt="text")
    assert cited.locator_text == "para. 3"
    assert cited.short_note.endswith("para. 3.")


def test_russian_locale_uses_russian_terms(archival, alice):
    text = make_text(source=archival, text=PDF_TEXT, page_map=[[0, "л. 1"], [29, "л. 2"]])
    annotation = make_annotation(text=text, creator=alice, quote="the loan was ready")
    cited = cite_annotation(annotation, locale="ru", fmt="text")
    assert cited.locator_text == "л. 2"
    assert "л. 2" in cited.full_note


def test_many_passages_are_one_pandoc_run_and_keep_their_order(
    article, library, alice, pandoc_runs
):
    other = make_source(library=library, title="Memoirs", csl_type="book", issued="1970")
    text = make_text(source=other, text=PLAIN_TEXT)
    annotations = [
        annotate(article, alice, "Stalin answered"),
        make_annotation(text=text, creator=alice, quote="Second"),
        annotate(article, alice, "Memorandum"),
    ]
    cited = cite_annotations(annotations, fmt="text")
    assert [c.locator_text for c in cited] == ["p. 3", "para. 2", "p. 1"]
    assert [c.annotation_id for c in cited] == [a.pk for a in annotations]
    assert pandoc_runs == ["notes"]


def test_html_note_keeps_markup_and_escapes_the_quote(library, alice):
    source = make_source(library=library, title="Memo <script>", csl_type="book", issued="1970")
    text = make_text(source=source, text="He wrote <b>yes</b> & no.")
    cited = cite_annotation(make_annotation(text=text, creator=alice, quote="<b>yes</b> &"))
    assert "<script>" not in cited.full_note.lower()
    assert "&lt;script&gt;" in cited.full_note.lower()
    assert cited.quote == "<b>yes</b> &"  # plain text; templates escape it


def test_unknown_style_is_refused(article, alice):
    annotation = annotate(article, alice, "Memorandum")
    with pytest.raises(ValueError, match="Unknown citation style"):
        cite_annotation(annotation, style="no-such-style")
