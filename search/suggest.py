"""Suggestions for the search page's filter fields, as the reader types: tags, events,
creators and archives of the libraries they may read (GET /search/suggest/?kind=…&q=…).

Each answer is a short JSON list of `{"value", "label"}`: `value` goes into the query
string (a tag's name, an event's id, a creator's family name, an archive's name), `label`
is what the reader sees. Tags match as every tag field does (`annotations.tags.TagQuery`:
any word, the namespace, accents and case set aside); creators by a part of the name in
any script (accents and case set aside, `core.transliterate`); events and archives by a
case-insensitive substring of the name.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from annotations.claims.models import Event
from annotations.models import Tag
from annotations.tags import TagQuery
from core.dates import edtf_in_words
from core.text import tokens
from core.transliterate import romanised
from sources.models import Creator, Library, Source

MAX_TYPED = 200
MAX_SUGGESTIONS = 20
# Tags are matched in Python (accents folded alike on SQLite and PostgreSQL): at most this
# many of the reader's tags are looked at, the most recently made first.
TAG_CANDIDATES = 5000
CREATOR_CANDIDATES = 5000  # likewise for creators, matched in any script
KINDS = ("tag", "event", "creator", "archive")


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    kind, typed = request.GET.get("kind", ""), request.GET.get("q", "").strip()
    if kind not in KINDS:
        return JsonResponse({"kind": [f"Give one of: {', '.join(KINDS)}."]}, status=400)
    if len(typed) > MAX_TYPED:
        return JsonResponse({"q": [f"Give at most {MAX_TYPED} characters."]}, status=400)
    limit = _limit(request.GET.get("limit", "8"))
    if limit is None:
        message = f"Give a whole number from 1 to {MAX_SUGGESTIONS}."
        return JsonResponse({"limit": [message]}, status=400)
    libraries = _libraries(request)
    found = SUGGESTERS[kind](request.user, libraries, typed)[:limit]
    return JsonResponse(found, safe=False)


def _limit(value: str) -> int | None:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_SUGGESTIONS:
        return None
    return int(value)


def _libraries(request: HttpRequest):
    libraries = Library.objects.visible_to(request.user)
    wanted = [slug for slug in request.GET.getlist("library") if slug]
    return libraries.filter(slug__in=wanted) if wanted else libraries


def _tags(user: Any, libraries, typed: str) -> list[dict[str, Any]]:
    query = TagQuery.parse(typed)
    tags = Tag.objects.visible_to(user).filter(library__in=libraries)
    if query.namespace is not None:
        tags = tags.filter(namespace__startswith=query.namespace)
    candidates = tags.order_by("-pk").only("id", "name", "namespace")[:TAG_CANDIDATES]
    names: dict[str, str] = {}
    for tag in sorted(candidates, key=lambda t: t.name.casefold()):
        if query.matches(tag):
            names.setdefault(tag.name.casefold(), tag.name)  # one per name across libraries
    return [{"value": name, "label": name, "name": name} for name in names.values()]


def _events(user: Any, libraries, typed: str) -> list[dict[str, Any]]:
    events = Event.objects.visible_to(user).filter(library__in=libraries)
    if typed:
        events = events.filter(name__icontains=typed)
    rows = events.order_by("earliest", "name").values_list("pk", "name", "date")[:MAX_SUGGESTIONS]
    return [
        {"value": str(pk), "label": f"{name} ({edtf_in_words(date)})" if date else name}
        for pk, name, date in rows
    ]


def _creators(user: Any, libraries, typed: str) -> list[dict[str, Any]]:
    creators = Creator.objects.filter(source__library__in=libraries).only(
        "family", "given", "literal", "family_first", "suffix"
    )
    wanted = _name_forms(typed)
    candidates = creators.order_by("-pk")[:CREATOR_CANDIDATES]
    seen: dict[str, tuple[str, str]] = {}
    for creator in sorted(candidates, key=lambda c: (c.family, c.literal, c.given)):
        if wanted and not _meets(wanted, creator):
            continue
        value = creator.literal or creator.family
        seen.setdefault(value.casefold(), (value, creator.display_name))
    return [{"value": value, "label": label} for value, label in seen.values()]


def _name_forms(name: str) -> list[str]:
    """A name folded (case and accents set aside) and in Latin letters (`transliterate`)."""
    written = " ".join(token.folded for token in tokens(name))
    return [written, *romanised(name)] if written else []


def _meets(wanted: list[str], creator: Creator) -> bool:
    """Is what was typed, in any of its forms, part of the creator's name in any of its
    forms? ("stal" meets Сталин, "Цзэдун" meets Mao Zedong, "毛" meets 毛泽东)."""
    family_first = " ".join(filter(None, (creator.family, creator.given, creator.literal)))
    names = _name_forms(family_first) + romanised(f"{creator.given} {creator.family}")
    return any(form in name for form in wanted for name in names)


def _archives(user: Any, libraries, typed: str) -> list[dict[str, Any]]:
    sources = Source.objects.filter(library__in=libraries).exclude(archive="")
    if typed:
        sources = sources.filter(archive__icontains=typed)
    names = sources.order_by("archive").values_list("archive", flat=True).distinct()
    return [{"value": name, "label": name} for name in names[:MAX_SUGGESTIONS]]


SUGGESTERS = {"tag": _tags, "event": _events, "creator": _creators, "archive": _archives}
