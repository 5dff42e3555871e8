"""The kinds of background work, each registered by the package that enqueues it.

jobs runs work it does not know: a package registers a `Kind` from its app's `ready()`
(`sources.jobs.register()`, …) with the function that does the work, what it checks at
enqueue, and who may start it. jobs itself imports none of those packages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError


def _never(library: Any, user: Any) -> bool:
    return False


def _nothing_to_check(library: Any, data: bytes, name: str, params: dict) -> dict:
    return {}


@dataclass(frozen=True)
class Kind:
    """One kind of background work.

    - `run(job, progress)` does it and returns the job's result (JSON);
    - `prepare(library, data, upload_name, params)` checks the input at enqueue, before
      anything is queued, raising ValidationError or UploadError (the user's error, named
      by field), and returns the parameters stored on the job;
    - `may_start(library, user)` raises Http404 for a library the user cannot see and
      PermissionDenied where they may not start this work (site-wide jobs, without a
      library, are for staff whatever the kind); it also decides whether the job's starter
      may still download its file (`jobs.queue.may_download`);
    - `may_manage(library, user)`: may they retry someone else's job of this kind (who
      sees a job is one rule for every kind: `Job.objects.visible_to`);
    - `writes`: False for work that only reads (exports, backups), which then takes its own
      snapshot instead of running in one transaction with the job's success.
    """

    name: str
    label: str
    run: Callable[[Any, Any], dict]  # (jobs.models.Job, jobs.runner.Progress) -> result
    may_start: Callable[[Any, Any], None]
    prepare: Callable[[Any, bytes, str, dict], dict] = _nothing_to_check
    may_manage: Callable[[Any, Any], bool] = _never
    writes: bool = True


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Make `kind` available to `enqueue` (idempotent: a kind registered again replaces
    itself)."""
    _kinds[kind.name] = kind


def get(name: str) -> Kind:
    """The registered kind, or ValidationError naming `kind`."""
    try:
        return _kinds[name]
    except KeyError:
        raise ValidationError({"kind": f"Unknown job kind {name!r}."}) from None


def label(name: str) -> str:
    """A kind's label, for pages; the name itself for a kind no longer registered."""
    kind = _kinds.get(name)
    return kind.label if kind else name
