"""A page of a text's annotations in hand-written statements (docs/decisions/0007, 0010).

`GET /api/annotations/?text=<id>&limit=50`, what every client listing a text's annotations
asks (the reading view, the Hypothesis client's search), cost 11.6 ms of Python for 50 rows
through the ORM and DRF: four model instances per row, a tags prefetch, a query planned
anew each time. Here the page is three prepared statements (the count, the rows in
document order, their tags) and each row becomes the plain JSON of `AnnotationSerializer`
straight from its tuple: the same fields, values converted the same way (timestamps by DRF's
own `DateTimeField`, `can_edit` by `Annotation.editable_with_role`). In UTC, DRF's default,
PostgreSQL writes the timestamps as DRF would (`_iso_utc`): parsing and writing them in
Python was 0.65 of the page's 1.15 ms in this module.

Only the plain JSON of a text's or a source's annotations, with the filters that are
columns (state, motivation, visibility), takes this path (`readable`); the others, and the
W3C container, stay on the ORM (`annotations.api`). Who sees what is
`AnnotationQuerySet.visible_to`'s rule written for these rows: the library is public or the
user a member, and the annotation shared or the user's own. Tests compare every page,
field by field, with the reference path, persona by persona.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from annotations.models import Annotation, Tag, Visibility
from annotations.serializers import _timestamp
from core.api import numeric_id
from core.rows import fetch, quoter
from sources.models import Library, Membership, SourceText

if TYPE_CHECKING:
    from django.http import QueryDict

    from sources.models import AnyUser

# The filters the statements know; any other (library, creator, tag) goes the ORM's way.
COLUMN_FILTERS = ("state", "motivation", "visibility")
SCOPES = ("text", "source")
ROW_FIELDS = (
    "id", "text", "start", "end", "exact", "prefix", "suffix", "page", "region", "reply_to",
    "whole_text", "state", "anchor_score", "comment_raw", "comment_html", "motivation",
    "visibility", "creator", "created", "modified", "version",
)  # fmt: skip


def readable(query: dict[str, Any]) -> bool:
    """Whether the fast path serves this list: a text's or a source's annotations, filtered
    by nothing but columns."""
    return any(key in query for key in SCOPES) and set(query) <= {*SCOPES, *COLUMN_FILTERS}


def plain_query(params: QueryDict) -> dict[str, int] | None:
    """The filters of `?text=<id>` (or `source`, with `limit` and `offset`) when that is all
    there is and every value is once a valid id, as `AnnotationFilterSerializer` would give
    them; None for anything else, which the serializer then validates (and refuses, naming
    the field). Building the serializer's fields cost a tenth of a page."""
    query = {}
    for key, values in params.lists():
        if key not in (*SCOPES, "limit", "offset") or len(values) != 1:
            return None
        if key in SCOPES:
            number = numeric_id(values[0])
            if number is None or number < 1:
                return None
            query[key] = number
    return query if any(key in query for key in SCOPES) else None


class Owned(NamedTuple):
    """What `Annotation.editable_with_role` reads of an annotation."""

    creator_id: int | None
    visibility: str


def page(
    user: AnyUser, query: dict[str, Any], limit: int, offset: int, url: str
) -> tuple[int, list[dict[str, Any]]]:
    """(how many annotations match, the plain JSON of `limit` of them from `offset`), in
    document order. `url` is an annotation's address with "{}" for its id. The rows come
    with their tags; they are counted only when the page does not say how many there are
    (it is full, or past the end)."""
    using = router.db_for_read(Annotation)
    conditions = tuple(key for key in (*SCOPES, *COLUMN_FILTERS) if key in query)
    values = [query[key] for key in conditions]
    iso = connections[using].vendor == "postgresql" and _in_utc_iso()
    sql = _sql(using, conditions, iso=iso)
    rows = fetch(using, sql, [user.pk, *values, user.pk, limit, offset])
    if rows and len(rows) < limit or not rows and not offset:
        total = offset + len(rows)
    else:
        counted = fetch(using, _sql(using, conditions, counting=True), [user.pk, *values, user.pk])
        total = counted[0][0]
    if iso:  # PostgreSQL wrote the timestamps as DRF would (`_iso_utc`)
        convert = stamp = _as_is
    else:
        convert, stamp = _converters(using), stamper()
    tags = _tag_list(using)
    return total, [_represent(row, tags(row[-1]), user, url, convert, stamp) for row in rows]


def _as_is(value: Any) -> Any:
    return value


def _in_utc_iso() -> bool:
    """Whether DRF writes timestamps in UTC, as ISO 8601 (the defaults)."""
    if not settings.USE_TZ or str(api_settings.DATETIME_FORMAT).lower() != ISO_8601:
        return False
    zone = timezone.get_current_timezone()
    return zone is dt.UTC or getattr(zone, "key", None) == "UTC"


def _iso_utc(column: str) -> str:
    """A timestamptz column as DRF writes it in UTC (`isoformat()`, "+00:00" as "Z"):
    microseconds only when there are any (tests compare it with DRF's in every zone)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"to_char({utc}, 'US') = '000000' THEN '' "
        f"ELSE to_char({utc}, '.US') END || 'Z'"
    )


def stamper() -> Callable[[Any], Any]:
    """DRF's timestamp representation (`serializers._timestamp`), with the current time zone
    looked up once per page instead of once per value (a third of the page's time), and in
    UTC (the default) without DRF's steps per value."""
    if not settings.USE_TZ:
        return _timestamp
    zone = timezone.get_current_timezone()
    drf = serializers.DateTimeField(default_timezone=zone).to_representation
    if not _in_utc_iso():
        return drf

    def utc(value: Any) -> Any:
        # In UTC, what DRF does comes down to this for the aware UTC values PostgreSQL and
        # the ORM's converters hand over (`astimezone` to UTC keeps every field): half of
        # the page's timestamps' cost. Anything else goes DRF's way.
        if isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0):
            text = value.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return drf(value)

    return utc


def _represent(
    row: tuple, tags: list[str], user: AnyUser, url: str, convert: Any, stamp: Callable
) -> dict:
    (pk, text_id, start, end, exact, prefix, suffix, page_index, region, reply_to, whole, state,
     score, comment, comment_html, motivation, visibility, creator_id, created, modified,
     version, slug, source_id, revision, username, role, _) = row  # fmt: skip
    return {
        "id": pk,
        "url": url.format(pk),
        "library": slug,
        "source": source_id,
        "text": text_id,
        "revision": revision,
        "start": start,
        "end": end,
        "exact": exact,
        "prefix": prefix,
        "suffix": suffix,
        "page": page_index,
        # A JSON column: text on SQLite, and on PostgreSQL as Django's loader leaves it.
        "region": region if region is None or isinstance(region, dict) else json.loads(region),
        "reply_to": reply_to,
        "whole_text": bool(whole),  # SQLite hands over 0 or 1
        "state": state,
        "anchor_score": float(score),
        "comment": comment,
        "comment_html": comment_html,
        "motivation": motivation,
        "visibility": visibility,
        "tags": sorted(tags, key=str.casefold),
        "creator": None if creator_id is None else {"id": creator_id, "username": username},
        "created": stamp(convert(created)),
        "modified": stamp(convert(modified)),
        "version": version,
        "etag": f'"a{pk}.v{version}"',  # `serializers.etag_for`
        "can_edit": Annotation.editable_with_role(Owned(creator_id, visibility), user, role),  # type: ignore[arg-type]
    }


@functools.cache
def _sql(
    using: str, conditions: tuple[str, ...], *, counting: bool = False, iso: bool = False
) -> str:
    """The page's rows (or their count) for the given filters, in the order of their
    parameters: the user's id, the filters' values, the user's id again (then, for rows,
    limit and offset). With `iso`, the timestamps as DRF writes them in UTC (PostgreSQL)."""
    q, user = quoter(using), get_user_model()
    a = functools.partial(q, Annotation)
    columns = {
        "text": f"a.{a('text')}",
        "source": f"t.{q(SourceText, 'source')}",
        **{name: f"a.{a(name)}" for name in COLUMN_FILTERS},
    }
    where = " ".join(f"AND {columns[name]} = %s" for name in conditions)
    shared = Visibility.LIBRARY.value
    creator = "" if counting else f"LEFT JOIN {q(user)} u ON u.{q(user, 'id')} = a.{a('creator')} "
    body = (
        f"FROM {q(Annotation)} a "
        f"JOIN {q(SourceText)} t ON t.{q(SourceText, 'id')} = a.{a('text')} "
        f"JOIN {q(Library)} l ON l.{q(Library, 'id')} = a.{a('library')} "
        f"LEFT JOIN {q(Membership)} m ON m.{q(Membership, 'library')} = a.{a('library')} "
        f"AND m.{q(Membership, 'user')} = %s {creator}"
        f"WHERE (l.{q(Library, 'is_public')} OR m.{q(Membership, 'id')} IS NOT NULL) {where} "
        f"AND (a.{a('visibility')} = '{shared}' OR a.{a('creator')} = %s)"
    )
    if counting:
        return f"SELECT count(*) {body}"
    stamped = ("created", "modified") if iso else ()
    selected = ", ".join(
        _iso_utc(f"a.{a(name)}") if name in stamped else f"a.{a(name)}" for name in ROW_FIELDS
    )
    extra = (
        f"l.{q(Library, 'slug')}, t.{q(SourceText, 'source')}, t.{q(SourceText, 'revision')}, "
        f"u.{q(user, user.USERNAME_FIELD)}, m.{q(Membership, 'role')}, {_tags_sql(using)}"
    )
    order = ", ".join(f"a.{a(name)}" for name in ("text", "start", "end", "id"))  # Meta.ordering
    return f"SELECT {selected}, {extra} {body} ORDER BY {order} LIMIT %s OFFSET %s"


def _tags_sql(using: str) -> str:
    """The names of a row's tags, in a column of the row: an array on PostgreSQL, a JSON
    array on SQLite (`_tag_list` reads either)."""
    q, through = quoter(using), Annotation.tags.through
    names = (
        f"FROM {q(through)} at JOIN {q(Tag)} tg ON tg.{q(Tag, 'id')} = at.{q(through, 'tag')} "
        f"WHERE at.{q(through, 'annotation')} = a.{q(Annotation, 'id')}"
    )
    if connections[using].vendor == "postgresql":
        return f"ARRAY(SELECT tg.{q(Tag, 'name')} {names})"
    return f"(SELECT json_group_array(tg.{q(Tag, 'name')}) {names})"


def _tag_list(using: str) -> Callable[[Any], list[str]]:
    if connections[using].vendor == "postgresql":
        return list
    return json.loads


def _converters(using: str) -> Any:
    """A timestamp as the ORM would hand it over (SQLite stores text; PostgreSQL's come
    aware already)."""
    connection = connections[using]
    column, found = _timestamp_converters(using)
    if not found:
        return lambda value: value

    def convert(value: Any) -> Any:
        for converter in found:
            value = converter(value, column, connection)
        return value

    return convert


@functools.cache
def _timestamp_converters(using: str) -> tuple[Any, list]:
    connection = connections[using]
    column = Annotation._meta.get_field("created").get_col(Annotation._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)
