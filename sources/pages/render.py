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

from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from PIL import Image

from sources.pages import ocr, pdf
from sources.pages.models import OriginalFile, Page

WIDTHS = (400, 800, 1200, 1600, 2400)
DEFAULT_WIDTH = 1200
QUALITY = 80
CACHE_SECONDS = 30 * 24 * 3600


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
