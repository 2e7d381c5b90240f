"""Purchase orders and their lifecycle:

DRAFT --submit--> SUBMITTED, or PENDING_APPROVAL when the total is above the
approval threshold and the submitter is not an admin --approve (admin)-->
SUBMITTED --receipts--> PARTIALLY_RECEIVED --> RECEIVED; a partly received PO
can be CLOSED (the rest will not come); CANCELLED from DRAFT, PENDING_APPROVAL
or SUBMITTED (never after a receipt). Anything else is a 409."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit.app import Kit
from apps.kit.clock import utcnow
from apps.kit.listing import keyset_page
from apps.kit.money import TOTAL_TOO_LARGE, totals
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict, UnprocessableContent
from apps.kit.security import Principal, Role
from apps.procurement import orders
from apps.procurement.access import Approver, Manager, Reader
from apps.procurement.models import POStatus, PurchaseOrder
from apps.procurement.schemas import (
    PurchaseOrderCreate,
    PurchaseOrderOut,
    PurchaseOrderUpdate,
)
from apps.procurement.settings import ProcurementSettings

router = APIRouter(prefix="/v1/purchase-orders", tags=["purchase orders"])


async def create_draft(body: PurchaseOrderCreate, actor: str) -> PurchaseOrder:
    supplier = await orders.active_supplier(body.supplier_id)
    lines = orders.price_lines(supplier, body.lines)
    now = utcnow()
    po = PurchaseOrder(
        number=await orders.next_number(now),
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


LINE_PROBLEMS = (
    UnprocessableContent("No supplier sup_foamco.", slug="unknown-supplier"),
    UnprocessableContent("FoamCo is not active.", slug="supplier-inactive"),
    UnprocessableContent("FoamCo does not supply material PU_FOAM.", slug="item-not-supplied"),
    UnprocessableContent("PU_FOAM appears twice.", slug="duplicate-line"),
    TOTAL_TOO_LARGE,
)
TRANSITION_PROBLEMS = (
    Conflict(
        "Cannot submit purchase order PO-2026-3 in status RECEIVED; only from DRAFT.",
        slug="illegal-transition",
    ),
    Conflict(
        "Purchase order PO-2026-3 was changed at the same time; read it again.",
        slug="concurrent-update",
    ),
)


@router.post(
    "",
    response_model=PurchaseOrderOut,
    status_code=201,
    responses=problems(*LINE_PROBLEMS),
    summary="Create a draft PO",
)
async def create_purchase_order(body: PurchaseOrderCreate, manager: Manager) -> PurchaseOrder:
    return await create_draft(body, manager.subject)


@router.get("", response_model=Page[PurchaseOrderOut], summary="List purchase orders")
async def list_purchase_orders(
    _: Reader,
    status: POStatus | None = None,
    supplier_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[PurchaseOrderOut]:
    query: dict[str, Any] = {}
    if status is not None:
        query["status"] = str(status)
    if supplier_id is not None:
        query["supplier_id"] = supplier_id
    found, next_cursor = await keyset_page(PurchaseOrder, query, limit, cursor)
    return Page[PurchaseOrderOut](
        items=[PurchaseOrderOut.model_validate(po) for po in found], next_cursor=next_cursor
    )


@router.get("/{po_id}", response_model=PurchaseOrderOut, summary="Read a purchase order")
async def read_purchase_order(po_id: str, _: Reader) -> PurchaseOrder:
    return await orders.load(po_id)


@router.patch(
    "/{po_id}",
    response_model=PurchaseOrderOut,
    responses=problems(*LINE_PROBLEMS, *TRANSITION_PROBLEMS),
    summary="Edit a draft",
)
async def update_purchase_order(
    po_id: str, body: PurchaseOrderUpdate, _: Manager, kit: Kit
) -> PurchaseOrder:
    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await orders.load(po_id, session)
        orders.check_transition(po, "edit")
        changes: dict[str, Any] = {}
        if body.lines is not None:
            supplier = await orders.active_supplier(po.supplier_id)
            lines = orders.price_lines(supplier, body.lines)
            changes = {"lines": lines, **totals(lines).fields()}
        if "notes" in body.model_fields_set:
            changes["notes"] = body.notes
        return await orders.guarded_update(po, changes, session)

    return await kit.database.in_transaction(work)


@router.post(
    "/{po_id}/submit",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Submit a draft",
)
async def submit_purchase_order(po_id: str, manager: Manager, kit: Kit) -> PurchaseOrder:
    settings = kit.settings
    assert isinstance(settings, ProcurementSettings)

    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await orders.load(po_id, session)
        orders.check_transition(po, "submit")
        needs_approval = (
            po.total_paise > settings.approval_threshold_paise and Role.ADMIN not in manager.roles
        )
        if needs_approval:
            return await orders.guarded_update(
                po, {"status": POStatus.PENDING_APPROVAL, "submitted_by": manager.subject}, session
            )
        return await _submitted(po, manager, session, approved=Role.ADMIN in manager.roles)

    po = await kit.database.in_transaction(work)
    if po.status is POStatus.SUBMITTED:
        orders.count_event("submitted")
    return po


async def _submitted(
    po: PurchaseOrder, actor: Principal, session: AsyncClientSession, *, approved: bool
) -> PurchaseOrder:
    changes: dict[str, Any] = {"status": POStatus.SUBMITTED, "submitted_at": utcnow()}
    if po.submitted_by is None:
        changes["submitted_by"] = actor.subject
    if approved:
        changes["approved_by"] = actor.subject
    po = await orders.guarded_update(po, changes, session)
    await orders.publish(session, "submitted", po)
    return po


@router.post(
    "/{po_id}/approve",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Approve (admin)",
)
async def approve_purchase_order(po_id: str, admin: Approver, kit: Kit) -> PurchaseOrder:
    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await orders.load(po_id, session)
        orders.check_transition(po, "approve")
        return await _submitted(po, admin, session, approved=True)

    po = await kit.database.in_transaction(work)
    orders.count_event("submitted")
    return po


@router.post(
    "/{po_id}/cancel",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Cancel",
)
async def cancel_purchase_order(po_id: str, _: Manager, kit: Kit) -> PurchaseOrder:
    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await orders.load(po_id, session)
        orders.check_transition(po, "cancel")
        po = await orders.guarded_update(
            po, {"status": POStatus.CANCELLED, "cancelled_at": utcnow()}, session
        )
        await orders.publish(session, "cancelled", po)
        return po

    po = await kit.database.in_transaction(work)
    orders.count_event("cancelled")
    return po


@router.post(
    "/{po_id}/close",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Close short",
)
async def close_purchase_order(po_id: str, _: Manager, kit: Kit) -> PurchaseOrder:
    """A partly received PO whose rest will not come."""

    async def work(session: AsyncClientSession) -> PurchaseOrder:
        po = await orders.load(po_id, session)
        orders.check_transition(po, "close")
        return await orders.guarded_update(
            po, {"status": POStatus.CLOSED, "closed_at": utcnow()}, session
        )

    return await kit.database.in_transaction(work)
