"""A large library's provenance document (W3C PROV-O JSON-LD) as background work: past
PROVENANCE_JOB_THRESHOLD sources and claims it is too long to write in a request (every
source, revision, claim and piece of evidence, and a checksum per quoted revision).
Registered with `jobs` by `AnnotationsConfig.ready()`."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from annotations.claims import provenance
from jobs import registry
from jobs.models import Job
from jobs.runner import Progress
from sources.access import is_owner, require_role
from sources.models import Library

PROVENANCE = "provenance"


def is_large(library: Library) -> bool:
    return provenance.size_of_library(library) > settings.PROVENANCE_JOB_THRESHOLD


def prepare_provenance(library: Library | None, data: bytes, name: str, params: dict) -> dict:
    base = str(params.get("base") or "")
    if library is None or not base.startswith(("http://", "https://")):
        raise ValidationError({"library": "Choose a library; the site's address is needed."})
    return {"base": base}


def provenance_job(job: Job, progress: Progress) -> dict:
    """The document as its starter may see it, kept on the job for download."""
    library = job.library
    progress.start(1, f"Writing the provenance of {library.name}")
    origin = provenance.Origin(base=job.params["base"], user=job.user)
    document = provenance.library_document(library, origin)
    data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    progress.advance(1)
    job.set_output(
        data, name=f"{library.slug}-provenance.jsonld", content_type=provenance.MEDIA_TYPE
    )
    return {"nodes": len(document["@graph"]), "bytes": len(data)}


def readers_may_start(library: Library, user: Any) -> None:
    require_role(library, user, None, doing="a provenance export")


def register() -> None:
    registry.register(
        registry.Kind(
            name=PROVENANCE,
            label="Provenance export",
            run=provenance_job,
            prepare=prepare_provenance,
            may_start=readers_may_start,
            may_manage=is_owner,
            writes=False,
        )
    )
