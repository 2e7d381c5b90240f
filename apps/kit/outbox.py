"""The transactional outbox.

A change and the events it causes are written in one transaction (`record`).
A relay, one replica at a time, then gives committed events a sequence number;
consumers read them in that order from `GET /v1/events?after=N` and remember
the last number they processed. Delivery is at least once; consumers dedupe by
event id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pymongo
from beanie import Document
from fastapi import APIRouter, Depends, Query
from pydantic import Field
from pymongo import IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError

from apps.kit.app import AppKit, BackgroundLoop
from apps.kit.bounds import Seq
from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument, insert_fast
from apps.kit.events import Event, EventPage
from apps.kit.ids import new_id
from apps.kit.leases import Lease, hold_lease
from apps.kit.metrics import counter, gauge
from apps.kit.security import Principal, Role, require_roles_or_scopes
from apps.kit.tracing import inject_trace_headers

BACKLOG = gauge("outbox_backlog", "Committed events not yet given a sequence number.")
PUBLISHED = counter("outbox_events", "Events published through the outbox, by type.", ["type"])
RELAY_BATCH = 500
DUPLICATE_KEY = 11000


class OutboxEvent(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("evt"))
    type: str
    source: str
    occurred_at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any]
    traceparent: str | None = None
    seq: int | None = None

    class Settings:
        name = "outbox"
        indexes = [
            IndexModel(
                [("seq", pymongo.ASCENDING)],
                unique=True,
                partialFilterExpression={"seq": {"$type": "number"}},
                name="seq_unique",
            ),
            # The relay's "not numbered yet" query ({seq: null} by _id): without
            # it every relay pass scans the whole outbox (700 ms at 20k events).
            IndexModel([("seq", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)], name="unnumbered"),
        ]


class OutboxCounter(KeyedDocument):
    id: str
    value: int = 0

    class Settings:
        name = "outbox_counters"


OUTBOX_DOCUMENTS: list[type[Document]] = [OutboxEvent, OutboxCounter, Lease]


async def record(
    session: AsyncClientSession | None, source: str, event_type: str, data: dict[str, Any]
) -> OutboxEvent:
    """Write an event in the caller's transaction (pass its session)."""
    headers: dict[str, str] = {}
    inject_trace_headers(headers)
    event = OutboxEvent(
        type=event_type, source=source, data=data, traceparent=headers.get("traceparent")
    )
    await insert_fast(event, session)
    return event


async def relay_once(_: AppKit) -> None:
    """Number committed events in commit-visible order (one relay at a time)."""
    if not await hold_lease("outbox-relay", ttl_seconds=15):
        # The lease holder reports the backlog; 0 here keeps a replica that lost
        # the lease from showing a stale value (alerts take the max).
        BACKLOG.set(0)
        return
    collection = OutboxEvent.get_pymongo_collection()
    pending = (
        await collection.find({"seq": None}, {"_id": 1, "type": 1})
        .sort("_id", 1)
        .limit(RELAY_BATCH)
        .to_list()
    )
    if pending:
        counter_doc = await OutboxCounter.get_pymongo_collection().find_one_and_update(
            {"_id": "outbox"},
            {"$inc": {"value": len(pending)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter_doc is not None  # upserted
        first = int(counter_doc["value"]) - len(pending) + 1
        # By _id alone, so the database finds each event through the _id index (a
        # filter with seq as well made the embedded database scan the whole outbox);
        # $ifNull keeps the number of an event a stale relay numbered meanwhile, as the
        # old `seq: None` guard did by not matching it.
        numbering = [
            UpdateOne(
                {"_id": event["_id"]}, [{"$set": {"seq": {"$ifNull": ["$seq", first + offset]}}}]
            )
            for offset, event in enumerate(pending)
        ]
        numbered = len(pending)
        try:  # one round trip, applied in order: a reader never sees seq n+1 before n
            await collection.bulk_write(numbering, ordered=True)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            # A stale relay took that number a moment ago; the rest of the batch
            # stays unnumbered and gets new numbers on the next pass.
            numbered = int(errors[0]["index"])
        for event in pending[:numbered]:
            PUBLISHED.labels(event["type"]).inc()
    # Everything seen is numbered now, unless the batch was full.
    full = len(pending) == RELAY_BATCH
    BACKLOG.set(await collection.count_documents({"seq": None}) if full else 0)


OUTBOX_RELAY = BackgroundLoop("outbox-relay", relay_once, interval_seconds=0.25)

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
        query: dict[str, Any] = {"seq": {"$gt": after}}
        if event_type:
            query["type"] = event_type
        found = await OutboxEvent.find(query).sort("seq").limit(limit).to_list()
        events = [Event.model_validate(e.model_dump()) for e in found]
        return EventPage(events=events, next_after=events[-1].seq if events else after)

    return router
