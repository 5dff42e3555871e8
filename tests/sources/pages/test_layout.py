"""A text-layer PDF keeps its file and its pages, and every word its box on the page."""

from __future__ import annotations

import hashlib
import io
from types import SimpleNamespace

import pypdfium2
import pytest
from PIL import Image

from core.uploads import UploadError
from sources.importers import Original, extract_text
from sources.pages import layout
from sources.pages.models import BOX_UNITS, OriginalFile, Page, Reading, ReadingMethod
from tests.sources.pages.conftest import import_pdf
from tests.sources.pages.scans import english_text, russian_text, text_pdf, wrapped

pytestmark = pytest.mark.django_db


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box of the dark pixels of an image (text on white), or None."""
    return Image.eval(image.convert("L"), lambda v: 255 if v < 128 else 0).getbbox()


def rendered(data: bytes, index: int, scale: float = 2.0) -> Image.Image:
    document = pypdfium2.PdfDocument(data)
    try:
        return document[index].render(scale=scale).to_pil()
    finally:
        document.close()


def test_a_pdf_revision_keeps_its_file_and_checksum(source, alice):
    data = text_pdf([wrapped(english_text())])
    revision = import_pdf(source, alice, data, "truman.pdf")
    original = OriginalFile.objects.get(text=revision)
    assert (original.name, original.media_type, original.size) == (
        "truman.pdf",
        "application/pdf",
        len(data),
    )
    assert bytes(original.data) == data
    assert original.sha256 == hashlib.sha256(data).hexdigest()
    assert original.verify()
    reading = Reading.objects.get(text=revision)
    assert reading.method == ReadingMethod.TEXT_LAYER
    assert reading.describe() == "the PDF's text layer"


def test_each_page_has_its_label_and_its_range_of_the_text(source, alice):
    pages = [["Preface"], ["Chapter one", "Mao arrived."], ["More of chapter one"]]
    revision = import_pdf(source, alice, text_pdf(pages, labels=True))
    rows = list(Page.objects.filter(text=revision))
    assert [row.label for row in rows] == ["i", "1", "2"]
    assert [label for _, label in revision.page_map] == ["i", "1", "2"]
    assert [revision.text[row.start : row.end] for row in rows] == [
        "Preface",
        "Chapter one\nMao arrived.",
        "More of chapter one",
    ]
    assert all(row.width == pytest.approx(595.28, abs=0.1) for row in rows)


def test_every_word_has_a_box_around_its_ink(source, alice):
    """Each word's box, drawn on the rendered page, holds the ink of that word: the page
    rendered with only that word's box left white holds no other ink than in the boxes."""
    lines = wrapped(russian_text())[:12]
    data = text_pdf([lines])
    revision = import_pdf(source, alice, data)
    page = Page.objects.get(text=revision)
    words = list(layout.WORD.finditer(revision.text))
    assert [revision.text[w[0] : w[1]] for w in page.words] == [w.group() for w in words]
    image = rendered(data, 0)
    width, height = image.size
    for start, end, left, top, right, bottom in page.words:
        crop = image.crop(
            (left * width // BOX_UNITS, top * height // BOX_UNITS,
             -(-right * width // BOX_UNITS), -(-bottom * height // BOX_UNITS))
        )  # fmt: skip
        assert ink_box(crop) is not None, revision.text[start:end]
    blanked = image.copy()
    for _, _, left, top, right, bottom in page.words:
        box = (left * width // BOX_UNITS, top * height // BOX_UNITS,
               -(-right * width // BOX_UNITS), -(-bottom * height // BOX_UNITS))  # fmt: skip
        blanked.paste((255, 255, 255), box)
    assert ink_box(blanked) is None


def test_the_first_word_stands_where_it_was_drawn(source, alice):
    """reportlab drew the line at x = 72 pt, baseline 760 pt of an A4 page (842 pt high):
    12 pt type reaches about 9 pt above the baseline and 3 pt below."""
    revision = import_pdf(source, alice, text_pdf([["The gravity of the situation"]]))
    start, end, left, top, right, bottom = Page.objects.get(text=revision).words[0]
    assert revision.text[start:end] == "The"
    points = (left * 595.28 / BOX_UNITS, top * 841.89 / BOX_UNITS, bottom * 841.89 / BOX_UNITS)
    assert points[0] == pytest.approx(72, abs=1)
    assert points[1] == pytest.approx(842 - 760 - 11.5, abs=2.5)
    assert points[2] == pytest.approx(842 - 760 + 3, abs=2.5)
    assert (right - left) * 595.28 / BOX_UNITS == pytest.approx(3 * 7.22, abs=1.5)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_boxes_follow_a_rotated_page(source, alice, rotate):
    data = text_pdf([["Rotated page text", "and a second line"]], rotate=rotate, top=500)
    revision = import_pdf(source, alice, data)
    page = Page.objects.get(text=revision)
    image = rendered(data, 0)
    assert page.width / page.height == pytest.approx(image.width / image.height, rel=0.01)
    width, height = image.size
    blanked = image.copy()
    for _, _, left, top, right, bottom in page.words:
        blanked.paste(
            (255, 255, 255),
            (left * width // BOX_UNITS - 1, top * height // BOX_UNITS - 1,
             -(-right * width // BOX_UNITS) + 1, -(-bottom * height // BOX_UNITS) + 1),
        )  # fmt: skip
    assert ink_box(image) is not None
    assert ink_box(blanked) is None


def test_a_ligature_and_different_white_space_still_align():
    text = "The ﬁnance  office\nof   Greece"
    found = layout.align(text, "The finance office\r\nof Greece")
    assert found[text.index("ﬁ")] == 4
    assert found[text.index("office")] == "The finance office".index("office")
    assert found[text.index("Greece")] == "The finance office\r\nof G".index("G")
    assert found[3] == -1  # a space has no character of its own


def test_composed_and_decomposed_letters_align():
    composed = "Résumé й"
    decomposed = "Re\u0301sume\u0301 и\u0306"
    found = layout.align(composed, decomposed)
    assert found[1] == 1 and found[5] == 6 and found[7] == 9


def test_lines_read_in_another_order_still_align():
    pypdf, pdfium = "Rotated text\nsecond line", "second line\r\nRotated text"
    found = layout.align(pypdf, pdfium)
    assert found[0] == pdfium.index("Rotated")
    assert found[pypdf.index("second")] == 0


def test_a_word_the_other_reading_lacks_gets_no_character():
    found = layout.align("Mao said yes", "Mao yes")
    assert found[4:8] == [-1, -1, -1, -1]
    assert found[9] == 4


def test_page_spans_follow_the_page_map_with_empty_pages():
    text = "First\n\nThird"
    assert layout.page_spans(text, [[0, "1"], [7, "2"], [7, "3"]]) == [(0, 5), (7, 7), (7, 12)]
    assert layout.page_spans("A", [[0, "1"], [3, "2"]]) == [(0, 1), (1, 1)]


def test_finding_the_words_is_held_to_the_pdf_time_limit(monkeypatch):
    """A clock that jumps a minute a reading: past PDF_READ_SECONDS at the first page."""
    data = text_pdf([["one"], ["two"]])
    extracted = extract_text(data, file_name="slow.pdf")
    clock = iter([0.0, 61.0, 122.0, 183.0])
    monkeypatch.setattr(layout, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    with pytest.raises(UploadError) as error:
        layout.pdf_layout(Original("slow.pdf", data), extracted)
    assert error.value.status == 413
    assert "(PDF_READ_SECONDS)" in error.value.message


def test_a_page_drawing_an_image_past_the_pixel_limit_is_refused(source, alice, settings):
    from sources.models import SourceText

    settings.MAX_PAGE_PIXELS = 1000
    revisions = SourceText.objects.count()
    mixed = io.BytesIO()
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(mixed)
    pdf.drawString(72, 720, "A caption under a photograph")
    pdf.drawImage(ImageReader(Image.new("L", (100, 100), 128)), 72, 400)
    pdf.showPage()
    pdf.save()
    with pytest.raises(UploadError) as error:
        import_pdf(source, alice, mixed.getvalue())
    assert error.value.status == 413
    assert "(MAX_PAGE_PIXELS)" in error.value.message
    assert SourceText.objects.count() == revisions


def test_a_citation_uses_the_pdfs_own_page_label(source, alice):
    from citations.passages import passage_locator

    pages = [["Preface by the editors"], ["Chapter one", "Mao arrived."]]
    revision = import_pdf(source, alice, text_pdf(pages, labels=True))
    start = revision.text.index("editors")
    locator = passage_locator(revision, start, start + 7, archival=False)
    assert (locator.value, locator.label) == ("i", "page")
    start = revision.text.index("Mao")
    assert passage_locator(revision, start, start + 3, archival=False).value == "1"
