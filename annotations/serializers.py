"""The plain JSON of annotations and tags, and the validation of what clients send.

The W3C JSON-LD form lives in `annotations/w3c.py`; this is Marginalia's own flat shape,
the one the reading view uses. Offsets are Unicode code points of the canonical text.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers
from rest_framework.reverse import reverse

from annotations.access import annotations_for
from annotations.models import (
    COMMENT_MAX_CHARS,
    TAG_MAX_CHARS,
    TAGS_PER_ANNOTATION,
    AnchorState,
    Annotation,
    Motivation,
    Tag,
    Visibility,
)
from core.api import BoundedIntegerField, BoundedPrimaryKeyRelatedField, IdField, fits_a_key
from sources.access import read_text_for_user
from sources.models import SourceText


def etag_for(annotation: Annotation, *, jsonld: bool = False) -> str:
    """A strong validator per representation; If-Match compares only pk and version."""
    return f'"a{annotation.pk}.v{annotation.version}{".ld" if jsonld else ""}"'


class AnnotationSerializer(serializers.ModelSerializer):
    """Output only: the flat representation."""

    url = serializers.SerializerMethodField()
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    source = serializers.IntegerField(source="text.source_id", read_only=True)
    revision = serializers.IntegerField(source="text.revision", read_only=True)
    comment = serializers.CharField(source="comment_raw", read_only=True)
    tags = serializers.SerializerMethodField()
    creator = serializers.SerializerMethodField()
    etag = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = [
            "id", "url", "library", "source", "text", "revision", "start", "end", "exact",
            "prefix", "suffix", "page", "region", "reply_to", "whole_text", "state", "anchor_score",
            "comment", "comment_html",
            "motivation", "visibility", "tags", "creator", "created", "modified", "version",
            "etag", "can_edit",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, obj: Annotation) -> dict[str, Any]:
        """The fields above, built by hand: DRF's field-by-field walk cost more than the
        query behind it (a list of 50 spent most of its time there). Values are converted
        as those fields would; the tests compare the two."""
        return {
            "id": obj.pk,
            "url": self.get_url(obj),
            "library": obj.library.slug,
            "source": obj.text.source_id,
            "text": obj.text_id,
            "revision": obj.text.revision,
            "start": obj.start,
            "end": obj.end,
            "exact": obj.exact,
            "prefix": obj.prefix,
            "suffix": obj.suffix,
            "page": obj.page,
            "region": obj.region,
            "reply_to": obj.reply_to_id,
            "whole_text": obj.whole_text,
            "state": str(obj.state),
            "anchor_score": float(obj.anchor_score),
            "comment": obj.comment_raw,
            "comment_html": obj.comment_html,
            "motivation": str(obj.motivation),
            "visibility": str(obj.visibility),
            "tags": self.get_tags(obj),
            "creator": self.get_creator(obj),
            "created": _timestamp(obj.created),
            "modified": _timestamp(obj.modified),
            "version": obj.version,
            "etag": etag_for(obj),
            "can_edit": self.get_can_edit(obj),
        }

    def get_url(self, obj: Annotation) -> str:
        # Reversed once per response, not per item (an eighth of a list's time): the
        # address differs only in the id, the last path segment.
        template = self.context.get("_url_template")
        if template is None:
            url = reverse("api-annotation-detail", args=[0], request=self.context["request"])
            template = self.context["_url_template"] = url.removesuffix("/0/") + "/{}/"
        return template.format(obj.pk)

    def get_tags(self, obj: Annotation) -> list[str]:
        return sorted((tag.name for tag in obj.tags.all()), key=str.casefold)

    def get_creator(self, obj: Annotation) -> dict[str, Any] | None:
        user = obj.creator
        return None if user is None else {"id": user.pk, "username": user.get_username()}

    def get_etag(self, obj: Annotation) -> str:
        return etag_for(obj)

    def get_can_edit(self, obj: Annotation) -> bool:
        """From the user's role in the annotation's library when the query brought it
        (`annotations.access.annotations_for`); otherwise asked of the database."""
        user = self.context["request"].user
        if hasattr(obj, "viewer_role"):
            return obj.editable_with_role(user, obj.viewer_role)
        editable = self.context.get("editable_ids")
        if editable is None:
            return Annotation.objects.editable_by(user).filter(pk=obj.pk).exists()
        return obj.pk in editable


_timestamp = serializers.DateTimeField().to_representation


class AnnotatableTextField(BoundedPrimaryKeyRelatedField):
    """A text the user can see, by id, with what annotating it needs: its source, library
    and the user's role there (`sources.access.read_text_for_user`, one statement)."""

    default_error_messages = {"does_not_exist": "No text {pk_value} that you can annotate."}

    def to_internal_value(self, data: Any) -> SourceText:
        if isinstance(data, bool) or not _WHOLE_NUMBER.fullmatch(str(data)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not fits_a_key(data):
            self.fail("does_not_exist", pk_value=str(data)[:30])
        text = read_text_for_user(self.context["request"].user, int(data))
        if text is None:
            self.fail("does_not_exist", pk_value=data)
        return text


_WHOLE_NUMBER = re.compile(r"\s*[-+]?\d+\s*")


class AnnotationWriteSerializer(serializers.Serializer):
    """What a client sends in plain JSON: a passage (start, end; `exact`, when given, must
    equal the text between them: proof that the client annotated the same revision), a
    region of a page (page, region), a reply (reply_to; the text is the answered one's) or a
    note on the whole text (whole_text: true)."""

    text = AnnotatableTextField(queryset=SourceText.objects.none(), required=False)
    start = BoundedIntegerField(min_value=0, required=False)
    end = BoundedIntegerField(min_value=1, required=False)
    exact = serializers.CharField(required=False, trim_whitespace=False)
    page = BoundedIntegerField(min_value=0, required=False)
    region = serializers.JSONField(required=False)
    reply_to = IdField(required=False)
    whole_text = serializers.BooleanField(required=False)
    comment = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=COMMENT_MAX_CHARS
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_CHARS),
        required=False,
        max_length=TAGS_PER_ANNOTATION,
    )
    motivation = serializers.ChoiceField(choices=Motivation.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:  # an edit keeps its text; reattach moves it
            self.fields["text"].required = False

    def validate_text(self, text: SourceText) -> SourceText:
        if self.instance is not None and text.pk != self.instance.text_id:
            raise serializers.ValidationError(
                "An annotation stays on its revision; re-attach it to move it."
            )
        return text

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs = self._validate_target(attrs)
        elif {"page", "reply_to", "whole_text"} & attrs.keys():
            field = next(f for f in ("page", "reply_to", "whole_text") if f in attrs)
            raise serializers.ValidationError({field: "What an annotation is on stays."})
        elif self.instance.kind != "passage" and {"start", "end", "exact"} & attrs.keys():
            raise serializers.ValidationError(
                {"start": "A region, a reply or a note on the whole text has no passage."}
            )
        elif self.instance.kind != "region" and "region" in attrs:
            raise serializers.ValidationError({"region": "Only a region annotation has one."})
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        moved = "start" in attrs or "end" in attrs
        if moved and start is not None and end is not None and start >= end:
            raise serializers.ValidationError({"end": "end must be greater than start."})
        return attrs

    def _validate_target(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A new annotation is on one thing; a reply's text is the answered annotation's."""
        if "reply_to" not in attrs:
            if "text" not in attrs:
                raise serializers.ValidationError({"text": "This field is required."})
            return attrs
        user = self.context["request"].user
        parent = annotations_for(user).filter(pk=attrs["reply_to"]).first()
        if parent is None:
            raise serializers.ValidationError(
                {"reply_to": f"No annotation {attrs['reply_to']} that you can see."}
            )
        if "text" in attrs and attrs["text"].pk != parent.text_id:
            raise serializers.ValidationError({"text": "A reply is on the text it answers."})
        attrs["text"] = attrs.get("text") or read_text_for_user(user, parent.text_id)
        attrs["reply_to"] = parent
        return attrs


class ReattachSerializer(serializers.Serializer):
    """Re-attach an (orphaned) annotation to a passage selected on a revision of its
    source; the source's current revision when `text` is left out."""

    text = BoundedPrimaryKeyRelatedField(queryset=SourceText.objects.none(), required=False)
    start = BoundedIntegerField(min_value=0)
    end = BoundedIntegerField(min_value=1)
    exact = serializers.CharField(required=False, trim_whitespace=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        annotation: Annotation | None = self.context.get("annotation")
        if annotation is not None:
            revisions = SourceText.objects.filter(source_id=annotation.text.source_id)
            self.fields["text"].queryset = revisions
        self.fields["text"].error_messages["does_not_exist"] = (
            "No revision {pk_value} of this annotation's source."
        )


class AnnotationFilterSerializer(serializers.Serializer):
    """Query parameters of the annotation list."""

    library = serializers.CharField(required=False, help_text="Slug or id.")
    source = IdField(required=False)
    text = IdField(required=False)
    tag = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_CHARS),
        required=False,
        help_text="Repeat for annotations carrying all of the tags (case-insensitive).",
    )
    creator = serializers.CharField(required=False, help_text="Username.")
    state = serializers.ChoiceField(choices=AnchorState.choices, required=False)
    motivation = serializers.ChoiceField(choices=Motivation.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class W3CPageQuerySerializer(serializers.Serializer):
    page = BoundedIntegerField(required=False, min_value=0)
    iris = serializers.BooleanField(required=False, default=False)


class ImportSerializer(serializers.Serializer):
    """Only documents the import body for the schema; `w3c.import_items` reads it."""

    items = serializers.ListField(child=serializers.DictField())
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class TagSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    label = serializers.CharField(read_only=True)
    colour = serializers.SerializerMethodField()
    uses = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Tag
        fields = ["id", "library", "name", "namespace", "label", "colour", "uses", "created"]
        read_only_fields = ["id", "library", "namespace", "created"]

    def get_colour(self, tag: Tag) -> str | None:
        return self.context.get("colours", {}).get((tag.library_id, tag.namespace))


class TagQuerySerializer(serializers.Serializer):
    library = serializers.CharField(help_text="Slug or id.")
    q = serializers.CharField(required=False, allow_blank=True, max_length=TAG_MAX_CHARS)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class TagRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=TAG_MAX_CHARS)


class TagMergeSerializer(serializers.Serializer):
    into = IdField()


class TagColourQuerySerializer(serializers.Serializer):
    library = serializers.CharField(help_text="Slug or id.")


class TagColourSerializer(serializers.Serializer):
    library = serializers.CharField(help_text="Slug or id.")
    namespace = serializers.CharField(max_length=50, allow_blank=True)
    colour = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", help_text="#rrggbb")
