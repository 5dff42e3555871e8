"""Optimistic concurrency over HTTP: ETags, If-Match and If-None-Match (RFC 9110 §13).

A versioned object (a source, an annotation, a claim…) is served with an ETag made from
its version. A change sends that tag back in If-Match, so that two people editing one
object never overwrite each other silently: a stale tag is a 412 that carries the
current one, and a client that can cache sends If-None-Match for a 304.
"""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the ETag you read, so no one's change is lost."
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "It changed since you read it; fetch it again and retry."
    default_code = "precondition_failed"


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag you read (or *). Without it the change is refused with 428; "
    "when the object changed since, with 412 and its current ETag.",
)


def entity_tags(header: str) -> list[str]:
    """The entity tags of an If-Match or If-None-Match list, as sent ("*" included)."""
    return [tag for tag in (part.strip() for part in header.split(",")) if tag]


def require_if_match(
    request: Request,
    etag: str,
    *,
    matches: Callable[[str], bool] | None = None,
    detail: str = PreconditionFailed.default_detail,
) -> None:
    """Let a change through only if If-Match names the current `etag` (or `*`): the one
    rule for every versioned object of the API (sources, annotations, claims, evidence,
    events). `matches` decides whether a sent tag is the current one (by default: the
    same string). Without the header the change is a 428."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired()
    is_current = matches or etag.__eq__
    if not any(tag == "*" or is_current(tag) for tag in entity_tags(header)):
        raise PreconditionFailed({"detail": detail, "etag": etag})


def not_modified(request: Request, etag: str) -> bool:
    """If-None-Match, compared weakly: the client's copy is still current."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = {tag.removeprefix("W/") for tag in entity_tags(header)}
    return "*" in tags or etag in tags
