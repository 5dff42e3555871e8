"""Hostile files, built here (none is downloaded), for the budget and importer tests: PDFs
whose text inflates far past their size, a deflate bomb, deep nesting.

    shared_stream_pdf()   16 KB: 40 pages drawing one content stream of 4.8 million characters
                          (the review's file: 192 million characters of text)
    deflate_bomb_pdf()    4 KB: one page whose content inflates to 2 GB (two Flate layers)
    small_pages_pdf()     17 KB: 100 pages each within the per-page limits, drawing one stream
    form_bomb_pdf()       12 KB: one page drawing a form XObject 1,500 times
    nested_pdf()          a content stream of arrays nested 100,000 deep
"""

from __future__ import annotations

import functools
import io
import zlib

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    RectangleObject,
    StreamObject,
)


def _name(value: str) -> NameObject:
    return NameObject(value)


def _font() -> DictionaryObject:
    return DictionaryObject(
        {
            _name("/Type"): _name("/Font"),
            _name("/Subtype"): _name("/Type1"),
            _name("/BaseFont"): _name("/Helvetica"),
        }
    )


def _stream(data: bytes, *, layers: int = 1, extra: dict | None = None) -> StreamObject:
    """A stream holding `data` already compressed `layers` times with FlateDecode."""
    stream = StreamObject()
    stream._data = data
    flate = _name("/FlateDecode")
    stream[_name("/Filter")] = ArrayObject([flate] * layers) if layers > 1 else flate
    stream[_name("/Length")] = NumberObject(len(data))
    stream.update(extra or {})
    return stream


def _pdf(contents: list[StreamObject], pages: int, xobjects: dict | None = None) -> bytes:
    """`pages` pages with Helvetica as /F1; page n draws contents[n % len(contents)]."""
    writer = PdfWriter()
    font = writer._add_object(_font())
    refs = [writer._add_object(stream) for stream in contents]
    resources = {_name("/Font"): DictionaryObject({_name("/F1"): font})}
    if xobjects:
        objects = {_name(key): writer._add_object(value) for key, value in xobjects.items()}
        resources[_name("/XObject")] = DictionaryObject(objects)
    for number in range(pages):
        page = writer.add_blank_page(612, 792)
        page[_name("/Contents")] = refs[number % len(refs)]
        page[_name("/Resources")] = DictionaryObject(resources)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def text_content(lines: int, width: int = 120) -> bytes:
    """A content stream showing `lines` lines of `width` letters."""
    line = b"(" + b"A" * width + b") Tj T*\n"
    return b"BT /F1 12 Tf 14 TL 72 720 Td\n" + line * lines + b"ET\n"


def shared_stream_pdf(*, pages: int = 40, lines: int = 40_000) -> bytes:
    return _pdf([_stream(zlib.compress(text_content(lines), 9))], pages)


def small_pages_pdf(*, pages: int = 100, lines: int = 700) -> bytes:
    """17 KB: every page shows 84,000 characters (under MAX_PDF_PAGE_CHARS) from one shared
    stream; 8.4 million characters in all."""
    return _pdf([_stream(zlib.compress(text_content(lines), 9))], pages)


@functools.cache
def deflate_bomb_pdf(*, gigabytes: int = 2) -> bytes:
    """One page whose content stream is spaces (valid, empty content) compressed twice: 4 KB
    that inflate to `gigabytes` GB. The inner layer is one 16 MB block of spaces, deflated
    and flushed whole, repeated (a full flush lets a block stand alone), then an empty last
    block and the checksum: a valid zlib stream, made in a second."""
    chunk, compressor = b" " * 2**24, zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = gigabytes * 64
    checksum = functools.reduce(lambda value, _: zlib.adler32(chunk, value), range(count), 1)
    inner = first + block * (count - 1) + b"\x03\x00" + checksum.to_bytes(4, "big")
    return _pdf([_stream(zlib.compress(inner, 9), layers=2)], 1)


def form_bomb_pdf(*, invocations: int = 1_500, text: bool = True) -> bytes:
    """One page drawing a form XObject 1,500 times (pypdf allows 5,000 per page, and
    extracts the form again each time): 50 lines of text, or 2,100 drawing operators."""
    drawing = text_content(50, width=20) if text else b"0 0 m 1 1 l S\n" * 700
    form = _stream(
        zlib.compress(drawing, 9),
        extra={
            _name("/Type"): _name("/XObject"),
            _name("/Subtype"): _name("/Form"),
            _name("/BBox"): RectangleObject([0, 0, 612, 792]),
            _name("/Resources"): DictionaryObject(
                {_name("/Font"): DictionaryObject({_name("/F1"): _font()})}
            ),
        },
    )
    page = StreamObject()  # not compressed: it is as large as it looks
    page._data = b"/X1 Do\n" * invocations
    return _pdf([page], 1, xobjects={"/X1": form})


def nested_pdf(*, depth: int = 100_000) -> bytes:
    """A page whose content stream (not compressed: it is as large as it looks) is an array
    nested `depth` deep, then a line of text."""
    stream = StreamObject()
    stream._data = b"[" * depth + b"]" * depth + b"\n" + text_content(1)
    return _pdf([stream], 1)
