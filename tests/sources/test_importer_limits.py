"""The limits on what a text revision may become (sources/importers.py): every format stops
at MAX_TEXT_CHARS; a PDF also at its per-page limits, its expansion over the file's size and
its time, as soon as one is passed (never after reading it all); HTML at MAX_HTML_ELEMENTS
and MAX_NESTING_DEPTH. Each refusal is a 413 (or 400) on the file field, naming the limit."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen import canvas

from core.uploads import UploadError
from sources import importers
from sources.importers import PdfBudget, extract_text
from tests.security import bombs
from tests.security.budgets import within


def refused(data: bytes, file_name: str) -> UploadError:
    with pytest.raises(UploadError) as info:
        extract_text(data, file_name=file_name)
    return info.value


def lines_pdf(pages: int, lines: int, width: int = 60) -> bytes:
    """`pages` pages of `lines` lines of `width` letters (reportlab, compressed as usual)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for _ in range(pages):
        for number in range(lines):
            pdf.drawString(20, 800 - 8 * number, "x" * width)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def pages_read(monkeypatch) -> list[int]:
    """The number of each page whose text was read to its end."""
    read: list[int] = []
    real = PdfBudget.end_page

    def end_page(budget: PdfBudget, text: str) -> str:
        read.append(budget.page)
        return real(budget, text)

    monkeypatch.setattr(PdfBudget, "end_page", end_page)
    return read


@pytest.fixture
def chars_seen(monkeypatch) -> list[int]:
    """How many characters pypdf had handed over when it stopped."""
    seen = [0]
    real = PdfBudget.saw_text

    def saw_text(budget: PdfBudget, text: str, *rest: object) -> None:
        seen[0] += len(text)
        real(budget, text, *rest)

    monkeypatch.setattr(PdfBudget, "saw_text", saw_text)
    return seen


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_pages_sharing_one_huge_content_stream_are_refused_before_any_text(pages_read):
    """The review's bomb: 27 KB, 40 pages drawing one stream of 4.8 million characters.
    Before: 192 million characters, 724 s, 8.4 GB."""
    with within(seconds=2, megabytes=64):
        error = refused(bombs.shared_stream_pdf(), "bomb.pdf")
    assert (error.status, error.field) == (413, "file")
    assert "page 1 inflates past the limit of 4 MB (MAX_PDF_PAGE_BYTES)" in error.message
    assert pages_read == []


def test_pdf_deflate_bomb_stops_in_the_decompressor():
    """4 KB whose one content stream inflates to 2 GB: pypdf's decompressor stops at the
    page limit, so no more than that is ever held."""
    data = bombs.deflate_bomb_pdf()
    with within(seconds=2, megabytes=64):
        error = refused(data, "deflate.pdf")
    assert error.status == 413
    assert "MAX_PDF_PAGE_BYTES" in error.message


def test_pdf_pages_each_within_the_limits_are_refused_once_they_inflate_together(pages_read):
    """100 pages of 84,000 characters each (under MAX_PDF_PAGE_CHARS) from one shared
    stream, in 17 KB: stopped by MAX_PDF_EXPANSION after a few pages, not after 100."""
    error = refused(bombs.small_pages_pdf(), "pages.pdf")
    assert error.status == 413
    assert "more than 20 times the file's size (MAX_PDF_EXPANSION)" in error.message
    assert 0 < len(pages_read) < 10


@pytest.mark.parametrize(
    ("text", "limit"), [(True, "MAX_PDF_PAGE_CHARS"), (False, "MAX_PDF_EXPANSION")]
)
def test_pdf_form_drawn_thousands_of_times_is_refused(text, limit):
    """pypdf extracts a form XObject again each time it is drawn: text stops at the page's
    limit, drawing operators at the expansion limit (they count too)."""
    with within(seconds=5, megabytes=64):
        error = refused(bombs.form_bomb_pdf(text=text), "forms.pdf")
    assert error.status == 413 and limit in error.message


def test_pdf_page_text_stops_as_soon_as_it_passes_the_page_limit(settings, chars_seen):
    settings.MAX_PDF_PAGE_CHARS = 1_000
    error = refused(lines_pdf(pages=1, lines=90), "dense.pdf")
    assert error.status == 413
    assert error.message == (
        "dense.pdf is too long to import: the text of page 1 passes the limit of 1,000 "
        "characters (MAX_PDF_PAGE_CHARS). Split it into several sources."
    )
    assert chars_seen[0] < 1_100  # of the page's 5,400: it stopped a line past the limit


def test_pdf_text_stops_at_the_page_that_passes_the_revision_limit(settings, pages_read):
    settings.MAX_TEXT_CHARS = 500
    error = refused(lines_pdf(pages=10, lines=2), "long.pdf")  # 120 characters a page
    assert error.status == 413
    assert "its text passes the limit of 500 characters (MAX_TEXT_CHARS)" in error.message
    assert pages_read == [1, 2, 3, 4]


def test_pdf_exactly_at_the_limit_is_read_whole(settings):
    settings.MAX_TEXT_CHARS = 10 * 121 + 9 * 2  # ten pages of two lines, blank lines between
    result = extract_text(lines_pdf(pages=10, lines=2), file_name="ok.pdf")
    assert len(result.text) == settings.MAX_TEXT_CHARS


def test_pdf_reading_stops_at_its_time_limit(settings):
    settings.PDF_READ_SECONDS = -1
    error = refused(lines_pdf(pages=1, lines=1), "slow.pdf")
    assert error.status == 413 and "(PDF_READ_SECONDS)" in error.message


def test_pdf_nested_past_the_recursion_limit_is_refused_as_damaged():
    with within(seconds=2, megabytes=64):
        error = refused(bombs.nested_pdf(), "nested.pdf")
    assert error.status == 400
    assert error.message.startswith("nested.pdf is damaged or not a PDF (page 1:")


# --- text, Markdown, HTML ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("long.txt", "word " * 300),
        ("long.md", "*word* " * 300),
        ("long.html", "<p>" + "word " * 300 + "</p>"),
    ],
)
def test_text_of_any_format_past_the_revision_limit_is_refused_with_413(settings, name, data):
    settings.MAX_TEXT_CHARS = 1_000
    error = refused(data.encode(), name)
    assert (error.status, error.field) == (413, "file")
    assert f"{name} is too long to import: its text passes the limit of 1,000 characters" in (
        error.message
    )


def test_html_with_a_long_attribute_but_short_text_is_within_the_limit(settings):
    settings.MAX_TEXT_CHARS = 1_000
    page = '<p title="' + "A" * 5_000 + '">Telegram text.</p>'
    assert extract_text(page.encode(), file_name="t.html").text == "Telegram text."


def test_html_with_too_many_elements_is_refused_before_it_is_parsed(settings, monkeypatch):
    settings.MAX_HTML_ELEMENTS = 100
    monkeypatch.setattr(importers, "BeautifulSoup", None)  # parsing would fail the test
    error = refused(b"<p>x</p>" * 101, "many.html")
    assert error.status == 413
    assert "more than 100 HTML elements (MAX_HTML_ELEMENTS)" in error.message


def test_html_nested_past_the_depth_limit_keeps_its_text_but_not_its_layout(settings):
    settings.MAX_NESTING_DEPTH = 50
    result = extract_text(("<div>" * 60 + "deep text").encode(), file_name="deep.html")
    assert (result.text, result.html) == ("deep text", "")
    shallow = extract_text(("<div>" * 40 + "deep text").encode(), file_name="ok.html")
    assert shallow.html.count("<div>") == 40


@pytest.mark.parametrize(
    "markdown", ["> " * 1_000 + "deep", "\n".join("> " * n + "line" for n in range(1_000))]
)
def test_markdown_nested_past_the_depth_limit_is_refused_on_the_file(markdown):
    """Before: a RecursionError (500)."""
    error = refused(markdown.encode(), "deep.md")
    assert (error.status, error.field) == (400, "file")
    assert error.message.startswith("deep.md cannot be read: it nests elements more than 200")
