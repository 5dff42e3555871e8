"""Forms of the text-reuse pages (sources/reuse/views.py): they parse and validate the
request; `sources/reuse/detection.py` and `sources/reuse/reports.py` do the work."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from sources.models import LinkRelation, Source, SourceText
from sources.reuse import detection

MAX_MIN_WORDS = 1000
BORROWERS = [("this", "this source"), ("other", "the other source")]
RELATIONS = [
    (LinkRelation.QUOTES.value, LinkRelation.QUOTES.label),
    (LinkRelation.DERIVED_FROM.value, LinkRelation.DERIVED_FROM.label),
]


class ReuseOptionsForm(forms.Form):
    """Which revision of the source to look at, and the shortest passage worth showing."""

    revision = forms.IntegerField(min_value=1, required=False)
    min_words = forms.IntegerField(
        label="Shortest passage (words)",
        min_value=detection.SHINGLE,
        max_value=MAX_MIN_WORDS,
        required=False,
        help_text="A CJK character counts as a word.",
    )

    def __init__(self, *args, source: Source, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        self.fields["min_words"].widget.attrs["placeholder"] = str(detection.default_min_words())

    def clean_revision(self) -> SourceText:
        number = self.cleaned_data.get("revision")
        texts = self.source.texts.order_by("-revision")
        text = texts.filter(revision=number).first() if number else texts.first()
        if text is None:
            raise ValidationError(
                "This source has no such revision." if number else "This source has no text yet."
            )
        return text

    @property
    def text(self) -> SourceText:
        return self.cleaned_data["revision"]

    @property
    def shortest(self) -> int:
        """The shortest passage to report, in words."""
        return self.cleaned_data.get("min_words") or detection.default_min_words()


class PassageForm(ReuseOptionsForm):
    """A highlighted passage: code-point offsets into the revision."""

    start = forms.IntegerField(label="From character", min_value=0)
    end = forms.IntegerField(label="To character", min_value=1)

    def clean(self) -> dict:
        data = super().clean()
        text, start, end = data.get("revision"), data.get("start"), data.get("end")
        if text is None or start is None or end is None:
            return data
        if end > len(text.text):
            self.add_error("end", f"The text has only {len(text.text)} characters.")
        elif end <= start:
            self.add_error("end", "The passage must end after it starts.")
        elif (count := detection.passage_words(text, start, end)) < detection.SHINGLE:
            self.add_error(
                "end", f"Select at least {detection.SHINGLE} words; this passage has {count}."
            )
        return data


class RecordLinkForm(ReuseOptionsForm):
    """Record the provenance a set of shared passages suggests, as a source link."""

    other_text = forms.IntegerField(widget=forms.HiddenInput)
    relation = forms.ChoiceField(choices=RELATIONS)
    borrower = forms.ChoiceField(
        choices=BORROWERS, label="Which source took the passages from the other?"
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_other_text(self) -> SourceText:
        other = (
            SourceText.objects.filter(
                pk=self.cleaned_data["other_text"], source__library_id=self.source.library_id
            )
            .exclude(source=self.source)
            .select_related("source")
            .first()
        )
        if other is None:
            raise ValidationError("Choose a text of another source in this library.")
        return other
