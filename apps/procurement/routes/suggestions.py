"""Reorder suggestions (min/max rule, grouped by supplier) and turning one
into a draft purchase order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from apps.procurement.access import Manager, Reader
from apps.procurement.models import PurchaseOrder
from apps.procurement.reorder import draft_from_suggestion, suggestions
from apps.procurement.schemas import PurchaseOrderOut, SuggestionList

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
    return await draft_from_suggestion(supplier_id, manager.subject)
