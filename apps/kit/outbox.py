"""The transactional outbox.

A change and the events it causes are written in one transaction (`record`).
A relay, one replica at a time, then publishes committed events: in one
transaction it takes the waiting events, numbers them from the outbox counter
and moves them into one page (`outbox_pages`, ADR 0021). Consumers read them in
that order from `GET /v1/events?after=N` and remember the last number they
processed. Delivery is at least once; consumers dedupe by event id."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import pymongo
from beanie import Document
from fastapi import APIRouter, Depends, Query
from pydantic import Field
from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from apps.kit.app import AppKit, BackgroundLoop
from apps.kit.bounds import Seq
from apps.kit.clock import utcnow
from apps.kit.database import in_transaction
from apps.kit.documents import KeyedDocument, insert_fast
from apps.kit.events import Event, EventPage
from apps.kit.ids import new_id
from apps.kit.leases import Lease, hold_lease
from apps.kit.metrics import counter, gauge
from apps.kit.security import Principal, Role, require_roles_or_scopes
from apps.kit.tracing import inject_trace_headers

log = logging.getLogger("glosleep.kit.outbox")

BACKLOG = gauge("outbox_backlog", "Committed events not yet given a sequence number.")
PUBLISHED = counter("outbox_events", "Events published through the outbox, by type.", ["type"])
RELAY_BATCH = 500
# After a pass that found nothing, the relay looks again only this much later, unless
# this process has recorded an event within it (events of other replicas, or of a
# commit later than that, wait up to this long; consumers poll every second anyway).
QUIET_SECONDS = 1.0
FILTERED_SPAN = 5000


@dataclass
class _Pace:
    recorded_at: float = -math.inf  # this process's last `record` (monotonic)
    looked_at: float = -math.inf  # the start of the relay's last look at the outbox
    found: bool = True  # whether that look published anything


_pace = _Pace()


class OutboxEvent(KeyedDocument):
    """An event waiting for the relay; the relay numbers it as it moves it into a page."""

    id: str = Field(default_factory=lambda: new_id("evt"))
    type: str
    source: str
    occurred_at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any]
    traceparent: str | None = None

    class Settings:
        name = "outbox"


class OutboxPage(Document):
    """The events one relay pass published, numbered `_id` (the first) to `last`
    in the order they are listed."""

    id: int  # type: ignore[assignment]  # Beanie declares `id` as an optional ObjectId
    last: int
    events: list[dict[str, Any]]

    class Settings:
        name = "outbox_pages"
        indexes = [IndexModel([("last", pymongo.ASCENDING)], name="last")]


class OutboxCounter(KeyedDocument):
    id: str
    value: int = 0

    class Settings:
        name = "outbox_counters"


OUTBOX_DOCUMENTS: list[type[Document]] = [OutboxEvent, OutboxPage, OutboxCounter, Lease]


async def record(
    session: AsyncClientSession | None, source: str, event_type: str, data: dict[str, Any]
) -> OutboxEvent:
    """Write an event in the caller's transaction (pass its session)."""
    _pace.recorded_at = time.monotonic()
    headers: dict[str, str] = {}
    inject_trace_headers(headers)
    event = OutboxEvent(
        type=event_type, source=source, data=data, traceparent=headers.get("traceparent")
    )
    await insert_fast(event, session)
    return event


async def publish_waiting(
    database: AsyncDatabase[dict[str, Any]], session: AsyncClientSession
) -> list[dict[str, Any]]:
    """Number the waiting events of `database`'s outbox and move them into one
    page, in the caller's transaction: relays that overlap (a stale lease) both
    write the counter, so one of them is retried after the other's commit and
    finds the events gone. Pages therefore commit in the order of their numbers,
    and a reader never sees seq n+1 before n."""
    pending = (
        await database[OutboxEvent.Settings.name]
        .find({}, session=session)
        .sort("_id", 1)
        .limit(RELAY_BATCH)
        .to_list()
    )
    if not pending:
        return []
    counter_doc = await database[OutboxCounter.Settings.name].find_one_and_update(
        {"_id": "outbox"},
        {"$inc": {"value": len(pending)}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert counter_doc is not None  # upserted
    first = int(counter_doc["value"]) - len(pending) + 1
    for offset, event in enumerate(pending):
        event["seq"] = first + offset
    [page] = pages_of(pending)  # consecutive numbers, at most a batch: one page
    await _move_into_page(database, page, session)
    return pending


async def _move_into_page(
    database: AsyncDatabase[dict[str, Any]], page: dict[str, Any], session: AsyncClientSession
) -> None:
    """Store the page and take its events out of the outbox, in the caller's transaction."""
    await database[OutboxPage.Settings.name].insert_one(page, session=session)
    ids = [event["_id"] for event in page["events"]]
    await database[OutboxEvent.Settings.name].delete_many({"_id": {"$in": ids}}, session=session)


async def relay_once(_: AppKit | None) -> None:
    """Publish committed events in commit-visible order (one relay at a time):
    one page per pass, four writes whatever the number of events."""
    now = time.monotonic()
    quiet = not _pace.found and now - _pace.recorded_at > QUIET_SECONDS
    if quiet and now - _pace.looked_at < QUIET_SECONDS:
        return
    if not await hold_lease("outbox-relay", ttl_seconds=15):
        # The lease holder reports the backlog; 0 here keeps a replica that lost
        # the lease from showing a stale value (alerts take the max).
        BACKLOG.set(0)
        return
    events = OutboxEvent.get_pymongo_collection()
    _pace.looked_at = now
    published = await in_transaction(
        events.database.client, lambda session: publish_waiting(events.database, session)
    )
    _pace.found = bool(published)
    for event in published:
        PUBLISHED.labels(event["type"]).inc()
    # Everything seen is published now, unless the batch was full.
    full = len(published) == RELAY_BATCH
    BACKLOG.set(await events.count_documents({}) if full else 0)


def _event(document: dict[str, Any]) -> Event:
    return Event(
        id=document["_id"],
        seq=document["seq"],
        type=document["type"],
        source=document["source"],
        occurred_at=document["occurred_at"],
        data=document["data"],
        traceparent=document.get("traceparent"),
    )


async def published_events(
    after: int,
    limit: int,
    *,
    types: Collection[str] | None = None,
    since: datetime | None = None,
) -> list[Event]:
    """Up to `limit` published events numbered after `after`, in order; only
    those of `types` and those that occurred at `since` or later, when given.

    Numbers are read a bounded range at a time, up to the last number taken:
    for an open range the embedded database reads every match after `after`
    before applying a limit, so a page from far behind (a rebuild from 0) cost
    seconds at 60k events and a rebuild grew with the square of the events."""
    counter = await OutboxCounter.get_pymongo_collection().find_one({"_id": "outbox"})
    last = int(counter["value"]) if counter else 0
    # Numbers are dense (a gap only where a relay lost a race): a range of `limit`
    # numbers holds up to `limit` events, and a filtered read takes wider ranges.
    span = limit if types is None and since is None else max(limit, FILTERED_SPAN)
    found: list[Event] = []
    low = after
    while len(found) < limit and low < last:
        high = min(last, low + span)
        found += await _published_between(low, high, types, since)
        low = high
    return found[:limit]


async def _published_between(
    low: int, high: int, types: Collection[str] | None, since: datetime | None
) -> list[Event]:
    """The published events numbered in (low, high], in order, filtered."""
    # A page holds at most RELAY_BATCH numbers, so one that starts by `high` ends
    # before high + RELAY_BATCH: the read is a bounded range of the `last` index (the
    # embedded database scans the whole collection for a range of _id).
    pages = (
        await OutboxPage.get_pymongo_collection()
        .find({"last": {"$gt": low, "$lt": high + RELAY_BATCH}, "_id": {"$lte": high}})
        .sort("last", 1)
        .to_list()
    )
    return [
        _event(document)
        for page in pages
        for document in page["events"]
        if low < document["seq"] <= high
        and (types is None or document["type"] in types)
        and (since is None or document["occurred_at"] >= since)
    ]


# The indexes of the events the relay numbered in place before pages existed.
_NUMBERED_IN_PLACE_INDEXES = ("seq_unique", "unnumbered")
_INDEX_NOT_FOUND = 27


def pages_of(numbered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Numbered events as the relay publishes them: runs of consecutive numbers, at
    most a relay batch a page (the feed finds a page by the range its numbers span),
    each page numbered by its first event."""
    found: list[dict[str, Any]] = []
    for event in sorted(numbered, key=lambda event: int(event["seq"])):
        page = found[-1] if found else None
        if page and page["last"] == event["seq"] - 1 and len(page["events"]) < RELAY_BATCH:
            page["events"].append(event)
            page["last"] = event["seq"]
        else:
            found.append({"_id": event["seq"], "last": event["seq"], "events": [event]})
    return found


async def page_events_numbered_in_place(_: AppKit | None) -> None:
    """Events the relay numbered in place before pages existed (ADR 0021) move into
    pages, as the relay would have paged them, before the service serves its feed
    (ADR 0028): from then on the feed reads pages alone and the outbox holds only
    waiting events, with no index of numbers to keep. Each page moves in its own
    transaction; replicas starting together move each page once."""
    events = OutboxEvent.get_pymongo_collection()
    # Read whole: the outbox holds only waiting events, and the numbered ones left.
    numbered = [
        document
        for document in await events.find({}).to_list()
        if isinstance(document.get("seq"), int)
    ]
    for page in pages_of(numbered):

        async def move(session: AsyncClientSession, page: dict[str, Any] = page) -> None:
            ids = [event["_id"] for event in page["events"]]
            if await events.count_documents({"_id": {"$in": ids}}, session=session) < len(ids):
                return  # another replica moved them
            await _move_into_page(events.database, page, session)

        await in_transaction(events.database.client, move)
    if numbered:
        log.info("events numbered in place moved into pages", extra={"events": len(numbered)})
    for name in _NUMBERED_IN_PLACE_INDEXES:
        try:
            await events.drop_index(name)
        except OperationFailure as error:
            if error.code != _INDEX_NOT_FOUND:  # gone already, or never made
                raise


OUTBOX_RELAY = BackgroundLoop(
    "outbox-relay", relay_once, interval_seconds=0.25, prepare=page_events_numbered_in_place
)

EventReader = Annotated[Principal, Depends(require_roles_or_scopes([Role.ADMIN], ["events:read"]))]


def events_router() -> APIRouter:
    router = APIRouter(prefix="/v1/events", tags=["events"])

    @router.get("", response_model=EventPage, summary="Published events after a sequence number")
    async def list_events(
        _: EventReader,
        after: Annotated[Seq, Query()] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        event_type: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    ) -> EventPage:
        types = [event_type] if event_type else None
        events = await published_events(after, limit, types=types)
        return EventPage(events=events, next_after=events[-1].seq if events else after)

    return router
