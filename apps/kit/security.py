"""Access tokens: verification against the auth service's keys, and the FastAPI
dependencies every route uses for authentication, roles, scopes and ownership."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import ECAlgorithm

from apps.kit.outbound import Http, Unreachable
from apps.kit.problems import Forbidden, ServiceUnavailable, Unauthorized

SIGNING_ALGORITHM = "ES256"
CLOCK_SKEW_SECONDS = 30


class Role(StrEnum):
    ADMIN = "admin"
    SALES = "sales"
    WAREHOUSE = "warehouse"
    PROCUREMENT = "procurement"
    ANALYST = "analyst"
    MANAGEMENT = "management"
    DISTRIBUTOR = "distributor"


STAFF_ROLES = frozenset(Role) - {Role.DISTRIBUTOR}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person (roles) or a service account (scopes)."""

    subject: str
    kind: str  # "user" or "service"
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    distributor_id: str | None = None
    email: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    kind = claims.get("kind")
    if kind not in {"user", "service"}:
        raise Unauthorized("The token is not an access token.")
    scope = claims.get("scope", "")
    return Principal(
        subject=str(claims["sub"]),
        kind=kind,
        roles=frozenset(str(r) for r in claims.get("roles", [])),
        scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        distributor_id=claims.get("distributor_id"),
        email=claims.get("email"),
        claims=claims,
    )


def decode_access_token(token: str, key: Any, *, issuer: str, audience: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[SIGNING_ALGORITHM],
            issuer=issuer,
            audience=audience,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired.") from None
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid.") from None
    return claims


def token_kid(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid.") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or header.get("alg") != SIGNING_ALGORITHM:
        raise Unauthorized("The access token is not valid.")
    return kid


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


class JwksTokenVerifier:
    """Verifies tokens against a JWKS endpoint: keys cached, refetched when the
    cache is old or a token names a key id not seen yet (key rotation).

    Fetches are single-flight and at most one per `MIN_REFRESH_INTERVAL`, whatever
    key ids tokens name, so forged kids cannot flood auth. Nothing holds a lock while
    waiting: tokens with known keys are verified at once (with the cached keys while a
    refresh of an old cache runs in the background); a token with an unknown kid
    waits for the next allowed fetch, shared with every other such token, and is
    then accepted (a key rotated a moment ago) or refused with 401."""

    MIN_REFRESH_INTERVAL = 1.0

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        cache_seconds: float,
        http: Http,
    ) -> None:
        self._url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._cache_seconds = cache_seconds
        self._http = http
        self._keys: dict[str, Any] = {}
        self._fetched_at = -math.inf  # last successful fetch
        self._attempted_at = -math.inf  # start of the last fetch
        self._refresh: asyncio.Task[None] | None = None

    async def _fetch(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            answer = await self._http.request("GET", self._url, timeout_seconds=5.0)
            if answer.status != 200:
                return  # keep serving with the keys we have, if any
            document = answer.json()
        except (Unreachable, ValueError):
            return
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "EC" and isinstance(jwk.get("kid"), str):
                keys[jwk["kid"]] = ECAlgorithm.from_jwk(json.dumps(jwk))
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def _fetch_after(self, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        await self._fetch()

    def _next_refresh(self) -> asyncio.Task[None]:
        """The refresh in flight, or a new one as soon as the interval allows."""
        if self._refresh is None or self._refresh.done():
            delay = self._attempted_at + self.MIN_REFRESH_INTERVAL - time.monotonic()
            self._refresh = asyncio.create_task(self._fetch_after(delay), name="jwks-refresh")
        return self._refresh

    async def _await_refresh(self) -> None:
        # Shielded: a caller that goes away does not cancel the others' fetch.
        await asyncio.shield(self._next_refresh())
        if not self._keys:
            raise ServiceUnavailable("The token signing keys cannot be fetched.")

    async def verify(self, token: str) -> Principal:
        kid = token_kid(token)
        if time.monotonic() - self._fetched_at >= self._cache_seconds:
            if self._keys:
                self._next_refresh()  # in the background; known keys keep working
            else:
                await self._await_refresh()
        key = self._keys.get(kid)
        if key is None:
            await self._await_refresh()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The access token is signed by an unknown key.")
        claims = decode_access_token(token, key, issuer=self._issuer, audience=self._audience)
        return principal_from_claims(claims)


# Declared through FastAPI's security class so every service's OpenAPI names the
# scheme (Authorize in /docs; generated clients send the token). It only reads the
# header: the token is verified below, on every request, and a missing or non-bearer
# header is our own 401 problem, not FastAPI's.
BEARER = HTTPBearer(
    scheme_name="BearerToken",
    bearerFormat="JWT",
    description="An access token from the auth service: `POST /v1/auth/login` for people, "
    "`POST /v1/oauth/token` (client credentials) for service accounts.",
    auto_error=False,
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


async def authenticated(request: Request, credentials: BearerCredentials) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    verifier: TokenVerifier = request.app.state.kit.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits people holding any of `roles` (admin always)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.is_service or not principal.has_any_role(allowed):
            raise Forbidden("Your role does not allow this action.")
        return principal

    return check


def require_scopes(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits service accounts holding every scope in `scopes`."""
    needed = frozenset(scopes)

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.is_service or not needed <= principal.scopes:
            raise Forbidden("This action is for service accounts with scope " + " ".join(needed))
        return principal

    return check


def require_roles_or_scopes(
    roles: Iterable[str], scopes: Iterable[str]
) -> Callable[[Principal], Awaitable[Principal]]:
    """People with one of `roles`, or services with all of `scopes`."""
    allowed_roles = frozenset(roles) | {Role.ADMIN}
    needed_scopes = frozenset(scopes)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.is_service:
            if needed_scopes and needed_scopes <= principal.scopes:
                return principal
        elif principal.has_any_role(allowed_roles):
            return principal
        raise Forbidden("You are not allowed to do this.")

    return check


def ensure_owner(principal: Principal, distributor_id: str | None) -> None:
    """The ownership hook: a distributor reaches only its own account's data."""
    if distributor_scope(principal) not in (None, distributor_id):
        raise Forbidden("This belongs to another distributor.")


def distributor_scope(principal: Principal) -> str | None:
    """The distributor a listing must be limited to, or None for staff and services."""
    if principal.is_service or principal.has_any_role(STAFF_ROLES):
        return None
    if principal.distributor_id is None:
        raise Forbidden("This account is not linked to a distributor.")
    return principal.distributor_id
