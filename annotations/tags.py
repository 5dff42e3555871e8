"""A library's tags: rename, merge, delete, autocomplete (`Tag.objects.for_names` finds or
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

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q

from annotations.models import Tag, split_tag_name, tag_key
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


def autocomplete(library: Library, user: Any, prefix: str, limit: int = 10) -> list[Tag]:
    """The library's tags `user` may see whose name, or name after the namespace, or any
    word, starts with `prefix`; most used (by what `user` may see) first. "mao" finds
    "person:Mao Zedong"; "person:" lists the people."""
    try:
        _, typed = split_tag_name(prefix)
    except ValidationError:
        typed = ""
    key = typed.casefold()
    tags = Tag.objects.visible_to(user).filter(library=library)
    if key:
        tags = tags.filter(
            Q(name_key__startswith=key)
            | Q(name_key__contains=f":{key}")
            | Q(name_key__contains=f" {key}")
        )
    uses = Tag.objects.uses_in(library, user)
    found = sorted(tags, key=lambda tag: (-uses[tag.pk], tag.name_key))
    for tag in found:
        tag.uses = uses[tag.pk]
    return found[: max(1, min(limit, 100))]


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
