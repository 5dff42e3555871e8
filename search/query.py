"""What a user asks the search for: the words typed, and the filters of the URL.

`parse_text("treaty \"face\" Stal* -Korea OR Корея")` reads the search box: words, "exact
phrases", prefixes (word*), fuzzy words (word~), exclusions (-word, -"phrase") and OR
between neighbours; everything else is AND. It never fails: an unbalanced quote ends at
the end of the input, operators standing alone are ignored, punctuation joins words into
a phrase ("Mao's" is the phrase "mao s"), and at most MAX_CLAUSES clauses are kept.

`parse_params(request.GET)` turns a query string into a `SearchQuery`, or raises a
ValidationError naming each bad field. The query string is the saved search: the same
URL asks the same question, and `SearchQuery.params()` writes it back canonically.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from core.dates import edtf_bounds
from core.text import is_cjk, tokens
from core.transliterate import romanised
from search.text import query_words
from sources.models import SourceKind, SourceType

MAX_QUERY_CHARS = 1_000
MAX_CLAUSES = 32
MAX_VALUES = 20  # per repeatable filter
MAX_VALUE_CHARS = 300
MIN_PREFIX_CHARS = 2
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class ResultKind:
    CLAIM = "claim"
    ANNOTATION = "annotation"
    PASSAGE = "passage"
    SOURCE = "source"
    ALL = (CLAIM, ANNOTATION, PASSAGE, SOURCE)
    LABELS = {
        CLAIM: "Claims",
        ANNOTATION: "Annotations",
        PASSAGE: "Source texts",
        SOURCE: "Source descriptions",
    }


SORTS = {"relevance": "Relevance", "date": "Date, oldest first", "-date": "Date, newest first"}


# --- the search box -----------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One thing to match: a word (one token), or a phrase (several, adjacent)."""

    words: tuple[str, ...]
    prefix: bool = False
    fuzzy: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    def label(self) -> str:
        text = " ".join(self.words)
        text = f'"{text}"' if self.is_phrase else text
        return text + ("*" if self.prefix else "~" if self.fuzzy else "")


@dataclass(frozen=True)
class TextQuery:
    """AND of groups, each group an OR of clauses; minus the excluded clauses."""

    groups: tuple[tuple[Clause, ...], ...] = ()
    excluded: tuple[Clause, ...] = ()
    raw: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def has_positive(self) -> bool:
        return bool(self.groups)

    def positive_clauses(self) -> list[Clause]:
        return [clause for group in self.groups for clause in group]


# A piece of the box: optional "-", then a quoted phrase (closing quote optional) or a run of
# non-space characters. Typographic quotes count as quotes.
_PIECE = re.compile(
    r'(?P<neg>-)?(?:["“”„«»](?P<phrase>[^"“”„«»]*)["“”„«»]?|(?P<word>[^\s"“”„«»]+))'
)


def parse_text(raw: str) -> TextQuery:
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    join_next = False
    count = 0
    for match in _PIECE.finditer(raw[:MAX_QUERY_CHARS]):
        word = match["word"]
        if word in ("OR", "|"):
            join_next = bool(groups)
            continue
        typed = match["phrase"] if word is None else word
        clause = _clause(typed, quoted=word is None)
        if clause is None or count >= MAX_CLAUSES:
            continue
        count += 1
        if match["neg"]:
            excluded.append(clause)
        elif join_next:
            groups[-1] += [clause, *_in_latin(typed, clause)]
        else:
            groups.append([clause, *_in_latin(typed, clause)])
        join_next = False
    return TextQuery(tuple(tuple(g) for g in groups), tuple(excluded), raw=raw.strip())


def _clause(text: str, *, quoted: bool) -> Clause | None:
    prefix = fuzzy = False
    if not quoted:
        prefix, fuzzy = text.endswith("*"), text.endswith("~")
    words = [w for token in tokens(text) for w in query_words(token.folded)]
    if not words:
        return None
    cjk = any(is_cjk(c) for c in words[-1])
    if prefix and (len(words) > 1 or cjk or len(words[0]) < MIN_PREFIX_CHARS):
        prefix = False  # a phrase, CJK or one letter: matched as typed, not as a prefix
    if len(words) == 1 and cjk and len(words[0]) == 1:
        prefix = True  # a single ideograph starts a bigram
    return Clause(tuple(words), prefix=prefix, fuzzy=fuzzy and len(words) == 1 and not cjk)


def _in_latin(typed: str, clause: Clause) -> list[Clause]:
    """The clause's words in Latin letters, as the index also holds names in another
    script ("Сталин" also looks for "stalin", "Мао Цзэдун" for "mao zedong")."""
    if clause.fuzzy or all(word.isascii() for word in clause.words):
        return []
    found = [c for form in romanised(typed) if (c := _clause(form, quoted=True))]
    prefix = [replace(c, prefix=clause.prefix and not c.is_phrase) for c in found]
    return [c for c in dict.fromkeys(prefix) if c != clause]


# --- the query string ---------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    text: TextQuery = field(default_factory=TextQuery)
    kinds: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    events: tuple[int, ...] = ()
    event_from: dt.date | None = None
    event_to: dt.date | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    source_kind: str = ""
    types: tuple[str, ...] = ()
    creator: str = ""
    archive: str = ""
    language: str = ""
    statuses: tuple[str, ...] = ()
    annotators: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    sources: tuple[int, ...] = ()
    sort: str = ""
    cursor: str = ""
    limit: int = DEFAULT_LIMIT
    raw: dict = field(default_factory=dict, compare=False)

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return "relevance" if self.text.has_positive else "-date"

    def params(self, *, cursor: bool = False) -> list[tuple[str, str]]:
        """The canonical query string: the saved search (the cursor only if asked)."""
        pairs = [(key, value) for key in PARAMS for value in self.raw.get(key, ())]
        if cursor and self.cursor:
            pairs.append(("cursor", self.cursor))
        return pairs

    def querystring(self, **changes: list[str]) -> str:
        """This search's query string, some parameters replaced (facet and paging links)."""
        raw = {**self.raw, **{key: [v for v in values if v] for key, values in changes.items()}}
        return urlencode([(key, value) for key in PARAMS for value in raw.get(key, ())])

    def fingerprint(self) -> str:
        """What a cursor is bound to: the question, not the page."""
        return urlencode(self.params())

    def with_cursor(self, cursor: str) -> SearchQuery:
        return replace(self, cursor=cursor)


# Parameter name → (repeatable?, help). Order is the canonical order of saved-search URLs.
PARAMS: dict[str, tuple[bool, str]] = {
    "q": (False, 'Words, "phrases", prefix*, fuzzy~, -excluded, a OR b.'),
    "in": (True, "Result kinds: claim, annotation, passage, source."),
    "tag": (True, "Tagged with all of these; namespace:* for any tag of a namespace."),
    "any_tag": (True, "Tagged with at least one of these."),
    "event": (True, "Linked to one of these events (or events they contain)."),
    "from": (False, "Event dates overlapping a range from this EDTF date."),
    "to": (False, "Event dates overlapping a range up to this EDTF date."),
    "issued": (False, "Source dated within this EDTF date or range (1950, 1949-12/1950-02)."),
    "source_kind": (False, "primary or secondary."),
    "type": (True, "Source type (manuscript, letter, article-newspaper…)."),
    "creator": (False, "A creator's family name or institution."),
    "archive": (False, "The archive's name."),
    "language": (False, "Language code (ru, en, zh)."),
    "status": (True, "Claim status."),
    "annotator": (True, "Username of who annotated or claimed."),
    "library": (True, "Library slug."),
    "source": (True, "Source id."),
    "sort": (False, "relevance, date (oldest first) or -date (newest first)."),
    "limit": (False, f"Results per page, 1–{MAX_LIMIT}."),
}
IGNORED_PARAMS = {"cursor", "format", "csrfmiddlewaretoken"}


def claim_statuses() -> dict[str, str]:
    from annotations.claims.models import ClaimStatus

    return dict(ClaimStatus.choices)


def parse_params(data: MultiValueDict) -> SearchQuery:
    """Validate a query string; ValidationError({field: message, …}) for what is wrong."""
    errors: dict[str, str] = {}
    unknown = sorted(set(data) - set(PARAMS) - IGNORED_PARAMS)
    if unknown:
        errors["__all__"] = f"Unknown parameter {', '.join(map(repr, unknown))}."
    raw = _raw_values(data, errors)
    values: dict = {}
    for reader in _READERS:
        try:
            values.update(reader(raw))
        except ValidationError as error:
            errors.update({k: "; ".join(v) for k, v in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return SearchQuery(**values, cursor=data.get("cursor", "")[:2000], raw=raw)


def _raw_values(data: MultiValueDict, errors: dict[str, str]) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {}
    for key, (repeatable, _) in PARAMS.items():
        values = [v.strip() for v in data.getlist(key) if v.strip()]
        limit = MAX_QUERY_CHARS if key == "q" else MAX_VALUE_CHARS
        if any(len(v) > limit for v in values):
            errors[key] = f"Give at most {limit:,} characters."
        elif len(values) > (MAX_VALUES if repeatable else 1):
            errors[key] = f"Give at most {MAX_VALUES if repeatable else 1} value(s)."
        elif values:
            raw[key] = values
    return raw


def _one(raw: dict, key: str) -> str:
    return raw.get(key, [""])[0]


def _choices(raw: dict, key: str, allowed: dict | tuple) -> tuple[str, ...]:
    values = [v for value in raw.get(key, []) for v in value.split(",") if v.strip()]
    values = [v.strip() for v in values]
    bad = [v for v in values if v not in allowed]
    if bad:
        choices = ", ".join(allowed)
        raise ValidationError({key: f"{bad[0]!r} is not one of: {choices}."})
    return tuple(dict.fromkeys(values))


def _ids(raw: dict, key: str) -> tuple[int, ...]:
    values = raw.get(key, [])
    if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in values):
        raise ValidationError({key: "Give numeric ids."})
    return tuple(int(v) for v in values)


def _bounds(value: str, key: str) -> tuple[dt.date | None, dt.date | None]:
    if not value:
        return None, None
    return edtf_bounds(value, field=key)


def _read_text(raw: dict) -> dict:
    return {"text": parse_text(_one(raw, "q"))}


def _read_kinds(raw: dict) -> dict:
    return {"kinds": _choices(raw, "in", ResultKind.ALL)}


def _read_tags(raw: dict) -> dict:
    return {"tags_all": tuple(raw.get("tag", [])), "tags_any": tuple(raw.get("any_tag", []))}


def _read_events(raw: dict) -> dict:
    start, _ = _bounds(_one(raw, "from"), "from")
    _, end = _bounds(_one(raw, "to"), "to")
    if start and end and end < start:
        raise ValidationError({"to": "The range ends before it starts (to is before from)."})
    return {"events": _ids(raw, "event"), "event_from": start, "event_to": end}


def _read_issued(raw: dict) -> dict:
    start, end = _bounds(_one(raw, "issued"), "issued")
    return {"issued_from": start, "issued_to": end}


def _read_source_fields(raw: dict) -> dict:
    kind = _choices(raw, "source_kind", dict(SourceKind.choices))
    return {
        "source_kind": kind[0] if kind else "",
        "types": _choices(raw, "type", dict(SourceType.choices)),
        "creator": _one(raw, "creator"),
        "archive": _one(raw, "archive"),
        "language": _one(raw, "language"),
        "sources": _ids(raw, "source"),
    }


def _read_people(raw: dict) -> dict:
    return {
        "statuses": _choices(raw, "status", claim_statuses()),
        "annotators": tuple(raw.get("annotator", [])),
        "libraries": tuple(raw.get("library", [])),
    }


def _read_order(raw: dict) -> dict:
    sort = _choices(raw, "sort", SORTS)
    limit = _one(raw, "limit") or str(DEFAULT_LIMIT)
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
        raise ValidationError({"limit": f"Give a number from 1 to {MAX_LIMIT}."})
    return {"sort": sort[0] if sort else "", "limit": int(limit)}


_READERS = (
    _read_text,
    _read_kinds,
    _read_tags,
    _read_events,
    _read_issued,
    _read_source_fields,
    _read_people,
    _read_order,
)
