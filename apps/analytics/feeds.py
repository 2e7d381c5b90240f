"""The three event feeds analytics follows, and the rebuild: an empty read
model, then every event of every feed again from seq 0."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.client_session import AsyncClientSession

from apps.analytics.metrics import REBUILDS, UNREADABLE
from apps.analytics.models import READ_MODELS
from apps.analytics.projections import HANDLERS
from apps.analytics.sales_days import deferred_rollups
from apps.analytics.settings import AnalyticsSettings
from apps.kit.app import AppKit, BackgroundLoop
from apps.kit.consumer import ProcessedEvent, event_consumer, handle_event
from apps.kit.events import Event, EventPage

log = logging.getLogger("glosleep.analytics.feeds")

REPLAY_BATCH = 500

Handler = Callable[[Event, AsyncClientSession], Awaitable[None]]


def feed_urls(settings: AnalyticsSettings) -> dict[str, str]:
    return {
        "order": settings.order_url,
        "inventory": settings.inventory_url,
        "procurement": settings.procurement_url,
    }


def tolerant(source: str) -> Handler:
    """The source's handler; an event it cannot read is logged and skipped, so
    one malformed payload does not stop the feed."""
    handler = HANDLERS[source]

    async def handle(event: Event, session: AsyncClientSession) -> None:
        try:
            await handler(event, session)
        except (KeyError, TypeError, ValueError):
            UNREADABLE.labels(source).inc()
            log.exception("event skipped", extra={"event_id": event.id, "type": event.type})

    return handle


def consumers(settings: AnalyticsSettings) -> list[BackgroundLoop]:
    return [
        event_consumer(source, url, tolerant(source), interval=settings.consumer_interval_seconds)
        for source, url in feed_urls(settings).items()
    ]


_rebuilding = asyncio.Lock()


async def rebuild(kit: AppKit) -> dict[str, int]:
    """Empty the read models and replay every feed from seq 0. The live
    consumers keep running: every handler is idempotent and order-independent,
    so an event handled by both is the same as one handled once."""
    settings = kit.settings
    assert isinstance(settings, AnalyticsSettings)
    async with _rebuilding:
        for model in READ_MODELS:  # read models first, then the dedupe records
            await model.get_pymongo_collection().delete_many({})
        await ProcessedEvent.get_pymongo_collection().delete_many({})
        async with deferred_rollups():
            replayed = await _replay(kit, settings)
        REBUILDS.inc()
        return replayed


async def _replay(kit: AppKit, settings: AnalyticsSettings) -> dict[str, int]:
    """Every event of every feed, from seq 0, through the live handlers."""
    replayed = {}
    for source, url in feed_urls(settings).items():
        client = kit.client(source, url)
        handler = tolerant(source)
        after, count = 0, 0
        while True:
            page = EventPage.model_validate(
                await client.request(
                    "GET", "/v1/events", params={"after": after, "limit": REPLAY_BATCH}
                )
            )
            for event in page.events:
                await handle_event(kit, source, event, handler)
                count += 1
            if len(page.events) < REPLAY_BATCH:
                break
            after = page.next_after
        replayed[source] = count
    return replayed
