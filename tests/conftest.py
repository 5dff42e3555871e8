from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from sources.models import Role
from tests.factories import PASSWORD, add_member, make_library, make_source, make_text, make_user


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    return make_user(username="alice")


@pytest.fixture
def bob(db):
    return make_user(username="bob")


@pytest.fixture
def vera(db):
    return make_user(username="vera")


@pytest.fixture
def mallory(db):
    return make_user(username="mallory")


@pytest.fixture
def library(alice, bob, vera, mallory):
    """alice owns it, bob edits, vera reads, mallory is an outsider."""
    lib = make_library(owner=alice)
    add_member(library=lib, user=bob, role=Role.EDITOR)
    add_member(library=lib, user=vera, role=Role.VIEWER)
    return lib


@pytest.fixture
def source(library, alice):
    src = make_source(library=library, created_by=alice)
    make_text(source=src, imported_by=alice)
    return src


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_user():
    """as_user(alice) → a logged-in client (Django test client API plus DRF helpers)."""
    return client_for


# Tests that touch no database give the same answer on SQLite and on PostgreSQL: when the
# PostgreSQL run follows (`make test` with TEST_DATABASE_URL), the SQLite run leaves them
# to it (Makefile `test-sqlite` sets this), which keeps `.ci/run` shorter.
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences",
                     "django_db_serialized_rollback"}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    if os.environ.get("MARGINALIA_DATABASE_TESTS_ONLY") != "1":
        return
    kept, left = [], []
    for item in items:
        uses = set(getattr(item, "fixturenames", ())) & DATABASE_FIXTURES
        (kept if uses or item.get_closest_marker("django_db") else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
