"""A library's tags: find or create by name, rename, merge, autocomplete.

Matching is case-insensitive (`Tag.name_key`) while the spelling first typed is kept.
Merging works on every model that has a many-to-many to Tag (annotations today,
claims tomorrow), so it needs no change when another tagged model appears.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import Count, F, Q

from annotations.models import Tag, split_tag_name, tag_key
from sources.models import Library
from sources.rows import fetch, quoter, selected


def get_or_create_tags(
    library: Library, names: Iterable[str], most: int | None = None
) -> list[Tag]:
    """The library's tags for `names`, created where missing, in the given order and
    without duplicates ("Moscow" and "moscow" are one tag); at most `most` names."""
    return tags_for(library, wanted_tags(names, most=most))


def wanted_tags(names: Iterable[str], most: int | None = None) -> dict[str, str]:
    """{key: name as first typed} for `names`; raises ValidationError on `tags` (without
    touching the database) for a name that is not a tag, or more than `most` names."""
    names = list(names)
    if most is not None and len(names) > most:
        raise ValidationError({"tags": f"At most {most} tags."})
    wanted: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str):
            raise ValidationError({"tags": "Each tag is a string."})
        wanted.setdefault(tag_key(name), name)
    return wanted


def tags_for(library: Library, wanted: dict[str, str]) -> list[Tag]:
    """The tags `wanted_tags` named, in its order: those the library has read in one
    statement (prepared on PostgreSQL), the others created."""
    if not wanted:
        return []
    using = router.db_for_read(Tag)
    columns = selected(Tag, "t", using=using)
    rows = fetch(using, _tags_sql(using, len(wanted)), [library.pk, *wanted])
    existing = {tag.name_key: tag for tag in (columns.instance(row, 0) for row in rows)}
    result = []
    for key, name in wanted.items():
        tag = existing.get(key)
        if tag is None:
            tag, _ = Tag.objects.get_or_create(
                library=library, name_key=key, defaults={"name": name}
            )
        result.append(tag)
    return result


@functools.cache
def _tags_sql(using: str, count: int) -> str:
    """A library's tags with `count` name keys."""
    q = quoter(using)
    return (
        f"SELECT {selected(Tag, 't', using=using).columns} FROM {q(Tag)} t "
        f"WHERE t.{q(Tag, 'library')} = %s AND t.{q(Tag, 'name_key')} IN "
        f"({', '.join(['%s'] * count)})"
    )


@transaction.atomic
def rename_tag(tag: Tag, new_name: str) -> Tag:
    """Rename everywhere at once; if another tag already has the new name, merge into it.
    Returns the tag that carries the name afterwards."""
    key = tag_key(new_name)
    other = tag.library.tags.filter(name_key=key).exclude(pk=tag.pk).first()
    if other is not None:
        return merge_tags(tag, other)
    tag.name = new_name
    tag.save()
    _bump_versions(tag)
    return tag


@transaction.atomic
def merge_tags(source_tag: Tag, into_tag: Tag) -> Tag:
    """Re-tag every object tagged `source_tag` with `into_tag`, then delete `source_tag`."""
    if source_tag.library_id != into_tag.library_id:
        raise ValidationError({"into": "Tags can only be merged within one library."})
    if source_tag.pk == into_tag.pk:
        return into_tag
    for relation in _tagged_relations():
        _move_tagging(relation, source_tag, into_tag)
    _bump_versions(into_tag)
    source_tag.delete()
    return into_tag


@transaction.atomic
def delete_tag(tag: Tag) -> None:
    """Remove the tag from every object (they get new versions) and from the library."""
    _bump_versions(tag)
    tag.delete()


def autocomplete(library: Library, prefix: str, limit: int = 10) -> list[Tag]:
    """Tags whose name, or name after the namespace, or any word, starts with `prefix`;
    most used first. "mao" finds "person:Mao Zedong"; "person:" lists the people."""
    try:
        _, typed = split_tag_name(prefix)
    except ValidationError:
        typed = ""
    key = typed.casefold()
    tags = library.tags.all()
    if key:
        tags = tags.filter(
            Q(name_key__startswith=key)
            | Q(name_key__contains=f":{key}")
            | Q(name_key__contains=f" {key}")
        )
    tags = tags.annotate(uses=Count("annotations", distinct=True))
    return list(tags.order_by("-uses", "name_key")[: max(1, min(limit, 100))])


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
    """A tag's new name changes how its objects are represented: new ETags."""
    for relation in _tagged_relations():
        model = relation.related_model
        if any(f.name == "version" for f in model._meta.concrete_fields):
            model.objects.filter(**{relation.field.name: tag}).update(version=F("version") + 1)
