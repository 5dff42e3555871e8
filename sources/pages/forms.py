"""The OCR form: a scan to read (one PDF, or page images in order), or a revision whose
files to read again, in which languages, with a note on the new revision."""

from __future__ import annotations

from django import forms
from django.conf import settings

from sources.importers import NOTE_MAX
from sources.models import Source, SourceText
from sources.pages import ocr

LANGUAGE_NAMES = {
    "eng": "English", "rus": "Russian", "chi_sim": "Chinese (simplified)",
    "chi_tra": "Chinese (traditional)", "deu": "German", "fra": "French", "ukr": "Ukrainian",
    "bel": "Belarusian", "pol": "Polish", "ces": "Czech", "spa": "Spanish", "ita": "Italian",
    "jpn": "Japanese", "kor": "Korean", "vie": "Vietnamese", "hun": "Hungarian",
    "ron": "Romanian", "bul": "Bulgarian", "srp": "Serbian",
}  # fmt: skip


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern), in the order sent."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ".pdf,.tif,.tiff,.jpg,.jpeg,.png"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple):
            return [clean_one(item, initial) for item in data if item]
        return [clean_one(data, initial)] if data else []


class OcrForm(forms.Form):
    files = MultipleFileField(
        required=False,
        label="Scan",
        help_text="One PDF, or page images (TIFF, JPEG, PNG) in the order of their pages; "
        f"up to {settings.MAX_UPLOAD_BYTES // 1_000_000} MB in all and "
        f"{settings.OCR_MAX_PAGES} pages.",
    )
    revision = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Or read again",
        help_text="The file a revision came from, read by OCR (a PDF whose text layer is poor).",
    )
    languages = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Languages",
        help_text="What the scan is written in; Tesseract reads best with only those.",
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX,
        label="Note on this revision",
        help_text="e.g. photocopy from the archive, pages 1–12.",
    )

    def __init__(self, *args, source: Source, revisions: list[SourceText], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        installed = sorted(ocr.installed_languages())
        self.fields["languages"].choices = [(c, LANGUAGE_NAMES.get(c, c)) for c in installed]
        self.fields["languages"].initial = list(ocr.languages_for(source)) if installed else []
        self.fields["revision"].choices = [("", "—")] + [
            (t.revision, f"Revision {t.revision}: {t.file_name or 'no file name'}")
            for t in revisions
        ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("files") and data.get("revision") is not None:
            raise forms.ValidationError(
                "Upload a scan or choose a revision to read again, not both."
            )
        if not data.get("files") and data.get("revision") is None and not self.errors:
            self.add_error("files", "Choose the scan to read, or a revision to read again.")
        return data
