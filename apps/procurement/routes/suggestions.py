"""Reorder suggestions (min/max rule, grouped by supplier) and turning one
into a draft purchase order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from apps.kit.problems import NotFound
from apps.procurement.access import Manager, Reader
from apps.procurement.models import ItemType, PurchaseOrder
from apps.procurement.reorder import suggestions
from apps.procurement.routes.purchase_orders import create_draft
from apps.procurement.schemas import POLineIn, PurchaseOrderCreate, PurchaseOrderOut, SuggestionList

router = APIRouter(prefix="/v1/reorder-suggestions", tags=["reorder suggestions"])

SupplierFilter = Annotated[str | None, Query(max_length=64)]


@router.get("", response_model=SuggestionList, summary="What to order now, by supplier")
async def list_suggestions(_: Reader, supplier_id: SupplierFilter = None) -> SuggestionList:
    return await suggestions(supplier_id)


@router.post(
    "/{supplier_id}/purchase-order",
    response_model=PurchaseOrderOut,
    status_code=201,
    summary="Turn a supplier's suggestion into a draft purchase order",
)
async def order_suggestion(supplier_id: str, manager: Manager) -> PurchaseOrder:
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
    return await create_draft(body, manager.subject)
