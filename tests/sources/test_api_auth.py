from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sources.models import Source
from tests.factories import PASSWORD


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
