"""Access tokens (signed JWTs) and refresh tokens (opaque, rotated, with reuse
detection)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.auth.keys import KeyStore
from apps.auth.models import RefreshToken, User
from apps.auth.revocations import record_session_revoked, record_user_revoked
from apps.kit.clock import utcnow
from apps.kit.ids import new_id
from apps.kit.problems import Unauthorized
from apps.kit.security import (
    SIGNING_ALGORITHM,
    Principal,
    decode_access_token,
    principal_from_claims,
    token_kid,
)


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    expires_in: int


class AccessTokens:
    def __init__(self, keys: KeyStore, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds

    async def issue(self, subject: str, claims: dict[str, Any]) -> IssuedAccessToken:
        key = await self._keys.active()
        now = utcnow()
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            # Sub-second, as RFC 7519 allows: a user's revocation voids the tokens issued
            # before its moment, and a whole-second iat could not tell a token issued
            # just after a reactivation from one issued just before the deactivation.
            "iat": now.timestamp(),
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
            "jti": secrets.token_hex(12),
            **claims,
        }
        token = jwt.encode(payload, key.private_key, SIGNING_ALGORITHM, headers={"kid": key.kid})
        return IssuedAccessToken(token, self.ttl_seconds)

    async def for_user(self, user: User, session_id: str) -> IssuedAccessToken:
        """`session_id` (the `sid` claim) is the refresh-token family the access token
        belongs to: revoking that session voids it at every service."""
        claims: dict[str, Any] = {
            "kind": "user",
            "roles": user.roles,
            "email": user.email,
            "sid": session_id,
        }
        if user.distributor_id:
            claims["distributor_id"] = user.distributor_id
        return await self.issue(user.id, claims)

    async def for_service(self, client_id: str, scopes: list[str]) -> IssuedAccessToken:
        return await self.issue(client_id, {"kind": "service", "scope": " ".join(scopes)})


class LocalTokenVerifier:
    """The auth service verifies its own tokens against its key store."""

    def __init__(self, keys: KeyStore, *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    async def verify(self, token: str) -> Principal:
        key = await self._keys.public_key(token_kid(token))
        if key is None:
            raise Unauthorized("The access token is signed by an unknown key.")
        claims = decode_access_token(token, key, issuer=self._issuer, audience=self._audience)
        return principal_from_claims(claims)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedRefreshToken:
    token: str
    expires_in: int
    family_id: str


class ReusedRefreshToken(Exception):
    """A rotated refresh token came back: its family has been revoked."""

    def __init__(self, user_id: str) -> None:
        super().__init__("refresh token reuse")
        self.user_id = user_id


class RefreshTokens:
    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds

    async def issue(self, user_id: str, family_id: str | None = None) -> IssuedRefreshToken:
        token = secrets.token_urlsafe(32)
        family = family_id or new_id("fam")
        await RefreshToken(
            token_hash=_digest(token),
            family_id=family,
            user_id=user_id,
            expires_at=utcnow() + timedelta(seconds=self.ttl_seconds),
        ).insert()
        return IssuedRefreshToken(token, self.ttl_seconds, family)

    async def rotate(self, token: str) -> tuple[str, IssuedRefreshToken]:
        """Use a refresh token once: answers its user and a new token of the same
        family. A second use of the same token revokes the family."""
        now = utcnow()
        collection = RefreshToken.get_pymongo_collection()
        claimed = await collection.find_one_and_update(
            {
                "token_hash": _digest(token),
                "used_at": None,
                "revoked_at": None,
                "expires_at": {"$gt": now},
            },
            {"$set": {"used_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if claimed is None:
            known = await RefreshToken.find_one({"token_hash": _digest(token)})
            if known is not None and known.used_at is not None and known.revoked_at is None:
                await self.revoke_family(known.family_id, known.user_id, "refresh_token_reuse")
                raise ReusedRefreshToken(known.user_id)
            raise Unauthorized("The refresh token is not valid.")
        fresh = await self.issue(claimed["user_id"], claimed["family_id"])
        return str(claimed["user_id"]), fresh

    async def revoke(self, token: str) -> str | None:
        """Logout: revoke the token's family; answers its user, if any."""
        known = await RefreshToken.find_one({"token_hash": _digest(token)})
        if known is None:
            return None
        await self.revoke_family(known.family_id, known.user_id, "logout")
        return known.user_id

    async def revoke_family(self, family_id: str, user_id: str, reason: str) -> None:
        """End one session: its refresh tokens here, its access tokens everywhere."""
        await RefreshToken.get_pymongo_collection().update_many(
            {"family_id": family_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}
        )
        await record_session_revoked(None, family_id, user_id, reason)

    async def revoke_user(
        self, user_id: str, reason: str, session: AsyncClientSession | None = None
    ) -> None:
        """End every session of a user: refresh tokens here, and every access token
        issued until now at every service."""
        await RefreshToken.get_pymongo_collection().update_many(
            {"user_id": user_id, "revoked_at": None},
            {"$set": {"revoked_at": utcnow()}},
            session=session,
        )
        await record_user_revoked(session, user_id, reason)
