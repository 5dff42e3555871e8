"""Moving Job to `jobs` and the search index to `search` (docs/decisions/0009) changed only
Django's state: the tables, their rows and the content types (with their permissions)
follow. Migrated back and forth on the test database, the data stays where it was."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jobs.models import Job, JobState

BEFORE = [("jobs", None), ("search", None)]  # their first migrations, and the moves, undone


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def labels(model: str) -> set[str]:
    ContentType.objects.clear_cache()
    return set(ContentType.objects.filter(model=model).values_list("app_label", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_moved_models_keep_their_rows_content_types_and_permissions(library, alice):
    job = Job.objects.create(kind="backup", library=library, user=alice)
    permission = Permission.objects.get(codename="view_job")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate(BEFORE)
        assert labels("job") == {"sources"} and labels("searchentry") == {"annotations"}
        migrate(latest)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert labels("job") == {"jobs"} and labels("searchentry") == {"search"}
    permission.refresh_from_db()
    assert permission.content_type.app_label == "jobs"
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
