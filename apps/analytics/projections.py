"""Event handlers that build the read models, one per source. Each is
idempotent and order-independent on its own (no reliance on the kit's
dedupe), so a replay, a duplicate or a late event changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beanie import Document
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.analytics.levels import raise_current
from apps.analytics.models import (
    LevelVersion,
    OrderFact,
    ProductFact,
    PurchaseOrderFact,
    ReceiptCost,
)
from apps.analytics.sales_days import order_in_rollup, update_rollups
from apps.kit.events import Event

Session = AsyncClientSession | None

# Within one instant, the later stage wins (a snapshot of a later stage is newer).
ORDER_RANK = {
    "placed": 0,
    "confirmed": 1,
    "rejected": 1,
    "shipped": 2,
    "cancelled": 2,
    "delivered": 3,
}
PO_RANK = {"submitted": 0, "received": 1, "cancelled": 2}
# The typed events (apps/kit/event_types.py) analytics reads: (type, version) pairs.
# Every event is version 1 so far; a producer's version 2 is claimed here first.
ACCEPTS: frozenset[tuple[str, int]] = frozenset(
    {(f"order.{stage}", 1) for stage in ORDER_RANK}
    | {(f"purchase_order.{kind}", 1) for kind in PO_RANK}
    # Inventory: the levels every stock change carries, products, receipt costs, lows.
    | {(f"product.{kind}", 1) for kind in ("created", "updated")}
    | {(f"stock.{kind}", 1) for kind in ("received", "adjusted", "transferred", "low")}
    | {(f"reservation.{kind}", 1) for kind in ("created", "committed", "released", "expired")}
)


def parse_time(value: Any, default: datetime) -> datetime:
    """An ISO time from a payload, aware and cut to milliseconds (as MongoDB keeps it)."""
    moment = default
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = default
    elif isinstance(value, datetime):
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


async def _save(document: Document, session: Session) -> None:
    body = document.model_dump(by_alias=True, mode="python")
    await (
        type(document)
        .get_pymongo_collection()
        .replace_one({"_id": body["_id"]}, body, upsert=True, session=session)
    )


async def _insert_once(document: Document, session: Session) -> None:
    body = document.model_dump(by_alias=True, mode="python")
    await (
        type(document)
        .get_pymongo_collection()
        .update_one({"_id": body["_id"]}, {"$setOnInsert": body}, upsert=True, session=session)
    )


async def apply_order_event(event: Event, session: Session) -> None:
    stage = event.type.removeprefix("order.")
    if stage not in ORDER_RANK or "order_id" not in event.data:
        return
    data = event.data
    at = parse_time(data.get("at"), parse_time(event.occurred_at, event.occurred_at))
    rank = ORDER_RANK[stage]
    snapshot = {
        "number": str(data["number"]),
        "distributor_id": str(data["distributor_id"]),
        "distributor_name": str(data.get("distributor_name") or data["distributor_id"]),
        "region": str(data.get("region") or "unknown"),
        "lines": list(data.get("lines") or []),
        "subtotal_paise": int(data["subtotal_paise"]),
        "tax_paise": int(data["tax_paise"]),
        "total_paise": int(data["total_paise"]),
        "placed_at": parse_time(data.get("placed_at"), at),
        "status": str(data["status"]),
        "status_at": at,
        "status_rank": rank,
    }
    fact = await OrderFact.get(str(data["order_id"]), session=session)
    before = None if fact is None else order_in_rollup(fact)
    if fact is None:
        fact = OrderFact(id=str(data["order_id"]), **snapshot, stages={stage: at})
    else:
        if (at, rank, snapshot["status"]) > (fact.status_at, fact.status_rank, fact.status):
            fact = fact.model_copy(update=snapshot)
        known = fact.stages.get(stage)
        fact.stages[stage] = at if known is None else min(known, at)
    await _save(fact, session)
    await update_rollups(before, order_in_rollup(fact), session)


async def apply_inventory_event(event: Event, session: Session) -> None:
    data = event.data
    at = parse_time(event.occurred_at, event.occurred_at)
    for level in data.get("levels") or []:
        sku, warehouse, version = level["sku"], level["warehouse_code"], int(level["version"])
        stored = LevelVersion(
            id=f"{sku}|{warehouse}|{version}",
            sku=sku,
            warehouse_code=warehouse,
            version=version,
            on_hand=int(level["on_hand"]),
            reserved=int(level["reserved"]),
            at=at,
        )
        await _insert_once(stored, session)
        await raise_current(stored, session)
    if event.type in {"product.created", "product.updated"} and "sku" in data:
        await _apply_product(data, at, session)
    elif event.type == "stock.received":
        for line in data.get("lines") or []:
            await _insert_once(
                ReceiptCost(
                    id=f"{data['receipt_id']}|{line['sku']}",
                    sku=line["sku"],
                    unit_cost_paise=int(line["unit_cost_paise"]),
                    at=at,
                ),
                session,
            )
    elif event.type == "stock.low" and "sku" in data:
        await _apply_thresholds(data, at, session)


async def _product(sku: str, session: Session) -> ProductFact:
    return await ProductFact.get(sku, session=session) or ProductFact(id=sku)


async def _apply_product(data: dict[str, Any], at: datetime, session: Session) -> None:
    fact = await _product(str(data["sku"]), session)
    if fact.catalog_at is None or at >= fact.catalog_at:
        fact.name = data.get("name")
        fact.category = data.get("category")
        fact.unit_price_paise = data.get("unit_price_paise")
        fact.catalog_at = at
    await _save(fact, session)
    await _apply_thresholds(data, at, session)


async def _apply_thresholds(data: dict[str, Any], at: datetime, session: Session) -> None:
    if data.get("reorder_point") is None:
        return
    fact = await _product(str(data["sku"]), session)
    if fact.thresholds_at is None or at >= fact.thresholds_at:
        fact.reorder_point = int(data["reorder_point"])
        fact.reorder_quantity = int(data.get("reorder_quantity") or 0)
        fact.thresholds_at = at
        await _save(fact, session)


async def apply_procurement_event(event: Event, session: Session) -> None:
    kind = event.type.removeprefix("purchase_order.")
    if kind not in PO_RANK or "po_id" not in event.data:
        return
    data = event.data
    at = parse_time(data.get("at"), parse_time(event.occurred_at, event.occurred_at))
    rank = PO_RANK[kind]
    submitted = data.get("submitted_at")
    snapshot = {
        "number": str(data["number"]),
        "supplier_id": str(data["supplier_id"]),
        "supplier_name": str(data["supplier_name"]),
        "promised_lead_time_days": int(data["promised_lead_time_days"]),
        "lines": list(data.get("lines") or []),
        "total_paise": int(data["total_paise"]),
        "submitted_at": parse_time(submitted, at) if submitted else None,
        "snapshot_at": at,
        "snapshot_rank": rank,
    }
    fact = await PurchaseOrderFact.get(str(data["po_id"]), session=session)
    if fact is None:
        fact = PurchaseOrderFact(id=str(data["po_id"]), **snapshot)
    elif (at, rank) > (fact.snapshot_at, fact.snapshot_rank):
        fact = fact.model_copy(update=snapshot)
    if kind == "cancelled":
        fact.cancelled_at = at if fact.cancelled_at is None else min(fact.cancelled_at, at)
    if kind == "received" and data.get("receipt_id"):
        lines = data.get("lines") or []
        fact.receipts[str(data["receipt_id"])] = {
            "at": at,
            "value_paise": sum(
                int(line["quantity"]) * int(line["unit_cost_paise"])
                for line in data.get("received_lines") or []
            ),
            "completes": bool(lines)
            and all(int(line["received_quantity"]) >= int(line["quantity"]) for line in lines),
        }
    await _save(fact, session)


HANDLERS = {
    "order": apply_order_event,
    "inventory": apply_inventory_event,
    "procurement": apply_procurement_event,
}
