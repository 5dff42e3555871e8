import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sources.models import Source
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _no_throttle_carried_over():
    """Refused tokens count against the address in the cache (the throttle): start clean,
    and leave nothing behind for the tests that follow."""
    cache.clear()
    yield
    cache.clear()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_token_authenticates_a_write(library, bob):
    response = token_client(bob).post(
        "/api/sources/",
        {"library": library.slug, "title": "Cable from Beijing", "issued": "1950-02"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Source.objects.get().created_by == bob


def test_token_of_a_viewer_does_not_grant_writes(library, vera):
    response = token_client(vera).post(
        "/api/sources/", {"library": library.slug, "title": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not Source.objects.exists()


def test_a_wrong_token_is_refused_even_for_reads(library):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get("/api/sources/")
    # 403 rather than 401 while session authentication comes first in settings.
    assert response.status_code in (401, 403)
    assert response.json()["detail"] == "Invalid token."


def test_anonymous_write_is_refused(library):
    response = APIClient().post(
        "/api/sources/", {"library": library.slug, "title": "x"}, format="json"
    )
    assert response.status_code in (401, 403)
    assert not Source.objects.exists()


def test_session_write_without_csrf_token_is_refused(library, bob):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=bob.username, password=PASSWORD)
    response = client.post("/api/sources/", {"library": library.slug, "title": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Source.objects.exists()


def test_a_token_of_an_inactive_user_is_refused(library, bob):
    client = token_client(bob)
    bob.is_active = False
    bob.save()
    response = client.get("/api/sources/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_a_token_is_checked_in_one_statement_that_brings_the_whole_user(
    bob, django_assert_num_queries
):
    """`sources.sharing.tokens.token_with_user`: one hand-written statement, and the user it gives
    is the one the ORM would have given (every field, aware datetimes)."""
    from sources.sharing.tokens import token_with_user

    key = Token.objects.create(user=bob).key
    with django_assert_num_queries(1):
        token = token_with_user(Token, "key", key)
        user = token.user
        assert (user.pk, user.username, user.email, user.is_staff) == (
            bob.pk, bob.username, bob.email, bob.is_staff
        )  # fmt: skip
        assert user.date_joined == bob.date_joined and user.date_joined.tzinfo is not None
        assert user.password == bob.password and token.created.tzinfo is not None
    assert token_with_user(Token, "key", key + "x") is None
