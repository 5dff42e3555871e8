from __future__ import annotations

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
