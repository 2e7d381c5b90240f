"""Revoked sessions and users, known to every service within seconds (ADR 0003).

Auth records a revocation event in its outbox when a user is deactivated, loses a
role or changes their password (`user.sessions_revoked`: the user's tokens issued
before `not_before` are void) and when a session ends by logout or refresh-token
reuse (`session.revoked`: tokens carrying that `sid` are void). It publishes them as
a revocation list, `GET /v1/revocations?after=N` (like a CRL: public, subjects only
as SHA-256 digests, and only entries younger than the longest access-token life,
since older tokens have expired anyway).

Every service follows that list from memory (:class:`RevocationList`, filled by a
background loop every `REVOCATION_POLL_SECONDS`) and :class:`RevokingVerifier`
refuses a revoked token with 401 after its signature checks out. When the list
cannot be read, tokens are still verified with what is known (auth can be down
without stopping orders); what is missed then expires with the token."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from apps.kit.outbound import Http, Unreachable
from apps.kit.problems import Unauthorized
from apps.kit.security import Principal, TokenVerifier

log = logging.getLogger("glosleep.revocation")

# Auth issues access tokens for at most 15 minutes (its settings refuse more); with
# the clock skew verifiers allow, an entry older than this can void no token.
RETENTION_SECONDS = 900 + 120

SESSION_REVOKED = "session.revoked"
USER_SESSIONS_REVOKED = "user.sessions_revoked"


def digest(kind: Literal["user", "session"], identifier: str) -> str:
    """How a subject appears in the public list."""
    return hashlib.sha256(f"{kind}:{identifier}".encode()).hexdigest()


class Revocation(BaseModel):
    seq: int
    kind: Literal["user", "session"]
    subject: str  # digest(kind, id)
    # For users: their tokens issued before this moment are void.
    not_before: datetime | None = None
    at: datetime


class RevocationPage(BaseModel):
    revocations: list[Revocation]
    next_after: int


RevocationSource = Callable[[int], Awaitable[RevocationPage]]


class RevocationListUnreadable(Exception):
    """Auth's revocation list did not answer, or not with a page."""


def http_source(url: str, http: Http) -> RevocationSource:
    """Read auth's revocation list over HTTP."""

    async def fetch(after: int) -> RevocationPage:
        try:
            answer = await http.request("GET", url, params={"after": after}, timeout_seconds=5.0)
        except Unreachable as error:
            raise RevocationListUnreadable(error.reason) from error
        if answer.status != 200:
            raise RevocationListUnreadable(f"answered {answer.status}")
        return RevocationPage.model_validate_json(answer.content)

    return fetch


class RevocationList:
    """What this process knows is revoked, kept for RETENTION_SECONDS."""

    def __init__(self) -> None:
        self._users: dict[str, tuple[float, float]] = {}  # digest -> (not_before, at)
        self._sessions: dict[str, float] = {}  # digest -> at
        self.after = 0
        self.synced_at: float | None = None  # monotonic time of the last good read

    def apply(self, page: RevocationPage) -> None:
        for entry in page.revocations:
            at = entry.at.timestamp()
            if entry.kind == "session":
                self._sessions[entry.subject] = at
            elif entry.not_before is not None:
                known = self._users.get(entry.subject)
                not_before = entry.not_before.timestamp()
                if known is None or known[0] < not_before:
                    self._users[entry.subject] = (not_before, at)
        self.after = max(self.after, page.next_after)

    def _prune(self) -> None:
        oldest = time.time() - RETENTION_SECONDS
        self._sessions = {k: at for k, at in self._sessions.items() if at >= oldest}
        self._users = {k: v for k, v in self._users.items() if v[1] >= oldest}

    async def sync(self, source: RevocationSource) -> None:
        """Read everything new from `source` (pages until it is caught up)."""
        while True:
            page = await source(self.after)
            self.apply(page)
            if not page.revocations:
                break
        self._prune()
        self.synced_at = time.monotonic()

    def is_revoked(self, principal: Principal) -> bool:
        session = principal.claims.get("sid")
        if isinstance(session, str) and digest("session", session) in self._sessions:
            return True
        user = self._users.get(digest("user", principal.subject))
        if user is None:
            return False
        issued_at = principal.claims.get("iat")
        return not isinstance(issued_at, int | float) or issued_at <= user[0]


class RevokingVerifier:
    """A token verifier that also refuses revoked sessions and users."""

    def __init__(self, inner: TokenVerifier, revocations: RevocationList) -> None:
        self._inner = inner
        self._revocations = revocations

    async def verify(self, token: str) -> Principal:
        principal = await self._inner.verify(token)
        if self._revocations.is_revoked(principal):
            raise Unauthorized("The session of this access token has been revoked.")
        return principal
