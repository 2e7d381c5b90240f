"""The baseline: per order, the database work the platform's order path does,
issued directly with the driver and no HTTP: the order placed (idempotency key,
order, outbox event) in one transaction, the reservation (levels read, the
guarded stock level updates in one bulk write, the reservation, the ledger
entries in one insert, outbox event) in one transaction, reservations of a SKU
taking turns as inventory's do, and the status update
(order updated and read back, outbox event, saved answer) in one transaction.
Like the platform it avoids findAndModify and `$expr` filters, which the
embedded database serves by scanning the whole collection."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from apps.kit.keyed_locks import KeyedLocks

WAREHOUSE = "BENCH-WH"


def _now() -> datetime:
    return datetime.now(UTC)


class Baseline:
    def __init__(self, url: str, database: str, skus: list[str], stock: int) -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, uuidRepresentation="standard"
        )
        self._db = self._client[database]
        self._skus = skus
        self._stock = stock
        self._levels_in_use = KeyedLocks()

    async def prepare(self) -> None:
        levels = self._db["stock_levels"]
        for sku in self._skus:
            await levels.update_one(
                {"_id": f"{sku}@{WAREHOUSE}"},
                {
                    "$setOnInsert": {
                        "sku": sku,
                        "warehouse_code": WAREHOUSE,
                        "on_hand": self._stock,
                        "reserved": 0,
                        "version": 0,
                    }
                },
                upsert=True,
            )
        await self._db["outbox"].create_index("seq", unique=True, sparse=True)
        await self._db["orders"].create_index([("distributor_id", 1), ("_id", -1)])

    async def _transaction(self, work: Any) -> Any:
        async with self._client.start_session() as session:
            return await session.with_transaction(
                work, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority")
            )

    async def order(self, lines: list[tuple[str, int]]) -> None:
        order_id = "ord_" + secrets.token_hex(16)
        key = secrets.token_hex(32)
        now = _now()
        order = {
            "_id": order_id,
            "number": f"SO-{now.year}-{secrets.randbelow(10**6):06d}",
            "status": "PENDING",
            "distributor_id": "dst_bench",
            "lines": [{"sku": s, "quantity": q, "unit_price_paise": 100} for s, q in lines],
            "total_paise": 100,
            "placed_at": now,
            "saga": "reserve",
            "history": [{"status": "PENDING", "at": now, "actor": "bench"}],
        }

        async def place(session: AsyncClientSession) -> None:
            await self._db["idempotency_keys"].insert_one(
                {"_id": key, "order_id": order_id, "created_at": now}, session=session
            )
            await self._db["orders"].insert_one(order, session=session)
            await self._event(session, "order.placed", order)

        async def reserve(session: AsyncClientSession) -> None:
            # As inventory does it: the levels read with one query, every level
            # changed by one bulk write guarded by what was read, the reservation
            # inserted, the ledger entries in one insert.
            wanted = dict(lines)
            levels = await (
                self._db["stock_levels"]
                .find({"sku": {"$in": list(wanted)}, "warehouse_code": WAREHOUSE}, session=session)
                .to_list()
            )
            result = await self._db["stock_levels"].bulk_write(
                [
                    UpdateOne(
                        {
                            "_id": level["_id"],
                            "version": level["version"],
                            "reserved": level["reserved"],
                            "on_hand": {"$gte": level["reserved"] + wanted[level["sku"]]},
                        },
                        {
                            "$inc": {"reserved": wanted[level["sku"]], "version": 1},
                            "$set": {"updated_at": _now()},
                        },
                    )
                    for level in levels
                ],
                session=session,
            )
            assert result.matched_count == len(lines), "the baseline never runs short"
            await self._db["reservations"].insert_one(
                {"_id": order_id, "status": "reserved", "lines": order["lines"]}, session=session
            )
            await self._db["movements"].insert_many(
                [
                    {
                        "_id": "mov_" + secrets.token_hex(16),
                        "sku": level["sku"],
                        "warehouse_code": WAREHOUSE,
                        "kind": "reserve",
                        "reserved_delta": wanted[level["sku"]],
                        "on_hand": level["on_hand"],
                        "reserved": level["reserved"] + wanted[level["sku"]],
                        "version": level["version"] + 1,
                        "reference": order_id,
                    }
                    for level in levels
                ],
                session=session,
            )
            await self._event(session, "reservation.created", {"reservation_id": order_id})

        async def confirm(session: AsyncClientSession) -> None:
            # As the order service does it: update by id, then read by id.
            await self._db["orders"].update_one(
                {"_id": order_id, "status": "PENDING"},
                {
                    "$set": {"status": "CONFIRMED", "saga": None, "updated_at": _now()},
                    "$push": {"history": {"status": "CONFIRMED", "at": _now(), "actor": "bench"}},
                },
                session=session,
            )
            updated = await self._db["orders"].find_one({"_id": order_id}, session=session)
            await self._event(session, "order.confirmed", updated or {})
            await self._db["idempotency_keys"].update_one(
                {"_id": key}, {"$set": {"status_code": 201}}, session=session
            )

        await self._transaction(place)
        async with self._levels_in_use.holding(sku for sku, _ in lines):
            await self._transaction(reserve)
        await self._transaction(confirm)

    async def _event(self, session: AsyncClientSession, event_type: str, data: Any) -> None:
        await self._db["outbox"].insert_one(
            {
                "_id": "evt_" + secrets.token_hex(16),
                "type": event_type,
                "occurred_at": _now(),
                "data": {k: v for k, v in data.items() if k != "_id"},
            },
            session=session,
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
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.monotonic() - started
    await baseline.close()
    return done, elapsed


def order_lines(rng: random.Random, skus: list[str]) -> list[tuple[str, int]]:
    """One or two lines, one to three units each (the platform run uses the same)."""
    chosen = rng.sample(skus, rng.choice((1, 2)))
    return [(sku, rng.randint(1, 3)) for sku in chosen]
