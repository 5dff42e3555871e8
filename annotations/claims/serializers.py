"""The plain JSON of claims, evidence and events, and the validation of what clients send.

Related fields resolve only what the requesting user can see, so an id from a library
they cannot see reads as "no such …" (a 400 naming the field), never as a leak. The work
itself (invariants, transactions) is in `claims.py` and `events.py`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from annotations.claims.claims import EventLink, Selection
from annotations.claims.models import (
    STATEMENT_MAX_CHARS,
    Claim,
    ClaimEvent,
    ClaimRank,
    ClaimStatus,
    Event,
    EventRelation,
    Evidence,
    Stance,
)
from annotations.models import (
    COMMENT_MAX_CHARS,
    TAG_MAX_CHARS,
    TAGS_PER_ANNOTATION,
    Annotation,
    Visibility,
)
from core.api import BoundedIntegerField, BoundedPrimaryKeyRelatedField, IdField
from core.dates import edtf_bounds
from sources.models import SourceText
from sources.serializers import LibraryField

ETAG_PREFIX = {Claim: "c", Event: "e", Evidence: "v"}


def etag_for(obj: Claim | Event | Evidence) -> str:
    """A strong validator: the kind, the id and the version ("c12.v3")."""
    return f'"{ETAG_PREFIX[type(obj)]}{obj.pk}.v{obj.version}"'


def edtf_value(value: str, field: str) -> str:
    """`value` when it is EDTF (or empty); the field's error message otherwise."""
    if value:
        try:
            edtf_bounds(value, field=field)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict[field]) from error
    return value


def user_of(serializer: serializers.Field | serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return request.user if request is not None else None


class VisibleRelated(BoundedPrimaryKeyRelatedField):
    """An id among the rows the user may see; the message names the kind of thing."""

    def __init__(self, model: type, noun: str, **kwargs: Any) -> None:
        self.model, self.noun = model, noun
        kwargs.setdefault("queryset", model.objects.none())
        super().__init__(**kwargs)
        self.error_messages["does_not_exist"] = f"No {noun} {{pk_value}} that you can see."

    def get_queryset(self) -> QuerySet:
        user = user_of(self)
        return self.model.objects.none() if user is None else self.model.objects.visible_to(user)


def tag_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_CHARS),
        max_length=TAGS_PER_ANNOTATION,
        **kwargs,
    )


def person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


# --- claims -----------------------------------------------------------------------------


class ClaimEventSerializer(serializers.ModelSerializer):
    event_name = serializers.CharField(source="event.name", read_only=True)
    event_date = serializers.CharField(source="event.date", read_only=True)

    class Meta:
        model = ClaimEvent
        fields = ["id", "event", "event_name", "event_date", "relation", "note"]
        read_only_fields = fields


class ClaimSerializer(serializers.ModelSerializer):
    """Output only. Evidence is its own resource: `evidence` is the list's address."""

    url = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.SerializerMethodField()
    events = ClaimEventSerializer(source="event_links", many=True, read_only=True)
    evidence = serializers.SerializerMethodField()
    provenance = serializers.SerializerMethodField()
    creator = serializers.SerializerMethodField()
    etag = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "url",
            "page",
            "library",
            "statement",
            "note",
            "status",
            "rank",
            "rank_reason",
            "visibility",
            "tags",
            "events",
            "evidence",
            "provenance",
            "creator",
            "created",
            "modified",
            "version",
            "etag",
            "can_edit",
        ]
        read_only_fields = fields

    def get_url(self, obj: Claim) -> str:
        return reverse("api-claim-detail", args=[obj.pk], request=self.context["request"])

    def get_page(self, obj: Claim) -> str:
        return self.context["request"].build_absolute_uri(obj.get_absolute_url())

    def get_tags(self, obj: Claim) -> list[str]:
        return sorted((tag.name for tag in obj.tags.all()), key=str.casefold)

    def get_evidence(self, obj: Claim) -> str:
        url = reverse("api-evidence-list", request=self.context["request"])
        return f"{url}?claim={obj.pk}"

    def get_provenance(self, obj: Claim) -> str:
        return reverse("api-claim-provenance", args=[obj.pk], request=self.context["request"])

    @extend_schema_field({"type": "object", "nullable": True})
    def get_creator(self, obj: Claim) -> dict[str, Any] | None:
        return person(obj.creator)

    def get_etag(self, obj: Claim) -> str:
        return etag_for(obj)

    def get_can_edit(self, obj: Claim) -> bool:
        editable = self.context.get("editable_ids")
        if editable is not None:
            return obj.pk in editable
        return Claim.objects.editable_by(user_of(self)).filter(pk=obj.pk).exists()


class EventLinkWriteSerializer(serializers.Serializer):
    event = VisibleRelated(Event, "event")
    relation = serializers.ChoiceField(choices=EventRelation.choices, default=EventRelation.ABOUT)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ClaimWriteSerializer(serializers.Serializer):
    """What a client sends to create or change a claim. `events` replaces the claim's
    event links as a whole; `library` is fixed once the claim exists."""

    library = LibraryField(help_text="Slug or id of a library you edit; fixed after creation.")
    statement = serializers.CharField(max_length=STATEMENT_MAX_CHARS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=COMMENT_MAX_CHARS)
    status = serializers.ChoiceField(choices=ClaimStatus.choices, required=False)
    rank = serializers.ChoiceField(choices=ClaimRank.choices, required=False)
    rank_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        help_text="private: seen by its creator alone; library (the default): by every reader.",
    )
    tags = tag_list(required=False)
    events = EventLinkWriteSerializer(many=True, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["library"].required = False

    def validate_visibility(self, visibility: str) -> str:
        claim, request = self.instance, self.context.get("request")
        user_pk = getattr(getattr(request, "user", None), "pk", None)
        if claim is not None and visibility != claim.visibility and claim.creator_id != user_pk:
            raise serializers.ValidationError("Only the claim's creator can change who sees it.")
        return visibility

    def validate_library(self, library: Any) -> Any:
        if self.instance is not None and library.pk != self.instance.library_id:
            raise serializers.ValidationError("A claim stays in its library.")
        return library

    def work_fields(self) -> dict[str, Any]:
        """Validated data in the shape `create_claim`/`update_claim` take."""
        data = dict(self.validated_data)
        data.pop("library", None)
        if "events" in data:
            data["events"] = [
                EventLink(e["event"], e["relation"], e["note"]) for e in data["events"]
            ]
        return data


class SelectionSerializer(serializers.Serializer):
    """A passage of a text revision: offsets in code points; `exact`, when given, must be
    the text between them (proof that the client saw the same revision)."""

    text = VisibleRelated(SourceText, "text", required=False)
    start = BoundedIntegerField(min_value=0, required=False)
    end = BoundedIntegerField(min_value=1, required=False)
    exact = serializers.CharField(required=False, trim_whitespace=False)
    comment = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=COMMENT_MAX_CHARS
    )
    highlight_tags = tag_list(required=False, help_text="Tags for a new highlight.")
    annotation = VisibleRelated(Annotation, "highlight", required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "annotation" in attrs:
            return attrs
        missing = [name for name in ("text", "start", "end") if name not in attrs]
        if len(missing) == 3:
            raise serializers.ValidationError(
                {"annotation": "Give a highlight (annotation) or a selection (text, start, end)."}
            )
        if missing:
            raise serializers.ValidationError(dict.fromkeys(missing, "This field is required."))
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": "end must be greater than start."})
        return attrs

    def highlight_source(self) -> Annotation | Selection:
        data = self.validated_data
        if "annotation" in data:
            return data["annotation"]
        return Selection(
            data["text"],
            data["start"],
            data["end"],
            data.get("exact"),
            data.get("comment", ""),
            tuple(data.get("highlight_tags", ())),
        )


class FromHighlightSerializer(SelectionSerializer, ClaimWriteSerializer):
    """ "Make claim" in one step: a highlight (or a fresh selection), the claim, and the
    evidence that links them."""

    library = None  # the highlight's library
    stance = serializers.ChoiceField(choices=Stance.choices, default=Stance.SUPPORTS)
    evidence_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ClaimFilterSerializer(serializers.Serializer):
    library = serializers.CharField(required=False, help_text="Slug or id.")
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Words of the statement or tags.",
    )
    status = serializers.ChoiceField(choices=ClaimStatus.choices, required=False)
    rank = serializers.ChoiceField(choices=ClaimRank.choices, required=False)
    tag = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_CHARS), required=False
    )
    event = IdField(required=False)
    source = IdField(required=False)


# --- evidence ---------------------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    quote = serializers.CharField(source="annotation.exact", read_only=True)
    text = serializers.IntegerField(source="annotation.text_id", read_only=True)
    revision = serializers.IntegerField(source="annotation.text.revision", read_only=True)
    start = serializers.IntegerField(source="annotation.start", read_only=True)
    end = serializers.IntegerField(source="annotation.end", read_only=True)
    source = serializers.IntegerField(source="annotation.text.source_id", read_only=True)
    source_title = serializers.CharField(source="annotation.text.source.title", read_only=True)
    source_kind = serializers.CharField(source="annotation.text.source.kind", read_only=True)
    creator = serializers.SerializerMethodField()
    etag = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "url",
            "library",
            "claim",
            "annotation",
            "stance",
            "note",
            "quote",
            "text",
            "revision",
            "start",
            "end",
            "source",
            "source_title",
            "source_kind",
            "creator",
            "created",
            "modified",
            "version",
            "etag",
            "can_edit",
        ]
        read_only_fields = fields

    def get_url(self, obj: Evidence) -> str:
        return reverse("api-evidence-detail", args=[obj.pk], request=self.context["request"])

    @extend_schema_field({"type": "object", "nullable": True})
    def get_creator(self, obj: Evidence) -> dict[str, Any] | None:
        return person(obj.creator)

    def get_etag(self, obj: Evidence) -> str:
        return etag_for(obj)

    def get_can_edit(self, obj: Evidence) -> bool:
        return Evidence.objects.editable_by(user_of(self)).filter(pk=obj.pk).exists()


class EvidenceWriteSerializer(SelectionSerializer):
    """Attach a highlight (or a fresh selection) to a claim, with a stance and a note."""

    claim = VisibleRelated(Claim, "claim")
    stance = serializers.ChoiceField(choices=Stance.choices, default=Stance.SUPPORTS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class EvidenceChangeSerializer(serializers.Serializer):
    stance = serializers.ChoiceField(choices=Stance.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class EvidenceFilterSerializer(serializers.Serializer):
    library = serializers.CharField(required=False, help_text="Slug or id.")
    claim = IdField(required=False)
    annotation = IdField(required=False)
    source = IdField(required=False)
    stance = serializers.ChoiceField(choices=Stance.choices, required=False)


# --- events -----------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    participants = serializers.SerializerMethodField()
    wikidata_url = serializers.CharField(read_only=True)
    creator = serializers.SerializerMethodField()
    etag = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "url",
            "page",
            "library",
            "name",
            "date",
            "earliest",
            "latest",
            "place",
            "description",
            "wikidata_id",
            "wikidata_url",
            "parent",
            "participants",
            "creator",
            "created",
            "modified",
            "version",
            "etag",
            "can_edit",
        ]
        read_only_fields = fields

    def get_url(self, obj: Event) -> str:
        return reverse("api-event-detail", args=[obj.pk], request=self.context["request"])

    def get_page(self, obj: Event) -> str:
        return self.context["request"].build_absolute_uri(obj.get_absolute_url())

    def get_participants(self, obj: Event) -> list[str]:
        return sorted((tag.name for tag in obj.participants.all()), key=str.casefold)

    @extend_schema_field({"type": "object", "nullable": True})
    def get_creator(self, obj: Event) -> dict[str, Any] | None:
        return person(obj.creator)

    def get_etag(self, obj: Event) -> str:
        return etag_for(obj)

    def get_can_edit(self, obj: Event) -> bool:
        editable = self.context.get("editable_libraries")
        if editable is not None:
            return obj.library_id in editable
        return obj.library.can_edit(user_of(self))


class EventWriteSerializer(serializers.Serializer):
    library = LibraryField(help_text="Slug or id of a library you edit; fixed after creation.")
    name = serializers.CharField(max_length=300)
    date = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="EDTF: 1950-02-14, 1949-12-16/1950-02-17, 1960-07?, 196X",
    )
    place = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=COMMENT_MAX_CHARS
    )
    wikidata_id = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Q42, or a Wikidata URL."
    )
    parent = VisibleRelated(Event, "event", required=False, allow_null=True)
    participants = tag_list(required=False, help_text='People as tags: "person:Mao Zedong".')

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["library"].required = False

    def validate_library(self, library: Any) -> Any:
        if self.instance is not None and library.pk != self.instance.library_id:
            raise serializers.ValidationError("An event stays in its library.")
        return library

    def validate_date(self, value: str) -> str:
        return edtf_value(value.strip(), "date")


class EventFilterSerializer(serializers.Serializer):
    library = serializers.CharField(required=False, help_text="Slug or id.")
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    start = serializers.CharField(
        required=False, max_length=100, help_text="EDTF: from this date on."
    )
    end = serializers.CharField(required=False, max_length=100, help_text="EDTF: until this date.")
    parent = IdField(required=False)
    top = serializers.BooleanField(required=False, help_text="Only events inside no other.")

    def validate_start(self, value: str) -> str:
        return edtf_value(value, "start")

    def validate_end(self, value: str) -> str:
        return edtf_value(value, "end")


class LibraryQuerySerializer(serializers.Serializer):
    library = serializers.CharField(max_length=100, help_text="Slug or id.")
