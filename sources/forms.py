"""Forms of the source-library pages: they parse and validate; models and importers do the work."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import QueryDict

from core.dates import Bounds, edtf_bounds
from sources.csl import checked_keywords, checked_variables
from sources.importers import ENCODING_CHOICES
from sources.models import (
    Creator,
    ImportFormat,
    Library,
    LinkRelation,
    Source,
    SourceKind,
    SourceLink,
    SourceQuerySet,
    SourceType,
)

if TYPE_CHECKING:
    from sources.models import AnyUser

# Human labels for CSL variables, shared by the form and the source page's metadata panel.
LABELS = {
    "csl_type": "Type",
    "kind": "Primary or secondary",
    "title": "Title",
    "container_title": "Published in",
    "collection_title": "Series or collection",
    "publisher": "Publisher",
    "publisher_place": "Place of publication",
    "volume": "Volume",
    "issue": "Issue",
    "page": "Pages",
    "edition": "Edition",
    "issued": "Date (EDTF)",
    "archive": "Archive",
    "archive_place": "Archive place",
    "archive_collection": "Archive collection",
    "archive_location": "Archive location",
    "call_number": "Call number",
    "genre": "Genre",
    "medium": "Medium",
    "url": "URL",
    "accessed": "Accessed (EDTF)",
    "language": "Language",
    "original_language": "Original language",
    "rights": "Rights",
    "identifiers": "Identifiers",
    "abstract": "Abstract",
    "note": "Note",
    "issued_literal": "Date as written",
    "keywords": "Keywords",
    "variables": "Other CSL variables",
}
FIELDSETS = [
    (
        "Bibliographic",
        [
            "csl_type", "kind", "title", "container_title", "collection_title", "publisher",
            "publisher_place", "volume", "issue", "page", "edition", "issued", "issued_literal",
            "genre", "medium", "language", "original_language",
        ],
    ),
    (
        "Archival",
        ["archive", "archive_place", "archive_collection", "archive_location", "call_number"],
    ),
    ("Identifiers and access", ["identifiers", "url", "accessed", "rights"]),
    ("Abstract and note", ["abstract", "note", "keywords"]),
    ("Other CSL variables", ["variables"]),
]  # fmt: skip
SOURCE_FIELDS = [name for _, names in FIELDSETS for name in names]
WIDE_FIELDS = [
    "container_title", "collection_title", "publisher", "archive", "archive_collection",
    "archive_location", "url",
]  # fmt: skip
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def _edtf_bounds_or_error(value: str, field: str) -> Bounds | None:
    """The bounds of an EDTF string (None for an empty one), or a form error saying why not."""
    if not value:
        return None
    try:
        return edtf_bounds(value, field=field)
    except ValidationError as error:
        raise ValidationError(error.message_dict[field]) from None


def _edtf_or_error(value: str, field: str) -> str:
    value = value.strip()
    _edtf_bounds_or_error(value, field)
    return value


def _language_or_error(value: str) -> str:
    value = value.strip()
    if value and not _LANGUAGE_TAG.match(value):
        raise ValidationError(f"{value!r} is not a BCP 47 language tag (e.g. ru, en, zh-Hant).")
    return value


class IdentifiersField(forms.CharField):
    """A JSON dict edited as "key: value" lines (DOI: 10.1000/182)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, dict):  # sorted: PostgreSQL's jsonb does not keep key order
            pairs = sorted(value.items(), key=lambda pair: pair[0].lower())
            return "\n".join(f"{key}: {val}" for key, val in pairs)
        return value

    def to_python(self, value: object) -> dict[str, str]:  # type: ignore[override]
        result: dict[str, str] = {}
        for number, line in enumerate(str(value or "").splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, val = (part.strip() for part in line.partition(":"))
            if not (sep and key and val):
                raise ValidationError(
                    f"Line {number} ({line.strip()!r}) is not “key: value”, e.g. DOI: 10.1000/182."
                )
            if key in result:
                raise ValidationError(f"Line {number}: {key!r} is given twice.")
            result[key] = val
        return result


class KeywordsField(forms.CharField):
    """A JSON list of keywords edited one per line (collection:Cold War/Moscow)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: object) -> object:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        return checked_keywords(str(value or "").split("\n"))


class VariablesField(IdentifiersField):
    """CSL variables without a field of their own, as "variable: value" lines."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, dict):
            lines = []
            for key, val in sorted(value.items()):
                if isinstance(val, dict):
                    val = val.get("literal", "")
                elif isinstance(val, list):
                    val = ", ".join(str(v) for v in val)
                lines.append(f"{key}: {val}")
            return "\n".join(lines)
        return value

    def to_python(self, value: object) -> dict:  # type: ignore[override]
        pairs = super().to_python(value)
        return checked_variables(pairs)


class LibraryForm(forms.ModelForm):
    class Meta:
        model = Library
        fields = ["name", "description", "is_public"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"is_public": "Publish read-only to everyone"}

    def save(self, commit: bool = True, *, owner: AnyUser) -> Library:  # type: ignore[override]
        """The new library, with `owner` as its first member (always saved)."""
        return Library.objects.create_for(owner, **self.cleaned_data)


class SourceForm(forms.ModelForm):
    """Every metadata field of a source; creators come in a formset beside it."""

    identifiers = IdentifiersField(
        required=False,
        label=LABELS["identifiers"],
        help_text="One per line, “key: value”, e.g. DOI: 10.1000/182 or wilson_center: 110404.",
    )
    url = forms.URLField(
        required=False, max_length=2000, assume_scheme="https", label=LABELS["url"]
    )
    keywords = KeywordsField(
        required=False,
        label=LABELS["keywords"],
        help_text="One per line; a Zotero collection is kept as collection:Parent/Child.",
    )
    variables = VariablesField(
        required=False,
        label=LABELS["variables"],
        help_text="One per line, “variable: value”, e.g. number: 12 or event-place: Geneva.",
    )
    # The version the editor loaded; a mismatch on save means someone else saved in between.
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Source
        fields = SOURCE_FIELDS
        labels = LABELS
        widgets = {
            "title": forms.Textarea(attrs={"rows": 2}),
            "abstract": forms.Textarea(attrs={"rows": 4}),
            "note": forms.Textarea(attrs={"rows": 3}),
            "rights": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version
        for name in WIDE_FIELDS:  # long values get two columns of the form's grid
            self.fields[name].widget.attrs["class"] = "wide"

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in FIELDSETS]

    def clean_issued(self) -> str:
        return _edtf_or_error(self.cleaned_data["issued"], "issued")

    def clean_accessed(self) -> str:
        return _edtf_or_error(self.cleaned_data["accessed"], "accessed")

    def clean_language(self) -> str:
        return _language_or_error(self.cleaned_data["language"])

    def clean_original_language(self) -> str:
        return _language_or_error(self.cleaned_data["original_language"])

    def metadata(self) -> dict:
        return {name: self.cleaned_data[name] for name in SOURCE_FIELDS}


class CreatorForm(forms.ModelForm):
    class Meta:
        model = Creator
        fields = ["role", "family", "given", "suffix", "literal", "family_first", "order"]
        labels = {
            "family": "Family name",
            "given": "Given name",
            "literal": "Or full name",
            "family_first": "Family name first",
        }
        help_texts = {
            "literal": "An institution, or a name not split in two.",
            "family_first": "Mao Zedong, not Zedong Mao (set for Chinese, Japanese, Korean, "
            "Vietnamese and Hungarian script).",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order"].required = False


class BaseCreatorFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """A creator whose order is left blank keeps its place in the form."""
        super().clean()
        for position, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None)
            if data and data.get("order") is None:
                data["order"] = form.instance.order = position


CreatorFormSet = forms.inlineformset_factory(
    Source,
    Creator,
    form=CreatorForm,
    formset=BaseCreatorFormSet,
    extra=2,
    can_delete=True,
    max_num=200,
    validate_max=True,
)


def creator_rows(formset: forms.BaseInlineFormSet) -> list[dict]:
    """The creators a new-source formset describes, in their order, ready for
    `Source.objects.create_with_creators` (which numbers them itself)."""
    rows = [
        f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data["DELETE"]
    ]
    rows.sort(key=lambda row: row.get("order") or 0)
    keys = ("role", "family", "given", "literal", "suffix", "family_first")
    return [{key: row[key] for key in keys} for row in rows]


class EditConflict(Exception):
    """The source was saved by someone else after this form was loaded."""


def save_source_edit(form: SourceForm, creators: forms.BaseInlineFormSet) -> Source:
    """Save metadata and creators together, bumping the version; the citation key stays."""
    with transaction.atomic():
        current = (
            Source.objects.select_for_update()
            .values_list("version", flat=True)
            .get(pk=form.instance.pk)
        )
        expected = form.cleaned_data.get("expected_version")
        if expected is not None and expected != current:
            raise EditConflict
        form.instance.version = current + 1
        source = form.save()
        creators.save()
    return source


# The library page's sort choices, and the SourceQuerySet.ordered_by key each one means.
SORT_CHOICES = [
    ("date", "Date, earliest first"),
    ("-date", "Date, latest first"),
    ("title", "Title"),
    ("creator", "Creator"),
    ("added", "Recently added"),
]
SORT_KEYS = {
    "date": "issued",
    "-date": "-issued",
    "title": "title",
    "creator": "creator",
    "added": "-created",
}


class SourceFilterForm(forms.Form):
    """The library page's filters and sort, read from the query string."""

    q = forms.CharField(required=False, max_length=200, label="Title contains")
    creator = forms.CharField(
        required=False, max_length=200, label="Creator", help_text="Family, given or full name."
    )
    kind = forms.ChoiceField(
        required=False, choices=[("", "Primary and secondary"), *SourceKind.choices], label="Kind"
    )
    csl_type = forms.ChoiceField(
        required=False, choices=[("", "Any type"), *SourceType.choices], label="Type"
    )
    date_from = forms.CharField(
        required=False, max_length=100, label="From", help_text="A year or EDTF date: 1949, 196X"
    )
    date_to = forms.CharField(required=False, max_length=100, label="To")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort by")

    def clean_date_from(self) -> dt.date | None:
        bounds = _edtf_bounds_or_error(self.cleaned_data["date_from"].strip(), "date_from")
        return bounds[0] if bounds else None

    def clean_date_to(self) -> dt.date | None:
        bounds = _edtf_bounds_or_error(self.cleaned_data["date_to"].strip(), "date_to")
        return bounds[1] if bounds else None

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("date_from"), data.get("date_to")
        if low and high and low > high:
            self.add_error("date_to", "The end of the range is before its start.")
        return data

    def filter(self, sources: SourceQuerySet) -> SourceQuerySet:
        """The sources matching every filter given, in the chosen order."""
        data = self.cleaned_data
        sources = sources.matching(
            title=data["q"],
            creator=data["creator"],
            kind=data["kind"],
            csl_type=data["csl_type"],
            issued_from=data["date_from"],
            issued_to=data["date_to"],
        )
        return sources.ordered_by(SORT_KEYS[data["sort"] or "date"])


class TextRevisionForm(forms.Form):
    """A new revision of a source's text; the file itself is checked by the importer."""

    file = forms.FileField(
        required=False,
        label="Text file",
        help_text="Plain text, HTML, Markdown or PDF, up to "
        f"{settings.MAX_UPLOAD_BYTES // 1_000_000} MB.",
    )
    encoding = forms.ChoiceField(required=False, choices=ENCODING_CHOICES, label="Encoding")
    note = forms.CharField(
        required=False,
        max_length=500,
        label="Note on this revision",
        help_text="e.g. corrected translation, OCR checked against the original.",
    )


class MetadataImportForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="Metadata file",
        help_text="CSL-JSON, RIS, BibTeX/BibLaTeX, Zotero RDF, MODS or EndNote XML, as Zotero "
        "and most catalogues export; or a .zip of a Zotero data directory.",
    )
    format = forms.ChoiceField(
        required=False, choices=[("", "Detect from the file"), *ImportFormat.choices]
    )


# How many sources the link form suggests; past this a library's editors type the key.
LINK_SUGGESTIONS = 500


class SourceLinkForm(forms.ModelForm):
    """ "This source [relation] [another source of the same library]".

    The other source is named by its citation key, with suggestions (title, date) from a
    <datalist>: a <select> of every source would weigh megabytes in a large library."""

    object = forms.CharField(
        label="Other source",
        max_length=100,
        help_text="Its citation key: start typing a title or a key to choose.",
        widget=forms.TextInput(attrs={"list": "link-suggestions", "autocomplete": "off"}),
    )

    class Meta:
        model = SourceLink
        fields = ["relation", "object", "note"]
        labels = {"relation": "This source", "note": "Note"}
        widgets = {"note": forms.TextInput}

    def __init__(self, *args, subject: Source, user: AnyUser, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.subject = subject
        self.instance.library = subject.library
        self.instance.created_by = user
        self.fields["relation"].choices = LinkRelation.choices
        self.others = subject.library.sources.exclude(pk=subject.pk)

    def suggestions(self) -> QuerySet:
        """(citation key, title, issued) of the sources offered while typing."""
        others = self.others.order_by(Lower("title"))
        return others.values_list("citation_key", "title", "issued")[:LINK_SUGGESTIONS]

    def clean_object(self) -> Source:
        key = self.cleaned_data["object"].strip()
        found = self.others.filter(citation_key=key).first()
        if found is None:
            raise ValidationError(f"No other source in this library has the citation key {key!r}.")
        return found

    def clean(self) -> dict:
        data = super().clean()
        duplicate = SourceLink.objects.filter(
            subject=self.instance.subject, relation=data.get("relation"), object=data.get("object")
        )
        if data.get("object") and duplicate.exists():
            self.add_error("object", "These two sources are already linked this way.")
        return data


class CompareForm(forms.Form):
    """Which two revisions to compare: by default the one before the latest and the latest."""

    a = forms.TypedChoiceField(coerce=int, label="Older revision")
    b = forms.TypedChoiceField(coerce=int, label="Newer revision")

    def __init__(self, data: QueryDict, *, revisions: list[int]) -> None:
        defaults = {"a": revisions[-2] if len(revisions) > 1 else "", "b": revisions[-1]}
        super().__init__({**defaults, **{k: v for k, v in data.items() if k in ("a", "b")}})
        choices = [(n, f"Revision {n}") for n in revisions]
        self.fields["a"].choices = self.fields["b"].choices = choices

    def clean(self) -> dict:
        data = super().clean()
        if data.get("a") is not None and data.get("a") == data.get("b"):
            self.add_error("b", "Choose two different revisions.")
        return data
