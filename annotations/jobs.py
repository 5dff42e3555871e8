"""Re-anchoring as background work: carry a source's annotations over to one of its
revisions again. Registered with `jobs` by `AnnotationsConfig.ready()`."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from annotations.reanchoring import carry_over
from jobs import registry
from jobs.models import Job
from jobs.runner import Progress
from sources.access import is_owner
from sources.jobs import editor_of, editors_may_start
from sources.models import Library, SourceText

REANCHOR = "reanchor"


def prepare_reanchor(library: Library, data: bytes, name: str, params: dict) -> dict:
    text = params.get("text")
    if not isinstance(text, SourceText) or text.source.library_id != library.pk:
        raise ValidationError({"text": "Choose a text revision of a source in this library."})
    return {"text": text.pk}


def reanchor_job(job: Job, progress: Progress) -> dict:
    """Carry a source's annotations over to one of its revisions again (after an anchoring
    improvement, or for a revision added without it); orphans get another chance."""
    editor_of(job)
    text = SourceText.objects.select_related("source").get(
        pk=job.params["text"], source__library=job.library
    )
    progress.start(1, f"Re-anchoring annotations on revision {text.revision}")
    counts = carry_over(text)
    progress.advance(1)
    return {
        "text": text.pk,
        "revision": text.revision,
        "counts": counts,
        "url": f"{text.source.get_absolute_url()}?revision={text.revision}",
    }


def register() -> None:
    registry.register(
        registry.Kind(
            name=REANCHOR,
            label="Re-anchoring",
            run=reanchor_job,
            prepare=prepare_reanchor,
            may_start=editors_may_start("Re-anchoring"),
            may_manage=is_owner,
        )
    )
