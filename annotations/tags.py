"""A library's tags: rename, merge, delete, autocomplete (`Tag.objects.for_names` finds or
creates them by name).

Matching is case-insensitive (`Tag.name_key`) while the spelling first typed is kept.
Merging works on every model that has a many-to-many to Tag (annotations today,
claims tomorrow), so it needs no change when another tagged model appears.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, F, Q

from annotations.models import Tag, split_tag_name, tag_key
from sources.models import Library


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
