"""An upgrade onto a database whose outbox holds events numbered in place (before
pages existed, ADR 0021): the service moves them into pages before it serves its
feed (ADR 0028), and its readers get every event, in order, from the first read."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from pymongo import MongoClient
from pymongo.collection import Collection

from apps.kit.clock import utcnow
from apps.kit.ids import new_id
from tests.support.platform import Platform, bearer


def test_events_numbered_in_place_are_served_from_the_first_read_after_an_upgrade(
    inventory_platform: Platform, mongo_url: str
) -> None:
    database = inventory_platform.stack.database(f"inventory_feed_{secrets.token_hex(3)}")
    legacy = [
        {
            "_id": new_id("evt"),
            "type": "stock.received",
            "source": "inventory",
            "occurred_at": utcnow(),
            "data": {"n": seq},
            "traceparent": None,
            "seq": seq,
        }
        for seq in (1, 2, 3)
    ]
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:  # as an older version left it
        outbox: Collection[dict[str, Any]] = client[database]["outbox"]
        outbox.create_index(
            "seq",
            unique=True,
            name="seq_unique",
            partialFilterExpression={"seq": {"$type": "number"}},
        )
        outbox.create_index([("seq", 1), ("_id", 1)], name="unnumbered")
        outbox.insert_many(legacy)
        counters: Collection[dict[str, Any]] = client[database]["outbox_counters"]
        counters.insert_one({"_id": "outbox", "value": 3})
    upgraded = inventory_platform.spawn("inventory", MONGO_DATABASE=database)
    try:
        answer = httpx.get(
            upgraded.url + "/v1/events?after=1",
            headers=bearer(inventory_platform.admin_token()),
            timeout=30.0,
        )
    finally:
        upgraded.stop()
    assert answer.status_code == 200, answer.text
    assert [(event["id"], event["seq"]) for event in answer.json()["events"]] == [
        (event["_id"], event["seq"]) for event in legacy[1:]
    ]
    with MongoClient(mongo_url) as client:
        outbox = client[database]["outbox"]
        assert outbox.count_documents({}) == 0
        assert sorted(outbox.index_information()) == ["_id_"]
        client.drop_database(database)
