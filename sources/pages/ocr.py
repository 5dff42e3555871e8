"""Scans read by OCR: Tesseract, through pytesseract's `image_to_data` (words, their boxes
and confidences), one page at a time, in a background job with its progress.

A scan is a PDF without a text layer (its pages rendered by PDFium at 300 dpi) or page
images (TIFF, JPEG, PNG; a multi-page TIFF is several pages; several files are one source's
pages, in order). Every page is bounded before it is decoded (MAX_PAGE_PIXELS) and a scan
has at most OCR_MAX_PAGES pages. The text is built from Tesseract's words: a space between
words, a line break between lines, a blank line between paragraphs and between pages;
each word keeps its box and confidence. The languages are Tesseract's codes (`rus+eng`),
by default from the source's language and original language (`languages_for`).
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import shutil
import statistics
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import pytesseract
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from core.uploads import UploadError
from sources import importers
from sources.pages import pdf
from sources.pages.layout import Layout, PageLayout, Word
from sources.pages.models import BOX_UNITS, ReadingMethod

OCR_DPI = 300  # what Tesseract reads typed pages best at
PAGE_SECONDS = 300  # one page, however dense, or Tesseract is stopped
IMAGE_FORMATS = ("TIFF", "JPEG", "PNG")  # Pillow opens only these (it knows riskier ones)
# BCP 47 language → Tesseract's traineddata. Chinese by script: Traditional for Hant and the
# regions that write it, Simplified otherwise.
TESSERACT_LANGUAGES = {
    "en": "eng", "ru": "rus", "de": "deu", "fr": "fra", "uk": "ukr", "be": "bel",
    "pl": "pol", "cs": "ces", "es": "spa", "it": "ita", "ja": "jpn", "ko": "kor",
    "vi": "vie", "hu": "hun", "ro": "ron", "bg": "bul", "sr": "srp",
}  # fmt: skip
TRADITIONAL = re.compile(r"^zh[-_](?:hant|tw|hk|mo)\b", re.IGNORECASE)
INSTALL = (
    "An administrator installs it with `apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-rus tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-deu "
    "tesseract-ocr-fra` (or points TESSERACT_CMD to it)."
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ScanPage:
    """A page to read: its image (grayscale), its size in points, where it comes from."""

    original: int
    page: int
    label: str
    image: Image.Image
    width: float
    height: float


# --- Tesseract here ----------------------------------------------------------------------


def tesseract_cmd() -> str | None:
    return shutil.which(settings.TESSERACT_CMD)


@functools.cache
def _installed(cmd: str) -> tuple[str, frozenset[str]]:
    pytesseract.pytesseract.tesseract_cmd = cmd
    version = str(pytesseract.get_tesseract_version())
    return version, frozenset(pytesseract.get_languages(config=""))


def engine() -> str:
    """ "Tesseract 5.3.0"."""
    return f"Tesseract {_installed(_require_cmd())[0]}"


def installed_languages() -> frozenset[str]:
    cmd = tesseract_cmd()
    return _installed(cmd)[1] - {"osd"} if cmd else frozenset()


def unavailable(languages: tuple[str, ...] = ()) -> str:
    """Why OCR cannot read these languages here; "" when it can."""
    cmd = tesseract_cmd()
    if cmd is None:
        return f"OCR is not available on this server: Tesseract is not installed. {INSTALL}"
    missing = [code for code in languages if code not in installed_languages()]
    if missing:
        packages = " ".join(f"tesseract-ocr-{code.replace('_', '-')}" for code in missing)
        return (
            f"Tesseract here cannot read {', '.join(missing)}: an administrator installs "
            f"`{packages}`."
        )
    return ""


def _require_cmd() -> str:
    cmd = tesseract_cmd()
    if cmd is None:
        raise UploadError(unavailable())
    return cmd


def languages_for(source) -> tuple[str, ...]:
    """Tesseract's languages for a source: its language, then its original language,
    those installed here; English when neither says (or neither is installed)."""
    found = []
    for tag in (source.language, source.original_language):
        code = tesseract_language(tag or "")
        if code and code not in found and code in installed_languages():
            found.append(code)
    return tuple(found) or ("eng",)


def tesseract_language(tag: str) -> str:
    tag = tag.strip()
    if tag.lower().startswith("zh"):
        return "chi_tra" if TRADITIONAL.match(tag) else "chi_sim"
    return TESSERACT_LANGUAGES.get(tag.split("-")[0].split("_")[0].lower(), "")


# --- Reading a scan -------------------------------------------------------------------------


def read_scan(originals: list[importers.Original], request: importers.OcrRequest):
    """The scan's text, page map and pages with their words (`ExtractedText`)."""
    languages = request.languages or languages_for(request.source)
    if why := unavailable(languages):
        raise UploadError(why, field="languages")
    total = sum(_page_count(original) for original in originals)
    if total > settings.OCR_MAX_PAGES:
        raise UploadError(
            f"The scan has {total} pages; OCR reads at most {settings.OCR_MAX_PAGES} at a "
            "time (OCR_MAX_PAGES). Split it into several sources.",
            status=413,
        )
    progress = request.progress
    if progress is not None:
        progress.start(total, f"Reading {total} pages by OCR ({'+'.join(languages)})")
    texts, labels, layouts = [], [], []
    for number, scan in enumerate(_pages(originals), start=1):
        text, layout = read_page(scan, languages)
        texts.append(text)
        labels.append(scan.label)
        layouts.append(layout)
        if progress is not None:
            progress.advance(number, f"Read page {number} of {total} by OCR")
    return _extracted(originals, texts, labels, layouts, languages)


def _extracted(originals, texts, labels, layouts, languages):
    text, page_map = importers.join_pages(texts, labels)
    name = originals[0].name
    if not text.strip():
        raise UploadError(f"OCR found no text in {name}.")
    if len(text) > settings.MAX_TEXT_CHARS:
        raise UploadError(
            f"{name} is too long to import: its text passes the limit of "
            f"{settings.MAX_TEXT_CHARS:,} characters (MAX_TEXT_CHARS).",
            status=413,
        )
    confidences = [word[6] for page in layouts for word in page.words]
    reading = Layout(
        pages=layouts,
        method=ReadingMethod.OCR,
        engine=engine(),
        languages="+".join(languages),
        confidence=round(statistics.fmean(confidences), 1) if confidences else None,
    )
    return importers.ExtractedText(
        text=text,
        page_map=page_map,
        media_type=importers.media_type_for(name),
        layout=reading,
        origin=reading.describe(),
    )


def read_page(scan: ScanPage, languages: tuple[str, ...]) -> tuple[str, PageLayout]:
    """One page's text and words, as Tesseract reads them."""
    pytesseract.pytesseract.tesseract_cmd = _require_cmd()
    # Tesseract on one thread unless the administrator says otherwise: its OpenMP threads
    # made a page three to four times slower on a busy two-core machine (bench/ocr.py), and
    # pages are read in parallel by running more jobs. pytesseract passes os.environ on.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        data = pytesseract.image_to_data(
            scan.image,
            lang="+".join(languages),
            output_type=pytesseract.Output.DICT,
            timeout=PAGE_SECONDS,
        )
    except RuntimeError as error:  # pytesseract's timeout
        raise UploadError(f"OCR of page {scan.label} stopped: {error}.") from None
    text, words = _words(data, scan.image.size)
    layout = PageLayout(
        original=scan.original,
        page=scan.page,
        width=scan.width,
        height=scan.height,
        length=len(text),
        words=words,
        confidence=round(statistics.fmean(w[6] for w in words), 1) if words else None,
    )
    return text, layout


def _words(data: dict, size: tuple[int, int]) -> tuple[str, list[Word]]:
    """The page's text from Tesseract's words, and each word's offsets, box, confidence."""
    text, words = "", []
    last_block = last_line = None
    for i, level in enumerate(data["level"]):
        word = _clean(str(data["text"][i]))
        confidence = float(data["conf"][i])
        if level != 5 or not word or confidence < 0:
            continue
        block = (data["block_num"][i], data["par_num"][i])
        line = (*block, data["line_num"][i])
        if text:
            text += "\n\n" if block != last_block else "\n" if line != last_line else " "
        last_block, last_line = block, line
        left, top = data["left"][i], data["top"][i]
        box = (left, top, left + data["width"][i], top + data["height"][i])
        words.append((len(text), len(text) + len(word), *_units(box, size), round(confidence)))
        text += word
    return text, words


def _clean(word: str) -> str:
    return _CONTROLS.sub("", unicodedata.normalize("NFC", word)).strip()


def _units(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, ...]:
    width, height = size
    scale = (width, height, width, height)
    return tuple(
        max(0, min(BOX_UNITS, round(v * BOX_UNITS / s))) for v, s in zip(box, scale, strict=True)
    )


# --- The pages of a scan ----------------------------------------------------------------------


def _page_count(original: importers.Original) -> int:
    if importers.media_type_for(original.name) == "application/pdf":
        pdf.check_images(original.data, original.name)
        with pdf.opened(original.data, original.name) as document:
            return len(document)
    with _open_image(original) as image:
        return getattr(image, "n_frames", 1)


def _pages(originals: list[importers.Original]) -> Iterator[ScanPage]:
    number = 0
    for position, original in enumerate(originals):
        if importers.media_type_for(original.name) == "application/pdf":
            found = _pdf_pages(position, original)
        else:
            found = _image_pages(position, original)
        for scan in found:
            number += 1
            yield scan if scan.label else _labelled(scan, str(number))


def _labelled(scan: ScanPage, label: str) -> ScanPage:
    return ScanPage(scan.original, scan.page, label, scan.image, scan.width, scan.height)


def _pdf_pages(position: int, original: importers.Original) -> Iterator[ScanPage]:
    """Each page rendered in grayscale at OCR_DPI (less for a page past MAX_PAGE_PIXELS);
    PDFium's lock held only while rendering, not while Tesseract reads."""
    key = f"ocr:{id(original)}"
    with pdf.document(key, lambda: original.data) as document:
        count = len(document)
    labels = importers.pdf_page_labels(original.data, count)
    for index in range(count):
        with pdf.document(key, lambda: original.data) as document:
            page = document[index]
            width, height = page.get_size()
            scale = min(OCR_DPI / 72, math.sqrt(settings.MAX_PAGE_PIXELS / (width * height)))
            image = page.render(scale=scale, grayscale=True).to_pil()
        yield ScanPage(position, index, labels[index], image, width, height)
    pdf.forget(key)


def _image_pages(position: int, original: importers.Original) -> Iterator[ScanPage]:
    with _open_image(original) as image:
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            check_pixels(image, original.name, frame)
            dpi = _dpi(image)
            width, height = image.size
            page = image.convert("L")
            yield ScanPage(position, frame, "", page, width * 72 / dpi, height * 72 / dpi)


def _open_image(original: importers.Original) -> Image.Image:
    return open_image(original.name, original.data)


def open_image(name: str, data: bytes) -> Image.Image:
    """A TIFF, JPEG or PNG image, its size checked (its pixels not decoded yet)."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (UnidentifiedImageError, OSError, ValueError):
        raise UploadError(f"{name} is not an image we can read (TIFF, JPEG or PNG).") from None
    check_pixels(image, name, 0)
    return image


def check_pixels(image: Image.Image, name: str, frame: int) -> None:
    width, height = image.size
    if width * height > settings.MAX_PAGE_PIXELS:
        where = f" (page {frame + 1})" if frame else ""
        raise UploadError(
            f"{name}{where} is too large to read: {width}×{height} pixels pass the limit of "
            f"{settings.MAX_PAGE_PIXELS:,} (MAX_PAGE_PIXELS).",
            status=413,
        )


def _dpi(image: Image.Image) -> float:
    """The resolution the image says it was scanned at; 300 when it says none (or an
    implausible one: many programs write 1 or 72 whatever the scan)."""
    dpi = image.info.get("dpi", (0, 0))[0] or 0
    try:
        dpi = float(dpi)
    except (TypeError, ValueError):
        dpi = 0
    return dpi if 100 <= dpi <= 2400 else 300
