"""`make bench` compares the platform with a driver-only baseline that must do the
platform's database work per order (issue 16, ADR 0030): the same commands on the
same collections, those collections with the same indexes, and documents with the
same fields. Measured with the database's profiler against orders placed through
the services, so a change to the order path that the baseline does not follow
fails here rather than skewing the figures."""

from __future__ import annotations

import asyncio
import collections
import random
import secrets
import time
import uuid
from collections.abc import Hashable, Iterable
from typing import Any

import bson
import httpx
import jwt
from pymongo import MongoClient
from pymongo.database import Database

from apps.devstack.seed import example_distributor
from apps.order.placing import record_id_for
from bench.baseline import INVENTORY_MODELS, ORDER_MODELS, Baseline, order_lines
from bench.scale.checks import published, shape
from bench.scale.platform import Platform as BenchPlatform
from tests.support.queries import profiled

Document = dict[str, Any]
ORDERS = 6
# The commands each order makes, by collection (the relays' passes are compared apart).
ORDER_PATH = {
    ("idempotency_keys", "insert"),
    ("orders", "insert"),
    ("orders", "update"),
    ("orders", "find"),
    ("outbox", "insert"),
    ("stock_levels", "aggregate"),
    ("stock_levels", "update"),
    ("reservations", "insert"),
    ("movements", "insert"),
}
RELAY = {
    ("outbox", "find"),
    ("outbox_counters", "findAndModify"),
    ("outbox_pages", "insert"),
    ("outbox", "delete"),
}
# Read when the order service's catalogue cache refreshes, not for each order.
CACHED = {("products", "find")}
PUBLISHED_SECONDS = 30.0


def _commands(
    databases: Iterable[Database[Document]], mentioning: Iterable[str] | None = None
) -> collections.Counter[tuple[str, str]]:
    """The recorded commands by (collection, command); only those naming one of
    `mentioning` (an order id, a key's record, a SKU) when given, so that other
    tests' leftovers and the services' background work are left out."""
    needles = [text.encode() for text in mentioning or ()]
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    for database in databases:
        for entry in database["system.profile"].find():
            command = entry.get("command") or {}
            name = next(iter(command), "")
            collection = command.get(name)
            raw = bson.encode(command)
            if not isinstance(collection, str) or collection.startswith("system."):
                continue
            if mentioning is None or any(needle in raw for needle in needles):
                found[collection, name] += 1
    return found


def _subject(headers: dict[str, str]) -> str:
    token = headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def _fields(value: Any) -> Hashable:
    """`shape` with the fields of every document sorted by name."""

    def ordered(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: ordered(item[key]) for key in sorted(item)}
        if isinstance(item, list):
            return [ordered(element) for element in item]
        return item

    return shape(ordered(value))


async def _written(
    order_db: Database[Document], inventory_db: Database[Document], ids: list[str]
) -> dict[str, set[Hashable]]:
    """The shapes of the documents the order path wrote for these orders, by collection."""
    within = {"$in": ids}
    deadline = time.monotonic() + PUBLISHED_SECONDS
    while True:  # the relays publish a pass later
        order_events = published(order_db, "data.order_id", within)
        inventory_events = published(inventory_db, "data.reservation_id", within)
        if len(order_events) == 2 * len(ids) and len(inventory_events) == len(ids):
            break
        assert time.monotonic() < deadline, "the events were not published"
        await asyncio.sleep(0.1)
    for event in order_events + inventory_events:
        del event["seq"]  # numbered by the relay, from each database's own counter
    documents: dict[str, Iterable[Document]] = {
        "orders": order_db["orders"].find({"_id": within}),
        "idempotency_keys": order_db["idempotency_keys"].find({"order_id": within}),
        "order events": order_events,
        "reservations": inventory_db["reservations"].find({"_id": within}),
        "movements": inventory_db["movements"].find({"reference": within}),
        "inventory events": inventory_events,
        "stock_levels": inventory_db["stock_levels"].find({"sku": {"$regex": "^BENCH-"}}),
        "products": inventory_db["products"].find({"_id": {"$regex": "^BENCH-"}}),
        "warehouses": inventory_db["warehouses"].find({"_id": "BENCH-WH"}),
    }
    return {name: {_fields(document) for document in found} for name, found in documents.items()}


def _indexes(database: Database[Document], collection: str) -> dict[str, Any]:
    return {
        name: {key: value for key, value in spec.items() if key not in {"v", "ns"}}
        for name, spec in database[collection].index_information().items()
    }


async def test_the_baseline_does_the_platforms_database_work_per_order(
    bench_platform: BenchPlatform,
) -> None:
    platform, setup = bench_platform, bench_platform.setup
    client: MongoClient[Document] = MongoClient(platform.mongo_url, tz_aware=True)
    order_db, inventory_db = (
        client[platform.prefix + "order"],
        client[platform.prefix + "inventory"],
    )
    rng = random.Random(11)
    wanted = [order_lines(rng, setup.skus) for _ in range(ORDERS)]
    assert {len(lines) for lines in wanted} == {1, 2}

    # The platform, over HTTP: a distributor of this test's own, ordered for by staff.
    distributor = "dst_baseline_" + secrets.token_hex(3)
    async with httpx.AsyncClient(timeout=30.0) as http:
        answer = await http.post(
            platform.stack.url("order") + "/v1/distributors",
            json=example_distributor(distributor, "Baseline Check"),
            headers=setup.admin,
        )
        assert answer.status_code == 201, answer.text
        placed, keys = [], [str(uuid.uuid4()) for _ in wanted]
        with profiled([order_db, inventory_db]):
            for lines, key in zip(wanted, keys, strict=True):
                answer = await http.post(
                    platform.stack.url("order") + "/v1/orders",
                    json={
                        "distributor_id": distributor,
                        "lines": [{"sku": sku, "quantity": n} for sku, n in lines],
                    },
                    headers={**setup.admin, "Idempotency-Key": key},
                )
                assert answer.status_code == 201, answer.text
                assert answer.json()["status"] == "CONFIRMED"
                placed.append(answer.json()["id"])
            records = [record_id_for(_subject(setup.admin), key) for key in keys]
            platform_commands = _commands(
                [order_db, inventory_db], [*placed, *records, *setup.skus]
            )
            platform_written = await _written(order_db, inventory_db, placed)
            platform_relayed = set(_commands([order_db, inventory_db])) & RELAY

    # The baseline, in databases of its own.
    baseline = Baseline(
        platform.mongo_url, f"{platform.prefix}bl{secrets.token_hex(3)}", setup.skus, 10**6
    )
    baseline_dbs = [client[baseline.orders_db.name], client[baseline.inventory_db.name]]
    await baseline.prepare()
    try:
        with profiled(baseline_dbs):
            async with baseline.relaying():
                made = [await baseline.order(lines) for lines in wanted]
                baseline_commands = _commands(baseline_dbs)  # its own databases: all of it
                baseline_written = await _written(baseline_dbs[0], baseline_dbs[1], made)
            baseline_relayed = set(_commands(baseline_dbs)) & RELAY
    finally:
        await baseline.close()

    def per_order(commands: collections.Counter[tuple[str, str]]) -> dict[tuple[str, str], float]:
        return {
            kind: count / ORDERS
            for kind, count in sorted(commands.items())
            if kind not in RELAY | CACHED
        }

    assert per_order(baseline_commands) == per_order(platform_commands)
    assert set(per_order(platform_commands)) == ORDER_PATH
    assert per_order(platform_commands)[("outbox", "insert")] == 3  # placed, reserved, confirmed
    assert baseline_relayed == platform_relayed == RELAY
    assert baseline_written == platform_written

    for database, models in zip(baseline_dbs, (ORDER_MODELS, INVENTORY_MODELS), strict=True):
        platform_db = order_db if models is ORDER_MODELS else inventory_db
        for model in models:
            name = model.Settings.name
            assert _indexes(database, name) == _indexes(platform_db, name), name
    client.drop_database(baseline_dbs[0].name)
    client.drop_database(baseline_dbs[1].name)
    client.close()
