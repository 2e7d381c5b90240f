"""The outbox relay numbers committed events once each, in order, and finds every event
it numbers through the _id index (its writes filter by _id alone)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient, MongoClient
from pymongo.collection import Collection

from apps.kit.app import AppKit
from apps.kit.outbox import OUTBOX_DOCUMENTS, OutboxEvent, record, relay_once
from tests.support.queries import Document, profiled


@pytest.fixture
async def outbox(mongo_url: str) -> AsyncIterator[str]:
    name = f"relay{secrets.token_hex(4)}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    await init_beanie(database=client[name], document_models=OUTBOX_DOCUMENTS)
    yield name
    await client.drop_database(name)
    await client.close()


async def test_events_are_numbered_once_in_order_through_the_id_index(
    outbox: str, mongo_url: str
) -> None:
    events = [await record(None, "test", "thing.happened", {"n": n}) for n in range(5)]
    collection = OutboxEvent.get_pymongo_collection()
    # A stale relay numbered the third event a moment ago: it keeps its number.
    await collection.update_one({"_id": events[2].id}, {"$set": {"seq": 1000}})
    sync: MongoClient[Document]
    with MongoClient(mongo_url) as sync, profiled([sync[outbox]]):
        await relay_once(cast(AppKit, None))
        numbered = await collection.find({}, {"seq": 1}).sort("_id", 1).to_list()
        profile: Collection[Document] = sync[outbox]["system.profile"]
        writes: list[Document] = [
            statement["q"]
            for entry in profile.find({"command.update": "outbox"})
            for statement in entry["command"]["updates"]
        ]
    seqs = [event["seq"] for event in numbered]
    assert seqs[2] == 1000
    others = seqs[:2] + seqs[3:]
    assert others == sorted(others)
    assert len(set(seqs)) == 5
    assert writes
    assert all(set(filter_) == {"_id"} for filter_ in writes), writes
    await relay_once(cast(AppKit, None))  # nothing left: nothing changes
    again = await collection.find({}, {"seq": 1}).sort("_id", 1).to_list()
    assert [event["seq"] for event in again] == seqs
