"""The kit's event consumer against a real HTTP feed (a loopback stub) and the real
database: each event of a page is handled once, the cursor is written once a page,
a page delivered again is skipped as duplicates, and the cursor never moves back."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo import MongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.consumer import CONSUMER_DOCUMENTS, ConsumerCursor, event_consumer
from apps.kit.database import Database
from apps.kit.events import Event, EventPage
from apps.kit.settings import ServiceSettings
from tests.support.http_stub import StubServer, stub_server
from tests.support.queries import profiled

Document = dict[str, Any]
SOURCE = "feed"


@pytest.fixture
def feed() -> Iterator[StubServer]:
    with stub_server() as stub:
        yield stub


@pytest.fixture
async def kit(mongo_url: str) -> AsyncIterator[AppKit]:
    name = f"consumer{secrets.token_hex(4)}"
    database = Database(mongo_url, name, CONSUMER_DOCUMENTS)
    await database.connect()
    settings = ServiceSettings(
        service_name="probe", mongo_url=SecretStr(mongo_url), mongo_database=name
    )
    running = AppKit(settings, database)
    yield running
    await running.http.aclose()
    await database.client.drop_database(name)
    await database.close()


def _page(seqs: range) -> bytes:
    events = [
        Event(
            id=f"evt_{seq:04d}",
            seq=seq,
            type="thing.happened",
            source=SOURCE,
            occurred_at=utcnow(),
            data={"n": seq},
        )
        for seq in seqs
    ]
    return EventPage(events=events, next_after=seqs[-1]).model_dump_json().encode()


def _cursor_writes(sync: MongoClient[Document], name: str) -> list[str]:
    return [
        next(iter(entry["command"]))
        for entry in sync[name]["system.profile"].find()
        if next(iter(entry["command"]), "") in {"update", "findAndModify", "insert"}
        and entry["command"].get(next(iter(entry["command"]))) == "consumer_cursors"
    ]


async def test_a_page_is_handled_event_by_event_and_its_cursor_written_once(
    kit: AppKit, feed: StubServer, mongo_url: str
) -> None:
    handled: list[int] = []

    async def handler(event: Event, _: AsyncClientSession) -> None:
        handled.append(event.seq)

    consumer = event_consumer(SOURCE, feed.url, handler)
    feed.answers["/v1/events"] = (200, _page(range(1, 6)))
    name = kit.database.name
    sync: MongoClient[Document]
    with MongoClient(mongo_url) as sync:
        with profiled([sync[name]]):
            await consumer.run_once(kit)
        assert _cursor_writes(sync, name) == ["update"]
    assert handled == [1, 2, 3, 4, 5]
    assert feed.requests[0]["query"] == [("after", "0"), ("limit", "200")]
    cursor = await ConsumerCursor.get(SOURCE)
    assert cursor is not None
    assert cursor.after == 5

    # The same page again (a crash after handling it, before the cursor moved):
    # every event is a duplicate, nothing is handled twice.
    await consumer.run_once(kit)
    assert feed.requests[1]["query"] == [("after", "5"), ("limit", "200")]
    assert handled == [1, 2, 3, 4, 5]

    # A cursor moved ahead meanwhile (as the scale bench's fill does) stays ahead.
    await ConsumerCursor.get_pymongo_collection().update_one(
        {"_id": SOURCE}, {"$set": {"after": 50}}
    )
    feed.answers["/v1/events"] = (200, _page(range(6, 8)))
    await consumer.run_once(kit)
    assert handled == [1, 2, 3, 4, 5, 6, 7]
    cursor = await ConsumerCursor.get(SOURCE)
    assert cursor is not None
    assert cursor.after == 50
