"""Consuming another service's events: poll its feed from a stored cursor,
handle each event once (deduplicated by event id, in one transaction with the
handler's writes), move the cursor past each handled page, and export the lag per
source."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from beanie import Document
from opentelemetry.trace import SpanKind
from pydantic import Field
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.kit.app import AppKit, BackgroundLoop
from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument, insert_fast
from apps.kit.events import Event, EventPage
from apps.kit.leases import Lease, hold_lease
from apps.kit.metrics import counter, gauge
from apps.kit.tracing import span_from_headers

CONSUMED = counter("events_consumed", "Events handled, by source.", ["source"])
DUPLICATES = counter("events_duplicate", "Events delivered again and skipped.", ["source"])
LAG_SECONDS = gauge(
    "event_lag_seconds", "Age of the oldest event not yet handled (0 when caught up).", ["source"]
)

Handler = Callable[[Event, AsyncClientSession], Awaitable[None]]


class ProcessedEvent(KeyedDocument):
    id: str  # the event id
    source: str
    type: str
    processed_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "processed_events"


class ConsumerCursor(KeyedDocument):
    id: str  # the source
    after: int = 0
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "consumer_cursors"


CONSUMER_DOCUMENTS: list[type[Document]] = [ProcessedEvent, ConsumerCursor, Lease]


class _AlreadyProcessed(Exception):
    pass


async def handle_event(kit: AppKit, source: str, event: Event, handler: Handler) -> bool:
    """Handle one event exactly once per id; answers False for a duplicate."""

    async def work(session: AsyncClientSession) -> None:
        try:
            await insert_fast(ProcessedEvent(id=event.id, source=source, type=event.type), session)
        except DuplicateKeyError:
            raise _AlreadyProcessed from None
        await handler(event, session)

    headers = {"traceparent": event.traceparent} if event.traceparent else {}
    with span_from_headers(f"consume {event.type}", headers, SpanKind.CONSUMER):
        try:
            await kit.database.in_transaction(work)
        except _AlreadyProcessed:
            DUPLICATES.labels(source).inc()
            return False
    CONSUMED.labels(source).inc()
    return True


async def _advance(source: str, after: int) -> None:
    """Move the cursor past a handled page, never back. Once a page rather than
    once an event, which saves a write per event (a fifth of a consumer's database
    work): after a crash mid-page, its handled events come again and are skipped
    as duplicates."""
    await ConsumerCursor.get_pymongo_collection().update_one(
        {"_id": source},
        {"$max": {"after": after}, "$set": {"updated_at": utcnow()}},
        upsert=True,
    )


def event_consumer(
    source: str, base_url: str, handler: Handler, *, batch: int = 200, interval: float = 1.0
) -> BackgroundLoop:
    """A background loop that follows `source`'s event feed."""

    caught_up_at = utcnow()

    async def consume_once(kit: AppKit) -> None:
        nonlocal caught_up_at
        if not await hold_lease(f"consume-{source}", ttl_seconds=30):
            # The lease holder reports the lag; 0 here keeps a replica that lost
            # the lease from showing a stale value (alerts take the max).
            LAG_SECONDS.labels(source).set(0)
            return
        client = kit.client(source, base_url)
        while True:
            cursor = await ConsumerCursor.get(source) or ConsumerCursor(id=source)
            try:
                body = await client.request(
                    "GET", "/v1/events", params={"after": cursor.after, "limit": batch}
                )
            except Exception:
                # The feed cannot be read, so anything since the consumer was last
                # caught up may be waiting: report that as the lag, not a stale 0.
                LAG_SECONDS.labels(source).set((utcnow() - caught_up_at).total_seconds())
                raise
            page = EventPage.model_validate(body)
            if not page.events:
                caught_up_at = utcnow()
                LAG_SECONDS.labels(source).set(0)
                return
            LAG_SECONDS.labels(source).set(
                max(0.0, (utcnow() - page.events[0].occurred_at).total_seconds())
            )
            for event in page.events:
                await handle_event(kit, source, event, handler)
            await _advance(source, page.events[-1].seq)
            if len(page.events) < batch:
                caught_up_at = utcnow()
                LAG_SECONDS.labels(source).set(0)
                return

    return BackgroundLoop(f"consume-{source}", consume_once, interval_seconds=interval)
