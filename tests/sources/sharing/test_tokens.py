"""Personal API tokens: created (shown once), listed, used, revoked (sources/sharing/tokens.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from sources.models import Source
from sources.sharing import tokens
from sources.sharing.models import ApiToken


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_token_is_stored_only_as_its_hash(alice):
    token, key = tokens.create_token(alice, name="laptop")
    assert key.startswith("mgl_") and len(key) > 40
    assert token.key_hash == tokens.hash_key(key)
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert token.prefix == key[:8]


def test_a_user_has_several_named_tokens(alice):
    tokens.create_token(alice, name="laptop")
    tokens.create_token(alice, name="Zotero sync")
    assert [t.name for t in tokens.tokens_of(alice)] == ["Zotero sync", "laptop"]


@pytest.mark.parametrize(("name", "message"), [("  ", "Name the token"), ("x" * 101, "at most")])
def test_a_bad_name_is_refused_by_field(alice, name, message):
    with pytest.raises(ValidationError) as caught:
        tokens.create_token(alice, name=name)
    assert message in caught.value.message_dict["name"][0]


def test_two_tokens_cannot_share_a_name(alice):
    tokens.create_token(alice, name="laptop")
    with pytest.raises(ValidationError, match="already have a token"):
        tokens.create_token(alice, name="laptop")


def test_a_token_authenticates_api_writes(library, bob):
    _, key = tokens.create_token(bob, name="script")
    response = bearer(key).post(
        "/api/sources/", {"library": library.slug, "title": "Cable"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Source.objects.get().created_by == bob


def test_the_token_keyword_works_too(library, bob):
    _, key = tokens.create_token(bob, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/sources/").status_code == 200


def test_a_read_only_token_reads_but_cannot_write(library, source, bob):
    _, key = tokens.create_token(bob, name="reader", read_only=True)
    assert bearer(key).get(f"/api/sources/{source.pk}/").status_code == 200
    response = bearer(key).patch(f"/api/sources/{source.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    source.refresh_from_db()
    assert source.title != "x"


def test_a_revoked_token_stops_working(library, alice):
    token, key = tokens.create_token(alice, name="old")
    tokens.revoke_token(alice, token.pk)
    response = bearer(key).get("/api/sources/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused_with_the_reason(library, alice):
    token, key = tokens.create_token(alice, name="short", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    response = bearer(key).get("/api/sources/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_deactivated_users_token_is_refused(library, alice):
    _, key = tokens.create_token(alice, name="laptop")
    alice.is_active = False
    alice.save()
    assert bearer(key).get("/api/sources/").status_code == 401


def test_a_made_up_key_is_refused(library):
    assert bearer("mgl_" + "A" * 43).get("/api/sources/").status_code == 401


def test_use_is_recorded_at_most_once_a_minute(library, alice):
    token, key = tokens.create_token(alice, name="laptop")
    bearer(key).get("/api/sources/")
    token.refresh_from_db()
    first = token.last_used
    assert first is not None
    bearer(key).get("/api/sources/")
    token.refresh_from_db()
    assert token.last_used == first


def test_nobody_revokes_someone_elses_token(alice, mallory):
    token, _ = tokens.create_token(alice, name="laptop")
    from django.http import Http404

    with pytest.raises(Http404):
        tokens.revoke_token(mallory, token.pk)
    assert ApiToken.objects.filter(pk=token.pk).exists()


# --- The page ------------------------------------------------------------------------------------


def test_the_page_creates_a_token_and_shows_its_key_once(as_user, alice):
    response = as_user(alice).post(reverse("token-list"), {"name": "laptop", "expires": "30"})
    assert response.status_code == 201
    key = response.context["key"]
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    listing = as_user(alice).get(reverse("token-list")).content.decode()
    assert "laptop" in listing and key not in listing and key[:8] in listing


def test_an_invalid_token_form_answers_400_naming_the_field(as_user, alice):
    response = as_user(alice).post(reverse("token-list"), {"name": "", "expires": "9"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "expires"}
    assert not ApiToken.objects.exists()


def test_the_page_revokes_a_token(as_user, alice):
    token, _ = tokens.create_token(alice, name="laptop")
    response = as_user(alice).post(reverse("token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_revoking_by_get_is_refused(as_user, alice):
    token, _ = tokens.create_token(alice, name="laptop")
    assert as_user(alice).get(reverse("token-revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_another_users_token_is_a_404(as_user, alice, mallory):
    token, _ = tokens.create_token(alice, name="alice's archive sync")
    assert as_user(mallory).post(reverse("token-revoke", args=[token.pk])).status_code == 404
    page = as_user(mallory).get(reverse("token-list")).content.decode()
    assert "archive sync" not in page and token.prefix not in page


def test_tokens_need_an_account(as_user, db):
    response = as_user(None).get(reverse("token-list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
