"""API representations of libraries, sources, texts, links and imports, and their validation.

Serializers validate and represent; the work itself stays on the managers
(`create_for`, `create_with_creators`) and in the importer modules the views call.
Access is decided by `sources.access` and the `visible_to`/`editable_by` QuerySets:
related fields only resolve objects the requesting user can see.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from core.api import (
    BoundedPrimaryKeyRelatedField,
    IdField,
    django_errors_as_400,
    edtf_bounds_or_400,
    edtf_or_400,
    numeric_id,
    request_user,
)
from jobs.models import JobState
from sources.csl import checked_keywords, checked_variables
from sources.models import (
    Creator,
    ImportFormat,
    ImportRun,
    Library,
    LinkRelation,
    Membership,
    Source,
    SourceKind,
    SourceLink,
    SourceText,
    SourceType,
)

# Pandoc citation keys: a letter, digit or underscore first, then internal punctuation.
CITATION_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_:.#$%&+?<>~/-]*$")
MAX_CREATORS = 500
MAX_IDENTIFIERS = 50


def require_edit(library: Library, user: Any, *, field: str = "library") -> Library:
    """403 naming `field` when the user may read the library but not change it."""
    if not library.can_edit(user):
        raise PermissionDenied({field: ["You may read this library but not change it."]})
    return library


def library_lookup(value: str, path: str = "library__") -> Q:
    """A library given by slug or numeric id; `path` leads to it ("" on Library itself)."""
    by_slug = Q(**{f"{path}slug": value})
    pk = numeric_id(value)
    return by_slug if pk is None else by_slug | Q(**{f"{path}pk": pk})


@extend_schema_field(OpenApiTypes.STR)
class LibraryField(serializers.RelatedField):
    """A library the user can see, given by slug or numeric id; shown as its slug."""

    default_error_messages = {
        "does_not_exist": "No library {value!r} that you can see.",
        "incorrect_type": "Give the library's slug or id.",
    }

    def get_queryset(self) -> QuerySet[Library]:
        return Library.objects.visible_to(request_user(self))

    def to_internal_value(self, data: Any) -> Library:
        if not isinstance(data, str | int) or isinstance(data, bool):
            self.fail("incorrect_type")
        value = str(data).strip()
        library = self.get_queryset().filter(library_lookup(value, "")).first()
        if library is None:
            self.fail("does_not_exist", value=value[:100])
        return library

    def to_representation(self, value: Library) -> str:
        return value.slug


class VisibleSourceField(BoundedPrimaryKeyRelatedField):
    """A source id, resolved only among the sources the user can see (no existence leak)."""

    def get_queryset(self) -> QuerySet[Source]:
        return Source.objects.visible_to(request_user(self)).select_related("library")


# Libraries ----------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role", "joined"]
        read_only_fields = fields


class LibrarySerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role here; null if not a member.")
    members = MembershipSerializer(
        source="memberships",
        many=True,
        read_only=True,
        help_text="Shown to members only; empty for a public library you do not belong to.",
    )

    class Meta:
        model = Library
        fields = ["id", "slug", "name", "description", "is_public", "created", "role", "members"]
        read_only_fields = ["id", "slug", "created"]

    def get_role(self, library: Library) -> str | None:
        user = request_user(self)
        if not user.is_authenticated:
            return None
        # Iterating the prefetched memberships avoids one query per library in a list.
        return next((m.role for m in library.memberships.all() if m.user_id == user.pk), None)

    def to_representation(self, library: Library) -> dict[str, Any]:
        data = super().to_representation(library)
        if data["role"] is None:
            data["members"] = []  # who belongs to a library is the members' business
        return data

    def create(self, validated_data: dict[str, Any]) -> Library:
        return Library.objects.create_for(request_user(self), **validated_data)


# Sources ------------------------------------------------------------------------------


class CreatorListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        # In the order they were given (the model's default groups them by role);
        # sorting in Python keeps a prefetched list free of further queries.
        creators = data.all() if hasattr(data, "all") else data
        ordered = sorted(creators, key=lambda c: (c.order, c.pk))
        return [self.child.to_representation(creator) for creator in ordered]


class CreatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Creator
        fields = ["role", "family", "given", "literal", "suffix", "family_first"]
        list_serializer_class = CreatorListSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("family") or attrs.get("literal")):
            raise serializers.ValidationError({"family": ["Give a family name or a literal name."]})
        return attrs


class SourceSerializer(serializers.ModelSerializer):
    library = LibraryField(help_text="Slug or id of a library you edit; fixed after creation.")
    type = serializers.ChoiceField(
        source="csl_type", choices=SourceType.choices, default=SourceType.DOCUMENT
    )
    citation_key = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Assigned from the first creator, year and title when omitted; "
        "cannot change after creation.",
    )
    creators = CreatorSerializer(
        many=True,
        required=False,
        max_length=MAX_CREATORS,
        help_text="In order. On update, a given list replaces all creators.",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    current_revision = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = [
            "id", "library", "citation_key", "type", "kind", "title", "container_title",
            "collection_title", "publisher", "publisher_place", "volume", "issue", "page",
            "edition", "issued", "issued_earliest", "issued_latest", "archive", "archive_place",
            "archive_collection", "archive_location", "call_number", "genre", "medium", "url",
            "accessed", "language", "original_language", "rights", "identifiers", "abstract",
            "note", "creators", "version", "current_revision", "created_by", "created",
            "modified", "issued_literal", "keywords", "variables",
        ]  # fmt: skip
        read_only_fields = ["version", "created", "modified"]
        # Uniqueness of the citation key is checked in validate() so that it names the field.
        validators: list = []

    def get_current_revision(self, source: Source) -> int | None:
        if hasattr(source, "current_revision"):
            return source.current_revision  # annotated by the viewset's queryset
        text = source.current_text
        return text.revision if text else None

    def validate_library(self, library: Library) -> Library:
        if self.instance is None:
            require_edit(library, request_user(self))
        elif library != self.instance.library:
            raise serializers.ValidationError("A source cannot move to another library.")
        return library

    def validate_citation_key(self, key: str) -> str:
        if self.instance is not None and key != self.instance.citation_key:
            raise serializers.ValidationError(
                "The citation key is assigned once; it cannot change."
            )
        if not CITATION_KEY.match(key):
            raise serializers.ValidationError(
                "Use letters, digits and _ first, then also : . # $ % & + ? < > ~ / -."
            )
        return key

    def validate_issued(self, value: str) -> str:
        return edtf_or_400(value, "issued")

    def validate_accessed(self, value: str) -> str:
        return edtf_or_400(value, "accessed")

    def validate_identifiers(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise serializers.ValidationError('Give an object, e.g. {"DOI": "10.1000/1"}.')
        if len(value) > MAX_IDENTIFIERS:
            raise serializers.ValidationError(f"At most {MAX_IDENTIFIERS} identifiers.")
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value.values()):
            raise serializers.ValidationError("Each identifier must be a string or a number.")
        if any(len(k) > 100 or len(str(v)) > 500 for k, v in value.items()):
            raise serializers.ValidationError(
                "Keep names under 100 and values under 500 characters."
            )
        return {k: str(v) for k, v in value.items()}

    def validate_keywords(self, value: Any) -> list[str]:
        try:
            return checked_keywords(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate_variables(self, value: Any) -> dict[str, Any]:
        try:
            return checked_variables(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key = attrs.get("citation_key")
        if self.instance is None and key:
            taken = Source.objects.filter(library=attrs["library"], citation_key=key)
            if taken.exists():
                raise serializers.ValidationError(
                    {"citation_key": [f"{key} is already used in this library."]}
                )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Source:
        creators = [dict(c) for c in validated_data.pop("creators", [])]
        with django_errors_as_400():
            return Source.objects.create_with_creators(
                creators=creators, created_by=request_user(self), **validated_data
            )

    def update(self, source: Source, validated_data: dict[str, Any]) -> Source:
        creators = validated_data.pop("creators", None)
        for name, value in validated_data.items():
            setattr(source, name, value)
        source.version += 1
        with django_errors_as_400(), transaction.atomic():
            source.full_clean(exclude=["citation_key"])
            source.save()
            if creators is not None:
                replace_creators(source, [dict(c) for c in creators])
        return source


def replace_creators(source: Source, creators: list[dict[str, Any]]) -> None:
    """Swap a source's creators for `creators`, in order (callers hold a transaction)."""
    source.creators.all().delete()
    Creator.objects.bulk_create(
        Creator(source=source, order=order, **creator) for order, creator in enumerate(creators)
    )


class SourceFilterSerializer(serializers.Serializer):
    """Query parameters of the source list; a bad value is a 400 naming the parameter."""

    library = serializers.CharField(required=False, help_text="Library slug or id.")
    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    type = serializers.ChoiceField(choices=SourceType.choices, required=False)
    creator = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Words of one creator's family, given or literal name, in any order.",
    )
    issued_from = serializers.CharField(
        required=False,
        max_length=100,
        help_text="EDTF; sources whose possible dates overlap [issued_from, issued_to].",
    )
    issued_to = serializers.CharField(required=False, max_length=100, help_text="EDTF.")
    q = serializers.CharField(
        required=False, max_length=200, help_text="Words in the title, in any order and case."
    )
    ordering = serializers.ChoiceField(
        required=False,
        choices=[
            (f"{sign}{name}", f"{sign}{name}")
            for name in ("issued", "title", "citation_key", "created", "modified")
            for sign in ("", "-")
        ],
    )

    # Each end as the day it means: "1950" is from 1950-01-01, or until 1950-12-31.
    def validate_issued_from(self, value: str) -> dt.date | None:
        bounds = edtf_bounds_or_400(value, "issued_from")
        return bounds[0] if bounds else None

    def validate_issued_to(self, value: str) -> dt.date | None:
        bounds = edtf_bounds_or_400(value, "issued_to")
        return bounds[1] if bounds else None


# Texts --------------------------------------------------------------------------------


class SourceTextSerializer(serializers.ModelSerializer):
    """A revision's origin and checksum, without the text."""

    verified = serializers.SerializerMethodField(
        help_text="Does the stored text still hash to sha256?"
    )
    length = serializers.SerializerMethodField(help_text="Length in Unicode code points.")
    imported_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SourceText
        # `id` is what an annotation, a piece of evidence or an annotation import names.
        fields = [
            "id", "revision", "sha256", "verified", "length", "file_name", "media_type",
            "encoding", "imported_by", "imported_at", "note",
        ]  # fmt: skip
        read_only_fields = fields

    def get_verified(self, text: SourceText) -> bool:
        return text.verify()

    def get_length(self, text: SourceText) -> int:
        return len(text.text)


class SourceTextWithTextSerializer(SourceTextSerializer):
    class Meta(SourceTextSerializer.Meta):
        fields = [*SourceTextSerializer.Meta.fields, "text"]
        read_only_fields = fields


class SourceTextDetailSerializer(SourceTextSerializer):
    """One revision in full: canonical text, sanitised HTML (never the raw), page map."""

    class Meta(SourceTextSerializer.Meta):
        fields = [*SourceTextSerializer.Meta.fields, "text", "html", "page_map"]
        read_only_fields = fields


class TextListQuerySerializer(serializers.Serializer):
    include = serializers.ChoiceField(
        choices=[("text", "text")], required=False, help_text="`text` adds each revision's text."
    )


class TextUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Plain text, HTML, Markdown or PDF.")
    encoding = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="e.g. utf-8, cp1251, koi8-r; detected when omitted.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text='e.g. "corrected translation"'
    )


# Links --------------------------------------------------------------------------------


class SourceLinkSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    subject = VisibleSourceField(help_text="The source that quotes, cites, translates …")
    object = VisibleSourceField(help_text="The source quoted, cited, translated …")
    subject_title = serializers.CharField(source="subject.title", read_only=True)
    object_title = serializers.CharField(source="object.title", read_only=True)
    inverse_label = serializers.CharField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SourceLink
        fields = [
            "id", "library", "subject", "subject_title", "relation", "object", "object_title",
            "inverse_label", "note", "created_by", "created",
        ]  # fmt: skip
        read_only_fields = ["created"]
        # Uniqueness is checked in validate() so that the 400 names a field.
        validators: list = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        link = self.instance
        subject = attrs.get("subject") or link.subject
        obj = attrs.get("object") or link.object
        if link is not None:
            library = link.library
        else:
            library = require_edit(subject.library, request_user(self), field="subject")
        check_link(
            library,
            subject,
            attrs.get("relation") or link.relation,
            obj,
            exclude=link.pk if link else None,
        )
        return {**attrs, "library": library}

    def create(self, validated_data: dict[str, Any]) -> SourceLink:
        return SourceLink.objects.create(created_by=request_user(self), **validated_data)


def check_link(
    library: Library, subject: Source, relation: str, obj: Source, *, exclude: int | None
) -> None:
    """400 naming the field unless the link is new, not circular and inside `library`."""
    for field, source in (("subject", subject), ("object", obj)):
        if source.library_id != library.pk:
            raise serializers.ValidationError({field: ["The source belongs to another library."]})
    if subject.pk == obj.pk:
        raise serializers.ValidationError({"object": ["A source cannot be linked to itself."]})
    duplicate = SourceLink.objects.filter(subject=subject, relation=relation, object=obj)
    if duplicate.exclude(pk=exclude).exists():
        raise serializers.ValidationError({"object": ["This link already exists."]})


class LinkFilterSerializer(serializers.Serializer):
    """Query parameters of the link list."""

    library = serializers.CharField(required=False, help_text="Library slug or id.")
    source = IdField(required=False, help_text="Links whose subject or object is this source.")
    relation = serializers.ChoiceField(choices=LinkRelation.choices, required=False)


# Imports ------------------------------------------------------------------------------


class ImportRunSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    counts = serializers.SerializerMethodField()
    outcomes = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text='One per record: {"index", "status": created|duplicate|failed, "message", '
        '"source"}.',
    )

    class Meta:
        model = ImportRun
        fields = ["id", "library", "user", "file_name", "format", "created", "counts", "outcomes"]
        read_only_fields = fields

    def get_counts(self, run: ImportRun) -> dict[str, int]:
        return run.counts()


class ImportFilterSerializer(serializers.Serializer):
    library = serializers.CharField(required=False, help_text="Library slug or id.")


class ImportUploadSerializer(serializers.Serializer):
    library = LibraryField(help_text="Slug or id of a library you edit.")
    file = serializers.FileField(help_text="CSL-JSON, RIS or BibTeX/BibLaTeX.")
    format = serializers.ChoiceField(
        choices=ImportFormat.choices, required=False, help_text="Detected when omitted."
    )

    def validate_library(self, library: Library) -> Library:
        return require_edit(library, request_user(self))


# Background jobs --------------------------------------------------------------------------


class JobAcceptedSerializer(serializers.Serializer):
    """202 Accepted: an upload too large for one request is imported by a background job.
    The body is the job's status (`jobs.queue.job_status`, as `/jobs/<id>.json` gives it)
    and where to poll it; these are its fields a client needs."""

    id = serializers.IntegerField(help_text="The job's id.")
    kind = serializers.CharField(help_text="`import-metadata` or `import-text`.")
    state = serializers.ChoiceField(choices=JobState.choices)
    finished = serializers.BooleanField()
    percent = serializers.IntegerField(help_text="Progress, 0–100.")
    error = serializers.CharField(help_text="Why the job failed, once it has.")
    result = serializers.DictField(
        allow_null=True,
        help_text="Once it succeeded: `import_run` (a metadata import's run, at "
        "/api/imports/<id>/), or `text` and `revision` (a text import's new revision).",
    )
    url = serializers.CharField(help_text="The job's page: progress, then result or error.")
    status_url = serializers.URLField(
        help_text="This status as JSON, to poll (also the Location header)."
    )
