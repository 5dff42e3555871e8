import hashlib
import io
import random
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from core.sanitize import render_markdown
from core.uploads import UploadError, safe_file_name
from sources import importers
from sources.importers import (
    ENCODING_CHOICES,
    extract_text,
    import_text_revision,
    lookup_encoding,
)
from sources.models import SourceText
from tests.factories import make_source

DATA = Path(__file__).resolve().parent.parent / "data" / "texts"
ROSHCHIN = (DATA / "roshchin-mao-1950.utf8.txt").read_text(encoding="utf-8")
FIRST_WORDS = "По указанию министра иностранных дел СССР тов. Вышинского"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def refused(data: bytes, file_name: str, **kwargs) -> UploadError:
    with pytest.raises(UploadError) as info:
        extract_text(data, file_name=file_name, **kwargs)
    return info.value


def make_pdf(pages: list[str | None], **canvas_options) -> bytes:
    """A PDF with one page per item: its lines as text, or None for a drawn rectangle only."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, **canvas_options)
    for page in pages:
        if page is None:
            pdf.rect(100, 100, 300, 400, fill=1)
        for number, line in enumerate((page or "").split("\n")):
            pdf.drawString(72, 720 - 16 * number, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- plain text and encodings ------------------------------------------------------------


def test_utf8_text_is_read_as_is():
    result = extract_text(sample("roshchin-mao-1950.utf8.txt"), file_name="roshchin.txt")
    assert result.text == ROSHCHIN
    assert result.text.startswith(FIRST_WORDS)
    assert (result.media_type, result.encoding, result.html, result.page_map) == (
        "text/plain",
        "utf-8",
        "",
        [],
    )


def test_utf8_bom_is_honoured_and_not_kept():
    result = extract_text(sample("roshchin-mao-1950.utf8-bom.txt"), file_name="r.txt")
    assert result.text == ROSHCHIN
    assert result.encoding == "utf-8"


def test_utf16_with_bom_and_windows_line_ends_becomes_canonical():
    result = extract_text(sample("roshchin-mao-1950.utf16.txt"), file_name="r.txt")
    assert result.text == ROSHCHIN
    assert "\r" not in result.text
    assert result.encoding == "utf-16"


def test_utf16_without_bom_is_detected():
    data = "Record of conversation with Mao Zedong, 1 January 1950.\n".encode("utf-16-le")
    result = extract_text(data, file_name="r.txt")
    assert result.text == "Record of conversation with Mao Zedong, 1 January 1950.\n"
    assert result.encoding == "utf-16-le"


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_russian_paragraphs_are_detected_in_either_cyrillic_encoding(codec):
    result = extract_text(sample(f"roshchin-mao-1950.{codec}.txt"), file_name="r.txt")
    assert result.encoding == codec
    assert result.text == ROSHCHIN


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_a_two_line_russian_signature_is_detected_too(codec):
    result = extract_text(sample(f"roshchin-signature.{codec}.txt"), file_name="sig.txt")
    assert result.encoding == codec
    assert result.text == "Посол СССР в Китае\nН. Рощин\n"


@pytest.mark.parametrize(
    "phrase",
    ["Мао Цзэдун", "СОВЕРШЕННО СЕКРЕТНО", "Тов. Мао Цзэдун указал", "Москва, Кремль"],
)
@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_short_russian_headings_and_names_get_the_right_cyrillic_encoding(phrase, codec):
    assert importers.guess_cyrillic_encoding(phrase.encode(codec)) == codec


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_cyrillic_encoding_chosen_explicitly_is_used(codec):
    data = sample(f"roshchin-mao-1950.{codec}.txt")
    result = extract_text(data, file_name="r.txt", encoding=codec)
    assert (result.text, result.encoding) == (ROSHCHIN, codec)


def test_explicit_encoding_wins_over_detection():
    # KOI8-R bytes read as Windows-1251 on purpose: the user's choice is obeyed.
    data = sample("roshchin-mao-1950.koi8-r.txt")
    result = extract_text(data, file_name="r.txt", encoding="cp1251")
    assert result.encoding == "cp1251"
    assert result.text == data.decode("cp1251")


def test_wrong_explicit_encoding_is_refused_with_the_byte_and_a_hint():
    error = refused(sample("roshchin-mao-1950.cp1251.txt"), "r.txt", encoding="utf-8")
    assert error.field == "encoding"
    assert error.status == 400
    assert error.message == "r.txt could not be read as UTF-8 at byte 0; try another encoding."


def test_byte_undefined_in_windows_1251_is_refused_at_its_position():
    data = "Мао".encode("cp1251") + b"\x98"
    error = refused(data, "r.txt", encoding="cp1251")
    assert "could not be read as Windows-1251 at byte 3" in error.message


@pytest.mark.parametrize("name", ["klingon", "unicode_escape", "rot13", "x" * 500])
def test_unknown_encoding_is_refused_on_the_encoding_field(name):
    error = refused(b"text", "r.txt", encoding=name)
    assert error.field == "encoding"
    assert "not an encoding we can read" in error.message


def test_every_offered_encoding_choice_is_accepted():
    assert ENCODING_CHOICES[0] == ("", "Detect automatically")
    for value, _label in ENCODING_CHOICES[1:]:
        assert lookup_encoding(value) == value


def test_western_european_text_is_not_read_as_central_european():
    text = "Déjà vu, café crème, à la française.\n"
    result = extract_text(text.encode("cp1252"), file_name="fr.txt")
    assert (result.text, result.encoding) == (text, "cp1252")


@pytest.mark.parametrize(
    "text",
    [
        "Předseda Mao přijel do Moskvy v prosinci; jednání trvala dva měsíce.\n",
        "Mao był w Moskwie dwa miesiące.\n",
    ],
)
def test_czech_and_polish_text_is_read_as_central_european(text):
    result = extract_text(text.encode("cp1250"), file_name="cs.txt")
    assert (result.text, result.encoding) == (text, "cp1250")


def test_greek_is_left_to_charset_normalizer_and_read_as_greek():
    text = "Η αντιπροσωπεία έφτασε στη Μόσχα τον Δεκέμβριο και οι συνομιλίες κράτησαν.\n"
    result = extract_text(text.encode("cp1253"), file_name="el.txt")
    assert (result.text, result.encoding) == (text, "cp1253")


def test_utf8_with_a_stray_byte_is_refused_not_garbled():
    data = ROSHCHIN.encode("utf-8")
    data = data[:100] + b"\xff" + data[100:]
    error = refused(data, "joined.txt")
    assert error.message.startswith(
        "joined.txt is UTF-8 except for a few bytes, the first at byte 100."
    )
    assert extract_text(data, file_name="joined.txt", encoding="koi8-r").encoding == "koi8-r"


def test_binary_file_named_txt_is_refused():
    data = random.Random(110404).randbytes(4000)
    error = refused(data, "x.txt")
    assert error.field == "file"
    assert error.message.startswith("x.txt does not look like text: ")


def test_binary_without_nul_bytes_is_refused_too():
    data = bytes(b for b in random.Random(1950).randbytes(4000) if b)
    assert refused(data, "x.txt").message.startswith("x.txt does not look like text: ")


def test_text_full_of_control_characters_is_refused():
    data = bytes(range(1, 9)) * 50 + b"some words"
    assert "control characters" in refused(data, "x.txt").message


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF; upload it with a .pdf name"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive"),
    ],
)
def test_known_binary_formats_are_named_in_the_refusal(data, what):
    assert what in refused(data, "notes.txt").message


def test_stray_dos_end_of_file_mark_is_dropped():
    assert extract_text(b"Telegram text.\r\n\x1a", file_name="t.txt").text == "Telegram text.\n"


def test_unsupported_file_type_lists_the_accepted_ones():
    error = refused(b"PK\x03\x04", "record.docx")
    assert error.field == "file"
    assert error.message == (
        "record.docx is not a file type we can read. Upload plain text (.txt), "
        "HTML (.html, .htm), Markdown (.md), PDF (.pdf) "
        "or scanned pages (.tif, .tiff, .jpg, .jpeg, .png)."
    )


@pytest.mark.parametrize("name", ["empty.txt", "empty.html", "empty.md"])
def test_file_without_text_is_refused(name):
    data = b"  \n\n\t" if name.endswith(".txt") else b"<script>alert(1)</script>\n"
    assert refused(data, name).message == f"{name} has no text in it."


# --- HTML and Markdown -------------------------------------------------------------------

HOSTILE_TEXT = (
    "Mao Zedong in Moscow\n\n"
    "In December 1949 Mao Zedong travelled to Moscow for Stalin's seventieth birthday.\n\n"
    "He stayed until February 1950.\nThe treaty was signed on 14 February.\n\n"
    "Записи беседы с\xa0Мао Цзэдуном.\n\n"
    "Roshchin, N. V.\n\n"
    "Shi Zhe (Karsky), interpreter\n\n"
    "Date\tEvent\n\n"
    "1950-01-01\tConversation with Roshchin"
)


def test_html_text_is_block_aware_and_holds_only_what_a_reader_sees():
    result = extract_text(sample("hostile-page.html"), file_name="page.html")
    assert result.text == HOSTILE_TEXT
    assert (result.media_type, result.encoding) == ("text/html", "utf-8")


def test_html_scripts_handlers_styles_and_javascript_links_are_gone():
    raw = sample("hostile-page.html").decode("utf-8")
    result = extract_text(raw.encode(), file_name="page.html")
    for dangerous in ("<script", "onclick", "onerror", "onload", "javascript:", "style=", "<img"):
        assert dangerous not in result.html.lower()
    for hidden in ("alert", "cookie", "injected", "Site title", "Archive menu", "Copyright"):
        assert hidden not in result.html
        assert hidden not in result.text
    assert "<h1>Mao Zedong in Moscow</h1>" in result.html
    assert "<a>Moscow</a>" in result.html
    assert result.html_raw == raw


def test_html_declared_charset_is_honoured():
    result = extract_text(sample("roshchin-meta-charset.html"), file_name="r.htm")
    assert result.encoding == "cp1251"
    assert result.text.startswith("Запись беседы\n\n" + FIRST_WORDS)
    assert "<h2>Запись беседы</h2>" in result.html


def test_html_utf8_content_wins_over_a_wrong_declared_charset():
    page = '<meta charset="windows-1251"><p>Мао Цзэдун</p>'.encode()
    result = extract_text(page, file_name="r.html")
    assert (result.text, result.encoding) == ("Мао Цзэдун", "utf-8")


def test_html_preformatted_text_keeps_its_spaces_and_br_pairs_split_paragraphs():
    page = b"<p>one<br><br>two</p><pre>\n  fond 0100,\n  opis 43</pre>"
    assert extract_text(page, file_name="p.html").text == "one\n\ntwo\n\n  fond 0100,\n  opis 43"


def test_deeply_nested_html_does_not_exhaust_the_stack():
    page = "<div>" * 3000 + "deep text" + "</div>" * 3000
    assert extract_text(page.encode(), file_name="deep.html").text == "deep text"


def test_markdown_text_is_what_the_rendered_page_shows():
    raw = sample("roshchin-note.md").decode()
    result = extract_text(raw.encode(), file_name="note.markdown")
    assert result.text.split("\n\n")[:5] == [
        "Roshchin's record of 1 January 1950",
        "Mao planned to leave Moscow at the end of January and reach Beijing on 6 February.",
        "Burma and India: recognition on China's terms",
        "Britain may follow",
        "По указанию министра иностранных дел СССР тов. Вышинского 1 января посетил председателя.",
    ]
    assert result.text.endswith("indented   code   keeps   its   spaces")
    assert "alert" not in result.text
    assert result.html == render_markdown(raw)
    assert "<script" not in result.html and "javascript:" not in result.html
    assert (result.html_raw, result.media_type) == (raw, "text/markdown")


# --- PDF ---------------------------------------------------------------------------------

THREE_PAGES = [
    "Record of conversation with Mao Zedong   \nMoscow, 1 January 1950",
    "Mao said he would leave Moscow\nat the end of January.",
    "N. Roshchin\nAmbassador of the USSR in China",
]


def test_pdf_pages_are_joined_and_mapped_by_offset():
    result = extract_text(make_pdf(THREE_PAGES), file_name="record.pdf")
    assert (result.media_type, result.encoding, result.html) == ("application/pdf", "", "")
    assert [label for _offset, label in result.page_map] == ["1", "2", "3"]
    for (offset, _label), page in zip(result.page_map, THREE_PAGES, strict=True):
        first_line = page.split("\n")[0].rstrip()
        assert result.text[offset : offset + len(first_line)] == first_line
    assert result.page_map[0][0] == 0
    assert " \n" not in result.text  # trailing spaces stripped, lines kept
    assert "Mao said he would leave Moscow\nat the end of January." in result.text


def test_pdf_page_labels_are_used_when_present():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.addPageLabel(0, style="ROMAN_LOWER")
    pdf.addPageLabel(2, style="ARABIC", start=1)
    for text in ("Preface", "Contents", "Chapter one", "More of chapter one"):
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    result = extract_text(buffer.getvalue(), file_name="book.pdf")
    assert result.page_map == [[0, "i"], [9, "ii"], [19, "1"], [32, "2"]]
    assert result.text[19:30] == "Chapter one"


def test_pdf_empty_page_starts_where_the_next_text_does():
    result = extract_text(make_pdf(["First", None, "Third"]), file_name="gap.pdf")
    assert result.text == "First\n\nThird"
    assert result.page_map == [[0, "1"], [7, "2"], [7, "3"]]


def test_truncated_pdf_is_refused_as_damaged():
    data = make_pdf(THREE_PAGES)
    error = refused(data[: len(data) // 2], "cut.pdf")
    assert error.field == "file"
    assert error.message.startswith("cut.pdf is damaged or not a PDF")


def test_file_named_pdf_that_is_not_one_is_refused():
    error = refused(b"Just some text", "fake.pdf")
    assert error.message == "fake.pdf is damaged or not a PDF: it does not begin with %PDF-."


def test_pdf_with_only_a_drawing_is_refused_as_scanned():
    error = refused(make_pdf([None]), "scan.pdf")
    assert error.message == (
        "scan.pdf has no text layer (a scanned image?). Run OCR first, or upload the text."
    )


def test_password_protected_pdf_is_refused():
    data = make_pdf(["Secret"], encrypt=StandardEncryption("user-pw", ownerPassword="owner"))
    assert "protected by a password" in refused(data, "locked.pdf").message


def test_pdf_restricted_only_by_an_owner_password_is_read():
    rc4 = make_pdf(["Open to read"], encrypt=StandardEncryption("", ownerPassword="owner"))
    assert extract_text(rc4, file_name="rc4.pdf").text == "Open to read"
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["AES text"]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    aes = io.BytesIO()
    writer.write(aes)
    assert extract_text(aes.getvalue(), file_name="aes.pdf").text == "AES text"


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/record.txt", "record.txt"),
        ("C:\\Users\\vera\\Desktop\\record.txt", "record.txt"),
        ("rec\x00or\x1bd\u202etxt.exe.txt", "recordtxt.exe.txt"),
        ("  Запись беседы.txt  ", "Запись беседы.txt"),
        ("", "untitled"),
        ("..", "untitled"),
    ],
)
def test_file_names_keep_only_a_clean_base_name(given, kept):
    assert safe_file_name(given) == kept


def test_long_file_name_is_capped_and_keeps_its_extension():
    name = safe_file_name("я" * 400 + ".txt")
    assert len(name) == 255
    assert name.endswith("я.txt")


# --- import as a revision -----------------------------------------------------------------


@pytest.fixture
def bare_source(library, alice):
    return make_source(library=library, created_by=alice, title="Roshchin to Vyshinsky")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_importing_twice_appends_revisions_with_checksums(bare_source, alice, bob):
    first = import_text_revision(
        bare_source, upload("r.txt", sample("roshchin-mao-1950.koi8-r.txt")), user=alice
    )
    second = import_text_revision(
        bare_source,
        upload("page.html", sample("hostile-page.html")),
        user=bob,
        note="  the HTML edition  ",
    )
    rows = list(SourceText.objects.filter(source=bare_source).order_by("revision"))
    assert [row.pk for row in rows] == [first.pk, second.pk]
    assert [row.revision for row in rows] == [1, 2]
    for row in rows:
        assert row.sha256 == hashlib.sha256(row.text.encode("utf-8")).hexdigest()
        assert row.verify()
    assert (rows[0].text, rows[0].encoding, rows[0].media_type) == (
        ROSHCHIN,
        "koi8-r",
        "text/plain",
    )
    assert (rows[0].file_name, rows[0].imported_by, rows[0].note) == ("r.txt", alice, "")
    assert (rows[1].text, rows[1].media_type, rows[1].imported_by) == (
        HOSTILE_TEXT,
        "text/html",
        bob,
    )
    assert rows[1].note == "the HTML edition"
    assert "<script" not in rows[1].html and "<script" in rows[1].html_raw


def test_imported_pdf_keeps_its_page_map(bare_source, alice):
    text = import_text_revision(bare_source, upload("r.pdf", make_pdf(THREE_PAGES)), user=alice)
    text.refresh_from_db()
    assert [label for _offset, label in text.page_map] == ["1", "2", "3"]
    assert text.page_at(text.page_map[2][0]) == "3"
    assert text.encoding == ""


def test_imported_file_name_is_sanitised(bare_source, alice):
    data = sample("roshchin-mao-1950.utf8.txt")
    text = import_text_revision(bare_source, upload("C:\\tmp\\rec\x07ord.txt", data), user=alice)
    assert text.file_name == "record.txt"


def test_oversize_upload_is_refused_with_413_and_writes_nothing(bare_source, alice, settings):
    settings.MAX_UPLOAD_BYTES = 500
    with pytest.raises(UploadError) as info:
        import_text_revision(
            bare_source, upload("r.txt", sample("roshchin-mao-1950.utf8.txt")), user=alice
        )
    assert (info.value.status, info.value.field) == (413, "file")
    assert not SourceText.objects.filter(source=bare_source).exists()


def test_refused_file_writes_nothing(bare_source, alice):
    with pytest.raises(UploadError):
        import_text_revision(bare_source, upload("scan.pdf", make_pdf([None])), user=alice)
    assert not SourceText.objects.filter(source=bare_source).exists()


def test_missing_file_is_refused(bare_source, alice):
    with pytest.raises(UploadError) as info:
        import_text_revision(bare_source, None, user=alice)
    assert (info.value.field, info.value.message) == ("file", "Choose a file to upload.")


def test_overlong_note_is_refused_on_the_note_field(bare_source, alice):
    with pytest.raises(UploadError) as info:
        import_text_revision(bare_source, upload("r.txt", b"text"), user=alice, note="n" * 501)
    assert info.value.field == "note"
    assert not SourceText.objects.filter(source=bare_source).exists()


@pytest.mark.parametrize("persona", ["vera", "mallory"])
def test_reader_and_outsider_cannot_import(bare_source, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        import_text_revision(bare_source, upload("r.txt", b"text"), user=user)
    assert not SourceText.objects.filter(source=bare_source).exists()
