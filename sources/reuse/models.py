"""What text-reuse detection keeps: each current text's fingerprints, and the passages two
linked sources share (the evidence of a link recorded from the reuse pages).

These models belong to the `sources` app (same label, tables and migrations):
`sources.apps` finds them here, as Django finds an app's own `models.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from sources.models import Library, SourceLink, SourceText


class ReuseFingerprint(models.Model):
    """One winnowed word-shingle hash of a text, for finding passages texts share.

    Only the current revision of each source is indexed (`sources.reuse.detection` keeps it so):
    a new revision replaces its predecessor's fingerprints in the same transaction.
    """

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    text = models.ForeignKey(
        SourceText, on_delete=models.CASCADE, related_name="reuse_fingerprints"
    )
    hash = models.BigIntegerField(help_text="64-bit hash of a shingle of normalised words.")
    start = models.PositiveIntegerField(help_text="Code point offset of the shingle's first word.")

    class Meta:
        verbose_name = "text-reuse fingerprint"
        # Candidate lookup is "which texts of this library hold these hashes": the index
        # answers it alone (the text column rides along), on SQLite and PostgreSQL alike.
        indexes = [models.Index(fields=["library", "hash", "text"], name="reuse_library_hash")]

    def __str__(self) -> str:
        return f"{self.hash:016x} at {self.start} in {self.text_id}"


class SourceLinkPassage(models.Model):
    """Evidence for a source link: a passage the two sources' texts share.

    Offsets are code points of immutable revisions, so the pair can always be shown again.
    """

    link = models.ForeignKey(SourceLink, on_delete=models.CASCADE, related_name="passages")
    subject_text = models.ForeignKey(SourceText, on_delete=models.CASCADE, related_name="+")
    subject_start = models.PositiveIntegerField()
    subject_end = models.PositiveIntegerField()
    object_text = models.ForeignKey(SourceText, on_delete=models.CASCADE, related_name="+")
    object_start = models.PositiveIntegerField()
    object_end = models.PositiveIntegerField()
    words = models.PositiveIntegerField(help_text="Words the two passages have in common.")
    similarity = models.FloatField(help_text="0–1: the share of both passages that matches.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["link", "subject_text", "subject_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "subject_text", "subject_start", "object_text", "object_start"],
                name="one_passage_per_link_and_place",
            ),
            models.CheckConstraint(
                condition=Q(subject_start__lt=models.F("subject_end"))
                & Q(object_start__lt=models.F("object_end")),
                name="passage_is_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.link}: {self.subject_start}–{self.subject_end}"

    @property
    def subject_quote(self) -> str:
        return self.subject_text.text[self.subject_start : self.subject_end]

    @property
    def object_quote(self) -> str:
        return self.object_text.text[self.object_start : self.object_end]
