"""A background job: its input, progress and outcome (`jobs.runner` runs it).

A job may belong to a library (its foreign key names `sources.Library` without importing
it); deleting the library deletes its jobs. Who sees a job is one rule,
`JobQuerySet.visible_to`, used by every page, list, status JSON and download; who may
download its file is `jobs.queue.may_download`. What a job does is registered by the
package that enqueues it (`jobs.registry`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from jobs import registry

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobQuerySet(models.QuerySet):
    def visible_to(self, user: AnyUser) -> JobQuerySet:
        """One's own jobs; every job of a library one owns (owners manage its jobs:
        progress, errors, retry); site-wide jobs to staff. Other members see none of
        them: a job's result and file are its starter's (an export made with their view,
        a backup of everything). Ids are sequential: this rule, not their secrecy, guards."""
        if not user.is_authenticated:
            return self.none()
        library = self.model._meta.get_field("library").related_model  # by name, not import
        owned = library.objects.owned_by(user).values("pk")
        visible = Q(user=user) | Q(library__in=owned)
        if user.is_staff:
            visible |= Q(library__isnull=True)
        return self.filter(visible)


class Job(models.Model):
    """Long work run in the background (`jobs.runner`): its input, progress and outcome."""

    kind = models.CharField(max_length=20, help_text="A kind registered with `jobs.registry`.")
    library = models.ForeignKey(
        "sources.Library", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    upload = models.BinaryField(
        blank=True, default=b"", help_text="The input file, kept until success."
    )
    upload_name = models.CharField(max_length=255, blank=True)
    result = models.JSONField(default=dict, blank=True)
    output = models.BinaryField(blank=True, default=b"", help_text="A file the job made.")
    output_name = models.CharField(max_length=255, blank=True)
    output_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        db_table = "sources_job"  # its table from before jobs was a package of its own
        ordering = ["-created"]
        indexes = [models.Index(fields=["library", "-created"])]

    def __str__(self) -> str:
        return f"{self.kind_label} #{self.pk} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("job-detail", args=[self.pk])

    @property
    def kind_label(self) -> str:
        return registry.label(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    @property
    def percent(self) -> int | None:
        """How far, 0–100; None while the amount of work is not known yet."""
        if self.state == JobState.SUCCEEDED:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else None

    @property
    def is_stale(self) -> bool:
        """Queued or running far past any time limit: its worker and message were lost."""
        if self.is_finished:
            return False
        last_sign = self.heartbeat or self.started or self.created
        limit = timedelta(seconds=2 * settings.JOB_TIME_LIMIT)
        return last_sign is not None and timezone.now() - last_sign > limit

    @property
    def is_retryable(self) -> bool:
        return self.state == JobState.FAILED or self.is_stale

    def mark_running(self) -> None:
        self.state, self.attempts = JobState.RUNNING, self.attempts + 1
        self.started = self.heartbeat = timezone.now()
        if self.attempts > 1:
            self.message = f"Attempt {self.attempts}: the previous worker stopped."
        self.save(update_fields=["state", "attempts", "started", "heartbeat", "message"])

    def mark_succeeded(self, result: dict) -> None:
        self.state, self.result, self.error, self.message = JobState.SUCCEEDED, result, "", ""
        self.done = self.total = max(self.total, self.done, 1)
        self.finished = self.heartbeat = timezone.now()
        self.upload = b""  # the input is in the library now
        self.save()

    def mark_failed(self, error: str) -> None:
        self.state, self.error = JobState.FAILED, error
        self.finished = timezone.now()
        self.output, self.output_name, self.output_type = b"", "", ""
        fields = ["state", "error", "finished", "done", "total", "message"]
        self.save(update_fields=[*fields, "output", "output_name", "output_type"])

    def reset_for_retry(self, *, task_id: str) -> None:
        self.state, self.task_id, self.error, self.message = JobState.QUEUED, task_id, "", ""
        self.done = self.total = self.attempts = 0
        self.started = self.finished = self.heartbeat = None
        self.result = {}
        self.save()

    def set_output(self, data: bytes, *, name: str, content_type: str) -> None:
        """A file for the job's starter to download (`jobs.queue.may_download`), saved
        with the job's success."""
        self.output, self.output_name, self.output_type = data, name[:255], content_type[:100]
