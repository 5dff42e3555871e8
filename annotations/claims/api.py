"""Claims, evidence and events at /api/claims/, /api/evidence/ and /api/events/.

The rules are the annotations': viewers read; editors and owners create; a claim or a
piece of evidence is changed by its creator or moderated by the library's owners;
events, shared reference data like sources, are changed by editors and owners. Every
change needs If-Match with the ETag read (428 without, 412 when stale), so that two
people editing one claim never overwrite each other silently.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from annotations.api import deletion_as_conflict
from annotations.claims import claims as claim_work
from annotations.claims import events as event_work
from annotations.claims import jobs as claim_jobs
from annotations.claims import provenance
from annotations.claims.access import get_claim_for_user, get_event_for_user, get_evidence_for_user
from annotations.claims.models import Claim, ClaimRank, ClaimStatus, Event, Evidence
from annotations.claims.serializers import (
    ClaimFilterSerializer,
    ClaimSerializer,
    ClaimWriteSerializer,
    EventFilterSerializer,
    EventSerializer,
    EventWriteSerializer,
    EvidenceChangeSerializer,
    EvidenceFilterSerializer,
    EvidenceSerializer,
    EvidenceWriteSerializer,
    FromHighlightSerializer,
    LibraryQuerySerializer,
    etag_for,
)
from annotations.models import Annotation
from core.api import django_errors_as_400
from core.dates import edtf_bounds
from core.versioning import IF_MATCH, not_modified, require_if_match
from jobs import queue
from jobs.api import accepted
from sources.models import Library
from sources.serializers import library_lookup, require_edit


class ProvJSONLDRenderer(JSONRenderer):
    media_type = provenance.MEDIA_TYPE
    format = "jsonld"


def require_current(request: Request, obj: Claim | Event | Evidence) -> None:
    """If-Match is mandatory for changes and compared strongly (RFC 9110 §13.1.1)."""
    require_if_match(request, etag_for(obj))


def validated(serializer_class: type, data: Any, request: Request, **kwargs: Any) -> Any:
    serializer = serializer_class(data=data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


class ConditionalMixin:
    """Represent one object with its ETag; answer 304 to a matching If-None-Match."""

    request: Request
    serializer_class: type

    def represent(self, obj: Any, code: int = 200, **headers: str) -> Response:
        data = self.serializer_class(obj, context={"request": self.request}).data
        response = Response(data, code)
        response["ETag"] = etag_for(obj)
        for name, value in headers.items():
            response[name] = value
        return response

    def conditional(self, obj: Any) -> Response:
        etag = etag_for(obj)
        if not_modified(self.request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return self.represent(obj)


# --- claims -----------------------------------------------------------------------------

PUT_DEFAULTS = {
    "note": "",
    "rank_reason": "",
    "tags": [],
    "events": [],
    "status": ClaimStatus.ASSERTED,
    "rank": ClaimRank.NORMAL,
}


@extend_schema_view(
    list=extend_schema(parameters=[ClaimFilterSerializer]),
    create=extend_schema(request=ClaimWriteSerializer, responses={201: ClaimSerializer}),
    update=extend_schema(request=ClaimWriteSerializer, parameters=[IF_MATCH]),
    partial_update=extend_schema(request=ClaimWriteSerializer, parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)
class ClaimViewSet(ConditionalMixin, viewsets.GenericViewSet):
    """Claims: statements in the researcher's words, with status, rank, tags and event
    links. Search as you type with `?library=…&q=…`. Evidence is at /api/evidence/."""

    parser_classes = [JSONParser]
    serializer_class = ClaimSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Claim]:
        return (
            Claim.objects.visible_to(self.request.user)
            .select_related("library", "creator")
            .prefetch_related("tags", "event_links__event")
        )

    def list(self, request: Request) -> Response:
        query = validated(ClaimFilterSerializer, request.query_params, request).validated_data
        claims = claim_work.filter_claims(self.get_queryset(), query).order_by("-modified", "-pk")
        page = self.paginate_queryset(claims)
        editable = set(
            Claim.objects.editable_by(request.user)
            .filter(pk__in=[c.pk for c in page])
            .values_list("pk", flat=True)
        )
        context = {"request": request, "editable_ids": editable}
        return self.get_paginated_response(ClaimSerializer(page, many=True, context=context).data)

    def create(self, request: Request) -> Response:
        body = validated(ClaimWriteSerializer, request.data, request)
        library = body.validated_data["library"]
        require_edit(library, request.user)
        with django_errors_as_400():
            claim = claim_work.create_claim(
                library=library, creator=request.user, **body.work_fields()
            )
        url = reverse("api-claim-detail", args=[claim.pk], request=request)
        return self.represent(self.fetch(claim.pk), status.HTTP_201_CREATED, Location=url)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.conditional(self.fetch(pk))

    def update(self, request: Request, pk: int, partial: bool = False) -> Response:
        claim = self.fetch(pk, write=True)
        require_current(request, claim)
        body = validated(
            ClaimWriteSerializer, request.data, request, instance=claim, partial=partial
        )
        changes = body.work_fields() if partial else {**PUT_DEFAULTS, **body.work_fields()}
        with django_errors_as_400():
            claim_work.update_claim(claim, changes)
        return self.represent(self.fetch(pk))

    def partial_update(self, request: Request, pk: int) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: int) -> Response:
        claim = self.fetch(pk, write=True)
        require_current(request, claim)
        claim.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=FromHighlightSerializer, responses={201: ClaimSerializer})
    @action(detail=False, methods=["post"], url_path="from-highlight")
    def from_highlight(self, request: Request) -> Response:
        """Make a claim from a highlight in one step: give an `annotation`, or a selection
        (`text`, `start`, `end`, `exact`) to highlight first; the claim and the evidence
        linking them are created together, or nothing is."""
        body = validated(FromHighlightSerializer, request.data, request)
        source = body.highlight_source()
        library = source.library if isinstance(source, Annotation) else source.text.source.library
        require_edit(library, request.user)
        fields = body.work_fields()
        for name in ("text", "start", "end", "exact", "comment", "highlight_tags", "annotation"):
            fields.pop(name, None)
        with django_errors_as_400(), deletion_as_conflict():
            claim = claim_work.make_claim_from_highlight(source, creator=request.user, **fields)
        url = reverse("api-claim-detail", args=[claim.pk], request=request)
        return self.represent(self.fetch(claim.pk), status.HTTP_201_CREATED, Location=url)

    @extend_schema(responses={(200, provenance.MEDIA_TYPE): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], renderer_classes=[ProvJSONLDRenderer, JSONRenderer])
    def provenance(self, request: Request, pk: int) -> Response:
        """The claim's provenance chain as W3C PROV-O JSON-LD."""
        return Response(provenance.claim_document(self.fetch(pk), request))

    def fetch(self, pk: int, *, write: bool = False) -> Claim:
        get_claim_for_user(self.request.user, pk, write=write)
        return self.get_queryset().get(pk=pk)


# --- evidence ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(parameters=[EvidenceFilterSerializer]),
    create=extend_schema(request=EvidenceWriteSerializer, responses={201: EvidenceSerializer}),
    update=extend_schema(request=EvidenceChangeSerializer, parameters=[IF_MATCH]),
    partial_update=extend_schema(request=EvidenceChangeSerializer, parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)
class EvidenceViewSet(ConditionalMixin, viewsets.GenericViewSet):
    """Highlights brought to bear on claims, with a stance (supports, contradicts,
    mentions) and a note. Attach an existing highlight (`annotation`) or a fresh
    selection (`text`, `start`, `end`) to a claim; anyone who may edit the library may."""

    parser_classes = [JSONParser]
    serializer_class = EvidenceSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Evidence]:
        return Evidence.objects.visible_to(self.request.user).select_related(
            "library", "creator", "annotation__text__source"
        )

    def list(self, request: Request) -> Response:
        query = validated(EvidenceFilterSerializer, request.query_params, request).validated_data
        rows = self.get_queryset()
        if "library" in query:
            rows = rows.filter(library_lookup(query["library"]))
        for name, lookup in (
            ("claim", "claim_id"),
            ("annotation", "annotation_id"),
            ("source", "annotation__text__source_id"),
            ("stance", "stance"),
        ):
            if name in query:
                rows = rows.filter(**{lookup: query[name]})
        page = self.paginate_queryset(rows.order_by("claim_id", "pk"))
        data = EvidenceSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    def create(self, request: Request) -> Response:
        body = validated(EvidenceWriteSerializer, request.data, request)
        claim = body.validated_data["claim"]
        require_edit(claim.library, request.user)
        data = body.validated_data
        with django_errors_as_400(), deletion_as_conflict():
            evidence = claim_work.attach_highlight(
                claim,
                body.highlight_source(),
                creator=request.user,
                stance=data["stance"],
                note=data["note"],
            )
        url = reverse("api-evidence-detail", args=[evidence.pk], request=request)
        return self.represent(self.fetch(evidence.pk), status.HTTP_201_CREATED, Location=url)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.conditional(self.fetch(pk))

    def update(self, request: Request, pk: int, partial: bool = False) -> Response:
        evidence = self.fetch(pk, write=True)
        require_current(request, evidence)
        body = validated(EvidenceChangeSerializer, request.data, request, partial=partial)
        with django_errors_as_400():
            claim_work.update_evidence(evidence, dict(body.validated_data))
        return self.represent(self.fetch(pk))

    def partial_update(self, request: Request, pk: int) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: int) -> Response:
        evidence = self.fetch(pk, write=True)
        require_current(request, evidence)
        evidence.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def fetch(self, pk: int, *, write: bool = False) -> Evidence:
        get_evidence_for_user(self.request.user, pk, write=write)
        return self.get_queryset().get(pk=pk)


# --- events -----------------------------------------------------------------------------


def filter_events(events: QuerySet[Event], query: dict[str, Any]) -> QuerySet[Event]:
    if "library" in query:
        events = events.filter(library_lookup(query["library"]))
    if query.get("q"):
        events = events.filter(Q(name__icontains=query["q"]) | Q(place__icontains=query["q"]))
    if "start" in query and (earliest := edtf_bounds(query["start"])[0]):
        events = events.filter(latest__gte=earliest)
    if "end" in query and (latest := edtf_bounds(query["end"])[1]):
        events = events.filter(earliest__lte=latest)
    if "parent" in query:
        events = events.filter(parent_id=query["parent"])
    if query.get("top"):
        events = events.filter(parent__isnull=True)
    return events


@extend_schema_view(
    list=extend_schema(parameters=[EventFilterSerializer]),
    create=extend_schema(request=EventWriteSerializer, responses={201: EventSerializer}),
    update=extend_schema(request=EventWriteSerializer, parameters=[IF_MATCH]),
    partial_update=extend_schema(request=EventWriteSerializer, parameters=[IF_MATCH]),
    destroy=extend_schema(parameters=[IF_MATCH]),
)
class EventViewSet(ConditionalMixin, viewsets.GenericViewSet):
    """Dated happenings: an EDTF date or range (earliest and latest derived), place,
    description, Wikidata id, parent event (no cycles), participants as tags."""

    parser_classes = [JSONParser]
    serializer_class = EventSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Event]:
        return (
            Event.objects.visible_to(self.request.user)
            .select_related("library", "creator")
            .prefetch_related("participants")
        )

    def list(self, request: Request) -> Response:
        query = validated(EventFilterSerializer, request.query_params, request).validated_data
        page = self.paginate_queryset(filter_events(self.get_queryset(), query))
        editable = set(Library.objects.editable_by(request.user).values_list("pk", flat=True))
        context = {"request": request, "editable_libraries": editable}
        return self.get_paginated_response(EventSerializer(page, many=True, context=context).data)

    def create(self, request: Request) -> Response:
        body = validated(EventWriteSerializer, request.data, request)
        data = dict(body.validated_data)
        library = data.pop("library")
        require_edit(library, request.user)
        with django_errors_as_400():
            event = event_work.create_event(library=library, creator=request.user, **data)
        url = reverse("api-event-detail", args=[event.pk], request=request)
        return self.represent(self.fetch(event.pk), status.HTTP_201_CREATED, Location=url)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.conditional(self.fetch(pk))

    def update(self, request: Request, pk: int, partial: bool = False) -> Response:
        event = self.fetch(pk, write=True)
        require_current(request, event)
        body = validated(
            EventWriteSerializer, request.data, request, instance=event, partial=partial
        )
        changes = dict(body.validated_data)
        changes.pop("library", None)
        if not partial:  # PUT replaces: what is left out is cleared
            empty = {"date": "", "place": "", "description": "", "wikidata_id": ""}
            changes = {**empty, "parent": None, "participants": [], **changes}
        with django_errors_as_400():
            event_work.update_event(event, changes)
        return self.represent(self.fetch(pk))

    def partial_update(self, request: Request, pk: int) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: int) -> Response:
        event = self.fetch(pk, write=True)
        require_current(request, event)
        event.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def fetch(self, pk: int, *, write: bool = False) -> Event:
        get_event_for_user(self.request.user, pk, write=write)
        return self.get_queryset().get(pk=pk)


class LibraryProvenanceView(APIView):
    """A whole library's provenance (claims, evidence, quotes, revisions, sources and
    the links between them) as W3C PROV-O JSON-LD."""

    renderer_classes = [ProvJSONLDRenderer, JSONRenderer]

    @extend_schema(
        parameters=[LibraryQuerySerializer],
        responses={
            (200, provenance.MEDIA_TYPE): OpenApiTypes.OBJECT,
            202: OpenApiResponse(
                description="A library past PROVENANCE_JOB_THRESHOLD sources and claims: the "
                "job that writes the document (its status is at Location)."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        value = validated(LibraryQuerySerializer, request.query_params, request).validated_data
        library = Library.objects.visible_to(request.user).filter(
            library_lookup(value["library"], "")
        )
        found = library.first()
        if found is None:
            raise DRFValidationError(
                {"library": [f"No library {value['library']!r} that you can see."]}
            )
        if claim_jobs.is_large(found):
            return self.enqueue(request, found)
        return Response(provenance.library_document(found, request))

    def enqueue(self, request: Request, library: Library) -> Response:
        """A library too large to describe in a request: 202 and the job that writes it."""
        if not request.user.is_authenticated:
            raise DRFValidationError(
                {"library": ["Sign in to export this library's provenance: it is large."]}
            )
        base = request.build_absolute_uri("/")
        job = queue.enqueue(claim_jobs.PROVENANCE, library=library, user=request.user, base=base)
        return accepted(request, job)
