"""Turn an uploaded file into a new revision of a source's text.

A file becomes the canonical plain text that annotation offsets count in, plus the
sanitised HTML a reader sees (HTML and Markdown) and a page map (PDF). Every byte is
untrusted: the type named by the extension is checked against the content, text is
decoded strictly, and HTML is cleaned in `core.sanitize`, nowhere else.

What a file may become is bounded, whatever its format, and reading stops as soon as a
limit is passed (413 on the file, naming the setting): MAX_TEXT_CHARS for the text;
MAX_HTML_ELEMENTS for HTML (and Markdown's HTML) before it is parsed; for a PDF, whose
small file can hold billions of characters, the limits of `PdfBudget`, checked while pypdf
reads. HTML nested past MAX_NESTING_DEPTH keeps its text but not its layout; Markdown that
cannot be rendered (`core.sanitize.MarkupRefused`) is a 400.

A PDF without a text layer and a page image (TIFF, JPEG, PNG) are scans: only OCR reads them,
in a background job (`is_scan` tells the callers to enqueue one; `OcrRequest` says how).
What OCR and the pages of a PDF need (page images, word boxes, the original file kept with
the revision) is `sources.pages`' work, which this module cannot import: it registers
`PageHooks` at start-up and `read_file` and `save_revision` call them.
"""

from __future__ import annotations

import codecs
import io
import itertools
import math
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import charset_normalizer
from bs4 import BeautifulSoup, CData, NavigableString, Tag
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from pypdf import PageObject, PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, LimitReachedError

from core.sanitize import (
    MarkupRefused,
    MarkupTooDeep,
    check_depth,
    clean_html_in_parts,
    render_markdown,
)
from core.uploads import UploadError, read_upload, safe_file_name
from sources.models import SourceText, canonical_text

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from sources.models import Source

ENCODING_CHOICES: list[tuple[str, str]] = [
    ("", "Detect automatically"),
    ("utf-8", "UTF-8"),
    ("utf-16", "UTF-16"),
    ("cp1251", "Windows-1251 (Cyrillic)"),
    ("koi8-r", "KOI8-R (Cyrillic)"),
]
ACCEPTED_TYPES = (
    "plain text (.txt), HTML (.html, .htm), Markdown (.md), PDF (.pdf) "
    "or scanned pages (.tif, .tiff, .jpg, .jpeg, .png)"
)
IMAGE_TYPES = {
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
MEDIA_TYPES = {
    **IMAGE_TYPES,
    ".txt": "text/plain",
    ".text": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".pdf": "application/pdf",
}
NOTE_MAX = SourceText._meta.get_field("note").max_length

# Encodings a user may name. An allow-list, because Python also "decodes" with
# unicode_escape, idna and the like, which are not ways a document is stored.
ALLOWED_ENCODINGS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "ascii", "latin-1",
        "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
        "cp1258", "koi8-r", "koi8-u", "cp866", "mac-cyrillic", "mac-roman", "iso8859-2",
        "iso8859-5", "iso8859-7", "iso8859-15", "gb18030", "gbk", "gb2312", "big5",
        "big5hkscs", "shift_jis", "cp932", "euc-jp", "iso2022_jp", "euc-kr", "cp949",
    )
)  # fmt: skip
_DISPLAY_NAMES = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251",
    "koi8-r": "KOI8-R",
}


@dataclass(frozen=True)
class ExtractedText:
    text: str
    html_raw: str = ""
    html: str = ""
    page_map: list = field(default_factory=list)
    media_type: str = "text/plain"
    encoding: str = ""
    layout: Any = None  # the pages and their word boxes, for `sources.pages` (opaque here)
    origin: str = ""  # how the text was read, when not from the file's text: "OCR (…)"


@dataclass(frozen=True)
class Original:
    """A file as it came, which a revision with pages keeps (`sources.pages`)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class OcrRequest:
    """Read a scan by OCR, in `languages` (Tesseract's codes; none: from the source's
    language and original language), reporting each page to `progress` (a job's)."""

    source: Source
    languages: tuple[str, ...] = ()
    progress: Any = None


@dataclass(frozen=True)
class PageHooks:
    """What `sources.pages` adds to an import (`register_page_hooks`, at start-up):

    - `layout(original, extracted)`: a text-layer PDF's text with its pages and word boxes
      (`ExtractedText.layout`), read before the transaction as the text is;
    - `ocr(originals, request)`: a scan's text, pages and boxes, read by OCR (a job's work);
    - `keep(revision, originals, extracted)`: store the files and pages with the new
      revision, in its transaction;
    - `ocr_unavailable(languages)`: "" when scans can be read in those languages, else why
      not and what to do about it.
    """

    layout: Callable[[Original, ExtractedText], ExtractedText]
    ocr: Callable[[list[Original], OcrRequest], ExtractedText]
    keep: Callable[[SourceText, list[Original], ExtractedText], None]
    ocr_unavailable: Callable[[tuple[str, ...]], str]


_page_hooks: PageHooks | None = None


def register_page_hooks(hooks: PageHooks | None) -> None:
    global _page_hooks
    _page_hooks = hooks


def ocr_unavailable(languages: tuple[str, ...] = ()) -> str:
    """Why scans cannot be read here ("" when they can)."""
    if _page_hooks is None:
        return "Reading scans is not installed on this server."
    return _page_hooks.ocr_unavailable(languages)


class NeedsOcr(UploadError):
    """A scan: its text can only be read by OCR (`read_file` with an `OcrRequest`)."""


def import_text_revision(
    source: Source,
    upload: UploadedFile | None,
    *,
    user,
    encoding: str | None = None,
    note: str = "",
    ocr: OcrRequest | None = None,
) -> SourceText:
    """Read `upload` and append it to `source` as its next text revision; a scan only with
    `ocr` (a job's work: `is_scan` says when to enqueue one)."""
    require_editor(source, user)
    note = checked_note(note)
    data = read_upload(upload)
    original = Original(safe_file_name(upload.name or ""), data)
    # Parsing happens before the transaction: a slow PDF must not hold the revision lock.
    extracted = read_file(original, encoding=encoding, ocr=ocr)
    return save_revision(source, extracted, originals=[original], user=user, note=note)


def require_editor(source: Source, user) -> None:
    if not source.library.can_edit(user):
        raise PermissionDenied("You may read this source but not change it.")


def checked_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise UploadError(
            f"The note is {len(note)} characters; keep it under {NOTE_MAX}.", field="note"
        )
    return note


def read_file(
    original: Original, *, encoding: str | None = None, ocr: OcrRequest | None = None
) -> ExtractedText:
    """`extract_text`, with a PDF's pages and word boxes; a scan read by OCR when `ocr`
    says how (else refused: NeedsOcr)."""
    try:
        extracted = extract_text(original.data, file_name=original.name, encoding=encoding)
    except NeedsOcr:
        if ocr is None or _page_hooks is None:
            raise
        return _page_hooks.ocr([original], ocr)
    if extracted.media_type == "application/pdf" and _page_hooks is not None:
        return _page_hooks.layout(original, extracted)
    return extracted


def save_revision(
    source: Source, extracted: ExtractedText, *, originals: list[Original], user, note: str
) -> SourceText:
    """Append what was read as the source's next revision, with its files and pages."""
    note = " — ".join(part for part in (note, extracted.origin) if part)[:NOTE_MAX]
    name = originals[0].name if originals else ""
    if len(originals) > 1:
        name = f"{name} and {len(originals) - 1} more"[
            : SourceText._meta.get_field("file_name").max_length
        ]
    with transaction.atomic():
        revision = SourceText.objects.add_revision(
            source,
            text=extracted.text,
            html=extracted.html,
            html_raw=extracted.html_raw,
            page_map=extracted.page_map,
            file_name=name,
            media_type=extracted.media_type,
            encoding=extracted.encoding,
            imported_by=user,
            note=note,
        )
        if _page_hooks is not None:
            _page_hooks.keep(revision, originals, extracted)
        return revision


def is_scan(data: bytes, name: str) -> bool:
    """Is this file a scan, whose text only OCR reads: a page image, or a PDF with no font
    on any page? Cheap (the page tree only, no content read), so that a request can decide
    to hand the file to a job; a PDF it cannot tell about is read as text."""
    try:
        media_type = media_type_for(name)
    except UploadError:
        return False
    if media_type.startswith("image/"):
        return True
    return media_type == "application/pdf" and not _pdf_has_fonts(data)


def extract_text(data: bytes, *, file_name: str, encoding: str | None = None) -> ExtractedText:
    """The canonical text (and HTML, page map) of a file, by its type; UploadError if unusable."""
    name = safe_file_name(file_name)
    codec = lookup_encoding(encoding) if encoding else None
    media_type = media_type_for(name)
    if media_type == "application/pdf":
        return _from_pdf(data, name)
    if media_type.startswith("image/"):
        raise NeedsOcr(f"{name} is an image of a page: only OCR can read its text.")
    _refuse_known_binary(data, name)
    declared = _declared_charset(data) if media_type == "text/html" else None
    text, used = decode_text(data, name=name, encoding=codec, declared=declared)
    if media_type == "text/html":
        return _from_html(text, name=name, encoding=used)
    # Plain text and Markdown as written are (about) their text: refused before any work.
    _check_length(text, name)
    if media_type == "text/markdown":
        return _from_markdown(text, name=name, encoding=used)
    return ExtractedText(
        text=_nonempty(_checked_text(canonical_text(text), name), name), encoding=used
    )


def _check_length(text: str, name: str) -> None:
    if len(text) > settings.MAX_TEXT_CHARS:
        raise _chars_error(name, "its text", settings.MAX_TEXT_CHARS, "MAX_TEXT_CHARS")


def _checked_text(text: str, name: str) -> str:
    _check_length(text, name)
    return text


def _chars_error(name: str, what: str, limit: int, setting: str) -> UploadError:
    """413 naming the limit a revision's text passed (a revision of any format)."""
    return UploadError(
        f"{name} is too long to import: {what} passes the limit of {limit:,} characters "
        f"({setting}). Split it into several sources.",
        status=413,
    )


def media_type_for(name: str) -> str:
    media_type = MEDIA_TYPES.get(PurePosixPath(name).suffix.lower())
    if media_type is None:
        raise UploadError(f"{name} is not a file type we can read. Upload {ACCEPTED_TYPES}.")
    return media_type


def lookup_encoding(encoding: str) -> str:
    """Python's name for an encoding the user named; UploadError on `encoding` if unknown."""
    shown = encoding.strip()[:40]
    try:
        name = codecs.lookup(encoding.strip()).name
    except LookupError:
        name = ""
    if name not in ALLOWED_ENCODINGS:
        raise UploadError(
            f"{shown!r} is not an encoding we can read; choose one from the list "
            "or let it be detected.",
            field="encoding",
        )
    return name


# ---------------------------------------------------------------------------
# Decoding text
# ---------------------------------------------------------------------------

_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SIGNATURES = (
    (b"%PDF-", "a PDF; upload it with a .pdf name"),
    (b"PK\x03\x04", "a ZIP archive (a Word .docx or OpenDocument file?); save it as text first"),
    (b"\xd0\xcf\x11\xe0", "an old Word or Excel document; save it as text first"),
    (b"{\\rtf", "an RTF document; save it as plain text or HTML first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
# C0 and C1 controls other than tab, line feed, form feed and carriage return.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode_text(
    data: bytes, *, name: str, encoding: str | None = None, declared: str | None = None
) -> tuple[str, str]:
    """(text, encoding used). Order: the user's choice, a BOM, valid UTF-8, the HTML's
    declared charset, then detection. UploadError if the bytes are not text."""
    if encoding:
        return _checked(_decode_strictly(data, encoding, name), name), encoding
    for bom, codec in _BOMS:
        if data.startswith(bom):
            label = "utf-8" if codec == "utf-8-sig" else codec
            return _checked(_decode_strictly(data, codec, name), name), label
    if b"\x00" not in data:
        # Non-ASCII bytes that happen to form valid UTF-8 are, in practice, UTF-8.
        try:
            return _checked(data.decode("utf-8"), name), "utf-8"
        except UnicodeDecodeError as error:
            _refuse_damaged_utf8(data, error.start, name)
        if declared:
            try:
                return _checked(data.decode(declared), name), declared
            except UnicodeDecodeError:
                pass  # a wrong <meta charset> is common; detect instead
    codec = _detect_encoding(data, name)
    return _checked(_decode_strictly(data, codec, name), name), codec


def _refuse_damaged_utf8(data: bytes, first_bad: int, name: str) -> None:
    """UTF-8 with a few broken bytes (files pasted together) is still UTF-8: reading it
    as Windows-1251 or -1252 would garble every letter, and replacing them silently
    would change the text. Say where it breaks."""
    text = data[:_SAMPLE].decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(ord(ch) > 0x7F for ch in text) - bad
    if good >= 20 and bad * 50 <= good:
        raise UploadError(
            f"{name} is UTF-8 except for a few bytes, the first at byte {first_bad}. "
            "Repair the file, or choose its encoding if it is not UTF-8."
        )


def _decode_strictly(data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        shown = _DISPLAY_NAMES.get(codec, codec.upper())
        raise UploadError(
            f"{name} could not be read as {shown} at byte {error.start}; try another encoding.",
            field="encoding",
        ) from None


def _checked(text: str, name: str) -> str:
    """Refuse binary data that decoded by accident; drop a few stray controls (a DOS ^Z)."""
    controls = len(_CONTROLS.findall(text))
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise UploadError(
            f"{name} does not look like text: it is full of control characters (a binary file?)."
        )
    return _CONTROLS.sub("", text) if controls else text


def _refuse_known_binary(data: bytes, name: str) -> None:
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise UploadError(f"{name} does not look like text: it is {what}.")


_SAMPLE = 65_536  # enough text to judge by; the whole of a 20 MB file takes seconds


def _detect_encoding(data: bytes, name: str) -> str:
    """Cyrillic and Western single-byte texts by explicit heuristics (charset-normalizer is
    unsure on short texts there), everything else by charset-normalizer."""
    if b"\x00" not in data:
        sample = data[:_SAMPLE]
        guess = guess_cyrillic_encoding(sample) or guess_latin_encoding(sample)
        if guess:
            return guess
    best = charset_normalizer.from_bytes(data).best()
    if best is None or (b"\x00" in data and not best.encoding.startswith("utf_")):
        raise UploadError(
            f"{name} does not look like text: its bytes match no text encoding we know. "
            "If it is text, choose its encoding."
        )
    return codecs.lookup(best.encoding).name


# Telling Windows-1251 from KOI8-R. charset-normalizer gets whole paragraphs right, but on
# a name, a heading or a line (measured: "Мао Цзэдун" in KOI8-R came back as cp932,
# "Посол СССР в Китае" as cp1255) it guesses wildly. Both encodings put Cyrillic letters in
# bytes 0xC0-0xFF, in different orders and with the cases swapped, so the same bytes read
# as Russian words under both. The right reading is the one that looks like Russian: its
# letters are frequent ones (mean log frequency), its letter pairs are common bigrams, and
# its words do not switch from lower to upper case mid-word ("лЮН" is KOI8-R read as 1251).
# Case alone would fail on all-capitals telegram headings; frequencies alone on 2-3 words.
# Measured on the DA 110404 text cut into 1,200 snippets of 2-8 words and paragraphs, in
# both encodings and in capitals: 7 wrong, all of them snippets of at most five words.
_RUSSIAN_FREQ = dict(
    zip(
        "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё",
        (10.97, 8.45, 8.01, 7.35, 6.70, 6.26, 5.47, 4.73, 4.54, 4.40, 3.49, 3.21, 2.98,
         2.81, 2.62, 2.01, 1.90, 1.74, 1.70, 1.65, 1.59, 1.44, 1.21, 0.97, 0.94, 0.73,
         0.64, 0.48, 0.36, 0.32, 0.26, 0.04, 0.04),
        strict=True,
    )
)  # fmt: skip
_RUSSIAN_LOG_FREQ = {letter: math.log(pct / 100) for letter, pct in _RUSSIAN_FREQ.items()}
_RUSSIAN_BIGRAMS = frozenset(
    {
        "ст", "но", "то", "на", "ен", "ов", "ни", "ра", "во", "ко", "ос", "пр", "ер", "ро",
        "по", "ре", "не", "ка", "ал", "ет", "ан", "ле", "ли", "од", "ол", "ва", "ор", "ом",
        "ть", "ль", "ат", "ин", "ес", "та", "де", "ел", "ит", "ти", "ло", "го", "ск",
    }
)  # fmt: skip
_CYRILLIC_WORD = re.compile(r"\b[\u0400-\u04ff]+\b")
_CASE_HUMP = re.compile(r"[а-яё][А-ЯЁ]")


def guess_cyrillic_encoding(data: bytes) -> str | None:
    """Which of "cp1251" and "koi8-r" reads as Russian words; None if neither does."""
    high = sum(byte >= 0x80 for byte in data)
    if not high:
        return None
    scores = {}
    for codec in ("cp1251", "koi8-r"):
        words = _CYRILLIC_WORD.findall(data.decode(codec, errors="replace"))
        # Most non-ASCII bytes must be letters of whole Cyrillic words (not "cafй").
        if sum(map(len, words)) >= 0.7 * high:
            scores[codec] = russian_score(words)
    if not scores:
        return None
    codec = max(scores, key=scores.__getitem__)
    # Greek, Arabic or ISO-8859-5 bytes also form "words"; they read as nothing like Russian.
    return codec if scores[codec] > -4.0 else None


def russian_score(words: list[str]) -> float:
    """How much these words look like Russian: higher is likelier."""
    lowered = [word.lower() for word in words]
    letters = "".join(lowered)
    unigram = sum(_RUSSIAN_LOG_FREQ.get(ch, -9.0) for ch in letters) / len(letters)
    pairs = [word[i : i + 2] for word in lowered for i in range(len(word) - 1)]
    bigram = sum(pair in _RUSSIAN_BIGRAMS for pair in pairs) / max(len(pairs), 1)
    humps = sum(bool(_CASE_HUMP.search(word)) for word in words) / len(words)
    return unigram + 4 * bigram - 8 * humps


# Windows-1252 against Windows-1250: charset-normalizer picked cp1250 for a short French
# sentence ("à" became "ŕ") and cp775 for German. The right one gives accented letters that
# all belong to one language's alphabet; a wrong one mixes alphabets ("crčme", "Pøedseda").
_LATIN_ALPHABETS = (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "áéíñóúü",  # Spanish
    "àèéìíîòóù",  # Italian
    "àáâãçéêíóôõú",  # Portuguese
    "åäæöøé",  # Danish, Norwegian, Swedish
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Croatian, Slovene
    "ăâîșțşţ",  # Romanian
)


def guess_latin_encoding(data: bytes) -> str | None:
    """Which of "cp1252" and "cp1250" reads as one European language; None if neither."""
    fits = {}
    for codec in ("cp1252", "cp1250"):
        try:
            fits[codec] = _alphabet_fit(data.decode(codec).lower())
        except UnicodeDecodeError:
            continue
    codec = max(fits, key=fits.__getitem__, default=None)  # a tie goes to cp1252
    return codec if codec and fits[codec] >= 0.9 else None


# A non-ASCII character next to an ASCII letter is inside a word, so should be a letter.
_IN_WORD = re.compile(r"(?<=[a-z])[^\x00-\x7f]|[^\x00-\x7f](?=[a-z])")


def _alphabet_fit(text: str) -> float:
    """The largest share of the in-word non-ASCII characters that one alphabet holds
    (punctuation such as an em dash between words is left out: all encodings agree)."""
    chars = [ch for ch in _IN_WORD.findall(text) if unicodedata.category(ch)[0] in "LNS"]
    letters = sum(ord(ch) > 0x7F and ch.isalpha() for ch in text)
    if len(chars) < letters / 2:
        return 0.0  # words wholly of non-ASCII letters: Greek, Hebrew…, not a Latin script
    if not chars:
        return 1.0
    return max(sum(ch in alphabet for ch in chars) for alphabet in _LATIN_ALPHABETS) / len(chars)


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.IGNORECASE)


def _declared_charset(data: bytes) -> str | None:
    """The <meta charset> in the first 4 KB, as a Python codec name, if we know it."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    label = match.group(1).decode("ascii").lower()
    # As browsers do (WHATWG Encoding): "latin-1" pages are Windows-1252 in practice.
    if label in ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        label = "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return name if name in ALLOWED_ENCODINGS and not name.startswith("utf-16") else None


# ---------------------------------------------------------------------------
# HTML and Markdown
# ---------------------------------------------------------------------------

# Not text a reader of the document sees: code, page furniture, controls.
_DROP = (
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
    "head", "title", "nav", "footer", "form", "button", "select", "textarea", "canvas",
    "video", "audio", "map", "dialog",
)  # fmt: skip
_DROP_NAMES = frozenset(_DROP)
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "legend", "li", "main", "ol", "p", "section", "summary",
        "table", "tbody", "tfoot", "thead", "tr", "ul", "center", "body", "html",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML collapses these, not the no-break space


def _from_html(raw: str, *, name: str, encoding: str) -> ExtractedText:
    soup = _parse_html(raw, name)
    _prune(soup)
    text = _nonempty(_checked_text(html_to_text(soup), name), name)
    try:
        check_depth(raw)
        html = clean_html_in_parts(soup).strip()
    except MarkupTooDeep:
        # As a browser would not build it either (Blink stops nesting at 512): the text is
        # read (`html_to_text` walks any depth), the original layout is not kept.
        html = ""
    return ExtractedText(
        text=text, html_raw=raw, html=html, media_type="text/html", encoding=encoding
    )


def _from_markdown(raw: str, *, name: str, encoding: str) -> ExtractedText:
    try:
        html = render_markdown(raw)
    except MarkupRefused as error:
        raise UploadError(f"{name} cannot be read: it {error}.") from None
    text = _nonempty(_checked_text(html_to_text(_parse_html(html, name)), name), name)
    return ExtractedText(
        text=text, html_raw=raw, html=html, media_type="text/markdown", encoding=encoding
    )


_START_TAG = re.compile(r"<[A-Za-z]")


def _parse_html(html: str, name: str) -> BeautifulSoup:
    """The parsed page, if it has at most MAX_HTML_ELEMENTS elements: BeautifulSoup takes
    about 1 KB and 15 µs for each (200,000 elements: 200 MB), so a 20 MB file of `<p>`
    would need 2.5 GB. Counted first, without parsing; the count stops past the limit."""
    limit = settings.MAX_HTML_ELEMENTS
    if next(itertools.islice(_START_TAG.finditer(html), limit, None), None) is not None:
        raise UploadError(
            f"{name} is too large to read: it has more than {limit:,} HTML elements "
            "(MAX_HTML_ELEMENTS). Split it into several sources.",
            status=413,
        )
    return BeautifulSoup(html, "html.parser")


def _prune(soup: BeautifulSoup) -> None:
    """Remove, with their content, the elements a reader of the page does not see. One walk
    (two `find_all` took 2 s for 100,000 elements, most of it in bs4's filters)."""
    unseen = [node for node in soup.descendants if isinstance(node, Tag) and _unseen(node)]
    for element in unseen:
        if not element.decomposed:  # already gone with an enclosing element
            element.decompose()


def _unseen(tag: Tag) -> bool:
    if tag.name in _DROP_NAMES or "hidden" in tag.attrs:
        return True
    return bool(_HIDDEN_STYLE.search(str(tag.attrs.get("style") or "")))


def html_to_text(root: Tag) -> str:
    """Block-aware plain text: each block (paragraph, heading, list item, quotation, table
    row) a paragraph, blank lines between; spaces collapsed as a browser does; <br> a line
    break; table cells tab-separated; <pre> kept as it is."""
    paragraphs: list[str] = []
    lines: list[str] = [""]
    # An explicit stack, not recursion: hostile HTML can nest elements thousands deep.
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) in (NavigableString, CData):
                lines[-1] += _HTML_SPACE.sub(" ", str(node))
            continue
        if not isinstance(node, Tag):
            continue
        if leaving:
            _flush(lines, paragraphs)
        elif node.name == "br":
            lines.append("")
        elif node.name == "pre":
            _flush(lines, paragraphs)
            paragraphs.append(node.get_text().removeprefix("\n").rstrip())
        else:
            if node.name in _CELLS and lines[-1].strip():
                lines[-1] += "\t"
            if node.name in _BLOCKS:
                _flush(lines, paragraphs)
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    _flush(lines, paragraphs)
    return canonical_text("\n\n".join(p for p in paragraphs if p.strip()))


def _flush(lines: list[str], paragraphs: list[str]) -> None:
    """End the paragraph being built: tidy its lines; blank lines (<br><br>) split it."""
    if len(lines) == 1 and not lines[0].strip():
        lines[0] = ""  # nothing to tidy: every block's end comes here, most with no text
        return
    tidy = [re.sub(r" *\t *", "\t", re.sub(" {2,}", " ", line)).strip(" ") for line in lines]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(tidy)).strip("\n\t ")
    if text:
        paragraphs.append(text)
    lines[:] = [""]


def _nonempty(text: str, name: str) -> str:
    if not text.strip():
        raise UploadError(f"{name} has no text in it.")
    return text


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def _from_pdf(data: bytes, name: str) -> ExtractedText:
    if not data.startswith(b"%PDF-"):
        raise UploadError(f"{name} is damaged or not a PDF: it does not begin with %PDF-.")
    with apply_configuration(**_pypdf_limits()):
        reader = _open_pdf(data, name)
        pages = _page_texts(reader, PdfBudget(name, len(data)))
        text, page_map = join_pages(pages, _page_labels(reader, len(pages)))
    if not text.strip():
        raise NeedsOcr(
            f"{name} has no text layer (a scanned image?). Run OCR first, or upload the text."
        )
    return ExtractedText(text=text, page_map=page_map, media_type="application/pdf")


def _pdf_has_fonts(data: bytes) -> bool:
    """Does any page, or a form it draws, name a font? Text needs one; a scan has none."""
    try:
        with apply_configuration(**_pypdf_limits()):
            reader = PdfReader(io.BytesIO(data))
            return any(_names_a_font(page) for page in reader.pages)
    except Exception:  # damaged or odd: the text reader says what is wrong with it
        return True


def _names_a_font(page: PageObject) -> bool:
    resources = page.get("/Resources") or {}
    if "/Font" in resources:
        return True
    xobjects = (resources.get("/XObject") or {}).values()
    forms = (x.get_object() for x in xobjects)
    return any(
        form.get("/Subtype") == "/Form" and "/Font" in (form.get("/Resources") or {})
        for form in forms
    )


def _pypdf_limits() -> dict[str, int]:
    """pypdf's own guards, brought down to ours: no stream inflates (whatever its filters)
    or concatenates past MAX_PDF_PAGE_BYTES, so a deflate bomb stops there, in pypdf's
    decompressor, not in our memory."""
    most = settings.MAX_PDF_PAGE_BYTES
    return {
        "zlib_maximum_output_length": most,
        "lzw_maximum_output_length": most,
        "run_length_maximum_output_length": most,
        "brotli_maximum_output_length": most,
        "array_based_stream_maximum_output_length": most,
        "stream_decoding_work_maximum_length": 4 * most,
    }


def _open_pdf(data: bytes, name: str) -> PdfReader:
    # pypdf raises many kinds of exception on a broken file (its own, ValueError, KeyError,
    # struct.error…); to the user every one of them means the same thing.
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise UploadError(
                f"{name} is protected by a password. Remove the password and upload it again."
            )
        len(reader.pages)
    except UploadError:
        raise
    except DependencyError:
        raise UploadError(
            f"{name} is encrypted in a way we cannot open. Save an unprotected copy and "
            "upload that."
        ) from None
    except LimitReachedError as error:
        raise _too_large(name, error) from None
    except Exception as error:
        raise UploadError(f"{name} is damaged or not a PDF ({_reason(error)}).") from None
    return reader


def _page_texts(reader: PdfReader, budget: PdfBudget) -> list[str]:
    texts = []
    for number, page in enumerate(reader.pages, start=1):
        budget.start_page(number, _content_size(page, number, budget))
        try:
            raw = page.extract_text(
                visitor_text=budget.saw_text, visitor_operand_before=budget.saw_operator
            )
        except UploadError:
            raise  # a limit passed (PdfBudget)
        except LimitReachedError as error:
            raise _too_large(budget.name, error, page=number) from None
        except Exception as error:  # as in _open_pdf: a broken page stream, any exception
            raise UploadError(
                f"{budget.name} is damaged or not a PDF (page {number}: {_reason(error)})."
            ) from None
        texts.append(budget.end_page(_tidy_page(raw)))
    return texts


def _content_size(page: PageObject, number: int, budget: PdfBudget) -> int:
    """The page's content, decompressed (pypdf keeps it for the extraction that follows)."""
    try:
        contents = page.get_contents()
    except LimitReachedError:
        raise budget.page_too_large(number) from None
    except Exception as error:
        raise UploadError(
            f"{budget.name} is damaged or not a PDF (page {number}: {_reason(error)})."
        ) from None
    return len(contents.get_data()) if contents is not None else 0


def _too_large(name: str, error: LimitReachedError, *, page: int | None = None) -> UploadError:
    where = f"page {page}: " if page else ""
    return UploadError(
        f"{name} is too large to read: {where}{_reason(error)} "
        f"(a PDF that inflates like this is refused).",
        status=413,
    )


class PdfBudget:
    """What reading one PDF may spend, counted while pypdf works, so that a small file that
    inflates (pages sharing one content stream, a deflate bomb, a form drawn thousands of
    times) is refused as soon as it passes a limit, never after reading it all:

    - MAX_PDF_PAGE_BYTES of decompressed content per page;
    - MAX_PDF_EXPANSION: all the pages' content (a shared stream counted on each page that
      draws it), and the operators run (forms included, 16 bytes each), at most this many
      times the file's size: real PDFs hold about their own size, a bomb thousands of times;
    - MAX_PDF_PAGE_CHARS of text per page and MAX_TEXT_CHARS for the whole text;
    - PDF_READ_SECONDS in all, for the pathologies no count foresees.

    pypdf calls `saw_text` and `saw_operator` as it goes; they raise UploadError (413). pypdf
    swallows exceptions inside a form XObject, so a limit once passed stays passed: the next
    call raises again, and `end_page` does too."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.content_left = settings.MAX_PDF_EXPANSION * size
        self.operators_left = self.content_left // 16
        self.deadline = time.monotonic() + settings.PDF_READ_SECONDS
        self.chars = 0  # of the pages before this one, with the blank lines between them
        self.page = 0
        self.page_chars = 0
        self.passed: UploadError | None = None

    def start_page(self, number: int, content_bytes: int) -> None:
        self.page, self.page_chars = number, 0
        self._check_time()
        if content_bytes > settings.MAX_PDF_PAGE_BYTES:
            raise self.page_too_large(number)
        self.content_left -= content_bytes
        if self.content_left < 0:
            self._stop(self._expands())

    def saw_text(self, text: str, *_: object) -> None:
        self._raise_if_passed()
        # Less trailing white space, which pypdf adds and the page's text may not keep:
        # never more than the text will hold (`end_page` counts exactly).
        self.page_chars += len(text.rstrip())
        self._check_chars(self.page_chars)

    def saw_operator(self, *_: object) -> None:
        self._raise_if_passed()
        self.operators_left -= 1
        if self.operators_left < 0:
            self._stop(self._expands())
        self._check_time()

    def end_page(self, text: str) -> str:
        """The page's text once more, exactly (pypdf adds line breaks of its own)."""
        self._raise_if_passed()
        self._check_chars(len(text))
        self.chars += len(text) + 2
        return text

    def page_too_large(self, number: int) -> UploadError:
        most = settings.MAX_PDF_PAGE_BYTES
        return UploadError(
            f"{self.name} is too large to read: the content of page {number} inflates "
            f"past the limit of {most / 2**20:.0f} MB (MAX_PDF_PAGE_BYTES).",
            status=413,
        )

    def _check_chars(self, page_chars: int) -> None:
        if page_chars > settings.MAX_PDF_PAGE_CHARS:
            what, limit = f"the text of page {self.page}", settings.MAX_PDF_PAGE_CHARS
            self._stop(_chars_error(self.name, what, limit, "MAX_PDF_PAGE_CHARS"))
        if self.chars + page_chars > settings.MAX_TEXT_CHARS:
            limit = settings.MAX_TEXT_CHARS
            self._stop(_chars_error(self.name, "its text", limit, "MAX_TEXT_CHARS"))

    def _check_time(self) -> None:
        if time.monotonic() > self.deadline:
            self._stop(
                UploadError(
                    f"{self.name} is too large to read: reading its text passed the limit "
                    f"of {settings.PDF_READ_SECONDS} seconds (PDF_READ_SECONDS), at page "
                    f"{self.page}.",
                    status=413,
                )
            )

    def _expands(self) -> UploadError:
        return UploadError(
            f"{self.name} is too large to read: by page {self.page} its content inflates to "
            f"more than {settings.MAX_PDF_EXPANSION} times the file's size "
            "(MAX_PDF_EXPANSION), as only a decompression bomb does.",
            status=413,
        )

    def _stop(self, error: UploadError) -> None:
        self.passed = error
        raise error

    def _raise_if_passed(self) -> None:
        if self.passed is not None:
            raise self.passed


def _tidy_page(raw: str) -> str:
    """pypdf's lines as they are, less trailing spaces, stray controls and blank edges."""
    text = _CONTROLS.sub("", canonical_text(raw))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _page_labels(reader: PdfReader, count: int) -> list[str]:
    """The PDF's own page labels ("iv", "A-3") where it has them, else "1", "2", …"""
    try:
        labels = list(reader.page_labels)
    except Exception:  # a malformed label tree is no reason to refuse the text
        labels = []
    if len(labels) != count:
        labels = [""] * count
    return [label or str(number) for number, label in enumerate(labels, start=1)]


def pdf_page_labels(data: bytes, count: int) -> list[str]:
    """`_page_labels` of a PDF read already (a scan's, for the pages OCR reads)."""
    with apply_configuration(**_pypdf_limits()):
        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception:
            return [str(number) for number in range(1, count + 1)]
        return _page_labels(reader, count)


def join_pages(pages: list[str], labels: list[str]) -> tuple[str, list[list]]:
    """Pages joined by a blank line, and [[offset where the page begins, label], …].
    An empty page begins where the next text would; offsets count code points."""
    parts: list[str] = []
    length = 0
    page_map: list[list] = []
    for text, label in zip(pages, labels, strict=True):
        separator = "\n\n" if parts else ""
        page_map.append([length + len(separator), label])
        if text:
            parts.append(separator + text)
            length += len(parts[-1])
    return "".join(parts), page_map


def _reason(error: Exception) -> str:
    return (str(error) or type(error).__name__)[:200]
