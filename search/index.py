"""Keep the search index (`SearchEntry`) equal to what it describes.

Every claim, annotation, source description and passage of a current source text has one
entry: what a result shows (`title`, `body`, `note`), the words it is found by (`terms`,
`stems`, see `search.text`) and filter tokens (`facets`): tags, tag namespaces, events,
and the source's kind, type, language, creators and archive. Tokens are short ASCII words
("t12", "kprimary", "a3f…") so that both backends index them as single words.

Writes reach the index through signals, in the transaction of the write, so the index
never disagrees with a committed row. Everything here works on batches of ids: one edit
re-indexes one row in a few queries; `rebuild()` re-indexes a library in batches.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save

from annotations.claims.models import Claim, ClaimEvent, Event, Evidence
from annotations.models import Annotation, Tag, Visibility
from annotations.reanchoring import annotations_moved
from core import batching
from core.rows import fetch, quoter
from core.text import is_cjk, tokens
from core.transliterate import romanised
from search.backends import backend
from search.models import SearchEntry, SearchEntryKind, SearchWord
from search.text import stems, terms
from sources.models import Creator, Library, Source, SourceKind, SourceText, SourceType
from sources.sharing.backup import library_restored

ANNOTATION_KEY = "a:"  # an annotation's entry is "a:<id>"
PASSAGE_CHARS = 1_500  # a passage is about a page: long enough to read, short to rank
BATCH = 2_000
_UPDATED = [
    "kind",
    "library",
    "source",
    "text",
    "annotation",
    "claim",
    "start",
    "creator",
    "private",
    "status",
    "date_earliest",
    "date_latest",
    "year",
    "title",
    "body",
    "note",
    "terms",
    "stems",
    "facets",
]


# --- filter tokens ----------------------------------------------------------------------


def normal(value: str) -> str:
    """A name as filters compare it: folded words, punctuation and case ignored."""
    return " ".join(token.folded for token in tokens(value))


def token(prefix: str, value: int | str) -> str:
    """The facet token of a filter value: ids as they are, strings hashed (ASCII, short)."""
    if isinstance(value, int):
        return f"{prefix}{value}"
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()
    return prefix + digest


def tag_token(tag_id: int) -> str:
    return token("t", tag_id)


def namespace_token(namespace: str) -> str:
    return token("n", namespace.casefold())


def event_token(event_id: int) -> str:
    return token("e", event_id)


def source_token(source_id: int) -> str:
    return token("s", source_id)


def kind_token(kind: str) -> str:
    return token("k", kind)


def type_token(csl_type: str) -> str:
    return token("y", csl_type)


def language_token(language: str) -> str:
    return token("l", language.strip().casefold().replace("_", "-").split("-")[0])


def creator_tokens(name: str) -> list[str]:
    """The tokens of a creator's name (family name or institution): as written and in each
    of its Latin spellings (`core.transliterate`). A source holds them all and the `creator=`
    filter asks for any of the name's, so "Сталин" and "Stalin" find each other both ways
    ("Stalin" has one spelling, which is also one of "Сталин"'s)."""
    return [token("c", form) for form in dict.fromkeys([normal(name), *romanised(name)])]


def archive_token(archive: str) -> str:
    return token("a", normal(archive))


KIND_BY_TOKEN = {kind_token(value): value for value in SourceKind.values}
TYPE_BY_TOKEN = {type_token(value): value for value in SourceType.values}


# --- what a source lends its entries ----------------------------------------------------


@dataclass
class SourceFacts:
    id: int
    library_id: int
    title: str
    kind: str
    earliest: Any
    latest: Any
    facets: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # The names also as "family given" (a phrase "Mao Zedong") and in Latin letters.
    also: list[str] = field(default_factory=list)


def source_facts(source_ids: Iterable[int]) -> dict[int, SourceFacts]:
    ids = list(set(source_ids))
    facts = {
        source.pk: _facts(source)
        for source in Source.objects.filter(pk__in=ids).only(*_SOURCE_FIELDS)
    }
    for source_id, family, literal, given in Creator.objects.filter(source_id__in=ids).values_list(
        "source_id", "family", "literal", "given"
    ):
        _add_creator(facts[source_id], family, literal, given)
    return facts


def facts_of_source(source: Source) -> SourceFacts:
    """`source_facts` of one source already read: its creators in one prepared statement."""
    found = _facts(source)
    for family, literal, given in fetch(
        connection.alias, _creators_sql(connection.alias), [source.pk]
    ):
        _add_creator(found, family, literal, given)
    return found


@functools.cache
def _creators_sql(using: str) -> str:
    q = quoter(using)
    order = ", ".join(q(Creator, name) for name in ("role", "order", "id"))  # Creator's ordering
    return (
        f"SELECT {q(Creator, 'family')}, {q(Creator, 'literal')}, {q(Creator, 'given')} "
        f"FROM {q(Creator)} WHERE {q(Creator, 'source')} = %s ORDER BY {order}"
    )


def _facts(source: Source) -> SourceFacts:
    found = SourceFacts(
        source.pk,
        source.library_id,
        source.title,
        source.kind,
        source.issued_earliest,
        source.issued_latest,
    )
    found.facets = [source_token(source.pk), kind_token(source.kind), type_token(source.csl_type)]
    if source.language:
        found.facets.append(language_token(source.language))
    if source.archive:
        found.facets.append(archive_token(source.archive))
    return found


def _add_creator(facts: SourceFacts, family: str, literal: str, given: str) -> None:
    facts.facets += creator_tokens(literal or family)
    facts.names.append(" ".join(filter(None, (given, family, literal))))
    family_first = " ".join(filter(None, (family, given)))
    facts.also += [family_first, *romanised(facts.names[-1], family_first)]


_SOURCE_FIELDS = (
    "id",
    "library_id",
    "title",
    "kind",
    "csl_type",
    "language",
    "archive",
    "issued_earliest",
    "issued_latest",
)


def _merge(facets: Iterable[str]) -> list[str]:
    return sorted(set(facets))


def _entry(**fields: Any) -> SearchEntry:
    entry = SearchEntry(**fields)
    entry.year = entry.date_earliest.year if entry.date_earliest else None
    entry.stems = stems(entry.terms)
    return entry


# --- annotations ------------------------------------------------------------------------


def _tags_of(through: Any, owner: str, ids: list[int]) -> dict[int, list[tuple[int, str, str]]]:
    found: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    rows = through.objects.filter(**{f"{owner}_id__in": ids}).values_list(
        f"{owner}_id", "tag_id", "tag__name", "tag__namespace"
    )
    for owner_id, tag_id, name, namespace in rows:
        found[owner_id].append((tag_id, name, namespace))
    return found


def _tag_facets(tags: list[tuple[int, str, str]]) -> list[str]:
    result = [tag_token(tag_id) for tag_id, _, _ in tags]
    return result + [namespace_token(ns) for _, _, ns in tags if ns]


def _names(names: Iterable[str]) -> list[str]:
    """Names as the index holds them: as written, then in Latin letters (`transliterate`)."""
    written = list(names)
    return written + romanised(*written)


def _tag_names(tags: list[tuple[int, str, str]]) -> list[str]:
    return _names(name for _, name, _ in tags)


def _annotation_events(ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return found
    rows = ClaimEvent.objects.filter(claim__evidence__annotation_id__in=ids).values_list(
        "claim__evidence__annotation_id", "event_id"
    )
    for annotation_id, event_id in rows:
        found[annotation_id].add(event_id)
    return found


def annotation_entries(ids: list[int], *, new: Container[int] = ()) -> list[SearchEntry]:
    annotations = list(
        Annotation.objects.filter(pk__in=ids)
        .select_related("text")
        .only(
            "id",
            "library_id",
            "text__source_id",
            "text_id",
            "start",
            "exact",
            "comment_raw",
            "creator_id",
            "visibility",
        )
    )
    sources = source_facts(a.text.source_id for a in annotations)
    tags = _tags_of(Annotation.tags.through, "annotation", ids)
    events = _annotation_events([pk for pk in ids if pk not in new])
    return [
        annotation_entry(a, sources[a.text.source_id], tags[a.pk], events[a.pk])
        for a in annotations
    ]


def annotation_entry(
    annotation: Annotation, source: SourceFacts, tags: list, events: set
) -> SearchEntry:
    facets = source.facets + _tag_facets(tags) + [event_token(e) for e in events]
    return _entry(
        key=f"{ANNOTATION_KEY}{annotation.pk}",
        kind=SearchEntryKind.ANNOTATION,
        library_id=annotation.library_id,
        source_id=source.id,
        text_id=annotation.text_id,
        annotation_id=annotation.pk,
        start=annotation.start,
        creator_id=annotation.creator_id,
        private=annotation.visibility == Visibility.PRIVATE,
        date_earliest=source.earliest,
        date_latest=source.latest,
        title=source.title,
        body=annotation.exact,
        note=annotation.comment_raw,
        terms=terms(annotation.exact, annotation.comment_raw, *_tag_names(tags)),
        facets=_merge(facets),
    )


# --- claims -----------------------------------------------------------------------------


def claim_entries(ids: list[int]) -> list[SearchEntry]:
    claims = list(Claim.objects.filter(pk__in=ids))
    tags = _tags_of(Claim.tags.through, "claim", ids)
    events: dict[int, list[tuple[int, str, Any, Any]]] = defaultdict(list)
    for row in ClaimEvent.objects.filter(claim_id__in=ids).values_list(
        "claim_id", "event_id", "event__name", "event__earliest", "event__latest"
    ):
        events[row[0]].append(row[1:])
    evidence: dict[int, set[int]] = defaultdict(set)
    for claim_id, source_id in Evidence.objects.filter(claim_id__in=ids).values_list(
        "claim_id", "annotation__text__source_id"
    ):
        evidence[claim_id].add(source_id)
    sources = source_facts(s for found in evidence.values() for s in found)
    return [
        _claim_entry(c, tags[c.pk], events[c.pk], [sources[s] for s in evidence[c.pk]])
        for c in claims
    ]


def _claim_entry(claim: Claim, tags: list, events: list, sources: list[SourceFacts]) -> SearchEntry:
    facets = _tag_facets(tags) + [event_token(e[0]) for e in events]
    for source in sources:
        facets += source.facets
    earliest, latest = _claim_dates(events, sources)
    return _entry(
        key=f"c:{claim.pk}",
        kind=SearchEntryKind.CLAIM,
        library_id=claim.library_id,
        claim_id=claim.pk,
        creator_id=claim.creator_id,
        private=claim.visibility == Visibility.PRIVATE,
        status=claim.status,
        date_earliest=earliest,
        date_latest=latest,
        title="; ".join(e[1] for e in events),
        body=claim.statement,
        note=claim.note,
        terms=terms(claim.statement, claim.note, *_tag_names(tags), *_names(e[1] for e in events)),
        facets=_merge(facets),
    )


def _claim_dates(events: list, sources: list[SourceFacts]) -> tuple[Any, Any]:
    """A claim is dated by its events, else by the sources of its evidence."""
    spans = [(e[2], e[3]) for e in events if e[2]] or [
        (s.earliest, s.latest) for s in sources if s.earliest
    ]
    if not spans:
        return None, None
    return min(s[0] for s in spans), max((s[1] or s[0]) for s in spans)


# --- sources and their texts ------------------------------------------------------------


def passages(text: str, size: int = PASSAGE_CHARS) -> Iterator[tuple[int, str]]:
    """(start, passage) pieces of about `size` code points, cut between paragraphs where
    possible, else between words."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n\n", start + size // 3, end)
            if cut < 0:
                cut = text.rfind(" ", start + size // 2, end)
            end = cut + 1 if cut >= 0 else end
        piece = text[start:end]
        if piece.strip():
            yield start, piece
        start = end


def source_entries(ids: list[int]) -> list[SearchEntry]:
    facts = source_facts(ids)
    entries = []
    for source in Source.objects.filter(pk__in=ids):
        found = facts[source.pk]
        entries.append(_source_entry(source, found))
        current = source.texts.order_by("-revision").only("id", "text").first()
        if current is not None:
            entries += _passage_entries(current, found)
    return entries


def _source_entry(source: Source, facts: SourceFacts) -> SearchEntry:
    described = [
        source.container_title,
        source.collection_title,
        source.publisher,
        source.archive,
        source.archive_location,
        source.genre,
    ]
    return _entry(
        key=f"s:{source.pk}",
        kind=SearchEntryKind.SOURCE,
        library_id=source.library_id,
        source_id=source.pk,
        creator_id=source.created_by_id,
        date_earliest=facts.earliest,
        date_latest=facts.latest,
        title=source.title,
        body=" · ".join(filter(None, [", ".join(facts.names), *described])),
        note=source.abstract,
        terms=terms(
            source.title, *facts.names, *facts.also, *described, source.abstract, source.note
        ),
        facets=_merge(facts.facets),
    )


def _passage_entries(text: SourceText, facts: SourceFacts) -> list[SearchEntry]:
    return [
        _entry(
            key=f"p:{text.pk}:{number}",
            kind=SearchEntryKind.PASSAGE,
            library_id=facts.library_id,
            source_id=facts.id,
            text_id=text.pk,
            start=start,
            date_earliest=facts.earliest,
            date_latest=facts.latest,
            title=facts.title,
            body=piece,
            terms=terms(piece),
            facets=_merge(facts.facets),
        )
        for number, (start, piece) in enumerate(passages(text.text))
    ]


# --- writing ----------------------------------------------------------------------------


def save_entries(entries: list[SearchEntry], *, stale: Q | None = None) -> None:
    """Insert or update `entries` by key; delete the rows `stale` selects that are not
    among them (the entries of objects that are gone)."""
    keys = [entry.key for entry in entries]
    if stale is not None:
        SearchEntry.objects.filter(stale).exclude(key__in=keys).delete()
    for start in range(0, len(entries), BATCH):
        SearchEntry.objects.bulk_create(
            entries[start : start + BATCH],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=_UPDATED,
        )
    remember_words(entries)


def remember_words(entries: list[SearchEntry]) -> None:
    """Add the entries' words to their libraries' vocabularies (for fuzzy matching), in
    one order, so that two writes adding the same new words cannot deadlock."""
    words = sorted({(entry.library_id, word) for entry in entries for word in words_of(entry)})
    rows = [SearchWord(library_id=library, word=word) for library, word in words]
    SearchWord.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)


def words_of(entry: SearchEntry) -> set[str]:
    """The words of an entry that its library's vocabulary keeps."""
    return {
        word
        for word in entry.terms.split()
        if 3 <= len(word) <= 40 and not word.isdigit() and not is_cjk(word[0])
    }


def _pending() -> dict[str, set[int]] | None:
    """What the open batch (`core.batching`) owes the index, or None outside a batch: the
    sources, annotations and claims it changed are indexed once, when it ends. A tagged
    annotation is saved, then tagged, and would otherwise be indexed twice; a source once
    for itself and once for each of its creators."""
    bag = batching.pending("search-index", _index_pending)
    if bag is not None and not bag:
        for kind in ("annotations", "claims", "new", "sources", "sources_with_dependants"):
            bag[kind] = set()
    return bag


def _index_pending(pending: dict[str, set[int]]) -> None:
    with_dependants = pending["sources_with_dependants"]
    index_sources(pending["sources"] - with_dependants, dependants=False)
    index_sources(with_dependants)
    index_annotations(pending["annotations"], new=pending["new"])
    index_claims(pending["claims"])


def _deferring(kind: str, ids: Iterable[int], new: Iterable[int] = ()) -> bool:
    pending = _pending()
    if pending is None:
        return False
    pending[kind].update(ids)
    pending["new"].update(new)
    return True


def index_annotations(ids: Iterable[int], *, new: Iterable[int] = ()) -> None:
    """Index these annotations. Those in `new` were just created (and are nobody's evidence
    yet): they have no entry to replace and no events, so neither is looked up."""
    if _deferring("annotations", ids, new):
        return
    ids, new = sorted(set(ids)), set(new)
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        old = [pk for pk in batch if pk not in new]
        stale = Q(annotation_id__in=old) if old else None
        save_entries(annotation_entries(batch, new=new), stale=stale)


def index_claims(ids: Iterable[int]) -> None:
    if _deferring("claims", ids):
        return
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        save_entries(claim_entries(batch), stale=Q(claim_id__in=batch))


def index_sources(ids: Iterable[int], *, dependants: bool = True) -> None:
    """A source's own entries (description, passages); with `dependants`, also every
    annotation on its texts and every claim with evidence from it, which carry its facts."""
    if _deferring("sources_with_dependants" if dependants else "sources", ids):
        return
    ids = sorted(set(ids))
    if not ids:
        return
    for start in range(0, len(ids), 200):
        batch = ids[start : start + 200]
        stale = Q(source_id__in=batch, kind__in=[SearchEntryKind.SOURCE, SearchEntryKind.PASSAGE])
        save_entries(source_entries(batch), stale=stale)
    if dependants:
        annotations = Annotation.objects.filter(text__source_id__in=ids)
        index_annotations(annotations.values_list("pk", flat=True))
        claims = Evidence.objects.filter(annotation__text__source_id__in=ids)
        index_claims(claims.values_list("claim_id", flat=True))


def index_event(event_id: int) -> None:
    claims = list(ClaimEvent.objects.filter(event_id=event_id).values_list("claim_id", flat=True))
    index_claims(claims)
    index_annotations(
        Evidence.objects.filter(claim_id__in=claims).values_list("annotation_id", flat=True)
    )


def index_claim_and_evidence(claim_id: int) -> None:
    index_claims([claim_id])
    index_annotations(
        Evidence.objects.filter(claim_id=claim_id).values_list("annotation_id", flat=True)
    )


def reindex_token(facet: str) -> None:
    """Re-index whatever carries `facet` (a tag or event that is gone or merged)."""
    rows = backend().entries_with_token(facet)
    index_annotations(r[0] for r in rows if r[0])
    index_claims(r[1] for r in rows if r[1])


def rebuild(
    libraries: Iterable[Library] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild the entries of `libraries` (all when None) from the database; returns the
    number of entries written. `progress(done, total)` is called after each batch."""
    chosen = Library.objects.all() if libraries is None else libraries
    library_ids = [library.pk for library in chosen]
    work = [
        (index_sources_only, Source.objects.filter(library_id__in=library_ids), 200),
        (index_annotations, Annotation.objects.filter(library_id__in=library_ids), BATCH),
        (index_claims, Claim.objects.filter(library_id__in=library_ids), BATCH),
    ]
    total = sum(queryset.count() for _, queryset, _ in work)
    SearchEntry.objects.filter(library_id__in=library_ids).delete()
    SearchWord.objects.filter(library_id__in=library_ids).delete()
    done = 0
    for function, queryset, size in work:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), size):
            function(ids[start : start + size])
            done += len(ids[start : start + size])
            if progress:
                progress(done, total)
    backend_optimize()
    return SearchEntry.objects.filter(library_id__in=library_ids).count()


def index_sources_only(ids: Iterable[int]) -> None:
    index_sources(ids, dependants=False)


def backend_optimize() -> None:
    backend().optimize()


# --- signals ----------------------------------------------------------------------------


def _skip(kwargs: dict) -> bool:
    return bool(kwargs.get("raw"))  # fixtures load the index as it was dumped


def _annotation_saved(sender: Any, instance: Annotation, **kwargs: Any) -> None:
    if not _skip(kwargs):
        index_annotations([instance.pk], new={instance.pk} if kwargs.get("created") else ())


def _annotation_tags_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, Annotation):
        index_annotations([instance.pk])
    elif isinstance(instance, Claim):
        index_claims([instance.pk])
    elif isinstance(instance, Tag):  # tag.annotations.add(…): the other side
        index_annotations(instance.annotations.values_list("pk", flat=True))
        index_claims(instance.claims.values_list("pk", flat=True))


def _claim_saved(sender: Any, instance: Claim, **kwargs: Any) -> None:
    if not _skip(kwargs):
        index_claims([instance.pk])


def _evidence_changed(sender: Any, instance: Evidence, **kwargs: Any) -> None:
    if not _skip(kwargs):
        pending = _pending()
        if pending is not None:  # a highlight made evidence in its own block has events
            pending["new"].discard(instance.annotation_id)
        index_claims([instance.claim_id])
        index_annotations([instance.annotation_id])


def _claim_event_changed(sender: Any, instance: ClaimEvent, **kwargs: Any) -> None:
    if not _skip(kwargs):
        index_claim_and_evidence(instance.claim_id)


def _event_saved(sender: Any, instance: Event, created: bool = False, **kwargs: Any) -> None:
    if not created and not _skip(kwargs):
        index_event(instance.pk)


def _tag_saved(sender: Any, instance: Tag, created: bool = False, **kwargs: Any) -> None:
    if not created and not _skip(kwargs):  # renamed: its name and namespace are indexed
        index_annotations(instance.annotations.values_list("pk", flat=True))
        index_claims(instance.claims.values_list("pk", flat=True))


def _tag_deleted(sender: Any, instance: Tag, **kwargs: Any) -> None:
    reindex_token(tag_token(instance.pk))  # deleted, or merged into another tag


def _source_saved(sender: Any, instance: Source, created: bool = False, **kwargs: Any) -> None:
    if not _skip(kwargs):
        index_sources([instance.pk], dependants=not created)


def _creator_changed(sender: Any, instance: Creator, **kwargs: Any) -> None:
    if not _skip(kwargs) and Source.objects.filter(pk=instance.source_id).exists():
        index_sources([instance.source_id])


def _text_saved(sender: Any, instance: SourceText, created: bool = False, **kwargs: Any) -> None:
    """A new revision: its passages replace the old ones, and the annotations carried over
    to it have new offsets (`add_revision` is one batch, so this runs after the carry-over,
    whichever receiver was connected first)."""
    if created and not _skip(kwargs):
        index_sources([instance.source_id])


def _library_restored(sender: Any, library: Library, **kwargs: Any) -> None:
    """A library restored from a backup: its rows came without their signals."""
    rebuild([library])


def _annotations_moved(sender: Any, ids: list[int], **kwargs: Any) -> None:
    """Re-anchoring moved these annotations in bulk (no post_save): new text, new offsets."""
    index_annotations(ids)


def _deleted(field: str) -> Callable[..., None]:
    """Entries go when what they describe goes: after the cascade (see SearchEntry)."""

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        SearchEntry.objects.filter(**{f"{field}_id": instance.pk}).delete()
        if field == "library":
            SearchWord.objects.filter(library_id=instance.pk).delete()

    receiver.__name__ = f"_{field}_deleted"
    return receiver


_RECEIVERS: list[tuple[Any, Callable, Any]] = [
    (post_save, _annotation_saved, Annotation),
    (post_save, _claim_saved, Claim),
    (post_save, _evidence_changed, Evidence),
    (post_delete, _evidence_changed, Evidence),
    (post_save, _claim_event_changed, ClaimEvent),
    (post_delete, _claim_event_changed, ClaimEvent),
    (post_save, _event_saved, Event),
    (post_save, _tag_saved, Tag),
    (post_delete, _tag_deleted, Tag),
    (post_save, _source_saved, Source),
    (post_save, _creator_changed, Creator),
    (post_delete, _creator_changed, Creator),
    (post_save, _text_saved, SourceText),
    (post_delete, _deleted("annotation"), Annotation),
    (post_delete, _deleted("claim"), Claim),
    (post_delete, _deleted("text"), SourceText),
    (post_delete, _deleted("source"), Source),
    (post_delete, _deleted("library"), Library),
    (annotations_moved, _annotations_moved, Annotation),
    (library_restored, _library_restored, Library),
    (m2m_changed, _annotation_tags_changed, Annotation.tags.through),
    (m2m_changed, _annotation_tags_changed, Claim.tags.through),
]


_connected = threading.Event()


def connect() -> None:
    """Connect the index to the writes (idempotent); `SearchConfig.ready` does."""
    _connected.set()
    for signal, receiver, sender in _RECEIVERS:
        uid = f"search.index.{receiver.__name__}.{sender.__name__}"
        signal.connect(receiver, sender=sender, dispatch_uid=uid, weak=False)


def disconnect() -> None:
    _connected.clear()
    for signal, receiver, sender in _RECEIVERS:
        uid = f"search.index.{receiver.__name__}.{sender.__name__}"
        signal.disconnect(receiver, sender=sender, dispatch_uid=uid)


def connected() -> bool:
    """Whether writes are indexed (those that write their entries themselves ask)."""
    return _connected.is_set()


def vendor() -> str:
    return connection.vendor
