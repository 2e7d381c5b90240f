"""The auth service's parts, built once per process and shared by the routes."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from apps.auth.audit import audit
from apps.auth.keys import KeyCipher, KeyStore
from apps.auth.settings import AuthSettings
from apps.auth.throttle import Attempt, Limits, Rule, Throttle, Throttled
from apps.auth.tokens import AccessTokens, LocalTokenVerifier, RefreshTokens
from apps.kit.problems import TooManyRequests


class AuthParts:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        encryption_key = settings.key_encryption_key()
        self.keys = KeyStore(
            settings.auth_signing_key_dir,
            settings.access_token_ttl_seconds,
            KeyCipher(encryption_key) if encryption_key else None,
        )
        self.access_tokens = AccessTokens(
            self.keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.access_token_ttl_seconds,
        )
        self.refresh_tokens = RefreshTokens(settings.refresh_token_ttl_seconds)
        self.verifier = LocalTokenVerifier(
            self.keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        longest = max(settings.login_max_block_seconds, settings.login_window_seconds)
        self.throttle = Throttle(
            Limits(
                window_seconds=settings.login_window_seconds,
                per_pair=Rule(
                    settings.login_max_failures_per_account_address,
                    settings.login_first_block_seconds,
                    settings.login_max_block_seconds,
                ),
                per_address=Rule(
                    settings.login_max_failures_per_address, settings.login_window_seconds, longest
                ),
            )
        )


async def _parts(request: Request) -> AuthParts:
    parts: AuthParts = request.app.state.auth
    return parts


Auth = Annotated[AuthParts, Depends(_parts)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


THROTTLED_DETAIL = "Too many failed attempts; try again later."
# How the 429 is documented on every route that checks a secret.
THROTTLED = TooManyRequests(THROTTLED_DETAIL, retry_after_seconds=60)


async def admit_attempt(auth: AuthParts, kind: str, who: str, address: str) -> Attempt:
    """Count an attempt at `who`'s secret from `address`; 429 with Retry-After
    (and an audit entry `<kind>.throttled`) while that is throttled."""
    try:
        return await auth.throttle.admit(kind, who, address)
    except Throttled as throttled:
        await audit(f"{kind}.throttled", subject=who, address=address)
        raise TooManyRequests(
            THROTTLED_DETAIL, retry_after_seconds=throttled.retry_after_seconds
        ) from None


def hash_client_secret(secret: str) -> str:
    """Client secrets are 32+ random bytes made by the platform, so a plain
    SHA-256 is enough; people's passwords use argon2id."""
    return hashlib.sha256(secret.encode()).hexdigest()


def client_secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_client_secret(secret), secret_hash)
