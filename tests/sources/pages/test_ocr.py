"""Scans read by OCR: image-only PDFs and page images become revisions whose text Tesseract
read, with their pages, word boxes and confidences; the text works as any other.

The scans are made here (`scans`): typed Russian and English pages rendered at 300 dpi with
a stamp, a skew and specks, assembled into image-only PDFs, TIFFs, PNGs and JPEGs. Tests
that run Tesseract need it (`tesseract` fixture: skipped with the reason where it is not
installed, failed under CI=true); the others run anywhere.
"""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import Job, JobState
from jobs.runner import Progress
from sources import importers
from sources.models import SourceText
from sources.pages import ocr
from sources.pages.models import LOW_CONFIDENCE, OriginalFile, Page, Reading, ReadingMethod
from tests.sources.pages.conftest import import_pdf, need_tesseract, upload
from tests.sources.pages.scans import (
    character_accuracy,
    english_text,
    image_file,
    image_only_pdf,
    multipage_tiff,
    russian_text,
    text_pdf,
    typed_page,
    wrapped,
)

pytestmark = pytest.mark.django_db
ACCURACY = 0.95


def english_scan() -> bytes:
    return image_only_pdf([typed_page(english_text())])


def bilingual_scan() -> bytes:
    return image_only_pdf([typed_page(russian_text()), typed_page(english_text(), seed=1947)])


def post_text(client, source, name: str, data: bytes, **fields):
    body = {"file": SimpleUploadedFile(name, data), **fields}
    return client.post(reverse("text-create", args=[source.pk]), body)


def post_ocr(client, source, files: list[tuple[str, bytes]] = (), **fields):
    body = {"files": [SimpleUploadedFile(name, data) for name, data in files], **fields}
    return client.post(reverse("source-ocr", args=[source.pk]), body)


def last_job() -> Job:
    return Job.objects.order_by("-pk").first()


def page_texts(revision: SourceText) -> list[str]:
    return [revision.text[p.start : p.end] for p in Page.objects.filter(text=revision)]


# --- A scan uploaded as a text -----------------------------------------------------------


def test_an_image_only_pdf_uploaded_as_a_text_is_read_by_ocr(tesseract, as_user, bob, source):
    data = english_scan()
    response = post_text(as_user(bob), source, "truman-scan.pdf", data)
    job = last_job()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert (job.kind, job.state) == ("import-text", JobState.SUCCEEDED), job.error
    revision = source.texts.get(revision=2)
    assert character_accuracy(english_text(), revision.text) >= ACCURACY
    assert revision.media_type == "application/pdf"
    assert revision.note.startswith("OCR (Tesseract ")
    assert "; eng; mean confidence " in revision.note
    reading = Reading.objects.get(text=revision)
    assert (reading.method, reading.languages) == (ReadingMethod.OCR, "eng")
    assert reading.engine == ocr.engine()
    assert 80 <= reading.confidence <= 100
    assert bytes(OriginalFile.objects.get(text=revision).data) == data


def test_each_page_read_keeps_its_words_boxes_and_confidences(tesseract, alice, source):
    source.language, source.original_language = "en", "ru"
    source.save()
    revision = _ocr(source, alice, bilingual_scan())
    russian, english = page_texts(revision)
    assert character_accuracy(russian_text(), russian) >= ACCURACY
    assert character_accuracy(english_text(), english) >= ACCURACY
    assert Reading.objects.get(text=revision).languages == "eng+rus"
    assert [label for _, label in revision.page_map] == ["1", "2"]
    for page in Page.objects.filter(text=revision):
        assert page.words
        for start, end, left, top, right, bottom, confidence in page.words:
            assert page.start <= start < end <= page.end
            assert not any(c.isspace() for c in revision.text[start:end])
            assert 0 <= left < right <= 10_000 and 0 <= top < bottom <= 10_000
            assert 0 <= confidence <= 100
        assert page.confidence == pytest.approx(
            sum(w[6] for w in page.words) / len(page.words), abs=0.1
        )


def test_a_words_box_is_where_it_was_typed(tesseract, alice, source):
    """The first word of the English page was typed at the top-left margin (250 px of a
    2480 × 3508 page at 300 dpi), 12 pt high."""
    revision = _ocr(source, alice, english_scan())
    start, end, left, top, right, bottom, _ = Page.objects.get(text=revision).words[0]
    assert revision.text[start:end] == "Mr."
    assert left == pytest.approx(250 / 2480 * 10_000, abs=60)
    assert top == pytest.approx(250 / 3508 * 10_000, abs=60)
    assert bottom - top == pytest.approx(40 / 3508 * 10_000, abs=40)


def test_ocr_shows_its_progress_page_by_page(tesseract, as_user, bob, source, monkeypatch):
    seen = []
    advance = Progress.advance

    def recorded(progress, done, message=None):
        seen.append((done, progress.job.total, message))
        advance(progress, done, message)

    monkeypatch.setattr(Progress, "advance", recorded)
    post_text(as_user(bob), source, "scan.pdf", bilingual_scan())
    job = last_job()
    assert job.state == JobState.SUCCEEDED, job.error
    assert seen[:2] == [(1, 2, "Read page 1 of 2 by OCR"), (2, 2, "Read page 2 of 2 by OCR")]
    assert (job.done, job.total) == (2, 2)


def test_the_api_hands_a_scan_to_a_job(tesseract, as_user, bob, source):
    response = as_user(bob).post(
        reverse("api-source-text-list", args=[source.pk]),
        {"file": SimpleUploadedFile("scan.png", image_file(typed_page(english_text()), "PNG"))},
    )
    assert response.status_code == 202
    assert last_job().state == JobState.SUCCEEDED
    assert source.texts.get(revision=2).media_type == "image/png"


# --- Page images -----------------------------------------------------------------------


def test_several_images_become_one_sources_pages_in_order(tesseract, as_user, bob, source):
    pages = [
        ("p1.png", image_file(typed_page(russian_text()), "PNG")),
        ("p2.jpg", image_file(typed_page(english_text(), seed=1947), "JPEG")),
    ]
    response = post_ocr(as_user(bob), source, pages, languages=["rus", "eng"])
    job = last_job()
    assert response.status_code == 302
    assert (job.kind, job.state) == ("ocr", JobState.SUCCEEDED), job.error
    revision = source.texts.get(revision=2)
    russian, english = page_texts(revision)
    assert character_accuracy(russian_text(), russian) >= ACCURACY
    assert character_accuracy(english_text(), english) >= ACCURACY
    files = OriginalFile.objects.filter(text=revision)
    assert [(f.name, f.media_type) for f in files] == [
        ("p1.png", "image/png"),
        ("p2.jpg", "image/jpeg"),
    ]
    assert [bytes(f.data) for f in files] == [data for _, data in pages]
    assert revision.file_name == "p1.png and 1 more"
    assert [(p.original.position, p.original_page) for p in Page.objects.filter(text=revision)] == [
        (0, 0),
        (1, 0),
    ]


def test_a_multipage_tiff_is_several_pages(tesseract, alice, source):
    data = multipage_tiff([typed_page(english_text()), typed_page(english_text(), seed=2)])
    revision = _ocr(source, alice, data, name="scan.tiff")
    pages = Page.objects.filter(text=revision)
    assert [(p.label, p.original_page) for p in pages] == [("1", 0), ("2", 1)]
    for text in page_texts(revision):
        assert character_accuracy(english_text(), text) >= ACCURACY
    assert pages[0].width == pytest.approx(595.2, abs=0.5)  # 2480 px at 300 dpi


def test_the_languages_chosen_on_the_form_are_read_in(tesseract, as_user, bob, source):
    source.language = "en"
    source.save()
    form = as_user(bob).get(reverse("source-ocr", args=[source.pk])).context["form"]
    assert form.fields["languages"].initial == ["eng"]
    scan = image_file(typed_page(russian_text()), "PNG")
    post_ocr(as_user(bob), source, [("scan.png", scan)], languages=["rus"], note="Photocopy")
    revision = source.texts.get(revision=2)
    assert last_job().params["languages"] == ["rus"]
    assert Reading.objects.get(text=revision).languages == "rus"
    assert character_accuracy(russian_text(), revision.text) >= ACCURACY
    assert revision.note.startswith("Photocopy — OCR (Tesseract ")


def test_a_pdf_with_a_poor_text_layer_is_read_again_on_request(tesseract, as_user, bob, source):
    """A PDF whose text layer says something else than its pages show (as a bad OCR of
    years ago does): the OCR form reads its pages again into a new revision."""
    layer = import_pdf(source, bob, text_pdf([wrapped(english_text())]), "truman.pdf")
    response = post_ocr(as_user(bob), source, revision=layer.revision, languages=["eng"])
    assert response.status_code == 302
    assert last_job().state == JobState.SUCCEEDED, last_job().error
    again = source.texts.get(revision=layer.revision + 1)
    assert Reading.objects.get(text=again).method == ReadingMethod.OCR
    assert character_accuracy(english_text(), again.text) >= ACCURACY
    assert bytes(OriginalFile.objects.get(text=again).data) == bytes(
        OriginalFile.objects.get(text=layer).data
    )


# --- The OCR'd text works as any other ---------------------------------------------------


def test_a_corrected_transcription_carries_the_annotations_over(tesseract, alice, source):
    from tests.factories import make_annotation

    revision = _ocr(source, alice, english_scan())
    note = make_annotation(text=revision, creator=alice, quote="Greece and Turkey")
    corrected = importers.import_text_revision(
        source, upload("truman.txt", english_text().encode()), user=alice, note="Corrected"
    )
    note.refresh_from_db()
    assert note.text_id == corrected.pk
    assert corrected.text[note.start : note.end] == "Greece and Turkey"


def test_search_finds_the_ocr_text(tesseract, as_user, alice, source):
    from search import index as search_index

    search_index.connect()  # idempotent; SearchConfig.ready() connects it as well
    revision = _ocr(source, alice, english_scan())
    response = as_user(alice).get(reverse("api-search"), {"q": '"urgent appeal"'})
    assert response.status_code == 200
    passages = [r for r in response.json()["results"] if r["kind"] == "passage"]
    assert [r["source"] for r in passages] == [revision.source_id]
    assert "<mark>urgent\nappeal</mark>" in passages[0]["snippet_html"]  # a line apart


def test_a_citation_names_the_page_the_passage_is_on(tesseract, alice, source):
    from citations.passages import passage_locator

    revision = _ocr(source, alice, bilingual_scan())
    start = revision.text.index("Greece")
    locator = passage_locator(revision, start, start + 6, archival=False)
    assert (locator.value, locator.label) == ("2", "page")


def test_text_reuse_and_claims_work_on_the_ocr_text(tesseract, alice, library, source):
    from annotations.claims.claims import Selection, make_claim_from_highlight
    from sources.reuse.reports import report
    from tests.factories import make_source, make_text

    revision = _ocr(source, alice, english_scan())
    quoting = make_source(library=library, title="A chapter quoting Truman")
    make_text(source=quoting, text="Truman said: " + english_text().split("\n\n")[3])
    matched = report(revision).matches
    assert [m.other.source_id for m in matched] == [quoting.pk]
    start = revision.text.index("imperative")
    claim = make_claim_from_highlight(
        Selection(text=revision, start=start, end=start + len("imperative")), creator=alice,
        statement="Truman tied aid to Greece's survival.",
    )  # fmt: skip
    assert claim.evidence.get().annotation.text_id == revision.pk


# --- Limits, and OCR unavailable -------------------------------------------------------


def test_a_scan_of_more_pages_than_allowed_fails_its_job_naming_the_limit(
    tesseract, as_user, bob, source, settings
):
    settings.OCR_MAX_PAGES = 1
    post_text(as_user(bob), source, "scan.pdf", bilingual_scan())
    job = last_job()
    assert job.state == JobState.FAILED
    assert "(OCR_MAX_PAGES)" in job.error
    assert source.texts.count() == 1


def test_a_page_image_past_the_pixel_limit_is_refused(tesseract, as_user, bob, source, settings):
    settings.MAX_PAGE_PIXELS = 1_000_000
    post_text(as_user(bob), source, "scan.png", image_file(typed_page(english_text()), "PNG"))
    job = last_job()
    assert job.state == JobState.FAILED
    assert "(MAX_PAGE_PIXELS)" in job.error


def test_a_file_named_as_an_image_that_is_not_one_is_refused(tesseract, as_user, bob, source):
    post_text(as_user(bob), source, "scan.png", b"GIF89a not a png at all")
    assert "is not an image we can read (TIFF, JPEG or PNG)" in last_job().error


def test_without_tesseract_a_scan_is_refused_saying_how_to_install_it(
    as_user, bob, source, settings
):
    settings.TESSERACT_CMD = "/nonexistent/tesseract"
    response = post_text(as_user(bob), source, "scan.pdf", english_scan())
    assert response.status_code == 400
    body = response.content.decode()
    assert "OCR is not available on this server: Tesseract is not installed." in body
    assert "apt-get install tesseract-ocr" in body
    assert source.texts.count() == 1 and not Job.objects.exists()


def test_without_tesseract_the_ocr_page_says_it_is_unavailable(as_user, bob, source, settings):
    settings.TESSERACT_CMD = "/nonexistent/tesseract"
    page = as_user(bob).get(reverse("source-ocr", args=[source.pk]))
    assert page.status_code == 200
    assert "Tesseract is not installed" in page.content.decode()
    refused = post_ocr(as_user(bob), source, [("scan.png", b"\x89PNG")])
    assert refused.status_code == 400
    assert "Tesseract is not installed" in refused.content.decode()


def test_a_scan_is_told_from_a_text_pdf_without_reading_it():
    assert importers.is_scan(english_scan(), "scan.pdf")
    assert importers.is_scan(b"anything", "page.tif")
    assert not importers.is_scan(text_pdf([["Typed text"]]), "text.pdf")
    assert not importers.is_scan(b"%PDF-1.4 damaged", "broken.pdf")  # read as text: says why
    assert not importers.is_scan(b"text", "notes.txt")


# --- The OCR form ----------------------------------------------------------------------


def test_a_viewer_may_not_read_a_scan_into_the_source(as_user, vera, source):
    assert as_user(vera).get(reverse("source-ocr", args=[source.pk])).status_code == 403
    assert post_ocr(as_user(vera), source, [("s.png", b"x")]).status_code == 403


def test_an_outsider_gets_404_from_the_ocr_form(as_user, mallory, source):
    assert as_user(mallory).get(reverse("source-ocr", args=[source.pk])).status_code == 404


def test_the_ocr_form_answers_get_and_post_only(as_user, bob, source):
    assert as_user(bob).put(reverse("source-ocr", args=[source.pk])).status_code == 405


def test_the_ocr_form_without_a_scan_is_a_400_naming_the_field(tesseract, as_user, bob, source):
    response = post_ocr(as_user(bob), source)
    assert response.status_code == 400
    assert "files" in response.context["form"].errors


def test_a_pdf_among_page_images_is_a_400_naming_the_field(tesseract, as_user, bob, source):
    png = image_file(typed_page(english_text()), "PNG")
    response = post_ocr(as_user(bob), source, [("a.png", png), ("b.pdf", english_scan())])
    assert response.status_code == 400
    assert "files" in response.context["form"].errors
    assert not Job.objects.exists()


def test_a_language_tesseract_lacks_is_a_400_naming_languages(tesseract, as_user, bob, source):
    response = post_ocr(as_user(bob), source, [("a.png", b"x")], languages=["xxx"])
    assert response.status_code == 400
    assert "languages" in response.context["form"].errors


def test_low_confidence_words_are_marked(alice, source):
    """The marks the reading view styles: words under LOW_CONFIDENCE, from the pages."""
    from sources.pages.models import low_confidence_words

    revision = import_pdf(source, alice, text_pdf([["Typed text here"]]))
    Page.objects.filter(text=revision).update(
        words=[
            [0, 5, 0, 0, 1, 1, 97],
            [6, 10, 2, 0, 3, 1, LOW_CONFIDENCE - 1],
            [11, 15, 4, 0, 5, 1],
        ]
    )
    assert low_confidence_words(revision) == [[6, 10, LOW_CONFIDENCE - 1]]


def _ocr(source, user, data: bytes, name: str = "scan.pdf") -> SourceText:
    """Read `data` by OCR in the test's process (as the job does), as revision 2."""
    original = importers.Original(name, data)
    request = importers.OcrRequest(source=source)
    extracted = importers.read_file(original, ocr=request)
    return importers.save_revision(source, extracted, originals=[original], user=user, note="")


def test_without_tesseract_ocr_tests_are_skipped_saying_why(monkeypatch):
    monkeypatch.setattr(ocr, "unavailable", lambda languages=(): "Tesseract is not installed.")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="OCR tests skipped: Tesseract is not"):
        need_tesseract()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="mandatory in CI"):
        need_tesseract()


def test_tesseract_reads_on_one_thread_unless_told_otherwise(monkeypatch):
    """Its OpenMP threads made a page 3–4 times slower on a busy two-core machine."""
    from PIL import Image

    seen = []

    def image_to_data(*args, **kwargs):
        seen.append(os.environ.get("OMP_THREAD_LIMIT"))
        return {key: [] for key in ("level", "text", "conf", "block_num", "par_num", "line_num",
                                    "left", "top", "width", "height")}  # fmt: skip

    monkeypatch.setattr(ocr.pytesseract, "image_to_data", image_to_data)
    monkeypatch.setattr(ocr, "_require_cmd", lambda: "tesseract")
    scan = ocr.ScanPage(0, 0, "1", Image.new("L", (10, 10), 255), 10, 10)
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    ocr.read_page(scan, ("eng",))
    monkeypatch.setenv("OMP_THREAD_LIMIT", "4")
    ocr.read_page(scan, ("eng",))
    assert seen == ["1", "4"]
