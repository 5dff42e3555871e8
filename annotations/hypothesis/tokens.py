"""Who is calling: grant tokens Marginalia mints, and the bearer tokens traded for them.

The client signs in against a service through "third-party accounts" (h's term): the page
that loads it passes `services[0].grantToken`, a JWT the service minted for its signed-in
user; the client trades it at `api/token` (`grant_type=urn:ietf:params:oauth:grant-type:
jwt-bearer`, RFC 7523) for an access token and a refresh token, and refreshes before the
access token expires. As in h (`services/oauth/_jwt_grant_token.py`): HS256, `iss` the
client's id, `aud` this service's host, `sub` the user id (`acct:name@authority`), `nbf` to
`exp` at most ten minutes.

Access and refresh tokens are Django-signed (`django.core.signing`, salted apart from the
grant): the user, the kind, and the user's session hash, so that changing one's password
ends every token, as it ends every session. The API accepts them as `Authorization:
Bearer`, never a session cookie (a sidebar in another site's page has none, and a cookie
would need CSRF checks).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import TYPE_CHECKING

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache

if TYPE_CHECKING:
    from django.http import HttpRequest

CLIENT_ID = "marginalia-hypothesis-client"
GRANT_SECONDS = 600  # h's limit for a grant token's life
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 7 * 24 * 3600
_SALT = "annotations.hypothesis.tokens"
_USERID = re.compile(r"^acct:([^@]+)@(.+)$")  # the client parses user ids so (note 9)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._+-]{1,150}$")


def authority() -> str:
    return settings.HYPOTHESIS_AUTHORITY


def userid(user) -> str:
    """`acct:<username>@<authority>`, or `acct:u<id>@…` for a name the client would misread."""
    name = user.get_username()
    shown = name if _SAFE_NAME.fullmatch(name) and not name.startswith("u:") else f"u:{user.pk}"
    return f"acct:{shown}@{authority()}"


def user_for_userid(value: str):
    """The user an `acct:` id names on this service, or None."""
    match = _USERID.fullmatch(value or "")
    if match is None or match[2] != authority():
        return None
    users = get_user_model().objects.filter(is_active=True)
    if match[1].startswith("u:") and match[1][2:].isdigit():
        return users.filter(pk=int(match[1][2:])).first()
    return users.filter(**{get_user_model().USERNAME_FIELD: match[1]}).first()


def _grant_key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"hypothesis grant token", hashlib.sha256
    ).digest()


def grant_token(user, request: HttpRequest) -> str:
    """A grant token for `user`, for the client loaded by a page of this service."""
    now = int(time.time())
    claims = {"iss": CLIENT_ID, "aud": request.get_host(), "sub": userid(user),
              "nbf": now, "exp": now + GRANT_SECONDS}  # fmt: skip
    return jwt.encode(claims, _grant_key(), algorithm="HS256")


def user_for_grant(assertion: str, request: HttpRequest):
    """The user a grant token names if it is ours, for this host, and current; else None."""
    try:
        claims = jwt.decode(
            assertion,
            _grant_key(),
            algorithms=["HS256"],
            audience=request.get_host(),
            issuer=CLIENT_ID,
            options={"require": ["iss", "aud", "sub", "nbf", "exp"]},
            leeway=10,
        )
    except jwt.PyJWTError:
        return None
    if claims["exp"] - claims["nbf"] > GRANT_SECONDS:
        return None
    return user_for_userid(claims["sub"])


def bearer_tokens(user) -> dict[str, object]:
    """What the token endpoint answers (RFC 6749 §5.1)."""
    return {
        "access_token": _sign(user, "access"),
        "token_type": "Bearer",
        "expires_in": ACCESS_SECONDS,
        "refresh_token": _sign(user, "refresh"),
    }


def _sign(user, kind: str) -> str:
    return signing.dumps([user.pk, kind, user.get_session_auth_hash()[:20]], salt=_SALT)


def user_for_token(token: str, kind: str = "access"):
    """The active user a bearer (or refresh) token of ours names, while it is valid."""
    seconds = ACCESS_SECONDS if kind == "access" else REFRESH_SECONDS
    try:
        pk, found_kind, fingerprint = signing.loads(token, salt=_SALT, max_age=seconds)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if found_kind != kind:
        return None
    user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    if user is None or not hmac.compare_digest(user.get_session_auth_hash()[:20], fingerprint):
        return None
    return user


# --- the authorization-code flow (the client's sign-in popup, RFC 6749 §4.1) -----------------

CODE_SECONDS = 600
_CODE_SALT = "annotations.hypothesis.code"


def authorization_code(user) -> str:
    """A code for the signed-in `user`, good once, for ten minutes."""
    return signing.dumps([user.pk, secrets.token_hex(8)], salt=_CODE_SALT)


def user_for_code(code: str):
    """The user a code names, the first time it is traded and while it is fresh."""
    try:
        pk, _nonce = signing.loads(code, salt=_CODE_SALT, max_age=CODE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    used = "hypothesis-code:" + hashlib.sha256(code.encode()).hexdigest()
    if not cache.add(used, True, CODE_SECONDS + 60):  # traded before
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()
