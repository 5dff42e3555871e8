"""A library's tags: rename, merge (with a preview of what moves), delete, list and
autocomplete for the tag manager page and every tag field (`Tag.objects.for_names` finds or
creates them by name).

Matching is case-insensitive (`Tag.name_key`) while the spelling first typed is kept.
Merging works on every model that has a many-to-many to Tag (annotations, claims, events'
participants), so it needs no change when another tagged model appears.

Two people may rename, merge or delete the same tags at once: each change locks the tags
it touches, always in the order of their ids (so that a merge A→B and a merge B→A wait for
each other instead of deadlocking), and the objects whose versions it bumps, also in id
order. The tag locks are FOR NO KEY UPDATE: someone tagging an annotation meanwhile (a
key-share lock on the tag) is not blocked by them. Whoever comes second and finds a tag
gone, or the name just taken, gets `TagConflict` (the API's 409) saying what to do.

Who sees which tag, and how often it is used, is `Tag.objects.visible_to` / `uses_in`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F

from annotations.models import Tag, tag_key
from core.text import fold
from core.transliterate import latin_forms, romanised
from sources.models import Library


class TagConflict(Exception):
    """Someone else changed these tags a moment ago; the message says what to do."""


GONE = "The tag “{name}” was merged or deleted a moment ago: reload the tags and try again."
RETAGGED = "Something tagged “{name}” was tagged again a moment ago: try the merge again."
TAKEN = (
    "Another tag was given the name “{name}” a moment ago: reload the tags and rename again "
    "to merge into it."
)


@transaction.atomic
def rename_tag(tag: Tag, new_name: str) -> Tag:
    """Rename everywhere at once; if another tag already has the new name, merge into it.
    Returns the tag that carries the name afterwards."""
    other = _named(tag, tag_key(new_name))
    if other is not None:
        return merge_tags(tag, other)
    [locked] = lock_tags(tag)
    locked.name = new_name
    try:
        with transaction.atomic():  # a savepoint: the same name given a moment ago
            locked.save()
    except IntegrityError:
        raise TagConflict(TAKEN.format(name=new_name)) from None
    _bump_versions(locked)
    return locked


def _named(tag: Tag, key: str) -> Tag | None:
    return Tag.objects.filter(library_id=tag.library_id, name_key=key).exclude(pk=tag.pk).first()


@transaction.atomic
def merge_tags(source_tag: Tag, into_tag: Tag) -> Tag:
    """Re-tag every object tagged `source_tag` with `into_tag`, then delete `source_tag`."""
    if source_tag.library_id != into_tag.library_id:
        raise ValidationError({"into": "Tags can only be merged within one library."})
    if source_tag.pk == into_tag.pk:
        return into_tag
    source_tag, into_tag = lock_tags(source_tag, into_tag)
    try:
        with transaction.atomic():  # a savepoint: an object tagged with both a moment ago
            for relation in _tagged_relations():
                _move_tagging(relation, source_tag, into_tag)
    except IntegrityError:
        raise TagConflict(RETAGGED.format(name=source_tag.name)) from None
    _bump_versions(into_tag)
    source_tag.delete()
    return into_tag


@transaction.atomic
def delete_tag(tag: Tag) -> None:
    """Remove the tag from every object (they get new versions) and from the library.
    A tag deleted or merged a moment ago by someone else is gone already: nothing to do."""
    try:
        [locked] = lock_tags(tag)
    except TagConflict:
        return
    _bump_versions(locked)
    locked.delete()


def lock_tags(*tags: Tag) -> list[Tag]:
    """The tags as they are now, locked until the transaction ends (in id order, whatever
    the order asked), returned in the order asked; TagConflict if one is gone."""
    rows = Tag.objects.select_for_update(no_key=True).filter(pk__in=[tag.pk for tag in tags])
    found = {row.pk: row for row in rows.order_by("pk")}
    for tag in tags:
        if tag.pk not in found:
            raise TagConflict(GONE.format(name=tag.name))
    return [found[tag.pk] for tag in tags]


def autocomplete(library: Library, user: Any, typed: str, limit: int = 10) -> list[Tag]:
    """The library's tags `user` may see that match what was typed (`matches`), most used
    (by what `user` may see) first. "st" and "person:St" find "person:Joseph Stalin",
    "сталин" finds "person:Сталин" and "person:Joseph Stalin", "zhou" finds "person:Zhōu
    Ēnlái", "person:" lists the people. Matched in Python over the library's tags: accents
    and case are folded the same way in SQLite and PostgreSQL, names are transliterated
    (`TagQuery`), and a library holds thousands of tags, not millions."""
    query = TagQuery.parse(typed)
    tags = Tag.objects.visible_to(user).filter(library=library)
    if query.namespace is not None:
        tags = tags.filter(namespace__startswith=query.namespace)
    uses = Tag.objects.uses_in(library, user)
    found = sorted(
        (tag for tag in tags if query.matches(tag)), key=lambda tag: (-uses[tag.pk], tag.name_key)
    )
    for tag in found:
        tag.uses = uses[tag.pk]
    return found[: max(1, min(limit, 100))]


# Scripts written without spaces between words: a typed run is looked for anywhere.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@functools.lru_cache(maxsize=16_384)
def _words_of(label: str) -> tuple[str, ...]:
    """The words a tag's label is found by: as written and in Latin letters, folded
    ("Иосиф Сталин" → иосиф, сталин, iosif, stalin; "毛泽东" → 毛泽东, mao, zedong, maozedong)."""
    words = fold(label).split()
    for form in romanised(label):
        words += form.split()
    return tuple(dict.fromkeys(words))


@functools.lru_cache(maxsize=4_096)
def _spellings(word: str) -> tuple[tuple[str, ...], ...]:
    """A typed word and its Latin forms, each as the words that must begin words of a tag
    ("сталин" → (сталин), (stalin); "мао" → (мао), (mao); "毛泽东" → (mao, zedong), …)."""
    return ((word,), *(tuple(form.split()) for form in latin_forms(word)))


@dataclass(frozen=True)
class TagQuery:
    """What was typed into a tag field: an optional namespace (before a colon) and words,
    each of which must begin a word of the tag (any word, any order; anywhere for Chinese,
    Japanese and Korean); with no namespace, a word may also begin the namespace. Names
    meet across scripts (`core.transliterate`): "Сталин" finds "person:Joseph Stalin",
    "Stalin" finds "person:Иосиф Сталин", "Мао" and "毛泽东" find "person:Mao Zedong"."""

    namespace: str | None
    words: tuple[str, ...]

    @classmethod
    def parse(cls, typed: str) -> TagQuery:
        typed = " ".join(unicodedata.normalize("NFC", typed).split())
        head, colon, rest = typed.partition(":")
        if colon and head and " " not in head.strip():
            return cls(head.strip().casefold(), tuple(fold(rest).split()))
        return cls(None, tuple(fold(typed).split()))

    def matches(self, tag: Tag) -> bool:
        words = _words_of(tag.label)
        return all(self._found(word, words, tag) for word in self.words)

    def _found(self, word: str, words: tuple[str, ...], tag: Tag) -> bool:
        for parts in _spellings(word):
            if all(any(w.startswith(part) for w in words) for part in parts):
                return True
        if _UNSPACED.search(word) and word in fold(tag.label):
            return True
        return self.namespace is None and tag.namespace.startswith(word)


@dataclass
class Moves:
    """What a merge would do, per kind of tagged thing: how many move to the other tag and
    how many already carry it (they keep one)."""

    kind: str
    moved: int
    already: int


def merge_preview(source_tag: Tag, into_tag: Tag, user: Any) -> list[Moves]:
    """What `merge_tags(source_tag, into_tag)` would move, without moving anything; counted
    over what `user` may see (someone's private notes are not counted for another)."""
    preview = []
    for relation in _tagged_relations():
        through = relation.through
        tag_column = relation.field.m2m_reverse_field_name()
        object_column = f"{relation.field.m2m_field_name()}_id"
        visible = relation.related_model.objects.visible_to(user).values("pk")
        rows = through.objects.filter(**{tag_column: source_tag, f"{object_column}__in": visible})
        carrying = through.objects.filter(**{tag_column: into_tag}).values(object_column)
        already = rows.filter(**{f"{object_column}__in": carrying}).count()
        total = rows.count()
        if total:
            name = relation.related_model._meta.verbose_name_plural
            preview.append(Moves(str(name), total - already, already))
    return preview


def library_tags(library: Library, user: Any, namespace: str | None = None) -> list[Tag]:
    """Every tag of the library `user` may see, with `uses` (what they may see carrying
    it), by namespace then name; only one namespace's when asked ("" for none)."""
    tags = Tag.objects.visible_to(user).filter(library=library)
    if namespace is not None:
        tags = tags.filter(namespace=namespace)
    uses = Tag.objects.uses_in(library, user)
    found = sorted(tags, key=lambda tag: (tag.namespace, tag.name_key))
    for tag in found:
        tag.uses = uses[tag.pk]
    return found


def namespace_colours(library: Library) -> dict[str, str]:
    return dict(library.tag_namespaces.values_list("namespace", "colour"))


def _tagged_relations() -> list[models.ManyToManyRel]:
    return [rel for rel in Tag._meta.related_objects if rel.many_to_many]


def _move_tagging(relation: models.ManyToManyRel, source_tag: Tag, into_tag: Tag) -> None:
    through = relation.through
    field = relation.field
    tag_column = field.m2m_reverse_field_name()  # the through FK to Tag
    object_column = field.m2m_field_name()  # the through FK to the tagged model
    rows = through.objects.filter(**{tag_column: source_tag})
    already = through.objects.filter(**{tag_column: into_tag}).values(f"{object_column}_id")
    rows.filter(**{f"{object_column}_id__in": already}).delete()
    rows.update(**{tag_column: into_tag})


def _bump_versions(tag: Tag) -> None:
    """A tag's new name changes how its objects are represented: new ETags. The objects
    are locked in id order first, so that two changes to tags they share cannot deadlock."""
    for relation in _tagged_relations():
        model = relation.related_model
        if any(f.name == "version" for f in model._meta.concrete_fields):
            tagged = model._base_manager.filter(**{relation.field.name: tag}).order_by("pk")
            locked = tagged.select_for_update(no_key=True, of=("self",))
            ids = list(locked.values_list("pk", flat=True))
            model._base_manager.filter(pk__in=ids).update(version=F("version") + 1)
