"""Documents for the page-view and OCR tests, made here: text-layer PDFs (reportlab) and
typed pages rendered to images (Pillow) with a stamp, a slight skew and photocopy specks,
assembled into image-only PDFs, multi-page TIFFs and separate images.

The texts are real (tests/data/scans/README.md): the Roshchin record's Russian and Truman's
address of 12 March 1947; the typeface is DejaVu Sans Mono (tests/data/scans/), a
typewriter's fixed pitch.
"""

from __future__ import annotations

import io
import math
import random
import textwrap
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rapidfuzz.distance import Levenshtein
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

DATA = Path(__file__).resolve().parents[2] / "data"
FONT = DATA / "scans" / "DejaVuSansMono.ttf"
DPI = 300
A4 = (2480, 3508)  # pixels at 300 dpi
MARGIN = 250


def russian_text() -> str:
    return (DATA / "texts" / "roshchin-mao-1950.utf8.txt").read_text("utf-8").strip()


def english_text() -> str:
    return (DATA / "scans" / "truman-1947-03-12.en.txt").read_text("utf-8").strip()


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


# --- Text-layer PDFs -------------------------------------------------------------------


@cache
def _pdf_font() -> str:
    pdfmetrics.registerFont(TTFont("TypewriterMono", str(FONT)))
    return "TypewriterMono"


def text_pdf(
    pages: list[list[str]], *, rotate: int = 0, labels: bool = False, top: int = 760
) -> bytes:
    """A text-layer PDF: one page per item, each line drawn at 12 pt from the left margin
    (72 pt), the first on the baseline `top`, 16 pt apart; `rotate` sets each page's
    /Rotate (reportlab swaps its media box's sides, so a rotated page shows upright)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    if labels:
        pdf.addPageLabel(0, style="ROMAN_LOWER")
        pdf.addPageLabel(1, style="ARABIC", start=1)
    for lines in pages:
        pdf.setFont(_pdf_font(), 12)
        if rotate:
            pdf.setPageRotation(rotate)
        for number, line in enumerate(lines):
            pdf.drawString(72, top - 16 * number, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def wrapped(text: str, width: int = 70) -> list[str]:
    """The text's paragraphs as typed lines, a blank line between paragraphs."""
    lines: list[str] = []
    for paragraph in paragraphs(text):
        if lines:
            lines.append("")
        lines += textwrap.wrap(paragraph, width)
    return lines


# --- Typed pages, scanned ----------------------------------------------------------------


@cache
def typed_page(text: str, *, seed: int = 1950, stamp: bool = True) -> Image.Image:
    """A typed A4 page at 300 dpi: 12 pt fixed-pitch lines, a round stamp over the bottom
    right corner, a skew of a fraction of a degree and specks of toner, in grayscale."""
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 50)  # 12 pt at 300 dpi
    y = MARGIN
    for line in wrapped(text, 66):
        draw.text((MARGIN, y), line, font=font, fill=20)
        y += 75
    if stamp:
        _stamp(draw, (A4[0] - 700, A4[1] - 800))
    rng = random.Random(seed)
    for _ in range(400):  # toner specks
        x, y = rng.randrange(A4[0]), rng.randrange(A4[1])
        draw.point((x, y), fill=rng.randrange(60, 160))
    page = page.rotate(rng.uniform(-0.4, 0.4), resample=Image.Resampling.BICUBIC, fillcolor=255)
    return page.filter(ImageFilter.GaussianBlur(0.6))


def _stamp(draw: ImageDraw.ImageDraw, at: tuple[int, int]) -> None:
    """A round office stamp: two rings and a five-pointed star, in a lighter ink."""
    x, y = at
    draw.ellipse((x, y, x + 460, y + 460), outline=120, width=10)
    draw.ellipse((x + 45, y + 45, x + 415, y + 415), outline=120, width=5)
    cx, cy, outer, inner = x + 230, y + 230, 120, 48
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
    draw.polygon(points, fill=140)


def image_only_pdf(images: list[Image.Image]) -> bytes:
    """The pages as a scanner's PDF: one image a page, no text layer."""
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return buffer.getvalue()


def image_file(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, dpi=(DPI, DPI))
    return buffer.getvalue()


def multipage_tiff(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        "TIFF",
        save_all=True,
        append_images=images[1:],
        compression="group4" if images[0].mode == "1" else "tiff_lzw",
        dpi=(DPI, DPI),
    )
    return buffer.getvalue()


def character_accuracy(expected: str, read: str) -> float:
    """1 − (edit distance / length) of the two texts, white space collapsed (line breaks
    and paragraph spacing are layout, not characters OCR may get wrong)."""
    want, got = " ".join(expected.split()), " ".join(read.split())
    return 1 - Levenshtein.distance(want, got) / len(want)
