"""The baseline: per order, the database work the platform's order path does,
issued directly with the driver and no HTTP (ADR 0030). Its databases are the
platform's: one for orders and one for inventory, each collection with the
indexes the platform's models declare, each document with the fields the
services store. Per order:
- placed: the idempotency record, the order and order.placed in one transaction;
- reserved, SKU by SKU in turn as inventory reserves: the levels of active
  warehouses read with their products (inventory's own pipeline), every level
  changed by one bulk write guarded by what was read, the reservation, the
  ledger entries in one insert and reservation.created in one transaction;
- confirmed: the order updated and read back by id, and order.confirmed, in one
  transaction.
A relay for each database moves the events into pages with the platform's own
relay pass, at the platform's pace. Like the platform it avoids findAndModify and
`$expr` filters, which the embedded database serves by scanning the whole
collection."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import Document
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from apps.inventory.models import Movement, Product, Reservation, StockLevel, Warehouse
from apps.inventory.reservations import reservable_pipeline
from apps.kit.database import in_transaction
from apps.kit.idempotency import fingerprint
from apps.kit.ids import new_id
from apps.kit.keyed_locks import KeyedLocks
from apps.kit.outbox import OUTBOX_RELAY, OutboxCounter, OutboxEvent, OutboxPage, publish_waiting
from apps.order.models import IdempotencyRecord, Order
from apps.order.placing import record_id_for

WAREHOUSE = "BENCH-WH"
ACTOR = "usr_bench"
INVENTORY_ACTOR = "svc-order"
PRICE_PAISE = 1_899_900
GST_RATE_BPS = 1800
RESERVATION_TTL = timedelta(days=7)
OUTBOX = [OutboxEvent, OutboxPage, OutboxCounter]
ORDER_MODELS: list[type[Document]] = [Order, IdempotencyRecord, *OUTBOX]
INVENTORY_MODELS: list[type[Document]] = [
    StockLevel,
    Warehouse,
    Product,
    Reservation,
    Movement,
    *OUTBOX,
]

Stored = dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def traceparent() -> str:
    """A W3C trace context, as the services record with each event."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


async def create_indexes(database: AsyncDatabase[Stored], models: Sequence[type[Document]]) -> None:
    """The indexes the platform's models declare, on the same collections."""
    for model in models:
        indexes = getattr(model.Settings, "indexes", None)
        if indexes:
            await database[model.Settings.name].create_indexes(indexes)


def _line(sku: str, quantity: int) -> Stored:
    subtotal = PRICE_PAISE * quantity
    tax = subtotal * GST_RATE_BPS // 10_000
    return {
        "sku": sku,
        "name": f"Bench mattress {sku}",
        "category": "mattress",
        "quantity": quantity,
        "unit_price_paise": PRICE_PAISE,
        "gst_rate_bps": GST_RATE_BPS,
        "line_subtotal_paise": subtotal,
        "line_tax_paise": tax,
        "line_total_paise": subtotal + tax,
    }


def _snapshot(order: Stored, at: datetime) -> Stored:
    """The order events' payload, as the order service makes it."""
    return {
        "order_id": order["_id"],
        "number": order["number"],
        "status": order["status"],
        "distributor_id": order["distributor_id"],
        "distributor_name": order["distributor_name"],
        "region": order["region"],
        "lines": [
            {key: value for key, value in line.items() if key != "line_total_paise"}
            for line in order["lines"]
        ],
        "subtotal_paise": order["subtotal_paise"],
        "tax_paise": order["tax_paise"],
        "total_paise": order["total_paise"],
        "placed_at": order["placed_at"].isoformat(),
        "at": at.isoformat(),
    }


def _event(source: str, event_type: str, data: Stored) -> Stored:
    return {
        "_id": new_id("evt"),
        "type": event_type,
        "source": source,
        "occurred_at": _now(),
        "data": data,
        "traceparent": traceparent(),
    }


class Baseline:
    def __init__(self, url: str, database: str, skus: list[str], stock: int) -> None:
        self._client: AsyncMongoClient[Stored] = AsyncMongoClient(
            url, tz_aware=True, uuidRepresentation="standard"
        )
        self.orders_db = self._client[database + "_order"]
        self.inventory_db = self._client[database + "_inventory"]
        self._skus = skus
        self._stock = stock
        self._levels_in_use = KeyedLocks()
        self._numbers = itertools.count(1)
        self._run = secrets.token_hex(3)  # order numbers are unique across runs

    async def prepare(self) -> None:
        await create_indexes(self.orders_db, ORDER_MODELS)
        await create_indexes(self.inventory_db, INVENTORY_MODELS)
        now = _now()
        await self.inventory_db[Warehouse.Settings.name].update_one(
            {"_id": WAREHOUSE},
            {
                "$setOnInsert": {
                    "name": "Bench",
                    "address": "Hosur",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            },
            upsert=True,
        )
        for sku in self._skus:
            await self.inventory_db[Product.Settings.name].update_one(
                {"_id": sku},
                {
                    "$setOnInsert": {
                        "name": f"Bench mattress {sku}",
                        "category": "mattress",
                        "size": None,
                        "attributes": {},
                        "unit_price_paise": PRICE_PAISE,
                        "gst_rate_bps": GST_RATE_BPS,
                        "reorder_point": 0,
                        "reorder_quantity": 0,
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                },
                upsert=True,
            )
            await self.inventory_db[StockLevel.Settings.name].update_one(
                {"_id": f"{sku}@{WAREHOUSE}"},
                {
                    "$setOnInsert": {
                        "sku": sku,
                        "warehouse_code": WAREHOUSE,
                        "on_hand": self._stock,
                        "reserved": 0,
                        "version": 0,
                        "updated_at": now,
                    }
                },
                upsert=True,
            )

    @contextlib.asynccontextmanager
    async def relaying(self) -> AsyncIterator[None]:
        """Each database's relay, running its pass at the platform relay's interval."""

        async def relay(database: AsyncDatabase[Stored]) -> None:
            while True:
                await in_transaction(self._client, lambda s: publish_waiting(database, s))
                await asyncio.sleep(OUTBOX_RELAY.interval_seconds)

        tasks = [asyncio.create_task(relay(db)) for db in (self.orders_db, self.inventory_db)]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _new_order(self, lines: list[tuple[str, int]], now: datetime) -> Stored:
        priced = [_line(sku, quantity) for sku, quantity in lines]
        subtotal = sum(line["line_subtotal_paise"] for line in priced)
        tax = sum(line["line_tax_paise"] for line in priced)
        return {
            "_id": new_id("ord"),
            "number": f"SO-{now.year}-{self._run}{next(self._numbers):06d}",
            "status": "PENDING",
            "distributor_id": "dst_bench",
            "distributor_name": "Bench Distributor",
            "region": "South",
            "shipping_address": {
                "line1": "12 Residency Road",
                "line2": None,
                "city": "Bengaluru",
                "state": "Karnataka",
                "postal_code": "560025",
                "country": "IN",
            },
            "lines": priced,
            "subtotal_paise": subtotal,
            "tax_paise": tax,
            "total_paise": subtotal + tax,
            "reference": None,
            "placed_by": ACTOR,
            "placed_at": now,
            "updated_at": now,
            "saga": "reserve",
            "saga_since": now,
            "saga_actor": None,
            "short_lines": [],
            "rejection_reason": None,
            "history": [{"status": "PENDING", "at": now, "actor": ACTOR, "note": None}],
        }

    async def order(self, lines: list[tuple[str, int]]) -> str:
        """Place, reserve and confirm an order; answers its id."""
        now = _now()
        order = self._new_order(lines, now)
        key = str(uuid.uuid4())
        wanted = dict(sorted(lines))
        record = {
            "_id": record_id_for(ACTOR, key),
            "caller": ACTOR,
            "key": key,
            "fingerprint": fingerprint({"lines": lines, "distributor_id": order["distributor_id"]}),
            "order_id": order["_id"],
            "status_code": None,
            "created_at": now,
        }
        orders, inventory = self.orders_db, self.inventory_db

        async def place(session: AsyncClientSession) -> None:
            await orders[IdempotencyRecord.Settings.name].insert_one(record, session=session)
            await orders[Order.Settings.name].insert_one(order, session=session)
            await self._record(orders, session, "order", "order.placed", _snapshot(order, now))

        async def reserve(session: AsyncClientSession) -> None:
            levels = [
                level
                async for level in await inventory[StockLevel.Settings.name].aggregate(
                    reservable_pipeline(list(wanted)), session=session
                )
            ]
            result = await inventory[StockLevel.Settings.name].bulk_write(
                [
                    UpdateOne(
                        {
                            "_id": level["_id"],
                            "version": level["version"],
                            "reserved": level["reserved"],
                            "on_hand": {"$gte": level["reserved"] + wanted[level["sku"]]},
                        },
                        {
                            "$inc": {"on_hand": 0, "reserved": wanted[level["sku"]], "version": 1},
                            "$set": {"updated_at": _now()},
                        },
                    )
                    for level in levels
                ],
                ordered=True,
                session=session,
            )
            assert result.matched_count == len(wanted), "the baseline never runs short"
            at = _now()
            reservation_lines = [
                {
                    "sku": sku,
                    "quantity": quantity,
                    "allocations": [{"warehouse_code": WAREHOUSE, "quantity": quantity}],
                }
                for sku, quantity in wanted.items()
            ]
            await inventory[Reservation.Settings.name].insert_one(
                {
                    "_id": order["_id"],
                    "status": "reserved",
                    "fingerprint": fingerprint(sorted(wanted.items())),
                    "lines": reservation_lines,
                    "short_lines": [],
                    "tombstone": False,
                    "expires_at": at + RESERVATION_TTL,
                    "actor": INVENTORY_ACTOR,
                    "created_at": at,
                    "updated_at": at,
                },
                session=session,
            )
            after = [
                {
                    "sku": level["sku"],
                    "warehouse_code": WAREHOUSE,
                    "on_hand": level["on_hand"],
                    "reserved": level["reserved"] + wanted[level["sku"]],
                    "version": level["version"] + 1,
                }
                for level in levels
            ]
            await inventory[Movement.Settings.name].insert_many(
                [
                    {
                        "_id": new_id("mov"),
                        "sku": level["sku"],
                        "warehouse_code": WAREHOUSE,
                        "kind": "reserve",
                        "reason": None,
                        "on_hand_delta": 0,
                        "reserved_delta": wanted[level["sku"]],
                        "on_hand": level["on_hand"],
                        "reserved": level["reserved"],
                        "version": level["version"],
                        "actor": INVENTORY_ACTOR,
                        "reference": order["_id"],
                        "at": at,
                    }
                    for level in after
                ],
                session=session,
            )
            await self._record(
                inventory,
                session,
                "inventory",
                "reservation.created",
                {
                    "reservation_id": order["_id"],
                    "status": "reserved",
                    "lines": reservation_lines,
                    "expires_at": at + RESERVATION_TTL,
                    "levels": after,
                },
            )

        async def confirm(session: AsyncClientSession) -> None:
            at = _now()
            await orders[Order.Settings.name].update_one(
                {"_id": order["_id"], "status": "PENDING"},
                {
                    "$set": {
                        "saga": None,
                        "saga_since": None,
                        "status": "CONFIRMED",
                        "updated_at": at,
                    },
                    "$push": {
                        "history": {"status": "CONFIRMED", "at": at, "actor": ACTOR, "note": None}
                    },
                },
                session=session,
            )
            updated = await orders[Order.Settings.name].find_one(
                {"_id": order["_id"]}, session=session
            )
            assert updated is not None, "updated in this transaction"
            await self._record(orders, session, "order", "order.confirmed", _snapshot(updated, at))

        await in_transaction(self._client, place)
        async with self._levels_in_use.holding(wanted):
            await in_transaction(self._client, reserve)
        await in_transaction(self._client, confirm)
        return str(order["_id"])

    @staticmethod
    async def _record(
        database: AsyncDatabase[Stored],
        session: AsyncClientSession,
        source: str,
        event_type: str,
        data: Stored,
    ) -> None:
        await database[OutboxEvent.Settings.name].insert_one(
            _event(source, event_type, data), session=session
        )

    async def close(self) -> None:
        await self._client.close()


async def run_baseline(
    url: str, database: str, skus: list[str], clients: int, seconds: float
) -> tuple[int, float]:
    """Orders completed and the seconds they took, with `clients` concurrent workers."""
    baseline = Baseline(url, database, skus, stock=10**9)
    await baseline.prepare()
    done = 0
    deadline = time.monotonic() + seconds

    async def worker(seed: int) -> None:
        nonlocal done
        rng = random.Random(seed)  # noqa: S311 - a repeatable load mix, not a secret
        while time.monotonic() < deadline:
            await baseline.order(order_lines(rng, skus))
            done += 1

    started = time.monotonic()
    async with baseline.relaying():
        await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.monotonic() - started
    await baseline.close()
    return done, elapsed


def order_lines(rng: random.Random, skus: list[str]) -> list[tuple[str, int]]:
    """One or two lines, one to three units each (the platform run uses the same)."""
    chosen = rng.sample(skus, rng.choice((1, 2)))
    return [(sku, rng.randint(1, 3)) for sku in chosen]
