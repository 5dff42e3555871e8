"""Fixtures of the page-view and OCR tests: a page cache of each test's own, PDFium's open
documents closed after each test, and Tesseract, whose tests are skipped (with the reason
shown) where it is not installed, and fail instead under CI=true."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sources.importers import import_text_revision
from sources.pages import ocr, pdf

OCR_LANGUAGES = ("eng", "rus")


@pytest.fixture(autouse=True)
def _own_page_cache(settings, tmp_path):
    settings.PAGE_CACHE_DIR = str(tmp_path / "page-cache")
    yield
    pdf.forget_documents()


def need_tesseract(languages: tuple[str, ...] = OCR_LANGUAGES) -> None:
    why = ocr.unavailable(languages)
    if not why:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} OCR tests are mandatory in CI (.ci/run installs Tesseract).")
    pytest.skip(f"OCR tests skipped: {why}")


@pytest.fixture
def tesseract():
    need_tesseract()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def import_pdf(source, user, data: bytes, name: str = "record.pdf"):
    return import_text_revision(source, upload(name, data), user=user)
