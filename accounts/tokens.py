"""Personal API tokens (issue 17): made and revoked on the account page, checked on
every API request that sends `Authorization: Bearer <key>` (or `Token <key>`).

Why not DRF's authtoken: it stores the key itself (whoever reads the table can
use every token) and allows one unnamed token a user. django-rest-knox hashes,
but its tokens are login sessions without names or a last-used time. What is
needed is small: 256 random bits from `secrets`, their SHA-256 stored (a unique
index serves the look-up), and DRF's own BaseAuthentication to check them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling

from accounts.models import ApiToken

KEY_PREFIX = "rdt_"
# A key is KEY_PREFIX and 43 URL-safe characters (32 random bytes).
KEY_LENGTH = len(KEY_PREFIX) + 43
SHOWN_PREFIX = 10
# last_used_at is written at most this often per token: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
KEYWORDS = ("bearer", "token")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_token(user, *, name: str) -> tuple[ApiToken, str]:
    """A new token of `user` named `name`, and its key (which is never stored)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, digest=digest(key), prefix=key[:SHOWN_PREFIX]
    )
    return token, key


def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke at once: the next request with its key is refused (401)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


class TokenThrottle(throttling.SimpleRateThrottle):
    """Requests made with one API token, at most API_TOKEN_RATE (e.g. 600/minute); others
    (anonymous, a browser's session) are not counted here."""

    scope = "token"

    def get_rate(self):
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer rdt_…`: the user whose live token it is, or a clear 401."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        parts = header.split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # another scheme (Basic): not ours to judge
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer <key>`: one key, no spaces."
            )
        key = parts[1]
        if len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX) or not key.isascii():
            raise exceptions.AuthenticationFailed(
                f"That is not a RareDerm API key (they are {KEY_LENGTH} characters "
                f"starting with {KEY_PREFIX})."
            )
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=digest(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="RareDerm API"'


class TokenScheme(OpenApiAuthenticationExtension):
    """The scheme in the OpenAPI schema (registered by being defined)."""

    target_class = "accounts.tokens.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (made on the account page, API tokens): "
            "`Authorization: Bearer rdt_…`.",
        }
