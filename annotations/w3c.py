"""The one W3C Web Annotation presenter: JSON-LD out, W3C (and Hypothesis) JSON in.

https://www.w3.org/TR/annotation-model/ and https://www.w3.org/TR/annotation-protocol/.
Out: an Annotation whose target is a SpecificResource on the text revision's API address
with a TextQuoteSelector and a TextPositionSelector; bodies are the comment (Markdown)
and one tagging TextualBody per tag. In: `parse_annotation` reads what a client or an
export sends; `import_annotations` anchors a batch by its quotes (Hypothesis exports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import Resolver404, resolve, reverse

from annotations.anchoring import Anchor, State, locate
from annotations.models import AnchorState, Annotation, Motivation, Visibility
from annotations.writes import create_annotation
from sources.models import SourceText

if TYPE_CHECKING:
    import datetime as dt

    from django.http import HttpRequest
    from rest_framework.request import Request

    from sources.models import AnyUser

    AnyRequest = HttpRequest | Request

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
LDP_CONTEXT = "http://www.w3.org/ns/ldp.jsonld"
ANNO_PROFILE = ANNO_CONTEXT
MEDIA_TYPE = f'application/ld+json; profile="{ANNO_PROFILE}"'
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_MINIMAL = "http://www.w3.org/ns/ldp#PreferMinimalContainer"
MAX_IMPORT_ITEMS = 5000
MAX_SELECTORS = 20
MAX_BODIES = 100
# A region: the page as a PDF fragment (RFC 3778, pages from 1), refined by the rectangle as
# a media fragment in percent of the page (Media Fragments URI 1.0, §4.2.2).
PDF_FRAGMENT = "http://tools.ietf.org/rfc/rfc3778"
MEDIA_FRAGMENT = "http://www.w3.org/TR/media-frags/"
_XYWH = re.compile(r"xywh=percent:([0-9.]+),([0-9.]+),([0-9.]+),([0-9.]+)")

# --- presenting -----------------------------------------------------------------------


def absolute(request: AnyRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def annotation_iri(request: AnyRequest, annotation: Annotation) -> str:
    return absolute(request, reverse("api-annotation-detail", args=[annotation.pk]))


def text_iri(request: AnyRequest, text: SourceText) -> str:
    return absolute(
        request,
        reverse(
            "api-source-text-detail",
            kwargs={"source_pk": text.source_id, "revision": text.revision},
        ),
    )


def creator_of(annotation: Annotation, request: AnyRequest) -> dict[str, str] | None:
    user = annotation.creator
    if user is None:
        return None
    # acct: URIs (RFC 7565) name an account on this server, as Hypothesis does.
    return {
        "id": f"acct:{user.get_username()}@{request.get_host()}",
        "type": "Person",
        "nickname": user.get_username(),
    }


def present(annotation: Annotation, request: AnyRequest) -> dict[str, Any]:
    """The annotation as W3C JSON-LD (model §3), ready for `application/ld+json`."""
    data: dict[str, Any] = {
        "@context": ANNO_CONTEXT,
        "id": annotation_iri(request, annotation),
        "type": "Annotation",
        "motivation": annotation.motivation,
        "created": _timestamp(annotation.created),
        "modified": _timestamp(annotation.modified),
    }
    if creator := creator_of(annotation, request):
        data["creator"] = creator
    if bodies := _bodies(annotation):
        data["body"] = bodies
    data["target"] = _target(annotation, request)
    return data


def _bodies(annotation: Annotation) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    if annotation.comment_raw.strip():
        bodies.append(
            {
                "type": "TextualBody",
                "value": annotation.comment_raw,
                "format": "text/markdown",
                "purpose": "commenting",
            }
        )
    bodies.extend(
        {"type": "TextualBody", "value": tag.name, "purpose": "tagging"}
        for tag in annotation.tags.all()
    )
    return bodies


def _target(annotation: Annotation, request: AnyRequest) -> dict[str, Any] | str:
    if annotation.kind == "reply":  # the annotation answered (model §3.1: motivation replying)
        return absolute(request, reverse("api-annotation-detail", args=[annotation.reply_to_id]))
    if annotation.kind == "note":  # the whole text: the revision itself, without selector
        return {"id": text_iri(request, annotation.text), "type": "Text"}
    if annotation.kind == "region":
        r = annotation.region
        xywh = ",".join(f"{r[key]:g}" for key in ("x", "y", "w", "h"))
        return {
            "type": "SpecificResource",
            "source": text_iri(request, annotation.text),
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": PDF_FRAGMENT,
                "value": f"page={annotation.page + 1}",
                "refinedBy": {
                    "type": "FragmentSelector",
                    "conformsTo": MEDIA_FRAGMENT,
                    "value": f"xywh=percent:{xywh}",
                },
            },
        }
    quote = {"type": "TextQuoteSelector", "exact": annotation.exact}
    if annotation.prefix:
        quote["prefix"] = annotation.prefix
    if annotation.suffix:
        quote["suffix"] = annotation.suffix
    position = {"type": "TextPositionSelector", "start": annotation.start, "end": annotation.end}
    return {
        "type": "SpecificResource",
        "source": text_iri(request, annotation.text),
        "selector": [quote, position],
    }


def _timestamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Paging:
    """Where one AnnotationPage sits in its collection."""

    collection_path: str  # the container's path; its filters are in `query`
    query: tuple[tuple[str, str], ...]
    total: int
    page: int
    per_page: int

    @property
    def last_page(self) -> int:
        return max(0, (self.total - 1) // self.per_page)

    def iri(self, request: AnyRequest, page: int | None = None) -> str:
        query = sorted(self.query)
        if page is not None:
            query.append(("page", str(page)))
        suffix = f"?{urlencode(query)}" if query else ""
        return absolute(request, self.collection_path + suffix)


def present_collection(
    request: AnyRequest, paging: Paging, first_items: list, *, iris: bool, minimal: bool = False
) -> dict:
    """The container as an AnnotationCollection (protocol §4.1): the first page embedded,
    or only linked when the client prefers a minimal container."""
    data: dict[str, Any] = {
        "@context": [ANNO_CONTEXT, LDP_CONTEXT],
        "id": paging.iri(request),
        "type": ["BasicContainer", "AnnotationCollection"],
        "label": "Annotations",
        "total": paging.total,
    }
    if paging.total:
        if minimal:
            data["first"] = paging.iri(request, 0)
        else:
            first = present_page(request, paging, first_items, iris=iris)
            del first["@context"], first["partOf"]
            data["first"] = first
        data["last"] = paging.iri(request, paging.last_page)
    return data


def present_page(request: AnyRequest, paging: Paging, items: list, *, iris: bool) -> dict:
    """One AnnotationPage (model §5.2): items as full descriptions or as IRIs."""
    data: dict[str, Any] = {
        "@context": ANNO_CONTEXT,
        "id": paging.iri(request, paging.page),
        "type": "AnnotationPage",
        "partOf": {"id": paging.iri(request), "total": paging.total},
        "startIndex": paging.page * paging.per_page,
    }
    if paging.page < paging.last_page:
        data["next"] = paging.iri(request, paging.page + 1)
    if paging.page > 0:
        data["prev"] = paging.iri(request, min(paging.page - 1, paging.last_page))
    data["items"] = [
        annotation_iri(request, item) if iris else _embedded(present(item, request))
        for item in items
    ]
    return data


def _embedded(data: dict) -> dict:
    data.pop("@context", None)  # the page's context covers its items
    return data


# --- reading ---------------------------------------------------------------------------


@dataclass
class Parsed:
    """What a W3C annotation (or a Hypothesis row) asks for, before anchoring."""

    source_iri: str | None = None
    position: tuple[int, int] | None = None
    quote: tuple[str, str, str] | None = None  # exact, prefix, suffix
    comment: str = ""
    tags: list[str] = field(default_factory=list)
    motivation: str = ""
    page: int | None = None  # a region's page (from 0) and rectangle (percent)
    region: dict[str, float] | None = None
    reply_iri: str | None = None  # the annotation a reply answers
    whole_text: bool = False  # a target without selector: `source_iri` (or a bare IRI)

    def fields(self) -> dict[str, Any]:
        return {"comment": self.comment, "tags": self.tags, "motivation": self.motivation}


def looks_like_w3c(data: Any) -> bool:
    return isinstance(data, dict) and ("@context" in data or "target" in data)


def parse_annotation(data: Any, *, hypothesis: bool = False) -> Parsed:
    """Read a W3C annotation; `hypothesis` also accepts Hypothesis API rows (`text`,
    `tags`, a target list). Raises ValidationError naming the field at fault."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": "An annotation is a JSON object."})
    is_row = hypothesis and "type" not in data
    if not is_row and "Annotation" not in _as_list(data.get("type")):
        raise ValidationError({"type": 'A W3C annotation has "type": "Annotation".'})
    parsed = Parsed(motivation=_motivation(data.get("motivation")))
    _read_target(data.get("target"), parsed)
    if is_row:
        parsed.comment = _string(data.get("text", ""), "text")
        parsed.tags = [_string(tag, "tags") for tag in _as_list(data.get("tags"))]
    else:
        _read_bodies(data, parsed)
    return parsed


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError({name: "Expected a string."})
    return value


def _motivation(value: Any) -> str:
    values = _as_list(value)
    for item in values:
        if item not in Motivation.values:
            names = ", ".join(Motivation.values)
            raise ValidationError(
                {"motivation": f"Unknown motivation {item!r}; use one of {names}."}
            )
    return values[0] if values else ""


def _read_target(target: Any, parsed: Parsed) -> None:
    targets = _as_list(target)
    # A reply (model §3.1): its target is the annotation answered, by IRI, with motivation
    # "replying" (a bare IRI is taken as one too).
    first = targets[0] if len(targets) == 1 else None
    if isinstance(first, str) or (isinstance(first, dict) and parsed.motivation == "replying"):
        iri = first if isinstance(first, str) else first.get("id")
        if isinstance(iri, str) and not (isinstance(first, dict) and first.get("selector")):
            parsed.reply_iri = iri  # or the whole text it names: `resolve_text_iri` tells
            return
    if isinstance(first, dict) and not first.get("selector"):
        # The whole text: the revision as an external resource ({"id", "type": "Text"}) or a
        # SpecificResource without selector ({"source"}).
        source = first.get("source", first.get("id"))
        if isinstance(source, dict):
            source = source.get("id")
        if isinstance(source, str):
            parsed.source_iri, parsed.whole_text = source, True
            return
    candidates = [t for t in targets if isinstance(t, dict) and t.get("selector")]
    if not candidates:
        raise ValidationError(
            {"target": "Give a target with a TextQuoteSelector or a TextPositionSelector."}
        )
    chosen = candidates[0]
    source = chosen.get("source")
    if isinstance(source, dict):
        source = source.get("id")
    parsed.source_iri = source if isinstance(source, str) else None
    selectors = _as_list(chosen["selector"])[:MAX_SELECTORS]
    for selector in selectors:
        if isinstance(selector, dict):
            _read_selector(selector, parsed)
    if parsed.region is not None:
        if parsed.position is not None or parsed.quote is not None:
            raise ValidationError({"target": "A target is a passage or a region, not both."})
        return
    if parsed.position is None and parsed.quote is None:
        raise ValidationError(
            {"target": "The target needs a TextQuoteSelector or a TextPositionSelector."}
        )


def _read_selector(selector: dict, parsed: Parsed) -> None:
    kind = selector.get("type")
    if kind == "TextPositionSelector" and parsed.position is None:
        start, end = selector.get("start"), selector.get("end")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (start, end)):
            raise ValidationError({"target": "TextPositionSelector start and end are integers."})
        parsed.position = (start, end)
    elif kind == "TextQuoteSelector" and parsed.quote is None:
        exact = selector.get("exact")
        prefix, suffix = selector.get("prefix", ""), selector.get("suffix", "")
        if not isinstance(exact, str) or not exact:
            raise ValidationError({"target": "TextQuoteSelector needs a non-empty exact."})
        if not isinstance(prefix, str) or not isinstance(suffix, str):
            raise ValidationError({"target": "TextQuoteSelector prefix and suffix are strings."})
        parsed.quote = (exact, prefix, suffix)
    elif kind == "FragmentSelector" and parsed.region is None:
        parsed.page, parsed.region = _page_region(selector)


def _page_region(selector: dict) -> tuple[int, dict[str, float]]:
    """(page from 0, rectangle) of `page=N` refined by `xywh=percent:x,y,w,h`."""
    value, refined = selector.get("value"), selector.get("refinedBy")
    page = re.fullmatch(r"page=([1-9][0-9]{0,5})", value) if isinstance(value, str) else None
    if page is None or not isinstance(refined, dict):
        raise ValidationError(
            {
                "target": "A region is a FragmentSelector page=N (RFC 3778) refined by a "
                "FragmentSelector xywh=percent:x,y,w,h (Media Fragments)."
            }  # fmt: skip
        )
    rect = refined.get("value")
    found = _XYWH.fullmatch(rect) if isinstance(rect, str) else None
    if refined.get("type") != "FragmentSelector" or found is None:
        raise ValidationError({"target": "Give the rectangle as xywh=percent:x,y,w,h."})
    try:
        numbers = [float(n) for n in found.groups()]
    except ValueError:
        raise ValidationError({"target": "Give the rectangle as xywh=percent:x,y,w,h."}) from None
    return int(page[1]) - 1, dict(zip(("x", "y", "w", "h"), numbers, strict=True))


def _read_bodies(data: dict, parsed: Parsed) -> None:
    comments: list[str] = []
    if "bodyValue" in data:
        comments.append(_string(data["bodyValue"], "bodyValue"))
    bodies = _as_list(data.get("body"))
    if len(bodies) > MAX_BODIES:
        raise ValidationError({"body": f"At most {MAX_BODIES} bodies."})
    for body in bodies:
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            raise ValidationError({"body": "Only TextualBody bodies with a value are kept."})
        if body.get("type", "TextualBody") not in ("TextualBody", ["TextualBody"]):
            raise ValidationError({"body": "Only TextualBody bodies with a value are kept."})
        if "tagging" in _as_list(body.get("purpose")):
            parsed.tags.append(body["value"])
        else:
            comments.append(body["value"])
    parsed.comment = "\n\n".join(c for c in comments if c.strip())


def same_target(annotation: Annotation, parsed: Parsed, request: AnyRequest) -> None:
    """An edit keeps what the annotation is on: its revision, its kind, a region's page and
    a reply's parent (a passage may move within the revision; a region may be redrawn)."""
    if annotation.kind == "note" and parsed.reply_iri is not None:
        parsed.source_iri, parsed.whole_text = parsed.reply_iri, True  # a bare IRI: the text
        parsed.reply_iri = None
    if parsed.reply_iri is not None or annotation.kind == "reply":
        if resolve_annotation_iri(parsed.reply_iri, request) != annotation.reply_to_id:
            raise ValidationError({"target": "A reply stays on what it answers."})
        return
    if parsed.whole_text != (annotation.kind == "note"):
        raise ValidationError(
            {"target": "A note on the whole text stays one; a passage or region stays on its text."}
        )
    if parsed.source_iri is not None:
        target = resolve_text_iri(parsed.source_iri, request)
        if target != (annotation.text.source_id, annotation.text.revision):
            raise stays_on_revision()
    if (parsed.region is not None) != (annotation.kind == "region"):
        raise ValidationError({"target": "A passage stays a passage, and a region a region."})
    if parsed.region is not None and parsed.page != annotation.page:
        raise ValidationError({"target": "A region stays on its page."})


def stays_on_revision() -> ValidationError:
    return ValidationError(
        {"target": "An annotation stays on its revision; re-attach it to move it."}
    )


def resolve_annotation_iri(iri: str | None, request: AnyRequest) -> int | None:
    """The id of the annotation `iri` names on this server, or None."""
    if not iri:
        return None
    parts = urlsplit(iri)
    if parts.netloc and parts.netloc != request.get_host():
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    pk = str(match.kwargs.get("pk", ""))
    if match.url_name != "api-annotation-detail" or not re.fullmatch(r"[1-9][0-9]{0,17}", pk):
        return None
    return int(pk)


def resolve_text_iri(iri: str | None, request: AnyRequest) -> tuple[int, int] | None:
    """(source id, revision) when `iri` is this server's address of a text revision."""
    if not iri:
        return None
    parts = urlsplit(iri)
    if parts.netloc and parts.netloc != request.get_host():
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.url_name != "api-source-text-detail":
        return None
    return int(match.kwargs["source_pk"]), int(match.kwargs["revision"])


# --- anchoring what was read --------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    start: int
    end: int
    state: str = AnchorState.ANCHORED
    score: float = 1.0


def place(text: SourceText, parsed: Parsed, *, allow_fuzzy: bool = False) -> Place:
    """Where the selectors point in `text`. Positions win when their quote agrees (or
    no quote was sent); otherwise the quote is searched with `locate()`, near the
    given position if any. Raises ValidationError on `target`."""
    if parsed.position is not None:
        start, end = parsed.position
        fits = 0 <= start < end <= len(text.text)
        if fits and (parsed.quote is None or text.text[start:end] == parsed.quote[0]):
            return Place(start, end)
        if parsed.quote is None:
            raise ValidationError(
                {"target": f"TextPositionSelector must satisfy 0 ≤ start < end ≤ {len(text.text)}."}
            )
    exact, prefix, suffix = parsed.quote  # type: ignore[misc]
    hint = parsed.position[0] if parsed.position else None
    anchor = Anchor(
        start=hint or 0, end=(hint or 0) + len(exact), exact=exact, prefix=prefix, suffix=suffix
    )
    placement = locate(text.text, anchor)
    wanted = {State.ANCHORED, State.MOVED} | ({State.FUZZY} if allow_fuzzy else set())
    if placement.state not in wanted:
        raise ValidationError({"target": "The quoted passage is not in this text."})
    state = AnchorState.FUZZY if placement.state == State.FUZZY else AnchorState.ANCHORED
    return Place(placement.start, placement.end, state, placement.score)


# --- importing -------------------------------------------------------------------------


def import_items(payload: Any) -> tuple[list, str]:
    """The annotations inside an upload: a list, a W3C collection or page, a Hypothesis
    search response (`rows`); and the visibility asked for. ValidationError on `items`."""
    visibility = Visibility.LIBRARY
    items = payload
    if isinstance(payload, dict):
        visibility = payload.get("visibility", Visibility.LIBRARY)
        if visibility not in Visibility.values:
            raise ValidationError({"visibility": f"Use one of {', '.join(Visibility.values)}."})
        first = payload.get("first")
        items = next(
            (payload[k] for k in ("items", "rows", "annotations") if k in payload),
            first.get("items") if isinstance(first, dict) else None,
        )
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": "Send a non-empty list of annotations."})
    if len(items) > MAX_IMPORT_ITEMS:
        raise ValidationError({"items": f"At most {MAX_IMPORT_ITEMS:,} annotations at once."})
    return items, visibility


def import_annotations(
    text: SourceText, items: list, user: AnyUser, *, visibility: str = Visibility.LIBRARY
) -> list[dict[str, Any]]:
    """Anchor each W3C annotation or Hypothesis row on `text` by its quote (positions
    only as a hint: they were counted on another copy of the text) and create it.
    One outcome per item; a failed item leaves nothing behind and does not stop the rest."""
    return [_import_one(text, index, item, user, visibility) for index, item in enumerate(items)]


def _import_one(text: SourceText, index: int, item: Any, user: AnyUser, visibility: str) -> dict:
    try:
        with transaction.atomic():
            parsed = parse_annotation(item, hypothesis=True)
            if parsed.whole_text and not item.get("references"):  # a page note: on this text
                annotation = create_annotation(
                    text=text, whole_text=True, creator=user, visibility=visibility,
                    **parsed.fields(),
                )  # fmt: skip
                return _created(index, annotation)
            if parsed.quote is None:
                raise ValidationError({"target": "Importing needs a TextQuoteSelector."})
            spot = place(text, parsed, allow_fuzzy=True)
            annotation = create_annotation(
                text=text, start=spot.start, end=spot.end, creator=user,
                visibility=visibility, state=spot.state, anchor_score=spot.score,
                **parsed.fields(),
            )  # fmt: skip
    except ValidationError as error:
        return {"index": index, "status": "failed", "errors": _messages(error)}
    return _created(index, annotation)


def _created(index: int, annotation: Annotation) -> dict[str, Any]:
    return {
        "index": index,
        "status": "created",
        "annotation": annotation.pk,
        "state": annotation.state,
        "score": round(annotation.anchor_score, 3),
        "start": annotation.start,
        "end": annotation.end,
    }


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {"non_field_errors": error.messages}
