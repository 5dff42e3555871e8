"""A large export as background work: a library's (or a selection's) export file, kept on
the job for download. Registered with `jobs` by `CitationsConfig.ready()`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from citations import engine, exports
from jobs import registry
from jobs.models import Job
from jobs.runner import JobError, Progress
from sources import csl
from sources.access import is_owner, require_role
from sources.models import Library, Source

EXPORT = "export"


def prepare_export(library: Library | None, data: bytes, name: str, params: dict) -> dict:
    fmt = params.get("format") or ""
    if fmt not in exports.CONTENT_TYPES:
        raise ValidationError({"format": f"Choose one of {', '.join(exports.CONTENT_TYPES)}."})
    content = params.get("content") or "bibliography"
    if content not in exports.CONTENTS:
        raise ValidationError({"content": f"Choose one of {', '.join(exports.CONTENTS)}."})
    style = params.get("style") or engine.DEFAULT_STYLE
    if fmt in exports.FORMATTED and style not in engine.available_styles():
        raise ValidationError({"style": f"Unknown citation style {style!r}."})
    ids = params.get("sources")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
        raise ValidationError({"sources": "Give a list of source ids."})
    return {
        "format": fmt,
        "content": content,
        "style": style,
        "locale": params.get("locale") or engine.DEFAULT_LOCALE,
        "title": str(params.get("title") or "Bibliography")[:200],
        "name": str(params.get("name") or (library.name if library else "marginalia"))[:200],
        "sources": ids,
    }


def export_job(job: Job, progress: Progress) -> dict:
    """The export file, kept on the job for download: what its user may see, then."""
    params = job.params
    if job.user is None:
        raise PermissionDenied("The person who started this export no longer exists.")
    sources = Source.objects.visible_to(job.user).filter(library=job.library)
    if params["sources"] is not None:
        sources = sources.filter(pk__in=params["sources"])
    total = sources.count()
    progress.start(total + 1, f"Collecting {total} sources")
    found = {}
    for number, source in enumerate(sources.prefetch_related("creators").iterator(500), 1):
        found[source.pk] = csl.source_to_csl(source)
        progress.advance(number)
    # In the order the selection gave (a search's results, notes numbered in that order).
    items = [found[pk] for pk in params["sources"] or found if pk in found]
    progress.advance(total, "Formatting the export")
    options = {key: params[key] for key in ("style", "locale", "content", "title")}
    try:
        text = exports.export_items(items, params["format"], **options)
    except ValueError as error:
        raise JobError(str(error)) from error
    job.set_output(
        text.encode("utf-8"),
        name=exports.export_filename(params["name"], params["format"]),
        content_type=exports.CONTENT_TYPES[params["format"]],
    )
    return {"count": len(items), "format": params["format"], "bytes": len(job.output)}


def readers_may_start(library: Library, user: Any) -> None:
    require_role(library, user, None, doing="an export")


def register() -> None:
    registry.register(
        registry.Kind(
            name=EXPORT,
            label="Export",
            run=export_job,
            prepare=prepare_export,
            may_start=readers_may_start,
            may_manage=is_owner,
            writes=False,
        )
    )
