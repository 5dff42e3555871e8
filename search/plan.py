"""What the two search backends (`search.postgres`, `search.sqlite`) are given: a query made
concrete for SQL (`Plan`), and what each gives back (`Fragment`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from search.query import TextQuery

if TYPE_CHECKING:
    from sources.models import Library


@dataclass
class Plan:
    """A query made concrete for SQL: scope, column conditions and facet-token sets."""

    text: TextQuery
    libraries: dict[int, Library]  # the scope, by id: what hits name their library by
    user_id: int | None
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    facets: list[list[str]] = field(default_factory=list)  # AND of ORs
    impossible: bool = False
    id_range: tuple[int, int] | None = None  # the index's (min, max) id, once read
    # Prefixes the backend asks for as exact lexemes (PostgreSQL's lexicon): prefix → lexemes
    lexemes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scope_at: int | None = None  # where the library condition is in `where`

    def scope(self) -> None:
        """Add the condition on the libraries in scope, and remember its place in `where`."""
        self.scope_at = len(self.where)
        self.add(self._libraries_in("e.library_id"), *self.library_ids)

    def where_checked_on_rows(self) -> list[str]:
        """`where`, with the library condition written so that no index can answer it: for
        a statement whose full-text index holds the scope already (PostgreSQL's index of
        lexemes keyed by library), the planner would otherwise AND the full-text bitmap with
        one of every row in scope (a quarter of a million rows: 47 ms for a 2 ms search).
        Not for estimates: the planner has no statistics for `library_id + 0`."""
        if self.scope_at is None:
            return self.where
        where = list(self.where)
        where[self.scope_at] = self._libraries_in("(e.library_id + 0)")
        return where

    def _libraries_in(self, column: str) -> str:
        return f"{column} IN ({', '.join(['%s'] * len(self.libraries))})"

    @property
    def library_ids(self) -> list[int]:
        return sorted(self.libraries)

    def add(self, sql: str, *params: Any) -> None:
        self.where.append(sql)
        self.params.extend(params)

    def require(self, tokens_: list[str]) -> None:
        """Rows must carry one of `tokens_` (none at all: nothing can match)."""
        if tokens_:
            self.facets.append(sorted(set(tokens_)))
        else:
            self.impossible = True


@dataclass
class Fragment:
    """A backend's SQL for the text and facet conditions, and its rank expression."""

    joins: str = ""
    join_params: list[Any] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    rank: str = "0"
    rank_params: list[Any] = field(default_factory=list)
    # Conditions that only tell an index where to look: implied by `where` for the rows in
    # scope, so they change no result; left out of estimates, which would count them twice.
    index_where: list[str] = field(default_factory=list)
