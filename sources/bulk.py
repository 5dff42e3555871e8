"""Bulk actions on a library's sources (the library page's "With the selected sources"):
tag them (their `keywords`), move them to another library the user edits, export them,
delete them. Each is one transaction; each says first what it will do.

Moving takes with a source everything that hangs on it: its creators, text revisions and
their annotations (tags re-made by name in the other library, private notes staying
private), its links to sources moved with it, its text-reuse fingerprints, its search
entries. What cannot cross libraries is removed, and the summary says so first: links to
sources left behind, and the evidence that ties its annotations to claims of the old
library (the claims stay). Packages above `sources` do their part on `sources_moved`
(annotations: `annotations/moves.py`; reuse: `sources/reuse/detection.py`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import Model, Q
from django.db.models.deletion import Collector
from django.dispatch import Signal

from core import batching
from sources.models import Library, Source, SourceLink

# Sent in the move's transaction, after the sources changed library:
# sources_moved.send(sender=Source, ids=[…], origin=Library, target=Library).
sources_moved = Signal()

MAX_SELECTED = 500  # sources one bulk action may take (a page lists 50)
MAX_KEYWORDS = 20
ACTIONS = ("tag", "move", "export", "delete")


class BulkForm(forms.Form):
    """Which sources, and what to do with them; `target` for a move, `keywords` to tag."""

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    sources = forms.CharField(help_text="Source ids, comma-separated or repeated.")
    keywords = forms.CharField(required=False, max_length=2000)
    target = forms.CharField(required=False, max_length=80)

    def __init__(self, data: Any, *, library: Library, user: Any) -> None:
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            data["sources"] = ",".join(data.getlist("sources"))
        super().__init__(data)
        self.library, self.user = library, user

    def clean_sources(self) -> list[Source]:
        raw = [part.strip() for part in self.cleaned_data["sources"].split(",") if part.strip()]
        if not raw or not all(part.isascii() and part.isdigit() and len(part) < 19 for part in raw):
            raise ValidationError("Choose at least one source.")
        if len(raw) > MAX_SELECTED:
            raise ValidationError(f"Choose at most {MAX_SELECTED} sources at once.")
        found = list(self.library.sources.filter(pk__in={int(part) for part in raw}))
        if len(found) != len(set(raw)):
            raise ValidationError("Some of these sources are not in this library (any more).")
        return found

    def clean_keywords(self) -> list[str]:
        words = [" ".join(w.split()) for w in self.cleaned_data["keywords"].split(",")]
        words = list(dict.fromkeys(w for w in words if w))
        if self.data.get("action") == "tag" and not words:
            raise ValidationError("Give at least one keyword (separate them with commas).")
        if len(words) > MAX_KEYWORDS or any(len(w) > 200 for w in words):
            raise ValidationError(f"At most {MAX_KEYWORDS} keywords of 200 characters each.")
        return words

    def clean_target(self) -> Library | None:
        slug = self.cleaned_data["target"].strip()
        if self.data.get("action") != "move":
            return None
        target = move_targets(self.user, self.library).filter(slug=slug).first()
        if target is None:
            raise ValidationError("Choose another library that you may edit.")
        return target


def move_targets(user: Any, library: Library):
    """The other libraries `user` may add sources to."""
    return Library.objects.editable_by(user).exclude(pk=library.pk).order_by("name")


# --- tag ---------------------------------------------------------------------------------


@transaction.atomic
def tag_sources(sources: list[Source], keywords: list[str]) -> int:
    """Add `keywords` to each source's (case-insensitively new ones only); how many changed.
    Saved one by one, so that each source's history records the change."""
    changed = 0
    for source in Source.objects.select_for_update().filter(pk__in=[s.pk for s in sources]):
        have = {word.casefold() for word in source.keywords}
        new = [word for word in keywords if word.casefold() not in have]
        if new:
            source.keywords = [*source.keywords, *new]
            source.save(update_fields=["keywords"])
            changed += 1
    return changed


# --- what goes with the sources ------------------------------------------------------------


@dataclass
class Summary:
    """What a move or a deletion takes with the sources, in words: (count, what) pairs."""

    sources: list[Source]
    goes: list[tuple[int, str]] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)


def attached(sources: list[Source]) -> Counter[type[Model]]:
    """Everything that hangs on the sources (what deleting them would delete), by model."""
    collector = Collector(using=router.db_for_write(Source))
    collector.collect(sources)
    counts: Counter[type[Model]] = Counter(
        {model: len(items) for model, items in collector.data.items()}
    )
    for queryset in collector.fast_deletes:
        counts[queryset.model] += queryset.count()
    counts.pop(Source, None)
    return Counter({model: n for model, n in counts.items() if n and not _bookkeeping(model)})


def _bookkeeping(model: type[Model]) -> bool:
    """History rows, fingerprints and index entries follow on their own: not worth a line."""
    name = model._meta.model_name
    return name.startswith("historical") or name.endswith("fingerprint") or "search" in name


def _named(counts: Counter[type[Model]]) -> list[tuple[int, str]]:
    def name(model: type[Model], n: int) -> str:
        return str(model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural)

    return sorted((n, name(model, n)) for model, n in counts.items() if n)


def delete_summary(sources: list[Source]) -> Summary:
    return Summary(sources, goes=_named(attached(sources)))


def move_summary(sources: list[Source]) -> Summary:
    """What moves with the sources and what is removed because it cannot cross libraries."""
    counts = attached(sources)
    removed: Counter[type[Model]] = Counter()
    for model in list(counts):
        if model._meta.model_name == "evidence":  # ties to claims that stay behind
            removed[model] = counts.pop(model)
    links = _links_of(sources)
    ids = {source.pk for source in sources}
    behind = sum(1 for link in links if not {link.subject_id, link.object_id} <= ids)
    counts.pop(SourceLink, None)
    moved_links = len(links) - behind
    summary = Summary(sources, goes=_named(counts), removed=_named(removed))
    if moved_links:
        summary.goes.append((moved_links, "links between the moved sources"))
    if behind:
        summary.removed.append((behind, "links to sources that stay behind"))
    return summary


def _links_of(sources: list[Source]) -> list[SourceLink]:
    ids = [source.pk for source in sources]
    return list(SourceLink.objects.filter(Q(subject_id__in=ids) | Q(object_id__in=ids)))


# --- move ----------------------------------------------------------------------------------


@transaction.atomic
def move_sources(sources: list[Source], origin: Library, target: Library) -> None:
    """Move the sources and what hangs on them from `origin` to `target` (see the module's
    docstring); a citation key `target` already uses is made anew."""
    ids = [source.pk for source in sources]
    locked = list(Source.objects.select_for_update().filter(pk__in=ids, library=origin))
    if len(locked) != len(ids):
        raise ValidationError({"sources": "Some of these sources were moved or deleted meanwhile."})
    with batching.batch():
        links = SourceLink.objects.filter(Q(subject_id__in=ids) | Q(object_id__in=ids))
        links.exclude(subject_id__in=ids, object_id__in=ids).delete()
        links.update(library=target)
        taken = set(target.sources.values_list("citation_key", flat=True))
        for source in locked:
            source.library = target
            if source.citation_key in taken:
                source.citation_key = ""  # save() gives it a key free in `target`
            source.save()
            taken.add(source.citation_key)
        sources_moved.send(sender=Source, ids=ids, origin=origin, target=target)


# --- delete ---------------------------------------------------------------------------------


@transaction.atomic
def delete_sources(sources: list[Source]) -> int:
    """Delete the sources with everything that hangs on them; how many were deleted."""
    ids = [source.pk for source in sources]
    found = list(Source.objects.select_for_update().filter(pk__in=ids))
    for source in found:
        source.delete()  # one by one: each leaves its history record and index receivers run
    return len(found)
