"""The W3C Web Annotation protocol at /api/annotations/, plus tags and imports.

Content negotiation: `Accept: application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"`
gets W3C JSON-LD from `annotations/w3c.py` (the container paged as AnnotationCollection /
AnnotationPage); anything else gets the plain JSON of `AnnotationSerializer`. Writes take
either form. Every change needs If-Match (428 without, 412 when stale), so two people
editing one annotation never overwrite each other silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from annotations import reads, w3c
from annotations import tags as tagging
from annotations.access import (
    annotations_for,
    get_annotation_for_user,
    get_tag_for_user,
    get_text_for_user,
    read_annotation_for_user,
)
from annotations.models import Annotation, Tag, TagNamespace
from annotations.reanchoring import reattach
from annotations.serializers import (
    AnnotationFilterSerializer,
    AnnotationSerializer,
    AnnotationWriteSerializer,
    ImportSerializer,
    ReattachSerializer,
    TagColourQuerySerializer,
    TagColourSerializer,
    TagMergeSerializer,
    TagQuerySerializer,
    TagRenameSerializer,
    TagSerializer,
    W3CPageQuerySerializer,
    etag_for,
)
from annotations.writes import DeletedMeanwhile, create_annotation
from core.api import BoundedLimitOffsetPagination, django_errors_as_400, validated_query
from core.versioning import not_modified, require_if_match
from sources.access import read_text_for_user, role_in_library
from sources.models import WRITE_ROLES, Library, SourceText
from sources.serializers import library_lookup

if TYPE_CHECKING:
    from sources.models import AnyUser

W3C_PAGE_SIZE = 100
LDP_RESOURCE = '<http://www.w3.org/ns/ldp#Resource>; rel="type"'
LDP_CONTAINER = (
    '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type", '
    '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"'
)
_ETAG = re.compile(r'^"a(\d+)\.v(\d+)(?:\.ld)?"$')


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


class JSONLDParser(JSONParser):
    media_type = "application/ld+json"


class AnnotationPagination(BoundedLimitOffsetPagination):
    """Plain JSON pages; the reading view asks for a whole text's annotations at once."""

    default_limit = 100
    max_limit = 5000


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@contextmanager
def deletion_as_conflict() -> Iterator[None]:
    """409 when what is being written on was deleted by someone else meanwhile (the
    transaction is rolled back: nothing of the write remains)."""
    try:
        yield
    except DeletedMeanwhile as error:
        raise Conflict(str(error)) from None


def wants_jsonld(request: Request) -> bool:
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.format == JSONLDRenderer.format


def require_current_annotation(request: Request, annotation: Annotation) -> None:
    """If-Match is mandatory for changes, compared strongly (RFC 9110 §13.1.1); the tag
    of either representation (plain or JSON-LD) names the version."""

    def is_current(tag: str) -> bool:
        match = _ETAG.match(tag)
        return bool(match) and (int(match[1]), int(match[2])) == (annotation.pk, annotation.version)

    require_if_match(
        request,
        etag_for(annotation),
        matches=is_current,
        detail="The annotation changed since you read it; fetch it again and retry.",
    )


def filter_annotations(annotations: QuerySet, query: dict[str, Any]) -> QuerySet:
    if "library" in query:
        annotations = annotations.filter(library_lookup(query["library"]))
    if "source" in query:
        annotations = annotations.filter(text__source_id=query["source"])
    if "text" in query:
        annotations = annotations.filter(text_id=query["text"])
    if "creator" in query:
        annotations = annotations.filter(creator__username=query["creator"])
    for name in ("state", "motivation", "visibility"):
        if name in query:
            annotations = annotations.filter(**{name: query[name]})
    for tag in query.get("tag", []):
        with django_errors_as_400():
            annotations = annotations.filter(tags__name_key=tagging.tag_key(tag))
    return annotations


def text_for_target(parsed: w3c.Parsed, request: Request) -> SourceText:
    """The revision a W3C target's `source` names, if the user may see it; one 400 for
    "no such text" and "not yours" so that nothing leaks."""
    address = w3c.resolve_text_iri(parsed.source_iri, request)
    text = None
    if address is not None:
        source_id, revision = address
        text = (
            SourceText.objects.visible_to(request.user)
            .select_related("source__library")
            .annotate(viewer_role=role_in_library(request.user, "source__library_id"))
            .filter(source_id=source_id, revision=revision)
            .first()
        )
    if text is None:
        raise DRFValidationError(
            {"target": ["The target source must be a text revision on this server you can see."]}
        )
    return text


def require_annotate(text: SourceText, user: AnyUser) -> None:
    """Editors and owners annotate; the role comes with the text when its query brought it."""
    role = text.viewer_role if hasattr(text, "viewer_role") else text.source.library.role_of(user)
    if role not in WRITE_ROLES:
        raise PermissionDenied("You may read this text but not annotate it.")


class WritesInATransaction:
    """ATOMIC_REQUESTS for the requests that may change something; a safe request (GET,
    HEAD, OPTIONS) only reads, and without BEGIN and COMMIT around its statements: a tenth
    of the CPU of reading one annotation (bench/README.md, *Load test*)."""

    @classmethod
    def as_view(cls, *args: Any, **kwargs: Any) -> Any:
        return transaction.non_atomic_requests(super().as_view(*args, **kwargs))  # type: ignore[misc]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        with transaction.atomic():  # DRF rolls it back when it turns an error into a response
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def handle_exception(self, exc: Exception) -> Any:
        """DRF marks "the request's transaction" for rollback when it turns an error into a
        response. A safe request has none: the transaction it would mark is a caller's (a
        test's), which the read did not touch, so it is left as it was."""
        if self.request.method not in SAFE_METHODS:  # type: ignore[attr-defined]
            return super().handle_exception(exc)  # type: ignore[misc]
        connection = transaction.get_connection()
        marked = connection.needs_rollback
        try:
            return super().handle_exception(exc)  # type: ignore[misc]
        finally:
            if connection.in_atomic_block:
                connection.set_rollback(marked)


@extend_schema_view(
    list=extend_schema(parameters=[AnnotationFilterSerializer, W3CPageQuerySerializer]),
    create=extend_schema(request=AnnotationWriteSerializer, responses={201: AnnotationSerializer}),
    update=extend_schema(request=AnnotationWriteSerializer),
    partial_update=extend_schema(request=AnnotationWriteSerializer),
)
class AnnotationViewSet(WritesInATransaction, viewsets.GenericViewSet):
    """Annotations on text revisions (W3C Web Annotation protocol). Viewers read; editors
    and owners annotate; a creator edits their own, owners moderate library-visible ones."""

    serializer_class = AnnotationSerializer
    pagination_class = AnnotationPagination
    renderer_classes = [JSONRenderer, JSONLDRenderer]
    parser_classes = [JSONParser, JSONLDParser]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Annotation]:
        return annotations_for(self.request.user)

    def list(self, request: Request) -> Response:
        query = reads.plain_query(request.query_params)
        if query is None:  # anything but ids of a text or source: validated in full
            query = validated_query(AnnotationFilterSerializer, request)
        if not wants_jsonld(request) and reads.readable(query):
            response = self.fast_page(request, query)  # the same JSON (tests compare)
        else:
            annotations = filter_annotations(self.get_queryset(), query)
            if wants_jsonld(request):
                return self.container(request, annotations)
            page = self.paginate_queryset(annotations)
            response = self.get_paginated_response(self.plain(page, many=True))
        patch_vary_headers(response, ["Accept", "Prefer"])
        return response

    def fast_page(self, request: Request, query: dict[str, Any]) -> Response:
        """A text's (or source's) annotations in hand-written statements (`annotations.reads`),
        paged as `paginate_queryset` pages them."""
        paginator = self.paginator
        paginator.request = request
        paginator.limit, paginator.offset = (
            paginator.get_limit(request),
            paginator.get_offset(request),
        )
        url = reverse("api-annotation-detail", args=[0], request=request)
        template = url.removesuffix("/0/") + "/{}/"  # as `AnnotationSerializer.get_url`
        paginator.count, data = reads.page(
            request.user, query, paginator.limit, paginator.offset, template
        )
        return self.get_paginated_response(data)

    def create(self, request: Request) -> Response:
        fields = self.new_annotation_fields(request)
        with django_errors_as_400(), deletion_as_conflict():
            created = create_annotation(creator=request.user, hold_tags=True, **fields)
        # Represented as created, not read back: its text, library, tags and the creator's
        # role are at hand (and `annotations_for` would find exactly this row).
        created.viewer_role = fields["text"].viewer_role
        url = reverse("api-annotation-detail", args=[created.pk], request=request)
        return self.represent(created, status.HTTP_201_CREATED, Location=url)

    def retrieve(self, request: Request, pk: int) -> Response:
        annotation = read_annotation_for_user(request.user, pk)
        etag = etag_for(annotation, jsonld=wants_jsonld(request))
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return self.represent(annotation)

    def update(self, request: Request, pk: int, partial: bool = False) -> Response:
        annotation = self.fetch(pk, write=True)
        require_current_annotation(request, annotation)
        changes = self.changes(request, annotation, partial=partial)
        with django_errors_as_400():
            annotation.apply_changes(changes, user=request.user)
        annotation.load_tags()  # read again only if the edit set them
        return self.represent(annotation)

    def partial_update(self, request: Request, pk: int) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "with_evidence",
                bool,
                description="Also delete the evidence this highlight gives to claims "
                "(without it, deleting a highlight that is evidence answers 409).",
            ),
            OpenApiParameter(
                "with_replies",
                bool,
                description="Also delete the replies others wrote to it (without it, "
                "deleting an annotation others answered answers 409).",
            ),
        ]
    )
    def destroy(self, request: Request, pk: int) -> Response:
        annotation = self.fetch(pk, write=True)
        require_current_annotation(request, annotation)
        answered = annotation.replies_by_others()
        if answered and request.query_params.get("with_replies") not in ("1", "true"):
            noun = "reply" if answered == 1 else "replies"
            return Response(
                {
                    "detail": f"{answered} {noun} by others answer this annotation: deleting "
                    "it deletes them. Delete it with its replies, or keep it.",
                    "replies": answered,
                },
                status=status.HTTP_409_CONFLICT,
            )
        claims = annotation.evidence.count()
        if claims and request.query_params.get("with_evidence") not in ("1", "true"):
            noun = "claim" if claims == 1 else "claims"
            return Response(
                {
                    "detail": f"This highlight is the evidence of {claims} {noun}: deleting it "
                    "would take that evidence away. Delete it with its evidence, or keep it.",
                    "evidence": claims,
                },
                status=status.HTTP_409_CONFLICT,
            )
        annotation.delete()  # the evidence with it; both stay in their history
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ReattachSerializer, responses={200: AnnotationSerializer})
    @action(detail=True, methods=["post"])
    def reattach(self, request: Request, pk: int) -> Response:
        """Put an (orphaned) annotation on a passage selected in a revision of its source."""
        annotation = self.fetch(pk, write=True)
        require_current_annotation(request, annotation)
        body = ReattachSerializer(data=request.data, context={"annotation": annotation})
        body.is_valid(raise_exception=True)
        params = body.validated_data
        text = params.get("text") or annotation.text.source.current_text
        with django_errors_as_400():
            reattach(annotation, text, params["start"], params["end"], request.user,
                     exact=params.get("exact"))  # fmt: skip
        return self.represent(self.fetch(pk))

    # --- helpers ------------------------------------------------------------------

    def fetch(self, pk: int, *, write: bool = False) -> Annotation:
        return get_annotation_for_user(self.request.user, pk, write=write)

    def plain(self, annotations: Any, *, many: bool = False) -> Any:
        """`can_edit` comes from each row's `viewer_role` (see `annotations_for`)."""
        context = {"request": self.request}
        return AnnotationSerializer(annotations, many=many, context=context).data

    def represent(self, annotation: Annotation, code: int = 200, **headers: str) -> Response:
        jsonld = wants_jsonld(self.request)
        if jsonld:
            response = Response(w3c.present(annotation, self.request), code,
                                content_type=w3c.MEDIA_TYPE)  # fmt: skip
        else:
            response = Response(self.plain(annotation), code)
        response["ETag"] = etag_for(annotation, jsonld=jsonld)
        response["Link"] = LDP_RESOURCE
        for name, value in headers.items():
            response[name] = value
        patch_vary_headers(response, ["Accept"])
        return response

    def new_annotation_fields(self, request: Request) -> dict[str, Any]:
        """Validated keyword arguments for `create_annotation`, from either form."""
        if w3c.looks_like_w3c(request.data):
            with django_errors_as_400():
                parsed = w3c.parse_annotation(request.data)
            if parsed.reply_iri is not None and w3c.resolve_text_iri(parsed.reply_iri, request):
                parsed.source_iri, parsed.whole_text = parsed.reply_iri, True  # a text's IRI
            elif parsed.reply_iri is not None:
                return self.reply_fields(parsed, request)
            text = text_for_target(parsed, request)
            require_annotate(text, request.user)
            if parsed.whole_text:
                return {"text": text, "whole_text": True, **parsed.fields()}
            if parsed.region is not None:
                return {"text": text, "page": parsed.page, "region": parsed.region,
                        **parsed.fields()}  # fmt: skip
            with django_errors_as_400():
                spot = w3c.place(text, parsed)
            return {"text": text, "start": spot.start, "end": spot.end, **parsed.fields()}
        body = AnnotationWriteSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        require_annotate(fields["text"], request.user)
        return fields

    def reply_fields(self, parsed: w3c.Parsed, request: Request) -> dict[str, Any]:
        """A W3C reply: its target is an annotation on this server the user can see."""
        pk = w3c.resolve_annotation_iri(parsed.reply_iri, request)
        parent = None if pk is None else annotations_for(request.user).filter(pk=pk).first()
        if parent is None:
            raise DRFValidationError(
                {"target": ["A reply's target must be an annotation on this server you can see."]}
            )
        text = read_text_for_user(request.user, parent.text_id)
        require_annotate(text, request.user)
        return {"text": text, "reply_to": parent, **parsed.fields()}

    def changes(self, request: Request, annotation: Annotation, *, partial: bool) -> dict:
        """The validated edit. A W3C body is always a whole annotation (protocol §6.2)."""
        if w3c.looks_like_w3c(request.data):
            with django_errors_as_400():
                parsed = w3c.parse_annotation(request.data)
                w3c.same_target(annotation, parsed, request)
                if annotation.kind == "region":
                    return {"region": parsed.region, **parsed.fields()}
                if annotation.kind in ("reply", "note"):
                    return parsed.fields()
                spot = w3c.place(annotation.text, parsed)
            return {"start": spot.start, "end": spot.end, **parsed.fields()}
        body = AnnotationWriteSerializer(
            annotation, data=request.data, partial=partial, context={"request": request}
        )
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        changes.pop("text", None)
        if not partial:  # PUT replaces: what is left out is cleared
            changes = {"comment": "", "tags": [], "motivation": "", **changes}
        return changes

    def container(self, request: Request, annotations: QuerySet) -> Response:
        params = validated_query(W3CPageQuerySerializer, request)
        iris = params["iris"] or w3c.PREFER_IRIS in request.headers.get("Prefer", "")
        query = [(k, v) for k, values in request.query_params.lists() for v in values]
        query = [(k, v) for k, v in query if k not in ("page", "format", "iris")]
        if iris:
            query.append(("iris", "1"))
        page = params.get("page")
        paging = w3c.Paging(request.path, tuple(query), annotations.count(), page or 0,
                            W3C_PAGE_SIZE)  # fmt: skip
        if page is not None and page > paging.last_page:
            raise Http404("No such page.")
        start = paging.page * paging.per_page
        items = list(annotations[start : start + paging.per_page])
        if page is None:
            minimal = w3c.PREFER_MINIMAL in request.headers.get("Prefer", "")
            data = w3c.present_collection(request, paging, items, iris=iris, minimal=minimal)
        else:
            data = w3c.present_page(request, paging, items, iris=iris)
        response = Response(data, content_type=w3c.MEDIA_TYPE)
        response["Link"] = LDP_CONTAINER
        response["Accept-Post"] = f"{w3c.MEDIA_TYPE}, application/json"
        patch_vary_headers(response, ["Accept", "Prefer"])
        return response


class AnnotationImportView(APIView):
    """POST a W3C annotation list, collection or page, or a Hypothesis export (`rows`):
    each item is anchored on this text by its TextQuoteSelector. One outcome per item."""

    parser_classes = [JSONParser, JSONLDParser]

    @extend_schema(request=ImportSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, text_pk: int) -> Response:
        text = get_text_for_user(request.user, text_pk, write=True)
        with django_errors_as_400():
            items, visibility = w3c.import_items(request.data)
        with deletion_as_conflict():
            outcomes = w3c.import_annotations(text, items, request.user, visibility=visibility)
        created = sum(1 for outcome in outcomes if outcome["status"] == "created")
        return Response(
            {
                "text": text.pk,
                "created": created,
                "failed": len(outcomes) - created,
                "outcomes": outcomes,
            }  # fmt: skip
        )


# --- tags --------------------------------------------------------------------------------


def namespace_colours(library_ids: set[int]) -> dict[tuple[int, str], str]:
    rows = TagNamespace.objects.filter(library_id__in=library_ids)
    return {(row.library_id, row.namespace): row.colour for row in rows}


def library_for(user: AnyUser, value: str, *, write: bool = False) -> Library:
    """A library named in a request body or query: 400 naming `library` if unseen."""
    library = Library.objects.visible_to(user).filter(library_lookup(value, "")).first()
    if library is None:
        raise DRFValidationError({"library": [f"No library {value!r} that you can see."]})
    if write and not library.can_edit(user):
        raise PermissionDenied("You may read this library but not change it.")
    return library


@extend_schema_view(list=extend_schema(parameters=[TagQuerySerializer]))
class TagViewSet(viewsets.GenericViewSet):
    """A library's tags: autocomplete (`?library=…&q=mao`), rename (PATCH `name`; merges when
    the new name exists), merge, delete. Matching is case-insensitive. Only the tags the
    user may see (`Tag.objects.visible_to`), with uses counted over what they may see; a
    change that meets another one made a moment ago answers 409 saying what to do."""

    serializer_class = TagSerializer
    lookup_value_converter = "int"
    pagination_class = None  # autocomplete answers at most `limit` tags, unpaged

    def get_queryset(self) -> QuerySet[Tag]:
        return Tag.objects.visible_to(self.request.user)

    def list(self, request: Request) -> Response:
        query = validated_query(TagQuerySerializer, request)
        library = library_for(request.user, query["library"])
        found = tagging.autocomplete(
            library, request.user, query.get("q", ""), limit=query["limit"]
        )
        return Response(self.represent(found, many=True))

    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(self.represent(get_tag_for_user(request.user, pk)))

    @extend_schema(request=TagRenameSerializer)
    def partial_update(self, request: Request, pk: int) -> Response:
        tag = get_tag_for_user(request.user, pk, write=True)
        body = TagRenameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with django_errors_as_400():
            kept = tagging.rename_tag(tag, body.validated_data["name"])
        return Response(self.represent(kept))

    @extend_schema(request=TagMergeSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: int) -> Response:
        """Re-tag everything tagged with this tag with `into`, then delete this tag."""
        tag = get_tag_for_user(request.user, pk, write=True)
        body = TagMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tags = Tag.objects.visible_to(request.user).filter(library=tag.library)
        into = tags.filter(pk=body.validated_data["into"]).first()
        if into is None:
            raise DRFValidationError({"into": ["No such tag in this library."]})
        return Response(self.represent(tagging.merge_tags(tag, into)))

    def destroy(self, request: Request, pk: int) -> Response:
        tagging.delete_tag(get_tag_for_user(request.user, pk, write=True))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=TagColourSerializer,
        parameters=[TagColourQuerySerializer],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get", "post"])
    def colours(self, request: Request) -> Response:
        """GET `?library=`: {namespace: colour}. POST: set the colour of one namespace
        (`""` is the tags without one); editors and owners."""
        if request.method == "GET":
            query = validated_query(TagColourQuerySerializer, request)
            library = library_for(request.user, query["library"])
            return Response(tagging.namespace_colours(library))
        body = TagColourSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.validated_data
        library = library_for(request.user, params["library"], write=True)
        row, _ = TagNamespace.objects.update_or_create(
            library=library,
            namespace=params["namespace"].strip().casefold(),
            defaults={"colour": params["colour"].lower()},
        )
        return Response({"library": library.slug, "namespace": row.namespace, "colour": row.colour})

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, tagging.TagConflict):  # nothing was written: the savepoint rolled back
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)

    def represent(self, tags: Any, *, many: bool = False) -> Any:
        items = list(tags) if many else [tags]
        colours = namespace_colours({tag.library_id for tag in items})
        context = {"request": self.request, "colours": colours}
        return TagSerializer(tags, many=many, context=context).data
