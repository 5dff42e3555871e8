"""PDFium (pypdfium2), held to what a request may spend.

PDFium is not thread-safe: every call into it holds `PDFIUM` (gunicorn runs threads).
Documents are opened from bytes; a process keeps the few it used last open (`document`),
so that the pages of one PDF rendered one after another read it from the database once.

A PDF reaches PDFium only after `sources.importers` read its text within its limits (a
content stream's size, its expansion, its time); what those limits do not see is the
images a page draws, which PDFium would decode whole: `check_images` refuses a page whose
images hold more than MAX_PAGE_PIXELS before anything decodes them.
"""

from __future__ import annotations

import ctypes
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings
from pypdf import PdfReader

from core.uploads import UploadError

PDFIUM = threading.RLock()
OPEN_DOCUMENTS = 4  # per process: at most this many times MAX_UPLOAD_BYTES held
_open: OrderedDict[str, pdfium.PdfDocument] = OrderedDict()


@contextmanager
def opened(data: bytes, name: str) -> Iterator[pdfium.PdfDocument]:
    """The PDF open in PDFium, the lock held; UploadError if PDFium cannot read it."""
    with PDFIUM:
        document = _load(data, name)
        try:
            yield document
        finally:
            document.close()


@contextmanager
def document(key: str, load: Callable[[], bytes]) -> Iterator[pdfium.PdfDocument]:
    """A PDF kept open for the next pages asked of it (`key`: its file's row and checksum);
    `load()` gives its bytes the first time. The lock is held while it is used."""
    with PDFIUM:
        found = _open.pop(key, None)
        if found is None:
            found = _load(load(), key)
            while len(_open) >= OPEN_DOCUMENTS:
                _open.popitem(last=False)[1].close()
        _open[key] = found
        yield found


def forget(key: str) -> None:
    """Close a document kept open, done with."""
    with PDFIUM:
        found = _open.pop(key, None)
        if found is not None:
            found.close()


def forget_documents() -> None:
    """Close every document kept open (tests, and a worker that wants its memory back)."""
    with PDFIUM:
        while _open:
            _open.popitem()[1].close()


def _load(data: bytes, name: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise UploadError(f"{name} cannot be shown as pages ({error}).") from None


def to_fractions(page: pdfium.PdfPage) -> tuple[float, ...]:
    """(a, b, c, d, e, f): a point (x, y) of the page's own space is at (a·x + c·y + e,
    b·x + d·y + f) in fractions of the page as it is shown (its crop box, its rotation),
    from the top-left corner; PDFium's own mapping (`FPDF_PageToDevice`), so that boxes
    fall where rendering draws."""
    scale = 1_000_000
    corner = _device(page, 0, 0, scale)
    across = _device(page, 1000, 0, scale)
    down = _device(page, 0, 1000, scale)
    a, b = ((across[0] - corner[0]) / 1000 / scale, (across[1] - corner[1]) / 1000 / scale)
    c, d = ((down[0] - corner[0]) / 1000 / scale, (down[1] - corner[1]) / 1000 / scale)
    return a, b, c, d, corner[0] / scale, corner[1] / scale


def _device(page: pdfium.PdfPage, x: float, y: float, scale: int) -> tuple[int, int]:
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, scale, scale, 0, x, y, dx, dy)
    return dx.value, dy.value


def check_images(data: bytes, name: str) -> None:
    """Refuse (413) a PDF a page of which draws images of more than MAX_PAGE_PIXELS in all,
    read from their dictionaries (nothing decoded): PDFium would decode each whole."""
    limit = settings.MAX_PAGE_PIXELS
    try:
        pages = PdfReader(io.BytesIO(data)).pages
        counts = (_pixels(page.get("/Resources") or {}, depth=0) for page in pages)
        number = next((n for n, pixels in enumerate(counts, 1) if pixels > limit), None)
    except Exception as error:  # as sources.importers: any exception means a damaged file
        raise UploadError(f"{name} is damaged ({str(error)[:200]}).") from None
    if number is not None:
        raise UploadError(
            f"{name} is too large to show: the images of page {number} hold more than "
            f"{limit:,} pixels (MAX_PAGE_PIXELS).",
            status=413,
        )


def _pixels(resources, *, depth: int) -> int:
    """Pixels of the images in these resources, forms' images included (a few levels)."""
    total = 0
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image":
            total += int(xobject.get("/Width") or 0) * int(xobject.get("/Height") or 0)
        elif xobject.get("/Subtype") == "/Form" and depth < 4:
            total += _pixels(xobject.get("/Resources") or {}, depth=depth + 1)
    return total
