"""Purchase orders: pricing, numbering, the lifecycle and its guarded updates,
and the events each step publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit import outbox
from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
from apps.kit.money import price_line, totals
from apps.kit.problems import Conflict, UnprocessableContent
from apps.kit.security import Principal, Role
from apps.procurement.metrics import PURCHASE_ORDERS
from apps.procurement.models import (
    NumberCounter,
    POLine,
    POStatus,
    PurchaseOrder,
    Supplier,
    SupplyItem,
)
from apps.procurement.schemas import POLineIn, PurchaseOrderCreate, PurchaseOrderUpdate

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


async def create_draft(body: PurchaseOrderCreate, actor: str) -> PurchaseOrder:
    """A DRAFT priced from the supplier's current terms, with the next yearly number."""
    supplier = await active_supplier(body.supplier_id)
    lines = price_lines(supplier, body.lines)
    now = utcnow()
    po = PurchaseOrder(
        number=await next_number(now),
        supplier_id=supplier.id,
        supplier_name=supplier.name,
        promised_lead_time_days=supplier.lead_time_days,
        lines=lines,
        notes=body.notes,
        created_by=actor,
        created_at=now,
        updated_at=now,
        **totals(lines).fields(),
    )
    await po.insert()
    return po


async def edit_draft(kit: AppKit, po_id: str, body: PurchaseOrderUpdate) -> PurchaseOrder:
    """New lines (priced again) or notes for a DRAFT."""

    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await load(po_id, session)
        check_transition(po, "edit")
        changes: dict[str, Any] = {}
        if body.lines is not None:
            supplier = await active_supplier(po.supplier_id)
            lines = price_lines(supplier, body.lines)
            changes = {"lines": lines, **totals(lines).fields()}
        if "notes" in body.model_fields_set:
            changes["notes"] = body.notes
        return await guarded_update(po, changes, session)

    return await kit.database.in_transaction(work)


async def submit(
    kit: AppKit, po_id: str, manager: Principal, approval_threshold_paise: int
) -> PurchaseOrder:
    """SUBMITTED, or PENDING_APPROVAL when the total is above the threshold and
    the submitter is not an admin (an admin's submission counts as approved)."""

    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await load(po_id, session)
        check_transition(po, "submit")
        needs_approval = (
            po.total_paise > approval_threshold_paise and Role.ADMIN not in manager.roles
        )
        if needs_approval:
            return await guarded_update(
                po, {"status": POStatus.PENDING_APPROVAL, "submitted_by": manager.subject}, session
            )
        return await _submitted(po, manager, session, approved=Role.ADMIN in manager.roles)

    po = await kit.database.in_transaction(work)
    if po.status is POStatus.SUBMITTED:
        count_event("submitted")
    return po


async def _submitted(
    po: PurchaseOrder, actor: Principal, session: AsyncClientSession, *, approved: bool
) -> PurchaseOrder:
    changes: dict[str, Any] = {"status": POStatus.SUBMITTED, "submitted_at": utcnow()}
    if po.submitted_by is None:
        changes["submitted_by"] = actor.subject
    if approved:
        changes["approved_by"] = actor.subject
    po = await guarded_update(po, changes, session)
    await publish(session, "submitted", po)
    return po


async def approve(kit: AppKit, po_id: str, admin: Principal) -> PurchaseOrder:
    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await load(po_id, session)
        check_transition(po, "approve")
        return await _submitted(po, admin, session, approved=True)

    po = await kit.database.in_transaction(work)
    count_event("submitted")
    return po


async def _move(
    kit: AppKit, po_id: str, action: str, changes: dict[str, Any], event: str | None
) -> PurchaseOrder:
    """Apply `action`'s changes where the PO's status allows it, publishing `event`."""

    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await load(po_id, session)
        check_transition(po, action)
        po = await guarded_update(po, changes, session)
        if event is not None:
            await publish(session, event, po)
        return po

    return await kit.database.in_transaction(work)


async def cancel(kit: AppKit, po_id: str) -> PurchaseOrder:
    changes = {"status": POStatus.CANCELLED, "cancelled_at": utcnow()}
    po = await _move(kit, po_id, "cancel", changes, "cancelled")
    count_event("cancelled")
    return po


async def close(kit: AppKit, po_id: str) -> PurchaseOrder:
    """A partly received PO whose rest will not come."""
    changes = {"status": POStatus.CLOSED, "closed_at": utcnow()}
    return await _move(kit, po_id, "close", changes, None)
