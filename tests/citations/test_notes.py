"""Research-notes documents: Markdown that pandoc reads back, HTML and DOCX footnotes."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.cache import cache

from annotations.claims.claims import EventLink
from citations import engine as citations
from citations import notes as notes_document
from citations.notes import (
    build_notes_document,
    md_escape,
    notes_filename,
    notes_markdown,
    render_notes_document,
)
from citations.passages import cite_annotation
from citations.selection import ExportRequestError, select
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_source,
    make_text,
)

TODAY = dt.date(2024, 5, 1)
PAGES = ["Memorandum of conversation.", "Mao said the treaty mattered more than the loan."]
TEXT = "\n\n".join(PAGES)
PAGE_MAP = [[0, "1"], [len(PAGES[0]) + 2, "2"]]
CHICAGO = str(citations.resolve_style(citations.DEFAULT_STYLE))


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def article(library):
    source = make_source(
        library=library,
        title="The Sino-Soviet Alliance",
        csl_type="article-journal",
        kind="secondary",
        container_title="Cold War History",
        issued="2001",
        creators=[{"family": "Shen", "given": "Zhihua"}],
    )
    make_text(source=source, text=TEXT, page_map=PAGE_MAP, media_type="application/pdf")
    return source


@pytest.fixture
def quote(article, alice):
    return make_annotation(
        text=article.current_text,
        creator=alice,
        quote="the treaty mattered",
        comment="Compare *Pravda*, 15 Feb.",
    )


def pandoc(markdown: str, *args: str, cwd: Path | None = None) -> str:
    """What pandoc makes of a Markdown file with --citeproc, as plain text."""
    command = [citations.pandoc_path(), "-f", "markdown", "-t", "plain", "--wrap=none"]
    command += ["--citeproc", "--csl", CHICAGO, *args]
    result = subprocess.run(command, input=markdown, capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert "[WARNING]" not in result.stderr, result.stderr
    return result.stdout


def document(user, **selection):
    return build_notes_document(user, select(user, **selection), today=TODAY)


# --- Markdown --------------------------------------------------------------------------


def test_markdown_cites_each_quote_with_its_page(library, quote, alice, article):
    markdown = notes_markdown(document(alice, library=library.slug))
    assert f"> the treaty mattered [@{article.citation_key}, p. 2]" in markdown
    assert "*Comment by alice:* Compare *Pravda*, 15 Feb." in markdown  # still Markdown
    assert "\n# The Sino-Soviet Alliance\n" in markdown
    assert 'csl: "http://www.zotero.org/styles/chicago-notes-bibliography"' in markdown


def test_pandoc_reads_the_markdown_and_its_yaml_references_back(library, quote, alice):
    output = pandoc(notes_markdown(document(alice, library=library.slug)))
    expected = cite_annotation(quote, fmt="text")
    assert "the treaty mattered[1]" in output
    assert f"[1] {expected.full_note}" in output
    assert "Bibliography" in output
    assert "Shen, Zhihua. “The Sino-Soviet Alliance.” Cold War History, 2001." in output


def test_metadata_with_markdown_specials_survives_the_yaml_references(library, alice):
    title = "Telegram *urgent* @Moscow: 50% & $5_{x}~ [draft] <b>"
    source = make_source(library=library, title=title, csl_type="book", issued="1950")
    text = make_text(source=source, text="1950. The loan -- maybe.")
    make_annotation(text=text, creator=alice, quote="1950. The loan -- maybe.")
    output = pandoc(notes_markdown(document(alice, sources=[source.pk])), "-M", "lang=en-US")
    note = output.split("[1] ")[-1]
    assert f"Roshchin, {title} (1950)".casefold() in note.casefold()  # Chicago capitalises
    assert "1950. The loan -- maybe.[1]" in output


@pytest.mark.parametrize(
    "text",
    [
        "Foo *bar* @baz 50% & $5_{x}~",
        "1950. The treaty",
        "- not a list",
        "# not a heading",
        "> not a quote",
        "iv) roman",
        "(1) paren",
        "Sino--Soviet --- dash",
        "<b>bold</b> &amp; \\emph{x}",
        "[^1] note ^[inline] `code` | pipe |",
        ": not a definition",
        "[link](javascript:alert(1))",
        "%title",
        "Ста́лин 毛泽东 𠀋 😀",
    ],
)
def test_escaped_text_reads_back_as_the_same_text(text):
    command = [citations.pandoc_path(), "-f", "markdown-smart", "-t", "plain", "--wrap=none"]
    result = subprocess.run(command, input=md_escape(text), capture_output=True, text=True)
    assert result.stdout.strip() == text


def test_pandoc_bundle_holds_markdown_bibliographies_and_style(library, quote, alice, tmp_path):
    data = render_notes_document(document(alice, library=library.slug), "pandoc")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path)
    assert names == {
        "notes.md",
        "references.json",
        "references.bib",
        "chicago-notes-bibliography.csl",
        "README.txt",
    }
    assert json.loads((tmp_path / "references.json").read_text())[0]["title"] == (
        "The Sino-Soviet Alliance"
    )
    output = pandoc((tmp_path / "notes.md").read_text(), cwd=tmp_path)
    assert "the treaty mattered[1]" in output
    assert "[1] Zhihua Shen, “The Sino-Soviet Alliance,” Cold War History, 2001, 2." in output
    bib = pandoc(
        (tmp_path / "notes.md").read_text(), "--bibliography", "references.bib", cwd=tmp_path
    )
    assert "[1] Zhihua Shen, “The Sino-Soviet Alliance,”" in bib


# --- HTML and DOCX ---------------------------------------------------------------------


def test_docx_has_the_quote_in_the_text_and_the_note_in_a_footnote(library, quote, alice):
    data = render_notes_document(document(alice, library=library.slug), "docx")
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        body = docx.read("word/document.xml").decode()
        footnotes = docx.read("word/footnotes.xml").decode()
    words = " ".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", body))
    notes = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", footnotes))
    assert "the treaty mattered" in words
    assert "Research notes: Sino-Soviet relations" in words
    assert "Zhihua Shen, “The Sino-Soviet Alliance,” " in notes
    assert "Cold War History" in notes and "2001, 2." in notes


def test_html_page_has_footnotes_bibliography_and_attribution(library, quote, alice):
    page = render_notes_document(document(alice, library=library.slug), "html").decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Research notes: Sino-Soviet relations</title>" in page
    assert "the treaty mattered" in page
    assert 'role="doc-endnotes"' in page and "Cold War History" in page
    assert "<em>Pravda</em>" in page  # comments keep their Markdown
    assert '<a href="https://citationstyles.org/">' in page
    assert re.findall(r"<h(\d)", page) == ["1", "2", "2"]  # title, the source, Bibliography


def test_html_carries_no_script_from_comments_or_quotes(library, article, alice):
    text = make_text(source=article, text="He wrote <script>alert(1)</script> here.")
    make_annotation(
        text=text,
        creator=alice,
        quote="<script>alert(1)</script>",
        comment='[x](javascript:alert(1)) <img src=x onerror=alert(1)> [y]{onclick="alert(1)"}'
        " ![i](https://tracker.example/p.png) [ok](https://example.org)",
    )
    page = render_notes_document(document(alice, library=library.slug), "html").decode()
    assert "<script" not in page
    assert "javascript:" not in page
    assert not re.search(r"<[^>]*\son\w+=", page)  # no event handler on any element
    assert "tracker.example" not in page
    assert '<a href="https://example.org">ok</a>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- Claims and events -----------------------------------------------------------------


@pytest.fixture
def claims(library, article, quote, alice):
    loan = make_annotation(text=article.current_text, creator=alice, quote="more than the loan")
    waiting = make_claim(library=library, creator=alice, statement="The treaty mattered to Mao.")
    make_evidence(claim=waiting, annotation=loan, creator=alice, stance="contradicts")
    make_evidence(claim=waiting, annotation=quote, creator=alice, note="His own words.")
    other = make_claim(library=library, creator=alice, statement="The loan came second.")
    make_evidence(claim=other, annotation=loan, creator=alice, stance="mentions")
    return waiting, other, loan


def test_claims_document_lists_evidence_by_stance_under_each_claim(claims, alice, article):
    waiting, other, _ = claims
    markdown = notes_markdown(document(alice, claims=[waiting.pk, other.pk]))
    sections = markdown.split("\n# ")
    assert sections[1].startswith("The treaty mattered to Mao.\n\nStatus: asserted")
    assert sections[1].index("## Supports") < sections[1].index("## Contradicts")
    assert "*Evidence:* His own words." in sections[1]
    assert f"> more than the loan [@{article.citation_key}, p. 2]" in sections[2]
    assert "## Mentions" in sections[2]


def test_a_quote_made_private_later_is_left_out_for_others(claims, alice, vera):
    waiting, _, loan = claims
    loan.visibility = "private"
    loan.save()
    assert "more than the loan" not in notes_markdown(document(vera, claims=[waiting.pk]))
    assert "more than the loan" in notes_markdown(document(alice, claims=[waiting.pk]))


def test_event_document_includes_the_claims_of_events_inside_it(library, claims, alice):
    waiting, other, _ = claims
    visit = make_event(library=library, creator=alice, place="Moscow")
    signing = make_event(library=library, creator=alice, name="Treaty signed", date="1950-02-14")
    signing.parent = visit
    signing.save()
    from annotations.claims.claims import set_claim_events

    set_claim_events(other, [EventLink(signing)])
    markdown = notes_markdown(document(alice, event=str(visit.pk)))
    assert "# Mao's visit to Moscow\n\n1949-12-16/1950-02-17 · Moscow" in markdown
    assert "# The loan came second." in markdown
    assert "The treaty mattered to Mao." not in markdown


def test_too_many_quotations_are_refused_naming_the_selection(library, quote, alice, monkeypatch):
    monkeypatch.setattr(notes_document, "MAX_QUOTES", 0)
    with pytest.raises(ExportRequestError) as caught:
        document(alice, library=library.slug)
    assert caught.value.field == "selection"


def test_sources_without_annotations_give_an_empty_document(library, article, alice):
    doc = document(alice, sources=[article.pk])
    assert doc.sections == []
    assert doc.subtitle.startswith("0 quotations from 1 source")


def test_notes_file_names_say_what_they_hold(library, alice):
    assert notes_filename(select(alice, library=library.slug), "docx", today=TODAY) == (
        "notes-sino-soviet-relations-2024-05-01.docx"
    )


def test_unknown_format_is_refused(library, alice):
    with pytest.raises(ValueError, match="Accepted: markdown, pandoc, html, docx"):
        render_notes_document(document(alice, library=library.slug), "pdf")


def test_search_document_quotes_what_the_search_found(library, article, alice):
    from search import index as search_index

    search_index.connect()
    memoirs = make_source(library=library, title="Memoirs", csl_type="book", issued="1970")
    make_text(source=memoirs, text="Nothing here.\n\nWe spoke of the alliance for hours.")
    text = make_text(source=article, text=TEXT, page_map=PAGE_MAP)
    loan = make_annotation(
        text=text, creator=alice, quote="more than the loan", comment="alliance?"
    )
    make_annotation(text=text, creator=alice, quote="Memorandum")  # not found
    claim = make_claim(library=library, creator=alice, statement="The alliance came first.")
    make_evidence(claim=claim, annotation=loan, creator=alice)
    markdown = notes_markdown(document(alice, q="alliance"))
    sections = markdown.split("\n# ")[1:]
    assert sections[0].startswith("The alliance came first.")
    assert f"> more than the loan [@{article.citation_key}, p. 2]" in sections[0]
    assert any(s.startswith("The Sino-Soviet Alliance") and "*Comment by alice:* alliance?" in s
               for s in sections)  # fmt: skip
    assert f"> We spoke of the alliance for hours. [@{memoirs.citation_key}, para. 2]" in markdown
    assert "Nothing here." not in markdown  # only the paragraph that matched
    assert "> Memorandum" not in markdown
