"""GET /api/search/: the search as JSON (`search.engine`), for scripts and the page's
own JavaScript. The query string is the one the page uses, so a saved search URL and an
API call ask the same question."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api import WritesInATransaction
from core.api import django_errors_as_400
from search.engine import FacetCount, Hit, SearchResult, require_libraries, search
from search.query import PARAMS, parse_params

SCHEMA_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, many=repeatable, description=help_text)
    for name, (repeatable, help_text) in PARAMS.items()
] + [OpenApiParameter("cursor", OpenApiTypes.STR, description="`next_cursor` of a page.")]


class SearchView(WritesInATransaction, APIView):
    """Claims, annotations, source descriptions and passages of source texts the caller
    may see. Anonymous callers search public libraries. A search only reads: it runs
    without BEGIN and COMMIT around its statements (`WritesInATransaction`)."""

    permission_classes = [AllowAny]  # the search itself is scoped to what the user sees

    @extend_schema(parameters=SCHEMA_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        with django_errors_as_400():
            query = parse_params(request.query_params)
            require_libraries(request.user, query)
            result = search(request.user, query)
        return Response(present(result, request))


def present(result: SearchResult, request: Request) -> dict[str, Any]:
    saved = reverse("search") + "?" + result.query.querystring()
    next_url = None
    if result.next_cursor:
        query = result.query.querystring() + "&" + _encode({"cursor": result.next_cursor})
        next_url = request.build_absolute_uri(reverse("api-search") + "?" + query)
    return {
        "count": result.total,
        "count_exact": result.total_exact,
        "next": next_url,
        "next_cursor": result.next_cursor or None,
        "sort": result.sort,
        "saved_search": request.build_absolute_uri(saved),
        "export": request.build_absolute_uri(
            reverse("search-export") + "?" + result.query.querystring()
        ),
        "suggestion": (reverse("search") + "?" + result.suggestion) if result.suggestion else None,
        "facets": {name: [_facet(f) for f in counts] for name, counts in result.facets.items()},
        "facets_exact": result.facets_exact,
        "results": [_hit(hit, request) for hit in result.hits],
    }


def _encode(pairs: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(pairs)


def _facet(facet: FacetCount) -> dict[str, Any]:
    return {"value": facet.value, "label": facet.label, "count": facet.count}


def _hit(hit: Hit, request: Request) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "id": hit.id,
        "url": request.build_absolute_uri(hit.url),
        "library": hit.library.slug,
        "title": hit.title,
        "snippet_html": str(hit.snippet),
        "note_html": str(hit.note),
        "source": hit.source_id,
        "annotation": hit.annotation_id,
        "claim": hit.claim_id,
        "start": hit.start,
        "status": hit.status or None,
        "date": hit.date or None,
        "tags": [tag.name for tag in hit.tags],
        "events": [{"id": e.pk, "name": e.name, "date": e.date} for e in hit.events],
        "creator": hit.creator or None,
        "rank": hit.rank,
        "evidence": [
            {
                "stance": q.stance,
                "quote_html": str(q.exact),
                "source": q.source_id,
                "source_title": q.source_title,
                "source_kind": q.source_kind,
                "annotation": q.annotation_id,
            }
            for q in hit.evidence
        ],
    }
