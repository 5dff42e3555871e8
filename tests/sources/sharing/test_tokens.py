"""Personal API tokens: created (shown once), listed, used, revoked (sources/sharing/tokens.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from sources.models import Source
from sources.sharing import tokens
from sources.sharing.models import ApiToken


@pytest.fixture(autouse=True)
def _no_throttle_carried_over():
    """Refused tokens count against the address in the cache (the throttle): start clean,
    and leave nothing behind for the tests that follow."""
    cache.clear()
    yield
    cache.clear()


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


# --- Failed attempts are throttled per address ------------------------------------------------


def from_address(key: str, address: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


BAD_KEY = "mgl_" + "A" * 43


@pytest.fixture
def locked_out(settings, library, alice):
    """LOGIN-like limits of 3 refused keys in 15 minutes; 10.0.0.1 has used them up."""
    settings.API_TOKEN_FAILURE_LIMIT = 3
    settings.API_TOKEN_LOCKOUT_MINUTES = 15
    codes = [from_address(BAD_KEY, "10.0.0.1").get("/api/sources/").status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    return tokens.create_token(alice, name="laptop")[1]


def test_after_the_limit_even_a_good_token_from_that_address_gets_429(locked_out):
    for key in (BAD_KEY, locked_out):
        response = from_address(key, "10.0.0.1").get("/api/sources/")
        assert response.status_code == 429, response.content
        assert 899 <= int(response["Retry-After"]) <= 900
        assert "Too many refused API tokens" in response.json()["detail"]


def test_a_good_token_from_another_address_still_works(locked_out):
    assert from_address(locked_out, "10.0.0.2").get("/api/sources/").status_code == 200


def test_the_lock_lasts_the_window_and_then_passes(locked_out, monkeypatch):
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started + 600)  # the cache's clock too
    response = from_address(locked_out, "10.0.0.1").get("/api/sources/")
    assert response.status_code == 429 and 299 <= int(response["Retry-After"]) <= 300
    monkeypatch.setattr(time, "time", lambda: started + 901)
    assert from_address(locked_out, "10.0.0.1").get("/api/sources/").status_code == 200


def test_refusals_while_locked_do_not_extend_the_lock(locked_out):
    for _ in range(5):
        from_address(BAD_KEY, "10.0.0.1").get("/api/sources/")
    until = cache.get(tokens._lock_key("10.0.0.1"))
    assert until - time.time() <= 15 * 60


def test_legacy_drf_tokens_are_throttled_and_counted_alike(settings, library, alice):
    from rest_framework.authtoken.models import Token

    settings.API_TOKEN_FAILURE_LIMIT = 2
    good = Token.objects.create(user=alice).key
    assert from_address("not-a-key", "10.0.0.3", "Token").get("/api/sources/").status_code == 401
    assert from_address(BAD_KEY, "10.0.0.3", "Token").get("/api/sources/").status_code == 401
    response = from_address(good, "10.0.0.3", "Token").get("/api/sources/")
    assert response.status_code == 429 and "Retry-After" in response


def test_a_good_token_does_not_reset_the_count(settings, library, alice):
    """Else one valid token, sent between guesses, would keep an address from ever locking."""
    settings.API_TOKEN_FAILURE_LIMIT = 3
    _, key = tokens.create_token(alice, name="laptop")
    for _ in range(2):
        assert from_address(BAD_KEY, "10.0.0.4").get("/api/sources/").status_code == 401
        assert from_address(key, "10.0.0.4").get("/api/sources/").status_code == 200
    assert from_address(BAD_KEY, "10.0.0.4").get("/api/sources/").status_code == 401
    assert from_address(key, "10.0.0.4").get("/api/sources/").status_code == 429


def test_failures_are_counted_within_the_window_only(settings, library, alice):
    settings.API_TOKEN_FAILURE_LIMIT = 2
    _, key = tokens.create_token(alice, name="laptop")
    assert from_address(BAD_KEY, "10.0.0.5").get("/api/sources/").status_code == 401
    cache.delete(tokens._failures_key("10.0.0.5"))  # the window of the first one passed
    assert from_address(BAD_KEY, "10.0.0.5").get("/api/sources/").status_code == 401
    assert from_address(key, "10.0.0.5").get("/api/sources/").status_code == 200  # one in it
    assert from_address(BAD_KEY, "10.0.0.5").get("/api/sources/").status_code == 401
    assert from_address(key, "10.0.0.5").get("/api/sources/").status_code == 429


def test_requests_without_a_token_are_not_throttled(locked_out, alice):
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    assert client.get("/api/sources/").status_code == 200
    client.force_login(alice)
    assert client.get("/api/sources/").status_code == 200
