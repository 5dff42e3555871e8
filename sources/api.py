"""The REST API: libraries, sources, text revisions, provenance links and metadata imports.

Viewsets stay shallow: reads are scoped by the `visible_to` QuerySets, single objects
come from the `sources.access` helpers (404 for what the user cannot see, 403 for what
they may only read), and uploads go to the importer functions. Every error is raised,
never returned, so that DRF marks the request's transaction for rollback.

An upload too large for a request (JOB_THRESHOLD_BYTES, or JOB_THRESHOLD_RECORDS records of
metadata) becomes a background job, as on the pages: 202 with where to follow it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api import django_errors_as_400, validated_query
from core.uploads import UploadError
from core.versioning import IF_MATCH, require_if_match
from jobs import queue
from jobs.api import accepted
from jobs.models import Job
from sources.access import get_library_for_user, get_link_for_user, get_source_for_user
from sources.csl import source_to_csl
from sources.importers import import_text_revision
from sources.jobs import (
    IMPORT_METADATA,
    IMPORT_TEXT,
    metadata_in_background,
    text_in_background,
)
from sources.metadata_import import import_metadata
from sources.models import (
    ImportRun,
    Library,
    Membership,
    Source,
    SourceLink,
    SourceQuerySet,
    SourceText,
)
from sources.serializers import (
    ImportFilterSerializer,
    ImportRunSerializer,
    ImportUploadSerializer,
    JobAcceptedSerializer,
    LibrarySerializer,
    LinkFilterSerializer,
    SourceFilterSerializer,
    SourceLinkSerializer,
    SourceSerializer,
    SourceTextDetailSerializer,
    SourceTextSerializer,
    SourceTextWithTextSerializer,
    TextListQuerySerializer,
    TextUploadSerializer,
    library_lookup,
)

TOO_LARGE = OpenApiResponse(description="The file is larger than MAX_UPLOAD_BYTES.")
ACCEPTED = OpenApiResponse(
    JobAcceptedSerializer,
    description="Too large for one request: imported by a background job. Follow it at "
    "`status_url` (also the Location header) until `finished`; its `result` then names "
    "what was created.",
)


class UploadRejected(APIException):
    """An `UploadError` as an API error: its status (400 or 413), body `{field: [message]}`."""

    default_code = "invalid_upload"

    def __init__(self, error: UploadError) -> None:
        self.status_code = error.status
        super().__init__({error.field: [error.message]})


@contextmanager
def upload_errors_as_responses() -> Iterator[None]:
    try:
        yield
    except UploadError as error:
        raise UploadRejected(error) from error


def is_write(request: Request) -> bool:
    return request.method not in permissions.SAFE_METHODS


# Libraries ----------------------------------------------------------------------------


class LibraryViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Libraries you belong to, and public ones. The creator becomes the owner;
    only owners change a library."""

    serializer_class = LibrarySerializer
    lookup_field = "slug"
    lookup_value_converter = "slug"

    def get_queryset(self) -> QuerySet[Library]:
        members = Membership.objects.select_related("user").order_by("joined", "pk")
        return (
            Library.objects.visible_to(self.request.user)
            .prefetch_related(Prefetch("memberships", queryset=members))
            .order_by("name", "pk")
        )

    def get_object(self) -> Library:
        write = is_write(self.request)
        return get_library_for_user(self.request.user, self.kwargs["slug"], owner=write)


# Sources ------------------------------------------------------------------------------


def filter_sources(queryset: SourceQuerySet, params: dict[str, Any]) -> SourceQuerySet:
    """Apply the source list's filters (already validated by SourceFilterSerializer)."""
    if library := params.get("library"):
        queryset = queryset.filter(library_lookup(library))
    queryset = queryset.matching(
        title=params.get("q", ""),
        creator=params.get("creator", ""),
        kind=params.get("kind", ""),
        csl_type=params.get("type", ""),
        issued_from=params.get("issued_from"),
        issued_to=params.get("issued_to"),
    )
    return queryset.ordered_by(params.get("ordering") or "issued")


def source_etag(version: int) -> str:
    return f'"{version}"'


def with_etag(response: Response) -> Response:
    response["ETag"] = source_etag(response.data["version"])
    return response


def require_version(request: Request, version: int) -> None:
    """A change must name the version it was made from (If-Match, as for annotations,
    claims and events): 428 without it, 412 when someone else changed the source meanwhile.
    Lenient about the form: W/"3", "3" and 3 all name version 3."""
    require_if_match(
        request,
        source_etag(version),
        matches=lambda tag: tag.removeprefix("W/").strip('"') == str(version),
        detail="The source changed since you read it; fetch it again and retry.",
    )


@extend_schema_view(
    list=extend_schema(parameters=[SourceFilterSerializer]),
    update=extend_schema(parameters=[IF_MATCH]),
    partial_update=extend_schema(parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)
class SourceViewSet(viewsets.ModelViewSet):
    """Bibliographic records in CSL variables. Editors and owners write; a change bumps
    `version`. Changes and deletions send the ETag read as If-Match (428 without it, 412
    when a colleague changed the source meanwhile)."""

    serializer_class = SourceSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Source]:
        latest = SourceText.objects.filter(source=OuterRef("pk")).order_by("-revision")
        return (
            Source.objects.visible_to(self.request.user)
            .select_related("library", "created_by")
            .prefetch_related("creators")
            .annotate(current_revision=Subquery(latest.values("revision")[:1]))
        )

    def filter_queryset(self, queryset: QuerySet[Source]) -> QuerySet[Source]:
        if self.action != "list":
            return queryset
        return filter_sources(queryset, validated_query(SourceFilterSerializer, self.request))

    def get_object(self) -> Source:
        """The source, locked for a change that names its current version; the access
        check comes first, so that an outsider learns nothing from a 412."""
        write = is_write(self.request)
        source = get_source_for_user(self.request.user, self.kwargs["pk"], write=write)
        if write:
            require_version(self.request, source.version)
        return source

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return with_etag(super().retrieve(request, *args, **kwargs))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return with_etag(super().update(request, *args, **kwargs))

    @extend_schema(
        summary="The source as one CSL-JSON item",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def csl(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(source_to_csl(self.get_object()))


# Texts --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="The source's text revisions, oldest first",
        parameters=[TextListQuerySerializer],
    ),
    retrieve=extend_schema(summary="One revision with its text, sanitised HTML and page map"),
)
class SourceTextViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Immutable revisions of a source's text: a correction is a new revision (POST)."""

    lookup_field = "revision"
    lookup_value_converter = "int"
    parser_classes = [MultiPartParser, FormParser]
    include_text = False

    def get_source(self, *, write: bool = False) -> Source:
        return get_source_for_user(self.request.user, self.kwargs["source_pk"], write=write)

    def get_queryset(self) -> QuerySet[SourceText]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no source
            return SourceText.objects.none()
        return (
            SourceText.objects.visible_to(self.request.user)
            .filter(source=self.get_source())
            .select_related("imported_by")
            .order_by("revision")
        )

    def get_serializer_class(self) -> type[SourceTextSerializer]:
        if self.action == "list":
            return SourceTextWithTextSerializer if self.include_text else SourceTextSerializer
        return SourceTextDetailSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.include_text = (
            validated_query(TextListQuerySerializer, request).get("include") == "text"
        )
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Import a new revision from a file",
        description="A file larger than JOB_THRESHOLD_BYTES is imported by a background "
        "job: 202, and the job's result names the new revision.",
        request={"multipart/form-data": TextUploadSerializer},
        responses={201: SourceTextDetailSerializer, 202: ACCEPTED, 413: TOO_LARGE},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source = self.get_source(write=True)
        upload = TextUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        params = upload.validated_data
        with upload_errors_as_responses(), django_errors_as_400():
            if text_in_background(params["file"]):
                return accepted(request, self.enqueue(source, params))
            text = import_text_revision(
                source,
                params["file"],
                user=request.user,
                encoding=params.get("encoding") or None,
                note=params.get("note", ""),
            )
        url = reverse("api-source-text-detail", args=[source.pk, text.revision], request=request)
        data = SourceTextDetailSerializer(text, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": url})

    def enqueue(self, source: Source, params: dict[str, Any]) -> Job:
        return queue.enqueue(
            IMPORT_TEXT,
            library=source.library,
            user=self.request.user,
            upload=params["file"],
            source=source,
            encoding=params.get("encoding") or "",
            note=params.get("note", ""),
        )


# Links --------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[LinkFilterSerializer]))
class SourceLinkViewSet(viewsets.ModelViewSet):
    """Provenance between two sources of one library: subject quotes, cites, translates …
    object."""

    serializer_class = SourceLinkSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[SourceLink]:
        return (
            SourceLink.objects.visible_to(self.request.user)
            .select_related("library", "subject", "object", "created_by")
            .order_by("subject_id", "relation", "pk")
        )

    def filter_queryset(self, queryset: QuerySet[SourceLink]) -> QuerySet[SourceLink]:
        if self.action != "list":
            return queryset
        params = validated_query(LinkFilterSerializer, self.request)
        if library := params.get("library"):
            queryset = queryset.filter(library_lookup(library))
        if (source := params.get("source")) is not None:
            queryset = queryset.filter(Q(subject_id=source) | Q(object_id=source))
        if relation := params.get("relation"):
            queryset = queryset.filter(relation=relation)
        return queryset

    def get_object(self) -> SourceLink:
        return get_link_for_user(self.request.user, self.kwargs["pk"], write=is_write(self.request))


# Imports ------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(parameters=[ImportFilterSerializer]))
class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Metadata files (CSL-JSON, RIS, BibTeX) imported into a library, with one outcome
    per record: created, duplicate or failed."""

    serializer_class = ImportRunSerializer
    lookup_value_converter = "int"
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ImportRun]:
        return ImportRun.objects.visible_to(self.request.user).select_related("library", "user")

    def filter_queryset(self, queryset: QuerySet[ImportRun]) -> QuerySet[ImportRun]:
        if self.action != "list":
            return queryset
        library = validated_query(ImportFilterSerializer, self.request).get("library")
        return queryset.filter(library_lookup(library)) if library else queryset

    @extend_schema(
        summary="Import a metadata file into a library",
        description="A file larger than JOB_THRESHOLD_BYTES, or of more than "
        "JOB_THRESHOLD_RECORDS records, is imported by a background job: 202, and the job's "
        "result names the import run.",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportRunSerializer, 202: ACCEPTED, 413: TOO_LARGE},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        params = upload.validated_data
        with upload_errors_as_responses(), django_errors_as_400():
            if metadata_in_background(params["file"], params.get("format") or ""):
                return accepted(request, self.enqueue(params))
            run = import_metadata(
                params["library"], params["file"], user=request.user, fmt=params.get("format")
            )
        url = reverse("api-import-detail", args=[run.pk], request=request)
        data = self.get_serializer(run).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": url})

    def enqueue(self, params: dict[str, Any]) -> Job:
        return queue.enqueue(
            IMPORT_METADATA,
            library=params["library"],
            user=self.request.user,
            upload=params["file"],
            format=params.get("format") or "",
        )
