"""When sources move to another library (`sources.bulk.move_sources`), their annotations
go with them: the annotations change library (private ones stay private), their tags are
found or made by name in the new library (tags are per library), and the evidence tying
them to claims of the old library is removed, since the claims stay there. New versions,
and the search index told (`annotations_moved`)."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from annotations.claims.models import Evidence
from annotations.models import Annotation, Tag
from annotations.reanchoring import annotations_moved
from sources.bulk import sources_moved
from sources.models import Library, Source


def follow_sources(
    sender: Any, ids: list[int], origin: Library, target: Library, **kwargs: Any
) -> None:
    moving = Annotation.objects.filter(text__source_id__in=ids)
    annotation_ids = list(moving.order_by("pk").values_list("pk", flat=True))
    if not annotation_ids:
        return
    Evidence.objects.filter(annotation_id__in=annotation_ids).delete()
    _retag(annotation_ids, target)
    Annotation.objects.filter(pk__in=annotation_ids).update(
        library=target, version=F("version") + 1
    )
    annotations_moved.send(sender=Annotation, ids=annotation_ids)


def _retag(annotation_ids: list[int], target: Library) -> None:
    """Swap each tag of the annotations for the tag of the same name in `target`."""
    through = Annotation.tags.through
    rows = list(
        through.objects.filter(annotation_id__in=annotation_ids).values_list(
            "annotation_id", "tag__name"
        )
    )
    if not rows:
        return
    names = sorted({name for _, name in rows}, key=str.casefold)
    by_key = {tag.name_key: tag for tag in Tag.objects.for_names(target, names)}
    through.objects.filter(annotation_id__in=annotation_ids).delete()
    wanted = {(pk, by_key[name.casefold()].pk) for pk, name in rows if name.casefold() in by_key}
    through.objects.bulk_create(
        [through(annotation_id=pk, tag_id=tag_id) for pk, tag_id in sorted(wanted)]
    )


def connect() -> None:
    sources_moved.connect(follow_sources, sender=Source, dispatch_uid="annotations.follow")
