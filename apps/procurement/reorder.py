"""Reorder suggestions from inventory's feed, by the min/max rule.

The consumer keeps, per SKU, the reorder point and quantity named by the latest
`stock.low` event and the latest level per warehouse (highest `version`, so
duplicates and out-of-order delivery change nothing). A SKU needs ordering when
its forecast -- available now plus what open purchase orders still bring -- is
at or below its reorder point (min); then we order up to
max = reorder point + reorder quantity: `max - forecast`, rounded up to the
supplier's order multiple. Suggestions are grouped by the supplier chosen for
each SKU (active, shortest lead time, then cheapest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit.documents import set_unless_newer
from apps.kit.events import Event
from apps.kit.problems import NotFound
from apps.procurement.models import (
    OPEN_STATUSES,
    ItemType,
    PurchaseOrder,
    StockSignal,
    Supplier,
    SupplyItem,
)
from apps.procurement.orders import create_draft
from apps.procurement.schemas import (
    POLineIn,
    PurchaseOrderCreate,
    Suggestion,
    SuggestionLine,
    SuggestionList,
)

NO_VERSION = -1


# The typed events (apps/kit/event_types.py) this consumer reads: every stock change
# (its levels) and stock.low (the thresholds). Version 1 of each.
ACCEPTS: frozenset[tuple[str, int]] = frozenset(
    {(f"stock.{kind}", 1) for kind in ("received", "adjusted", "transferred", "low")}
    | {(f"reservation.{kind}", 1) for kind in ("created", "committed", "released", "expired")}
)


async def handle_inventory_event(event: Event, session: AsyncClientSession | None) -> None:
    data = event.data
    collection = StockSignal.get_pymongo_collection()
    for level in data.get("levels") or []:
        try:
            sku, warehouse = str(level["sku"]), str(level["warehouse_code"])
            version = int(level["version"])
            available = int(level["on_hand"]) - int(level["reserved"])
        except (KeyError, TypeError, ValueError):
            continue
        path = f"levels.{warehouse}"
        # Keep the level with the highest version.
        await set_unless_newer(
            collection,
            sku,
            {f"{path}.version": {"$not": {"$gte": version}}},
            {path: {"available": available, "version": version}},
            session,
        )
    if event.type == "stock.low":
        await _record_low(data, event.occurred_at, session)


async def _record_low(
    data: dict[str, Any], occurred_at: datetime, session: AsyncClientSession | None
) -> None:
    try:
        sku, warehouse = str(data["sku"]), str(data["warehouse_code"])
        reorder_point, reorder_quantity = int(data["reorder_point"]), int(data["reorder_quantity"])
        available = int(data["available"])
    except (KeyError, TypeError, ValueError):
        return
    collection = StockSignal.get_pymongo_collection()
    # The thresholds of the latest stock.low win.
    await set_unless_newer(
        collection,
        sku,
        {"low_at": {"$not": {"$gt": occurred_at}}},
        {
            "reorder_point": reorder_point,
            "reorder_quantity": reorder_quantity,
            "low_at": occurred_at,
        },
        session,
    )
    # A level known only from stock.low (no version yet) is a fallback.
    await collection.update_one(
        {"_id": sku, f"levels.{warehouse}": {"$exists": False}},
        {"$set": {f"levels.{warehouse}": {"available": available, "version": NO_VERSION}}},
        session=session,
    )


async def on_order() -> dict[str, int]:
    """Quantity per SKU that open purchase orders (drafts included) still bring."""
    open_orders = await PurchaseOrder.find(
        {"status": {"$in": [str(s) for s in OPEN_STATUSES]}}
    ).to_list()
    result: dict[str, int] = {}
    for po in open_orders:
        for line in po.lines:
            if line.item_type is ItemType.SKU:
                result[line.item] = result.get(line.item, 0) + max(
                    0, line.quantity - line.received_quantity
                )
    return result


def round_up(quantity: int, multiple: int) -> int:
    return -(-quantity // multiple) * multiple


def _choose(suppliers: list[Supplier], sku: str) -> tuple[Supplier, SupplyItem] | None:
    offers = [
        (supplier, supply)
        for supplier in suppliers
        for supply in supplier.supplies
        if supply.item_type is ItemType.SKU and supply.item == sku
    ]
    if not offers:
        return None
    return min(
        offers, key=lambda offer: (offer[0].lead_time_days, offer[1].unit_cost_paise, offer[0].id)
    )


async def suggestions(supplier_id: str | None = None) -> SuggestionList:
    signals = await StockSignal.find({"reorder_point": {"$ne": None}}).sort("_id").to_list()
    incoming = await on_order()
    suppliers = await Supplier.find({"active": True}).sort("_id").to_list()
    grouped: dict[str, Suggestion] = {}
    unassigned = []
    for signal in signals:
        assert signal.reorder_point is not None
        available = sum(level["available"] for level in signal.levels.values())
        forecast = available + incoming.get(signal.id, 0)
        if forecast > signal.reorder_point:
            continue
        choice = _choose(suppliers, signal.id)
        if choice is None:
            unassigned.append(signal.id)
            continue
        supplier, supply = choice
        max_level = signal.reorder_point + (signal.reorder_quantity or 0)
        quantity = round_up(max(1, max_level - forecast), supply.order_multiple)
        group = grouped.setdefault(
            supplier.id,
            Suggestion(
                supplier_id=supplier.id,
                supplier_name=supplier.name,
                lead_time_days=supplier.lead_time_days,
                lines=[],
                subtotal_paise=0,
            ),
        )
        group.lines.append(
            SuggestionLine(
                sku=signal.id,
                available=available,
                on_order=incoming.get(signal.id, 0),
                reorder_point=signal.reorder_point,
                max_level=max_level,
                order_multiple=supply.order_multiple,
                quantity=quantity,
                unit_cost_paise=supply.unit_cost_paise,
            )
        )
        group.subtotal_paise += quantity * supply.unit_cost_paise
    found = [g for g in grouped.values() if supplier_id in (None, g.supplier_id)]
    return SuggestionList(suggestions=found, unassigned=unassigned)


async def draft_from_suggestion(supplier_id: str, actor: str) -> PurchaseOrder:
    """A draft purchase order of what the supplier's suggestion names now (404
    when there is nothing to reorder from it)."""
    found = (await suggestions(supplier_id)).suggestions
    if not found:
        raise NotFound(f"Nothing to reorder from supplier {supplier_id} now.")
    body = PurchaseOrderCreate(
        supplier_id=supplier_id,
        lines=[
            POLineIn(item_type=ItemType.SKU, item=line.sku, quantity=line.quantity)
            for line in found[0].lines
        ],
        notes="From reorder suggestion",
    )
    return await create_draft(body, actor)
