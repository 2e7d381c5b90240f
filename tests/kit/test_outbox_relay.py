"""The outbox relay publishes committed events once each, numbered in order with no
gaps, with a fixed number of writes per pass (one page, not one write per event);
relays that overlap never publish an event twice, and a reader never sees a number
before a lower one. Events numbered in place before pages existed move into pages at
start-up and are served from there.
The feed reads bounded ranges of numbers, however far behind its reader is."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Container
from datetime import timedelta
from typing import Any

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient, MongoClient
from pymongo.collection import Collection

from apps.kit import outbox as outbox_module
from apps.kit.clock import utcnow
from apps.kit.database import in_transaction
from apps.kit.outbox import (
    OUTBOX_DOCUMENTS,
    OutboxEvent,
    OutboxPage,
    _Pace,
    page_events_numbered_in_place,
    publish_waiting,
    published_events,
    record,
    relay_once,
)
from tests.support.queries import Document, profiled


@pytest.fixture
async def outbox(mongo_url: str) -> AsyncIterator[str]:
    name = f"relay{secrets.token_hex(4)}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    await init_beanie(database=client[name], document_models=OUTBOX_DOCUMENTS)
    yield name
    await client.drop_database(name)
    await client.close()


async def test_events_are_published_once_in_order_with_a_write_per_collection(
    outbox: str, mongo_url: str
) -> None:
    recorded = [await record(None, "test", "thing.happened", {"n": n}) for n in range(5)]
    sync: MongoClient[Document]
    with MongoClient(mongo_url) as sync, profiled([sync[outbox]]):
        await relay_once(None)
        profile: Collection[Document] = sync[outbox]["system.profile"]
        commands = [entry["command"] for entry in profile.find()]
    writes = [
        (name, command[name])
        for command in commands
        for name in [next(iter(command))]
        if name in {"insert", "update", "delete", "findAndModify"} and command[name] != "leases"
    ]
    events = await published_events(0, 100)
    assert [event.id for event in events] == sorted(event.id for event in recorded)
    assert [event.seq for event in events] == [1, 2, 3, 4, 5]
    assert [event.data["n"] for event in events] == sorted(range(5), key=lambda n: recorded[n].id)
    assert await OutboxEvent.get_pymongo_collection().count_documents({}) == 0
    # The counter, the page, the removal: not one write per event.
    assert sorted(writes) == [
        ("delete", "outbox"),
        ("findAndModify", "outbox_counters"),
        ("insert", "outbox_pages"),
    ], writes

    await relay_once(None)  # nothing left: nothing changes
    assert [event.seq for event in await published_events(0, 100)] == [1, 2, 3, 4, 5]
    more = await record(None, "test", "thing.happened", {"n": 5})
    await relay_once(None)
    assert [(event.id, event.seq) for event in await published_events(5, 100)] == [(more.id, 6)]
    assert [event.seq for event in await published_events(2, 2)] == [3, 4]


async def test_overlapping_relays_publish_each_event_once(outbox: str) -> None:
    for n in range(30):
        await record(None, "test", "thing.happened", {"n": n})
    database = OutboxEvent.get_pymongo_collection().database
    # Two relays at once (a lease that expired under a slow pass): their counter
    # writes conflict, so one of them runs again after the other's commit.
    runs = await asyncio.gather(
        *(
            in_transaction(database.client, lambda session: publish_waiting(database, session))
            for _ in range(2)
        )
    )
    assert sorted(len(run) for run in runs) == [0, 30]
    events = await published_events(0, 100)
    assert [event.seq for event in events] == list(range(1, 31))
    assert len({event.id for event in events}) == 30
    assert await OutboxPage.get_pymongo_collection().count_documents({}) == 1


async def _numbered_in_place(seqs: list[int], stale: Container[int] = ()) -> list[str]:
    """Events as the relay numbered them in place before pages existed (ADR 0021),
    with that outbox's indexes and counter; those in `stale` occurred a day ago."""
    events = OutboxEvent.get_pymongo_collection()
    await events.create_index(
        "seq",
        unique=True,
        name="seq_unique",
        partialFilterExpression={"seq": {"$type": "number"}},
    )
    await events.create_index([("seq", 1), ("_id", 1)], name="unnumbered")
    documents = [
        {
            **OutboxEvent(
                type="user.sessions_revoked",
                source="test",
                data={"n": seq},
                occurred_at=utcnow() - timedelta(days=1 if seq in stale else 0),
            ).model_dump(by_alias=True),
            "seq": seq,
        }
        for seq in seqs
    ]
    await events.insert_many(documents)
    await events.database["outbox_counters"].insert_one({"_id": "outbox", "value": max(seqs)})
    return [document["_id"] for document in documents]


async def test_events_numbered_in_place_move_into_pages_before_the_feed_is_served(
    outbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "RELAY_BATCH", 3)
    ids = await _numbered_in_place([1, 2, 3, 4, 5, 8, 9])  # 6 and 7 lost to a race
    waiting = await record(None, "test", "thing.happened", {})
    # Two replicas starting at once.
    await asyncio.gather(*(page_events_numbered_in_place(None) for _ in range(2)))

    events = OutboxEvent.get_pymongo_collection()
    assert [document["_id"] for document in await events.find({}).to_list()] == [waiting.id]
    assert sorted(await events.index_information()) == ["_id_"]
    pages = await OutboxPage.get_pymongo_collection().find({}).sort("_id", 1).to_list()
    assert [(page["_id"], page["last"], len(page["events"])) for page in pages] == [
        (1, 3, 3),
        (4, 5, 2),
        (8, 9, 2),
    ]
    await relay_once(None)
    served = await published_events(0, 100)
    assert [(event.id, event.seq) for event in served] == [
        *zip(ids, [1, 2, 3, 4, 5, 8, 9], strict=True),
        (waiting.id, 10),
    ]
    assert [event.seq for event in await published_events(3, 3)] == [4, 5, 8]
    await page_events_numbered_in_place(None)  # again: nothing left to move
    assert await published_events(0, 100) == served


async def test_filters_on_type_and_time(outbox: str) -> None:
    recent, stale = await _numbered_in_place([1, 2], stale={2})
    await page_events_numbered_in_place(None)
    other = await record(None, "test", "thing.happened", {})
    revoked = await record(None, "test", "user.sessions_revoked", {})
    await relay_once(None)

    events = await published_events(0, 100)
    assert [(event.id, event.seq) for event in events] == [
        (recent, 1),
        (stale, 2),
        *sorted([(other.id, 3), (revoked.id, 4)], key=lambda pair: pair[0]),
    ]
    since = utcnow() - timedelta(hours=1)
    found = await published_events(0, 100, types=["user.sessions_revoked"], since=since)
    assert [event.id for event in found] == [recent, revoked.id]
    assert [event.id for event in await published_events(1, 1)] == [stale]


async def open_cursors() -> int:
    status = await OutboxEvent.get_pymongo_collection().database.client.admin.command(
        "serverStatus"
    )
    return int(status["metrics"]["cursor"]["open"]["total"])


async def test_reads_across_pages_leave_no_cursor_open(outbox: str) -> None:
    for _ in range(150):  # more pages than a first batch holds
        await record(None, "test", "thing.happened", {})
        await relay_once(None)
    before = await open_cursors()
    assert [event.seq for event in await published_events(0, 3)] == [1, 2, 3]
    filtered = await published_events(10, 3, types=["thing.happened"])
    assert [event.seq for event in filtered] == [11, 12, 13]
    assert [event.seq for event in await published_events(148, 10)] == [149, 150]
    assert await open_cursors() == before


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_idle_relay_looks_once_a_second_unless_its_process_records(
    outbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock)
    monkeypatch.setattr(outbox_module, "_pace", _Pace())
    await relay_once(None)  # finds nothing: quiet from now on
    # An event another replica recorded: this process was not told.
    elsewhere = OutboxEvent(type="thing.happened", source="test", data={})
    await elsewhere.insert()
    clock.now += outbox_module.QUIET_SECONDS / 2
    await relay_once(None)
    assert await published_events(0, 10) == []
    clock.now += outbox_module.QUIET_SECONDS / 2 + 0.1
    await relay_once(None)
    assert [event.id for event in await published_events(0, 10)] == [elsewhere.id]

    clock.now += 0.25
    await relay_once(None)  # the last look found something: looks again, finds nothing
    here = await record(None, "test", "thing.happened", {})
    clock.now += 0.25
    await relay_once(None)  # recorded in this process: looks at once
    assert [event.id for event in await published_events(1, 10)] == [here.id]


async def test_the_feed_reads_bounded_ranges_of_numbers_across_gaps(
    outbox: str, mongo_url: str
) -> None:
    for n in range(7):
        await record(None, "test", "thing.happened" if n % 2 else "other.thing", {"n": n})
        await relay_once(None)
    # A relay that lost a race leaves numbers it took unused: the next ones follow a gap.
    counters = OutboxEvent.get_pymongo_collection().database["outbox_counters"]
    await counters.update_one({"_id": "outbox"}, {"$inc": {"value": 5}})
    for n in range(7, 10):
        await record(None, "test", "thing.happened" if n % 2 else "other.thing", {"n": n})
    await relay_once(None)

    pages, after = [], 0
    sync: MongoClient[Document]
    with MongoClient(mongo_url) as sync, profiled([sync[outbox]]):
        while page := await published_events(after, 3):
            pages.append([event.data["n"] for event in page])
            after = page[-1].seq
        profile: Collection[Document] = sync[outbox]["system.profile"]
        reads = [
            entry["command"]["filter"]
            for entry in profile.find({"command.find": {"$in": ["outbox", "outbox_pages"]}})
        ]
    assert pages == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    # Every read is a bounded range, whatever the cursor: an open one would make the
    # embedded database read every event after it.
    assert reads
    bounds = [(read.get("seq") or read["last"]) for read in reads]
    upper = [bound.get("$lte", bound.get("$lt")) for bound in bounds]
    assert all(
        top - bound["$gt"] <= 3 + outbox_module.RELAY_BATCH
        for bound, top in zip(bounds, upper, strict=True)
    ), bounds
    typed = await published_events(0, 10, types=["thing.happened"])
    assert [event.data["n"] for event in typed] == [1, 3, 5, 7, 9]
