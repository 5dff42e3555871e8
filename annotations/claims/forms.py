"""Forms of the claim, evidence and event pages. They validate; `claims.py` and
`events.py` write (in one transaction, re-checking the invariants)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from annotations.claims import events as event_work
from annotations.claims.claims import EventLink
from annotations.claims.models import (
    Claim,
    ClaimEvent,
    ClaimRank,
    ClaimStatus,
    Event,
    EventRelation,
    Evidence,
)
from annotations.models import TAGS_PER_ANNOTATION
from sources.models import Library


class TagsField(forms.CharField):
    """Tags typed as one line, separated by commas: "theme:face, person:Mao Zedong"."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = super().to_python(value)
        names = [part.strip() for part in text.split(",") if part.strip()]
        if len(names) > TAGS_PER_ANNOTATION:
            raise ValidationError(f"At most {TAGS_PER_ANNOTATION} tags.")
        return names

    def prepare_value(self, value: Any) -> str:
        return ", ".join(value) if isinstance(value, list | tuple) else value or ""


class VersionedForm(forms.ModelForm):
    """Carries the version the editor loaded; a mismatch on save is an edit conflict."""

    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def conflicts(self) -> bool:
        expected = self.cleaned_data.get("expected_version")
        if expected is None or self.instance.pk is None:
            return False
        current = type(self.instance).objects.values_list("version", flat=True)
        return current.get(pk=self.instance.pk) != expected


class ClaimForm(VersionedForm):
    tags = TagsField(
        required=False, help_text="Separate with commas; namespaces such as theme:face."
    )
    event = forms.ModelChoiceField(
        queryset=Event.objects.none(), required=False, help_text="Optional: an event it is about."
    )
    relation = forms.ChoiceField(choices=EventRelation.choices, initial=EventRelation.ABOUT)

    class Meta:
        model = Claim
        fields = ["statement", "status", "rank", "rank_reason", "note", "visibility"]
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 3}),
            "note": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, library: Library, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.library = library
        self.fields["visibility"].required = False  # not sent: as it was (new: the library)
        if self.instance.pk is not None and self.instance.creator_id != getattr(user, "pk", None):
            # An owner moderating someone's claim cannot hide it from the library, or show
            # it: who sees a claim is its creator's choice.
            self.fields["visibility"].disabled = True
            self.fields["visibility"].help_text = "Only the claim's creator can change this."
        if self.instance.pk is not None:
            self.fields["tags"].initial = [tag.name for tag in self.instance.tags.all()]
            del self.fields["event"], self.fields["relation"]  # edited on the claim page
        else:
            self.fields["event"].queryset = library.events.all()

    def clean_visibility(self) -> str:
        return self.cleaned_data.get("visibility") or self.instance.visibility

    def work_fields(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in (*self.Meta.fields, "tags")}
        if self.cleaned_data.get("event"):
            data["events"] = [EventLink(self.cleaned_data["event"], self.cleaned_data["relation"])]
        return data


class EventForm(VersionedForm):
    participants = TagsField(
        required=False, help_text="People, separated by commas; a bare name means person:…"
    )

    class Meta:
        model = Event
        fields = ["name", "date", "place", "parent", "wikidata_id", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, library: Library, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.library = library
        parents = library.events.all()
        if self.instance.pk is not None:
            self.fields["participants"].initial = [t.name for t in self.instance.participants.all()]
            inside = event_work.descendant_ids(self.instance) | {self.instance.pk}
            parents = parents.exclude(pk__in=inside)
        self.fields["parent"].queryset = parents
        self.fields["wikidata_id"].help_text = "Q42, or the item's Wikidata URL."

    def clean_wikidata_id(self) -> str:
        try:
            return event_work.normalise_wikidata(self.cleaned_data.get("wikidata_id", ""))
        except ValidationError as error:
            raise ValidationError(error.message_dict["wikidata_id"]) from error

    def work_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in (*self.Meta.fields, "participants")}


class EvidenceForm(forms.ModelForm):
    class Meta:
        model = Evidence
        fields = ["stance", "note"]
        widgets = {"note": forms.TextInput()}


class ClaimEventForm(forms.ModelForm):
    class Meta:
        model = ClaimEvent
        fields = ["event", "relation", "note"]
        widgets = {"note": forms.TextInput()}

    def __init__(self, *args: Any, claim: Claim, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.claim = claim
        self.instance.library_id = claim.library_id
        self.fields["event"].queryset = claim.library.events.all()


class ClaimFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Words")
    status = forms.ChoiceField(choices=[("", "Any status"), *ClaimStatus.choices], required=False)
    rank = forms.ChoiceField(choices=[("", "Any rank"), *ClaimRank.choices], required=False)
    # One tag, chosen with the tag widget (static/js/tag-input.js) that every tag field uses.
    tag = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"data-tag-input": True, "data-tag-single": True}),
    )
    event = forms.ModelChoiceField(queryset=Event.objects.none(), required=False)

    def __init__(self, *args: Any, library: Library, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = library.events.all()
        self.fields["tag"].widget.attrs["data-library"] = library.slug

    def query(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["tag"] = [data["tag"]] if data.get("tag") else []
        return data
