"""Changing stock: every change of a level is a guarded update that cannot break
`0 <= reserved <= on_hand`, writes its ledger entry, and is recorded with its
events in the caller's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.inventory.metrics import STOCK_LOW
from apps.inventory.models import Movement, MovementKind, Operation, Product, StockLevel, level_id
from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.documents import insert_many_fast
from apps.kit.idempotency import fingerprint
from apps.kit.outbox import record
from apps.kit.problems import Conflict

SOURCE = "inventory"


async def ensure_levels(pairs: Iterable[tuple[str, str]]) -> None:
    """Create missing levels at zero (outside any transaction, so two first
    receipts into the same place do not collide on the insert)."""
    collection = StockLevel.get_pymongo_collection()
    for sku, warehouse_code in pairs:
        try:
            await collection.update_one(
                {"_id": level_id(sku, warehouse_code)},
                {
                    "$setOnInsert": {
                        "sku": sku,
                        "warehouse_code": warehouse_code,
                        "on_hand": 0,
                        "reserved": 0,
                        "version": 0,
                        "updated_at": utcnow(),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            continue  # created by a concurrent request


def snapshot(level: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku": level["sku"],
        "warehouse_code": level["warehouse_code"],
        "on_hand": level["on_hand"],
        "reserved": level["reserved"],
        "version": level["version"],
    }


@dataclass(frozen=True)
class ReadLevelChange:
    """A change of a level as read earlier in the same transaction."""

    level: dict[str, Any]
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0


class StockChange:
    """The level changes of one transaction, their ledger entries and events.
    Ledger entries are written with one insert when the transaction's event is
    recorded (`emit`) or at `flush`."""

    def __init__(self, session: AsyncClientSession, actor: str, reference: str) -> None:
        self.session = session
        self.actor = actor
        self.reference = reference
        self.levels: dict[str, dict[str, Any]] = {}
        self.low_events = 0
        self._products: dict[str, Product | None] = {}
        self._ledger: list[Movement] = []

    async def product(self, sku: str) -> Product | None:
        if sku not in self._products:
            self._products[sku] = await Product.get(sku, session=self.session)
        return self._products[sku]

    def know_products(self, products: dict[str, Product | None]) -> None:
        """Products read in this transaction (saves reading them again)."""
        self._products.update(products)

    async def apply(
        self,
        sku: str,
        warehouse_code: str,
        kind: MovementKind,
        *,
        on_hand_delta: int = 0,
        reserved_delta: int = 0,
        reason: str | None = None,
    ) -> dict[str, Any] | None:
        """Change one level; None when the level is missing or the change would
        make available or reserved negative (nothing is written then)."""
        available_delta = on_hand_delta - reserved_delta
        conditions: list[dict[str, Any]] = []
        if available_delta < 0:
            conditions.append(
                {"$gte": [{"$subtract": ["$on_hand", "$reserved"]}, -available_delta]}
            )
        if reserved_delta < 0:
            conditions.append({"$gte": ["$reserved", -reserved_delta]})
        guard: dict[str, Any] = {"_id": level_id(sku, warehouse_code)}
        if conditions:
            guard["$expr"] = {"$and": conditions}
        after: (
            dict[str, Any] | None
        ) = await StockLevel.get_pymongo_collection().find_one_and_update(
            guard,
            {
                "$inc": {"on_hand": on_hand_delta, "reserved": reserved_delta, "version": 1},
                "$set": {"updated_at": utcnow()},
            },
            session=self.session,
            return_document=ReturnDocument.AFTER,
        )
        if after is None:
            return None
        await self._changed(after, kind, on_hand_delta, reserved_delta, reason)
        return after

    async def apply_read(self, changes: Sequence[ReadLevelChange]) -> bool:
        """Change levels read earlier in this transaction, all with one bulk
        write. Each update is guarded by what was read (version and reserved:
        compare-and-set) and by the invariant itself (on_hand stays at or above
        reserved), and lands only if 0 <= reserved <= on_hand holds after it.
        False when a change would break the invariant or a level changed since
        it was read; the caller must then abort the transaction (raise).

        Unlike `apply`, the filters are plain equalities on `_id`, which the
        database serves by point lookup (`$expr` and findAndModify scan the
        whole collection on the embedded database)."""
        updates, afters = [], []
        for change in changes:
            level = change.level
            on_hand = level["on_hand"] + change.on_hand_delta
            reserved = level["reserved"] + change.reserved_delta
            if not 0 <= reserved <= on_hand:
                return False
            updates.append(
                UpdateOne(
                    {
                        "_id": level["_id"],
                        "version": level["version"],
                        "reserved": level["reserved"],
                        "on_hand": {"$gte": reserved - change.on_hand_delta},
                    },
                    {
                        "$inc": {
                            "on_hand": change.on_hand_delta,
                            "reserved": change.reserved_delta,
                            "version": 1,
                        },
                        "$set": {"updated_at": utcnow()},
                    },
                )
            )
            afters.append(
                {**level, "on_hand": on_hand, "reserved": reserved, "version": level["version"] + 1}
            )
        if not updates:
            return True
        result = await StockLevel.get_pymongo_collection().bulk_write(
            updates, ordered=True, session=self.session
        )
        if result.matched_count != len(updates):
            return False
        for change, after in zip(changes, afters, strict=True):
            await self._changed(after, change.kind, change.on_hand_delta, change.reserved_delta)
        return True

    async def _changed(
        self,
        after: dict[str, Any],
        kind: MovementKind,
        on_hand_delta: int,
        reserved_delta: int,
        reason: str | None = None,
    ) -> None:
        """The ledger entry (written at `flush`), the resulting level for the
        event, and stock.low when available fell to the reorder point."""
        self._ledger.append(
            Movement(
                sku=after["sku"],
                warehouse_code=after["warehouse_code"],
                kind=kind,
                reason=reason,
                on_hand_delta=on_hand_delta,
                reserved_delta=reserved_delta,
                on_hand=after["on_hand"],
                reserved=after["reserved"],
                version=after["version"],
                actor=self.actor,
                reference=self.reference,
            )
        )
        self.levels[after["_id"]] = snapshot(after)
        available_delta = on_hand_delta - reserved_delta
        if available_delta < 0:
            await self._low_stock(after, available_delta)

    async def flush(self) -> None:
        """Write the pending ledger entries (one insert)."""
        if self._ledger:
            await insert_many_fast(self._ledger, self.session)
            self._ledger = []

    async def _low_stock(self, level: dict[str, Any], available_delta: int) -> None:
        """stock.low when available crosses from above the reorder point to at or below it."""
        product = await self.product(level["sku"])
        if product is None or not product.active:
            return
        available = level["on_hand"] - level["reserved"]
        before = available - available_delta
        if before > product.reorder_point >= available:
            self.low_events += 1
            await record(
                self.session,
                SOURCE,
                "stock.low",
                {
                    "sku": level["sku"],
                    "warehouse_code": level["warehouse_code"],
                    "available": available,
                    "reorder_point": product.reorder_point,
                    "reorder_quantity": product.reorder_quantity,
                    "levels": [snapshot(level)],
                },
            )

    async def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """An event carrying the resulting levels of every change so far (the
        ledger entries are written first)."""
        await self.flush()
        await record(
            self.session, SOURCE, event_type, {**data, "levels": list(self.levels.values())}
        )

    def answer(self, model: type[BaseModel], key: str, content: dict[str, Any]) -> dict[str, Any]:
        """The stored (and replayed) answer of a keyed operation: its content, its
        key as `id`, and the resulting levels."""
        return model.model_validate(
            {**content, "id": key, "levels": list(self.levels.values()), "created_at": utcnow()}
        ).model_dump(mode="json")

    def committed(self) -> None:
        """Count what the committed transaction did."""
        STOCK_LOW.inc(self.low_events)


Work = Callable[[StockChange], Awaitable[dict[str, Any]]]


async def run_operation(
    kit: AppKit, kind: str, key: str, content: dict[str, Any], actor: str, work: Work
) -> tuple[dict[str, Any], bool]:
    """Run a keyed stock operation once. Answers (result, created): a retry with
    the same content gets the first result back; other content under the same
    key is a 409."""
    operation_id = f"{kind}:{key}"
    digest = fingerprint(content)

    async def replay() -> tuple[dict[str, Any], bool]:
        existing = await Operation.get(operation_id)
        assert existing is not None
        if existing.fingerprint != digest:
            raise Conflict(f"The {kind} {key} exists with other content.", slug=f"{kind}-mismatch")
        return existing.result, False

    if await Operation.get(operation_id) is not None:
        return await replay()

    async def transaction(session: AsyncClientSession) -> tuple[dict[str, Any], StockChange]:
        change = StockChange(session, actor, key)
        result = await work(change)
        await change.flush()
        await Operation(
            id=operation_id, kind=kind, key=key, fingerprint=digest, actor=actor, result=result
        ).insert(session=session)
        return result, change

    try:
        result, change = await kit.database.in_transaction(transaction)
    except DuplicateKeyError:
        return await replay()
    change.committed()
    return result, True
