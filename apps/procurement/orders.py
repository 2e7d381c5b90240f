"""Purchase orders: pricing, numbering, the lifecycle and its guarded updates,
and the events each step publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit import outbox
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
from apps.kit.money import price_line
from apps.kit.problems import Conflict, UnprocessableContent
from apps.procurement.metrics import PURCHASE_ORDERS
from apps.procurement.models import (
    NumberCounter,
    POLine,
    POStatus,
    PurchaseOrder,
    Supplier,
    SupplyItem,
)
from apps.procurement.schemas import POLineIn

SOURCE = "procurement"

# Which states each action may start from (anything else is a 409).
ALLOWED_FROM: dict[str, tuple[POStatus, ...]] = {
    "edit": (POStatus.DRAFT,),
    "submit": (POStatus.DRAFT,),
    "approve": (POStatus.PENDING_APPROVAL,),
    "cancel": (POStatus.DRAFT, POStatus.PENDING_APPROVAL, POStatus.SUBMITTED),
    "receive": (POStatus.SUBMITTED, POStatus.PARTIALLY_RECEIVED),
    "close": (POStatus.PARTIALLY_RECEIVED,),
}


def supply_item(supplier: Supplier, item_type: str, item: str) -> SupplyItem | None:
    for supply in supplier.supplies:
        if supply.item_type == item_type and supply.item == item:
            return supply
    return None


def price_lines(supplier: Supplier, lines: list[POLineIn]) -> list[POLine]:
    priced = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(lines, start=1):
        key = (str(line.item_type), line.item)
        if key in seen:
            raise UnprocessableContent(f"{line.item} appears twice.", slug="duplicate-line")
        seen.add(key)
        supply = supply_item(supplier, line.item_type, line.item)
        if supply is None:
            raise UnprocessableContent(
                f"{supplier.name} does not supply {line.item_type} {line.item}.",
                slug="item-not-supplied",
            )
        cost = supply.unit_cost_paise if line.unit_cost_paise is None else line.unit_cost_paise
        rate = supply.gst_rate_bps if line.gst_rate_bps is None else line.gst_rate_bps
        amounts = price_line(cost, line.quantity, rate)
        priced.append(
            POLine(
                line_no=number,
                item_type=line.item_type,
                item=line.item,
                quantity=line.quantity,
                unit_cost_paise=cost,
                gst_rate_bps=rate,
                line_subtotal_paise=amounts.line_subtotal_paise,
                line_tax_paise=amounts.line_tax_paise,
            )
        )
    return priced


async def next_number(now: datetime) -> str:
    """`PO-2026-000042`: an atomic counter per year (gaps only if a create fails)."""
    key = f"PO-{now.year}"
    found = await NumberCounter.get_pymongo_collection().find_one_and_update(
        {"_id": key}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert found is not None  # upserted
    return f"{key}-{int(found['value']):06d}"


async def active_supplier(supplier_id: str) -> Supplier:
    supplier = await Supplier.get(supplier_id) if len(supplier_id) <= 64 else None
    if supplier is None:
        raise UnprocessableContent(f"No supplier {supplier_id}.", slug="unknown-supplier")
    if not supplier.active:
        raise UnprocessableContent(f"{supplier.name} is not active.", slug="supplier-inactive")
    return supplier


async def load(po_id: str, session: AsyncClientSession | None = None) -> PurchaseOrder:
    return await get_or_404(PurchaseOrder, po_id, "purchase order", session=session)


def check_transition(po: PurchaseOrder, action: str) -> None:
    if po.status not in ALLOWED_FROM[action]:
        allowed = ", ".join(ALLOWED_FROM[action])
        raise Conflict(
            f"Cannot {action} purchase order {po.number} in status {po.status}; "
            f"only from {allowed}.",
            slug="illegal-transition",
            status_now=str(po.status),
        )


def _stored(value: Any) -> Any:
    if isinstance(value, list):
        return [
            item.model_dump(mode="json") if hasattr(item, "model_dump") else item for item in value
        ]
    return value


async def guarded_update(
    po: PurchaseOrder, changes: dict[str, Any], session: AsyncClientSession | None
) -> PurchaseOrder:
    """Apply `changes` only if nobody changed the PO since it was read."""
    stored = {key: _stored(value) for key, value in changes.items()}
    stored["updated_at"] = utcnow()
    result = await PurchaseOrder.get_pymongo_collection().update_one(
        {"_id": po.id, "version": po.version, "status": str(po.status)},
        {"$set": stored, "$inc": {"version": 1}},
        session=session,
    )
    if result.modified_count != 1:
        raise Conflict(
            f"Purchase order {po.number} was changed at the same time; read it again.",
            slug="concurrent-update",
        )
    return await load(po.id, session)


def event_payload(po: PurchaseOrder, **extra: Any) -> dict[str, Any]:
    return {
        "po_id": po.id,
        "number": po.number,
        "status": str(po.status),
        "supplier_id": po.supplier_id,
        "supplier_name": po.supplier_name,
        "promised_lead_time_days": po.promised_lead_time_days,
        "lines": [
            {
                "line_no": line.line_no,
                "item_type": str(line.item_type),
                "item": line.item,
                "quantity": line.quantity,
                "unit_cost_paise": line.unit_cost_paise,
                "gst_rate_bps": line.gst_rate_bps,
                "received_quantity": line.received_quantity,
            }
            for line in po.lines
        ],
        "subtotal_paise": po.subtotal_paise,
        "tax_paise": po.tax_paise,
        "total_paise": po.total_paise,
        "submitted_at": po.submitted_at.isoformat() if po.submitted_at else None,
        "at": po.updated_at.isoformat(),
        **extra,
    }


async def publish(
    session: AsyncClientSession | None, event: str, po: PurchaseOrder, **extra: Any
) -> None:
    await outbox.record(session, SOURCE, f"purchase_order.{event}", event_payload(po, **extra))


def count_event(event: str) -> None:
    PURCHASE_ORDERS.labels(event).inc()


def receipt_status(lines: list[POLine]) -> POStatus:
    if all(line.received_quantity >= line.quantity for line in lines):
        return POStatus.RECEIVED
    if any(line.received_quantity > 0 for line in lines):
        return POStatus.PARTIALLY_RECEIVED
    return POStatus.SUBMITTED
