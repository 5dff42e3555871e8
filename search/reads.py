"""The search's own hand-written statements: the scope, the evidence under claims, and the
tags, events and creators results name (docs/decisions/0007, 0010).

Built with the ORM, these three cost more Python than the database spends answering them:
`Evidence.objects.visible_to(user)` nests `Library.objects.visible_to` three times and
took ~3.5 ms of a 13 ms request to build, for a statement PostgreSQL runs in 0.2 ms. Here
each is written once per process from the models' metadata (`core.rows`) and, on
PostgreSQL, prepared: lists of ids are one array parameter (`= ANY(%s)`), so a statement's
text never depends on how many there are.

Who sees what stays the QuerySet methods' rule, applied to ids already judged by it: the
scope's libraries are `Library.visible_with_role` of each library and the user's role there
(the rule of `Library.objects.visible_to` for one row), and the evidence is read only in
those libraries, from annotations and claims that are shared or the user's own (the rule of
`Evidence.objects.visible_to`). Tests compare each with its queryset persona by persona.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router

from annotations.claims.models import Claim, Event, Evidence
from annotations.models import Annotation, Tag, Visibility
from core.rows import fetch, quoter, selected
from sources.models import Library, Membership, Source, SourceText


def among(using: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """What follows a column to say it is one of `values` (at least one), and its
    parameters: one array on PostgreSQL (a prepared statement then fits any number of
    them), a placeholder each elsewhere."""
    if connections[using].vendor == "postgresql":
        return " = ANY(%s)", [list(values)]
    return f" IN ({', '.join(['%s'] * len(values))})", list(values)


# --- the scope ----------------------------------------------------------------------------


def visible_libraries(user: Any) -> dict[int, Library]:
    """`Library.objects.visible_to(user)` by id, in one prepared statement: every library
    that is public or where the user is a member, judged by `Library.visible_with_role`."""
    using = router.db_for_read(Library)
    chosen = selected(Library, "l", using=using)
    found = {}
    for row in fetch(using, _libraries_sql(using), [user.pk]):
        library = chosen.instance(row, 0)
        if library is not None and library.visible_with_role(user, row[-1]):
            found[library.pk] = library
    return found


@functools.cache
def _libraries_sql(using: str) -> str:
    q = quoter(using)
    library, member = q(Library, "id"), q(Membership, "library")
    return (
        f"SELECT {selected(Library, 'l', using=using).columns}, m.{q(Membership, 'role')} "
        f"FROM {q(Library)} l LEFT JOIN {q(Membership)} m ON m.{member} = l.{library} "
        f"AND m.{q(Membership, 'user')} = %s "
        f"WHERE l.{q(Library, 'is_public')} OR m.{q(Membership, 'id')} IS NOT NULL"
    )


# --- evidence under claims ----------------------------------------------------------------


def evidence_rows(
    claim_ids: Iterable[int], library_ids: Sequence[int], user_id: int | None
) -> list[tuple]:
    """(claim, stance, quote, source, source title, source kind, annotation) of the
    evidence of these claims that a user sees whose visible libraries are `library_ids`:
    in those libraries, from a shared highlight or their own, under a shared claim or
    their own; by claim, primary sources first, then in the order the evidence was given
    (what `Evidence.objects.visible_to(user)` ordered so gives)."""
    using = router.db_for_read(Evidence)
    claims, libraries = sorted(set(claim_ids)), list(library_ids)
    if not claims or not libraries:
        return []
    claims_sql, claims_params = among(using, claims)
    scope_sql, scope_params = among(using, libraries)
    sql = _evidence_sql(using, claims_sql, scope_sql)
    shared = Visibility.LIBRARY.value
    scope = scope_params * 3
    return fetch(using, sql, [*claims_params, *scope, shared, user_id, shared, user_id])


@functools.lru_cache(maxsize=256)
def _evidence_sql(using: str, claims: str, libraries: str) -> str:
    """The statement, given how a column is compared with the claims' ids and with the
    libraries' (" = ANY(%s)", or " IN (%s, …)" where there are no arrays)."""
    q = quoter(using)
    claim, annotation = q(Evidence, "claim"), q(Evidence, "annotation")
    source = f"t.{q(SourceText, 'source')}"
    return (
        f"SELECT ev.{claim}, ev.{q(Evidence, 'stance')}, a.{q(Annotation, 'exact')}, {source}, "
        f"s.{q(Source, 'title')}, s.{q(Source, 'kind')}, ev.{annotation} "
        f"FROM {q(Evidence)} ev "
        f"JOIN {q(Annotation)} a ON a.{q(Annotation, 'id')} = ev.{annotation} "
        f"JOIN {q(Claim)} c ON c.{q(Claim, 'id')} = ev.{claim} "
        f"JOIN {q(SourceText)} t ON t.{q(SourceText, 'id')} = a.{q(Annotation, 'text')} "
        f"JOIN {q(Source)} s ON s.{q(Source, 'id')} = {source} "
        f"WHERE ev.{claim}{claims} AND ev.{q(Evidence, 'library')}{libraries} "
        f"AND a.{q(Annotation, 'library')}{libraries} AND c.{q(Claim, 'library')}{libraries} "
        f"AND (a.{q(Annotation, 'visibility')} = %s OR a.{q(Annotation, 'creator')} = %s) "
        f"AND (c.{q(Claim, 'visibility')} = %s OR c.{q(Claim, 'creator')} = %s) "
        f"ORDER BY ev.{claim}, s.{q(Source, 'kind')}, ev.{q(Evidence, 'id')}"
    )


# --- what results name ----------------------------------------------------------------------

# The model and the fields a tag ("t") and an event ("e") are read with.
NAMED = {"t": (Tag, ("id", "name", "name_key")), "e": (Event, ("id", "name", "date"))}


def names(wanted: dict[str, set[int]], library_ids: Sequence[int]) -> list[tuple]:
    """('t', id, name, name_key) for the tags, ('e', id, name, date) for the events (both
    only in `library_ids`) and ('u', id, username, '') for the users `wanted` names."""
    using = router.db_for_read(Tag)
    parts, params = [], []
    for what in ("t", "e", "u"):
        if ids := sorted(wanted.get(what, ())):
            ids_sql, ids_params = among(using, ids)
            scope_sql, scope_params = among(using, library_ids) if what != "u" else ("", [])
            parts.append((what, ids_sql, scope_sql))
            params += ids_params + scope_params
    if not parts:
        return []
    return fetch(using, _names_sql(using, tuple(parts)), params)


@functools.lru_cache(maxsize=256)
def _names_sql(using: str, parts: tuple[tuple[str, str, str], ...]) -> str:
    q, user = quoter(using), get_user_model()
    columns = {
        "t": (Tag, f"{q(Tag, 'name')}, {q(Tag, 'name_key')}"),
        "e": (Event, f"{q(Event, 'name')}, {q(Event, 'date')}"),
        "u": (user, f"{q(user, user.USERNAME_FIELD)}, ''"),
    }
    selects = []
    for what, ids, scope in parts:
        model, shown = columns[what]
        where = f"{q(model, 'id')}{ids}"
        if scope:
            where += f" AND {q(model, 'library')}{scope}"
        selects.append(f"SELECT '{what}', {q(model, 'id')}, {shown} FROM {q(model)} WHERE {where}")
    return " UNION ALL ".join(selects)
