"""Re-indexing as background work: rebuild a library's search index (every library's for a
site-wide job). Registered with `jobs` by `SearchConfig.ready()`."""

from __future__ import annotations

from jobs import registry
from jobs.models import Job
from jobs.runner import Progress
from search.index import rebuild
from sources.access import is_owner
from sources.jobs import editor_of, editors_may_start

REINDEX = "reindex"


def reindex_job(job: Job, progress: Progress) -> dict:
    """`search.index.rebuild`, in the job's transaction: searches keep seeing the old index
    until the new one is complete."""
    if job.library is not None:
        editor_of(job)
    progress.start(0, "Re-indexing sources, annotations and claims")
    libraries = None if job.library is None else [job.library]
    return {"entries": rebuild(libraries, progress=progress.relay)}


def register() -> None:
    registry.register(
        registry.Kind(
            name=REINDEX,
            label="Search re-indexing",
            run=reindex_job,
            may_start=editors_may_start("Search re-indexing"),
            may_manage=is_owner,
        )
    )
