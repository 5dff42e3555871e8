"""Page images: a page of a PDF rendered by PDFium, or a page image of a scan scaled by
Pillow, as JPEG, at one of a few widths (`WIDTHS`: a screen's and twice it for
high-density displays; the page view's `srcset` lets the browser choose).

Rendered images are cached on disk (PAGE_CACHE_DIR), at most PAGE_CACHE_ENTRIES of them
(Django's file cache drops a third when full), keyed by the file's row and checksum, the
page and the width: the row too, because checksums come from restored archives as well,
and a forged one must not fetch another library's page from the cache.
"""

from __future__ import annotations

import functools
import io
import math
import re

from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from PIL import Image

from sources.pages import ocr, pdf
from sources.pages.models import OriginalFile, Page

WIDTHS = (400, 800, 1200, 1600, 2400)
DEFAULT_WIDTH = 1200
QUALITY = 80
CACHE_SECONDS = 30 * 24 * 3600
MAX_CROP_WIDTH = 1200  # a region's picture: its width in pixels, at most
DEFAULT_CROP_WIDTH = 480
_XYWH = re.compile(r"^percent:([^,]+),([^,]+),([^,]+),([^,]+)$")


@functools.cache
def _cache(location: str, entries: int) -> FileBasedCache:
    return FileBasedCache(location, {"TIMEOUT": CACHE_SECONDS, "OPTIONS": {"MAX_ENTRIES": entries}})


def page_cache() -> FileBasedCache:
    return _cache(settings.PAGE_CACHE_DIR, settings.PAGE_CACHE_ENTRIES)


def cache_key(original: OriginalFile, page: int, width: int) -> str:
    return f"page:{original.pk}:{original.sha256}:{page}:{width}"


def page_image(page: Page, width: int) -> bytes:
    """The page as a JPEG `width` pixels wide (at most the scan's own width), cached."""
    original = page.original
    key = cache_key(original, page.original_page, width)
    cache = page_cache()
    image = cache.get(key)
    if image is None:
        image = render(original, page.original_page, width)
        cache.set(key, image)
    return image


def render(original: OriginalFile, index: int, width: int) -> bytes:
    if original.media_type == "application/pdf":
        image = _pdf_page(original, index, width)
    else:
        image = _image_page(original, index, width)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY)
    return buffer.getvalue()


def _data(original: OriginalFile) -> bytes:
    return bytes(OriginalFile.objects.filter(pk=original.pk).values_list("data", flat=True)[0])


def _pdf_page(original: OriginalFile, index: int, width: int) -> Image.Image:
    key = f"{original.pk}:{original.sha256}"
    with pdf.document(key, lambda: _data(original)) as document:
        page = document[index]
        scale = width / page.get_width()
        return page.render(scale=scale, may_draw_forms=False).to_pil()


def _image_page(original: OriginalFile, index: int, width: int) -> Image.Image:
    source = ocr.open_image(original.name, _data(original))
    source.seek(index)
    ocr.check_pixels(source, original.name, index)
    height = round(source.height * width / source.width)
    if width >= source.width:
        return source.convert("RGB") if source.mode not in ("L", "RGB") else source.copy()
    source.draft("RGB" if source.mode != "L" else "L", (width, height))  # JPEG: decode smaller
    scaled = source.convert("RGB" if source.mode not in ("L",) else "L")
    return scaled.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def parse_xywh(value: str) -> tuple[float, float, float, float]:
    """`percent:x,y,w,h` (W3C Media Fragments' spatial dimension, in percent) as numbers,
    the rectangle on the page and not empty; ValueError saying what is wrong otherwise."""
    match = _XYWH.match(value.strip())
    if not match:
        raise ValueError("Give xywh=percent:x,y,w,h (percent of the page).")
    try:
        x, y, w, h = (float(group) for group in match.groups())
    except ValueError:
        raise ValueError("x, y, w and h must be numbers (percent of the page).") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError("x, y, w and h must be numbers (percent of the page).")
    if not (0 <= x < 100 and 0 <= y < 100 and w > 0 and h > 0):
        raise ValueError("x and y must be from 0 to below 100, w and h above 0.")
    if x + w > 100.001 or y + h > 100.001:
        raise ValueError("The region must lie on the page (x + w and y + h at most 100).")
    return x, y, min(w, 100 - x), min(h, 100 - y)


def crop_width(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_CROP_WIDTH
    if not value.isdigit() or not 16 <= int(value) <= MAX_CROP_WIDTH:
        raise ValueError(f"width must be a whole number of pixels from 16 to {MAX_CROP_WIDTH}.")
    return int(value)


def crop(page: Page, region: tuple[float, float, float, float], width: int) -> bytes:
    """The region of the page as a PNG about `width` pixels wide: cut from the cached page
    image of the least width that gives it that many pixels (at most the largest), so that
    a small region of a large page is sharp and a large one costs no more than the page."""
    x, y, w, h = region
    wanted = width * 100 / w
    page_width = next((size for size in WIDTHS if size >= wanted), WIDTHS[-1])
    with Image.open(io.BytesIO(page_image(page, page_width))) as image:
        image.load()
        box = (
            math.floor(x / 100 * image.width),
            math.floor(y / 100 * image.height),
            max(math.ceil((x + w) / 100 * image.width), math.floor(x / 100 * image.width) + 1),
            max(math.ceil((y + h) / 100 * image.height), math.floor(y / 100 * image.height) + 1),
        )
        part = image.crop(box)
    if part.width > width:
        height = max(1, round(part.height * width / part.width))
        part = part.resize((width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    part.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
