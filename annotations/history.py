"""An annotation's history, and reverting it (`core.history` reads and describes it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from annotations.models import Annotation
from core import history
from core.history import names_at


def revert_annotation(annotation: Annotation, record: Any, user: Any) -> Annotation:
    """Comment, motivation and tags come back; the anchor too if it was on this same
    revision; visibility only for its creator (as in any edit)."""
    changes: dict[str, Any] = {
        "comment": record.comment_raw,
        "motivation": record.motivation,
        "tags": names_at(record, "tags"),
    }
    if record.text_id == annotation.text_id:
        changes |= {"start": record.start, "end": record.end, "exact": record.exact}
    if user.pk == annotation.creator_id:
        changes["visibility"] = record.visibility
    elif record.visibility != annotation.visibility:
        raise PermissionDenied("Only its creator can change who sees an annotation.")
    annotation.apply_changes(changes, user=user)
    return annotation


def page_of(annotation: Annotation) -> str:
    """An annotation is shown on its source's page."""
    return f"{annotation.text.source.get_absolute_url()}#annotation-{annotation.pk}"


def register() -> None:
    history.track(Annotation, versioned=True, revert=revert_annotation, page=page_of)
