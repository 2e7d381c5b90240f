"""Suppliers: who we buy from, what they supply, and their promised lead time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict
from apps.procurement import suppliers
from apps.procurement.access import Manager, Reader
from apps.procurement.models import ItemType, Supplier
from apps.procurement.schemas import SupplierCreate, SupplierOut, SupplierUpdate

router = APIRouter(prefix="/v1/suppliers", tags=["suppliers"])


@router.post(
    "",
    response_model=SupplierOut,
    status_code=201,
    responses=problems(
        Conflict("A supplier with GSTIN 29ABCDE1234F1Z5 exists.", slug="gstin-taken")
    ),
    summary="Add a supplier",
)
async def create_supplier(body: SupplierCreate, _: Manager) -> Supplier:
    return await suppliers.create_supplier(body)


@router.get("", response_model=Page[SupplierOut], summary="List suppliers")
async def list_suppliers(
    _: Reader,
    active: bool | None = None,
    item_type: ItemType | None = None,
    item: Annotated[str | None, Query(max_length=64)] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[SupplierOut]:
    found, next_cursor = await suppliers.supplier_page(active, item_type, item, limit, cursor)
    return Page[SupplierOut](
        items=[SupplierOut.model_validate(s) for s in found], next_cursor=next_cursor
    )


@router.get("/{supplier_id}", response_model=SupplierOut, summary="Read a supplier")
async def read_supplier(supplier_id: str, _: Reader) -> Supplier:
    return await suppliers.supplier_or_404(supplier_id)


@router.patch(
    "/{supplier_id}",
    response_model=SupplierOut,
    responses=problems(
        Conflict("A supplier with GSTIN 29ABCDE1234F1Z5 exists.", slug="gstin-taken")
    ),
    summary="Update a supplier",
)
async def update_supplier(supplier_id: str, body: SupplierUpdate, _: Manager) -> Supplier:
    return await suppliers.update_supplier(supplier_id, body)
