"""The citation and export API: files for any selection, and ready notes for a source,
an annotation (a passage) or a claim (its evidence).

Plain APIViews: each reads its parameters through `citations.selection` (the same
rules as the export pages), calls one function and answers. Everything here is a read:
anyone who may see the selection may export it, and what they may not see is a 404.
`format` names the file or note format, so DRF's `?format=` renderer override is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from annotations.access import get_annotation_for_user
from annotations.claims.access import get_claim_for_user
from citations import engine, exports
from citations.jobs import EXPORT
from citations.notes import NOTES_CONTENT_TYPES, NOTES_FORMAT_NAMES
from citations.options import (
    CITATION_FORMATS,
    CONTENTS,
    FORMAT_NAMES,
    ExportOptions,
    citation_options,
    export_file,
    export_options,
    job_params,
    locator_option,
    runs_as_job,
    search_styles,
)
from citations.passages import cite_annotation, cite_claim
from citations.selection import ExportRequestError, Selection, select_from_params
from core.api import IdField
from jobs import queue
from jobs.api import accepted
from sources.access import get_source_for_user

ATTRIBUTION_URL = "https://citationstyles.org/"


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name: str) -> Any:
        return getattr(api_settings, name)


class FormatIsAParameter(DefaultContentNegotiation):
    """Content negotiation by the Accept header only: `format` is ours."""

    settings = _NoFormatOverride()


@contextmanager
def request_errors_as_400() -> Iterator[None]:
    try:
        yield
    except ExportRequestError as error:
        raise serializers.ValidationError({error.field: [error.message]}) from error


class CitationAPIView(APIView):
    permission_classes = [permissions.AllowAny]  # reads only; scoped by the access helpers
    content_negotiation_class = FormatIsAParameter


# --- Parameters and representations (validation: citations.selection, .options) ---------

STYLE_HELP = (
    f"A CSL style id: {', '.join(engine.BUILTIN_STYLES)} or any id of the CSL style "
    f"collection (see /api/citation-styles/). Default {engine.DEFAULT_STYLE}."
)
LOCALE_HELP = f"A CSL locale or language (ru → ru-RU). Default {engine.DEFAULT_LOCALE}."


class CitationParameters(serializers.Serializer):
    style = serializers.CharField(required=False, help_text=STYLE_HELP)
    locale = serializers.CharField(required=False, help_text=LOCALE_HELP)
    format = serializers.CharField(
        required=False, help_text=f"Note markup: {', '.join(CITATION_FORMATS)}. Default html."
    )


class SourceCitationParameters(CitationParameters):
    locator = serializers.CharField(required=False, help_text='The passage cited, e.g. "12".')
    label = serializers.ChoiceField(
        choices=engine.LOCATOR_LABELS, required=False, help_text="Default page."
    )


class ExportParameters(serializers.Serializer):
    format = serializers.CharField(
        help_text="For content bibliography and notes: "
        + ", ".join(FORMAT_NAMES)
        + "; for content document: "
        + ", ".join(NOTES_FORMAT_NAMES)
        + ".",
    )
    content = serializers.ChoiceField(
        choices=list(CONTENTS), required=False, help_text="Default bibliography."
    )
    style = serializers.CharField(required=False, help_text=STYLE_HELP)
    locale = serializers.CharField(required=False, help_text=LOCALE_HELP)
    library = serializers.CharField(
        required=False, help_text="A library's slug or id: all its sources, or those q finds."
    )
    sources = serializers.CharField(required=False, help_text="Source ids: 3,5,8 (alias ids).")
    ids = serializers.CharField(required=False, help_text="Alias of sources.")
    claims = serializers.CharField(required=False, help_text="Claim ids: the evidence's sources.")
    event = IdField(
        required=False, help_text="An event id: the sources of its claims and its sub-events'."
    )
    q = serializers.CharField(
        required=False, help_text="A search (words, phrases…); with library, inside it."
    )
    search = serializers.CharField(
        required=False,
        help_text="A search page's query string (q=…&tag=…&event=…): its results' sources.",
    )


class AttributedSerializer(serializers.Serializer):
    style = serializers.CharField()
    style_title = serializers.CharField()
    locale = serializers.CharField()
    format = serializers.CharField()
    attribution = serializers.CharField()
    attribution_url = serializers.URLField()


class SourceCitationSerializer(AttributedSerializer):
    source = serializers.IntegerField()
    citation_key = serializers.CharField()
    locator = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    full_note = serializers.CharField()
    short_note = serializers.CharField()
    bibliography = serializers.CharField()


class PassageCitationSerializer(serializers.Serializer):
    annotation = serializers.IntegerField(source="annotation_id")
    source = serializers.IntegerField(source="source_id")
    citation_key = serializers.CharField()
    quote = serializers.CharField()
    locator = serializers.CharField()
    label = serializers.CharField()
    locator_text = serializers.CharField(help_text='With the locale\'s term: "p. 2".')
    full_note = serializers.CharField()
    short_note = serializers.CharField()
    pandoc = serializers.CharField(help_text="The Markdown citation: [@key, p. 2].")


class AnnotationCitationSerializer(AttributedSerializer, PassageCitationSerializer):
    pass


class EvidenceCitationSerializer(PassageCitationSerializer):
    evidence = serializers.IntegerField()
    stance = serializers.CharField()
    note = serializers.CharField()


class ClaimCitationSerializer(AttributedSerializer):
    claim = serializers.IntegerField()
    statement = serializers.CharField()
    evidence = EvidenceCitationSerializer(many=True)


class StyleSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    builtin = serializers.BooleanField()


def attribution(options: Any) -> dict[str, str]:
    return {
        "style": options.style,
        "style_title": engine.style_title(options.style),
        "locale": options.locale,
        "format": options.fmt,
        "attribution": exports.ATTRIBUTION,
        "attribution_url": ATTRIBUTION_URL,
    }


BAD_REQUEST = OpenApiResponse(
    description="A parameter is malformed; the body names it and lists what is accepted."
)
NOT_FOUND = OpenApiResponse(description="Not found, or not visible to you.")
FILE_TYPES = {
    **{ct.split(";")[0]: fmt for fmt, ct in exports.CONTENT_TYPES.items()},
    **{ct.split(";")[0]: fmt for fmt, ct in NOTES_CONTENT_TYPES.items()},
}
EXPORT_RESPONSES = {
    **{(200, media_type): OpenApiTypes.BINARY for media_type in FILE_TYPES},
    202: OpenApiResponse(
        description="A formatted export of more than EXPORT_JOB_THRESHOLD sources (1,000 by "
        "default): the job that makes the file, its status (Location) and, once done, its "
        "download_url."
    ),
    400: BAD_REQUEST,
    404: NOT_FOUND,
}


# --- Views -----------------------------------------------------------------------------


class ExportView(CitationAPIView):
    """A file for a selection, as a download: a formatted bibliography or notes (html,
    text, markdown), CSL-JSON, BibLaTeX, BibTeX, RIS, or a research-notes document
    (content=document: markdown, pandoc zip, html, docx)."""

    @extend_schema(
        summary="Export a selection as a file",
        parameters=[ExportParameters],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request: Request) -> Any:
        return self.export(request, request.query_params)

    @extend_schema(
        summary="Export a selection as a file (parameters in the body)",
        request=ExportParameters,
        responses=EXPORT_RESPONSES,
    )
    def post(self, request: Request) -> Any:
        return self.export(request, request.data)

    def export(self, request: Request, data: Any) -> Any:
        with request_errors_as_400():
            options = export_options(data)
            selection = select_from_params(request.user, data)
            if runs_as_job(selection, options):
                return self.enqueue(request, selection, options)
            return export_file(request.user, selection, options).response()

    def enqueue(self, request: Request, selection: Selection, options: ExportOptions) -> Any:
        """A large formatted export: 202 and the job that makes the file (its `download_url`
        appears in the status once it is done)."""
        if not request.user.is_authenticated:
            raise ExportRequestError("library", "Sign in to export this many sources.")
        params = job_params(selection, options)
        job = queue.enqueue(EXPORT, library=selection.library, user=request.user, **params)
        return accepted(request, job)


class SourceCitationView(CitationAPIView):
    @extend_schema(
        summary="A source's full and short note and bibliography entry",
        parameters=[SourceCitationParameters],
        responses={200: SourceCitationSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        source = get_source_for_user(request.user, pk)
        with request_errors_as_400():
            options = citation_options(request.query_params)
            locator, label = locator_option(request.query_params)
        style = {"style": options.style, "locale": options.locale, "fmt": options.fmt}
        full, short = engine.citation_for_source(source, locator=locator, label=label, **style)
        [(_, entry)] = engine.bibliography_for_sources([source], **style)
        data = attribution(options) | {
            "source": source.pk,
            "citation_key": source.citation_key,
            "locator": locator,
            "label": label,
            "full_note": full,
            "short_note": short,
            "bibliography": entry,
        }
        return Response(SourceCitationSerializer(data).data)


class AnnotationCitationView(CitationAPIView):
    @extend_schema(
        summary="A passage's footnote: full and short note with its locator, and the quote",
        parameters=[CitationParameters],
        responses={200: AnnotationCitationSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        annotation = get_annotation_for_user(request.user, pk)
        with request_errors_as_400():
            options = citation_options(request.query_params)
        cited = cite_annotation(
            annotation, style=options.style, locale=options.locale, fmt=options.fmt
        )
        data = attribution(options) | cited.as_dict()
        return Response(AnnotationCitationSerializer(data).data)


class ClaimCitationView(CitationAPIView):
    @extend_schema(
        summary="Footnotes for the evidence of a claim, strongest stance first",
        parameters=[CitationParameters],
        responses={200: ClaimCitationSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        claim = get_claim_for_user(request.user, pk)
        with request_errors_as_400():
            options = citation_options(request.query_params)
        cited = cite_claim(
            claim, request.user, style=options.style, locale=options.locale, fmt=options.fmt
        )
        evidence = [
            citation.as_dict() | {"evidence": row.pk, "stance": row.stance, "note": row.note}
            for row, citation in cited
        ]
        data = attribution(options) | {
            "claim": claim.pk,
            "statement": claim.statement,
            "evidence": evidence,
        }
        return Response(ClaimCitationSerializer(data).data)


class CitationStyleListView(CitationAPIView):
    @extend_schema(
        summary="Find citation styles by id or title (search as you type)",
        parameters=[
            OpenApiParameter("q", str, description="Words of the id or title: chicago note."),
            OpenApiParameter("limit", int, description="At most this many (1–100, default 20)."),
        ],
        responses={200: StyleSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request: Request) -> Response:
        query = str(request.query_params.get("q", ""))[:200]
        limit = request.query_params.get("limit", "20")
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100):
            raise serializers.ValidationError({"limit": ["Give a number from 1 to 100."]})
        return Response(StyleSerializer(search_styles(query, limit=int(limit)), many=True).data)
