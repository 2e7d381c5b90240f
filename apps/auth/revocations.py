"""Revocations auth publishes (apps/kit/revocation.py): recorded in the outbox with
the change that causes them, numbered by the outbox relay, and served as the public
revocation list every service follows."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit.bounds import Seq
from apps.kit.clock import utcnow
from apps.kit.events import Event
from apps.kit.outbox import published_events, record
from apps.kit.revocation import (
    RETENTION_SECONDS,
    SESSION_REVOKED,
    USER_SESSIONS_REVOKED,
    Revocation,
    RevocationPage,
    digest,
)

SOURCE = "auth"
PAGE_LIMIT = 500


async def record_user_revoked(
    session: AsyncClientSession | None, user_id: str, reason: str
) -> None:
    """Every token of `user_id` issued until now is void (deactivation, role or
    password change)."""
    data = {"user_id": user_id, "not_before": utcnow().isoformat(), "reason": reason}
    await record(session, SOURCE, USER_SESSIONS_REVOKED, data)


async def record_session_revoked(
    session: AsyncClientSession | None, session_id: str, user_id: str, reason: str
) -> None:
    """Every token of the session (refresh-token family) `session_id` is void."""
    data = {"session_id": session_id, "user_id": user_id, "reason": reason}
    await record(session, SOURCE, SESSION_REVOKED, data)


def _entry(event: Event) -> Revocation:
    if event.type == SESSION_REVOKED:
        return Revocation(
            seq=event.seq,
            kind="session",
            subject=digest("session", str(event.data["session_id"])),
            at=event.occurred_at,
        )
    return Revocation(
        seq=event.seq,
        kind="user",
        subject=digest("user", str(event.data["user_id"])),
        not_before=event.data["not_before"],
        at=event.occurred_at,
    )


async def revocation_page(after: int, limit: int = PAGE_LIMIT) -> RevocationPage:
    """Revocations numbered after `after` that can still void a live token."""
    found = await published_events(
        after,
        limit,
        types=[SESSION_REVOKED, USER_SESSIONS_REVOKED],
        since=utcnow() - timedelta(seconds=RETENTION_SECONDS),
    )
    entries = [_entry(event) for event in found]
    return RevocationPage(revocations=entries, next_after=entries[-1].seq if entries else after)


router = APIRouter(tags=["keys"])


@router.get(
    "/v1/revocations",
    response_model=RevocationPage,
    summary="Revoked sessions and users (public, subjects as SHA-256 digests)",
)
async def revocations(
    after: Annotated[Seq, Query()] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT)] = PAGE_LIMIT,
) -> RevocationPage:
    return await revocation_page(after, limit)
