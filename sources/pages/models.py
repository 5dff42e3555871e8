"""What a text revision was read from, and its pages.

- `OriginalFile`: the file itself, its bytes in the database (as jobs keep uploads) with its
  SHA-256, media type and name: a PDF, or each of the images of a scan, in order. Deleting
  the revision deletes it, so a library's backup holds it (the cascade from `Library`).
- `Page`: one page of the revision: its index, its label (the PDF's own, "iv", or 1, 2, …),
  which file and which page of that file shows it, its size, the code-point range of its
  text in the revision's canonical text, and its words: each a code-point range and a box.
- `Reading`: how the revision's text was read from those pages: the PDF's text layer, or
  OCR (engine and version, languages, mean confidence).

Boxes are in ten-thousandths of the page's width and height from its top-left corner
(`BOX_UNITS`), so that a region of a page is a rectangle in percent of it (a W3C
`FragmentSelector`, `xywh=percent:…`) and a page is named by (revision, index).

These models belong to the `sources` app (same label, tables and migrations):
`sources.apps` finds them here, as Django finds an app's own `models.py`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from sources.models import Library, SourceText

if TYPE_CHECKING:
    from sources.models import AnyUser

BOX_UNITS = 10_000  # a box's coordinates, in fractions of the page's width and height
LOW_CONFIDENCE = 60  # OCR words below this (of 100) are marked as doubtful


class OriginalFileQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> OriginalFileQuerySet:
        return self.filter(text__source__library__in=Library.objects.visible_to(user))


class OriginalFile(models.Model):
    """A file a revision's text was read from, byte for byte."""

    text = models.ForeignKey(SourceText, on_delete=models.CASCADE, related_name="originals")
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order among the revision's files (the images of a scan)."
    )
    name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()

    objects = OriginalFileQuerySet.as_manager()

    class Meta:
        ordering = ["text", "position"]
        constraints = [
            models.UniqueConstraint(fields=["text", "position"], name="one_original_per_position")
        ]

    def __str__(self) -> str:
        return self.name

    def verify(self) -> bool:
        """Do the stored bytes still hash to the recorded checksum?"""
        return hashlib.sha256(bytes(self.data)).hexdigest() == self.sha256


class PageQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> PageQuerySet:
        return self.filter(text__source__library__in=Library.objects.visible_to(user))


class Page(models.Model):
    """One page of a revision, as its original shows it."""

    text = models.ForeignKey(SourceText, on_delete=models.CASCADE, related_name="pages")
    index = models.PositiveIntegerField(help_text="0 for the first page of the revision.")
    label = models.CharField(max_length=50, help_text="As the page map labels it: iv, 12, A-3.")
    original = models.ForeignKey(OriginalFile, on_delete=models.CASCADE, related_name="pages")
    original_page = models.PositiveIntegerField(
        default=0, help_text="The page (or image frame) of the file that shows it, from 0."
    )
    width = models.FloatField(help_text="In points (1/72 inch), as shown (rotation applied).")
    height = models.FloatField()
    start = models.PositiveIntegerField(help_text="Code point where its text begins.")
    end = models.PositiveIntegerField(help_text="Code point where its text ends.")
    words = models.JSONField(
        default=list,
        blank=True,
        help_text="[[start, end, left, top, right, bottom(, confidence)], …]: code points of "
        "the revision's text; the box in ten-thousandths of the page; OCR confidence 0–100.",
    )
    confidence = models.FloatField(
        null=True, blank=True, help_text="Mean OCR confidence of its words (0–100)."
    )

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["text", "index"]
        constraints = [
            models.UniqueConstraint(fields=["text", "index"], name="one_page_per_index"),
            models.CheckConstraint(condition=Q(start__lte=models.F("end")), name="page_range"),
        ]

    def __str__(self) -> str:
        return f"page {self.label} of {self.text}"

    @property
    def aspect(self) -> float:
        """Height over width, for the placeholder a page view reserves before the image."""
        return self.height / self.width if self.width else 1.0


def low_confidence_words(text: SourceText) -> list[list[int]]:
    """[[start, end, confidence], …]: the words of the revision OCR read with less than
    LOW_CONFIDENCE, in text order, for the reading view to mark."""
    marks = []
    for words in Page.objects.filter(text=text).order_by("index").values_list("words", flat=True):
        for word in words or []:
            if isinstance(word, list) and len(word) == 7 and word[6] < LOW_CONFIDENCE:
                marks.append([word[0], word[1], word[6]])
    return marks


class ReadingMethod(models.TextChoices):
    TEXT_LAYER = "text-layer", "the PDF's text layer"
    OCR = "ocr", "OCR"


class Reading(models.Model):
    """How a revision's text was read from its pages."""

    text = models.OneToOneField(SourceText, on_delete=models.CASCADE, related_name="reading")
    method = models.CharField(max_length=20, choices=ReadingMethod.choices)
    engine = models.CharField(max_length=100, blank=True, help_text="Tesseract 5.3.0")
    languages = models.CharField(max_length=200, blank=True, help_text="rus+eng")
    confidence = models.FloatField(
        null=True, blank=True, help_text="Mean confidence of the words read (0–100)."
    )

    def __str__(self) -> str:
        return f"{self.text}: {self.describe()}"

    def describe(self) -> str:
        return describe_reading(self.method, self.engine, self.languages, self.confidence)


def describe_reading(method: str, engine: str, languages: str, confidence: float | None) -> str:
    """ "OCR (Tesseract 5.3.0; rus+eng; mean confidence 93 %)", or "the PDF's text layer"."""
    if method != ReadingMethod.OCR:
        return ReadingMethod(method).label
    parts = [engine, languages]
    if confidence is not None:
        parts.append(f"mean confidence {confidence:.0f} %")
    return f"OCR ({'; '.join(part for part in parts if part)})"
