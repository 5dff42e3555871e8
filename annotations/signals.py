"""Carry annotations over when a source gets a new text revision.

The receiver runs inside the transaction that saves the revision (`add_revision` is
called within one: a request under ATOMIC_REQUESTS, or the importer's own atomic block),
so a failure leaves neither the revision nor half-moved annotations behind.
"""

from __future__ import annotations

from django.db.models.signals import post_save

from annotations.reanchoring import carry_over
from sources.models import SourceText


def carry_annotations_over(
    sender: type[SourceText], instance: SourceText, created: bool, raw: bool = False, **kwargs
) -> None:
    if created and not raw:  # fixtures (raw) load annotations as they were
        carry_over(instance)


def connect() -> None:
    post_save.connect(
        carry_annotations_over, sender=SourceText, dispatch_uid="annotations.carry_over"
    )


def disconnect() -> None:
    post_save.disconnect(sender=SourceText, dispatch_uid="annotations.carry_over")
