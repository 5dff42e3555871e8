"""Personal API tokens: several per user, named, shown once, listed, revoked.

A key is `mgl_` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored:
a leaked database does not leak usable keys, and a key cannot be shown again. A plain
hash is enough (no slow KDF) because the key is random, not a password.

Send it as `Authorization: Bearer mgl_…` (or `Token mgl_…`). A read-only token is refused
every unsafe method, whatever the user's role; an expired one is refused altogether.

Failed attempts are throttled like sign-ins: after API_TOKEN_FAILURE_LIMIT refused keys
(unknown, revoked, expired, of an inactive user; personal or legacy) from one address within
API_TOKEN_LOCKOUT_MINUTES, every token from that address, good or bad, answers 429 with
Retry-After until those minutes have passed. The counts live in Django's cache, which app
servers share when CACHE_URL is set. A good token does not reset the count: otherwise a
holder of one token could interleave it with guesses and never be stopped.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    TokenAuthentication,
    get_authorization_header,
)
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from core.rows import Layout, fetch, quoter, selected
from sources.sharing.models import ApiToken

PREFIX = "mgl_"
SHOWN_PREFIX = 8  # characters of the key kept to tell tokens apart: "mgl_AbCd"
MAX_TOKENS_PER_USER = 50
EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]
LAST_USED_GRANULARITY = timedelta(minutes=1)  # at most one write per token per minute


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created", "-pk")


def create_token(
    user, *, name: str, read_only: bool = False, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token and its key: the key is returned this once and never stored."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    if len(name) > 100:
        raise ValidationError({"name": "A token's name is at most 100 characters."})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError({"expires": "A token expires in 1 to 3,650 days, or never."})
    if tokens_of(user).filter(name=name).exists():
        raise ValidationError({"name": f"You already have a token called “{name}”."})
    if tokens_of(user).count() >= MAX_TOKENS_PER_USER:
        raise ValidationError({"name": f"At most {MAX_TOKENS_PER_USER} tokens: revoke some."})
    key = PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user=user,
        name=name,
        prefix=key[:SHOWN_PREFIX],
        key_hash=hash_key(key),
        read_only=read_only,
        expires=expires,
    )
    try:
        with transaction.atomic():
            token.save()
    except IntegrityError:  # the same name saved a moment ago from another tab
        raise ValidationError({"name": f"You already have a token called “{name}”."}) from None
    return token, key


def revoke_token(user, pk: int) -> ApiToken:
    """Delete one of the user's tokens; anyone else's is a 404."""
    token = tokens_of(user).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token.")
    token.delete()
    return token


def is_expired(token: ApiToken) -> bool:
    return token.expires is not None and token.expires <= timezone.now()


class ApiTokenAuthentication(BaseAuthentication):
    """DRF authentication by personal token. Keys without the `mgl_` prefix are left to
    the next authentication class (DRF's single legacy token per user)."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: give one key.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        if not key.startswith(PREFIX):
            return None
        with throttled(request):
            token = self.token_for(key)
        if token.read_only and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied("This token is read-only: it cannot change data.")
        return token.user, token

    def token_for(self, key: str) -> ApiToken:
        token = token_with_user(ApiToken, "key_hash", hash_key(key))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if is_expired(token):
            raise exceptions.AuthenticationFailed("This token has expired; create a new one.")
        touch(token)
        return token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class LegacyTokenAuthentication(TokenAuthentication):
    """DRF's one token per user (`Authorization: Token <key>`), looked up as personal
    tokens are: in one hand-written statement with its user; throttled as they are."""

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        with throttled(request):
            return super().authenticate(request)

    def authenticate_credentials(self, key: str):
        token = token_with_user(self.get_model(), "key", key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token


# --- Throttling failed attempts ------------------------------------------------------------


@contextmanager
def throttled(request: Request) -> Iterator[None]:
    """Around one token check: 429 while the client's address is locked out, and a refused
    key counted against it (AuthenticationFailed passes through)."""
    address = client_address(request)
    refuse_if_locked(address)
    try:
        yield
    except exceptions.AuthenticationFailed:
        record_failure(address)
        raise


def client_address(request: Request) -> str:
    """The address sign-ins are throttled by (django-axes' rule: behind the TLS proxy, the
    last X-Forwarded-For entry)."""
    return get_client_ip_address(request) or "unknown"


def _lock_key(address: str) -> str:
    return f"api-token-lock:{hash_key(address)}"


def _failures_key(address: str) -> str:
    return f"api-token-failures:{hash_key(address)}"


def _window() -> int:
    return settings.API_TOKEN_LOCKOUT_MINUTES * 60


def refuse_if_locked(address: str) -> None:
    until = cache.get(_lock_key(address))
    if until is None:
        return
    wait = max(1, math.ceil(until - time.time()))
    raise exceptions.Throttled(
        wait=wait,
        detail=f"Too many refused API tokens from your address; try again in {wait} seconds.",
    )


def record_failure(address: str) -> None:
    """Count a refused key; at API_TOKEN_FAILURE_LIMIT within the window, lock the address
    for the window (counted from now, and not extended by the refusals that follow)."""
    key, window = _failures_key(address), _window()
    cache.add(key, 0, timeout=window)  # the window opens with the first failure
    try:
        failures = cache.incr(key)
    except ValueError:  # the window closed between the two calls
        cache.set(key, failures := 1, timeout=window)
    if failures >= settings.API_TOKEN_FAILURE_LIMIT:
        cache.set(_lock_key(address), time.time() + window, timeout=window)
        cache.delete(key)


def token_with_user(model: type[Model], key_field: str, key: str) -> Model | None:
    """The token of `model` whose `key_field` is `key`, with its user, in one statement
    (`core.rows`: the ORM's `select_related(...).get()` cost 0.3 ms of every request)."""
    using = router.db_for_read(model)
    rows = fetch(using, _token_sql(model, key_field, using), [key])
    if not rows:
        return None
    token, token.user = _token_layout(model, using).instances(rows[0])
    return token


@functools.cache
def _token_layout(model: type[Model], using: str) -> Layout:
    return Layout(selected(model, "k", using=using), selected(get_user_model(), "u", using=using))


@functools.cache
def _token_sql(model: type[Model], key_field: str, using: str) -> str:
    q, user = quoter(using), get_user_model()
    return (
        f"SELECT {_token_layout(model, using).columns} FROM {q(model)} k "
        f"JOIN {q(user)} u ON u.{q(user, 'id')} = k.{q(model, 'user')} "
        f"WHERE k.{q(model, key_field)} = %s"
    )


def touch(token: ApiToken) -> None:
    """Record when the token was last used, at most once a minute (reads stay cheap)."""
    now = timezone.now()
    if token.last_used is None or now - token.last_used > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema, so that /api/docs/ offers "Authorize"."""

    target_class = "sources.sharing.tokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from Account → API tokens: `Bearer mgl_…`.",
        }
