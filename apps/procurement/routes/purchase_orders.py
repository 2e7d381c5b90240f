"""Purchase orders and their lifecycle:

DRAFT --submit--> SUBMITTED, or PENDING_APPROVAL when the total is above the
approval threshold and the submitter is not an admin --approve (admin)-->
SUBMITTED --receipts--> PARTIALLY_RECEIVED --> RECEIVED; a partly received PO
can be CLOSED (the rest will not come); CANCELLED from DRAFT, PENDING_APPROVAL
or SUBMITTED (never after a receipt). Anything else is a 409."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from apps.kit.app import Kit
from apps.kit.listing import keyset_page
from apps.kit.money import TOTAL_TOO_LARGE
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict, UnprocessableContent
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
    return await orders.create_draft(body, manager.subject)


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
    return await orders.edit_draft(kit, po_id, body)


@router.post(
    "/{po_id}/submit",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Submit a draft",
)
async def submit_purchase_order(po_id: str, manager: Manager, kit: Kit) -> PurchaseOrder:
    settings = kit.settings
    assert isinstance(settings, ProcurementSettings)
    return await orders.submit(kit, po_id, manager, settings.approval_threshold_paise)


@router.post(
    "/{po_id}/approve",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Approve (admin)",
)
async def approve_purchase_order(po_id: str, admin: Approver, kit: Kit) -> PurchaseOrder:
    return await orders.approve(kit, po_id, admin)


@router.post(
    "/{po_id}/cancel",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Cancel",
)
async def cancel_purchase_order(po_id: str, _: Manager, kit: Kit) -> PurchaseOrder:
    return await orders.cancel(kit, po_id)


@router.post(
    "/{po_id}/close",
    response_model=PurchaseOrderOut,
    responses=problems(*TRANSITION_PROBLEMS),
    summary="Close short",
)
async def close_purchase_order(po_id: str, _: Manager, kit: Kit) -> PurchaseOrder:
    """A partly received PO whose rest will not come."""
    return await orders.close(kit, po_id)
