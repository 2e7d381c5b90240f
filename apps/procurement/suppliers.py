"""Suppliers: who we buy from, what they supply, and their promised lead time."""

from __future__ import annotations

from typing import Any

from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404, insert_new
from apps.kit.listing import keyset_page
from apps.kit.problems import Conflict, UnprocessableContent
from apps.procurement.models import ItemType, Supplier, SupplyItem
from apps.procurement.schemas import SupplierCreate, SupplierUpdate

REQUIRED = ("name", "contact_name", "contact_email", "lead_time_days", "active")


def gstin_taken(gstin: str) -> Conflict:
    return Conflict(f"A supplier with GSTIN {gstin} exists.", slug="gstin-taken")


async def create_supplier(body: SupplierCreate) -> Supplier:
    supplier = Supplier(
        **body.model_dump(exclude={"supplies"}),
        supplies=[SupplyItem(**item.model_dump()) for item in body.supplies],
    )
    return await insert_new(supplier, gstin_taken(body.gstin))


async def supplier_or_404(supplier_id: str) -> Supplier:
    return await get_or_404(Supplier, supplier_id, "supplier")


async def update_supplier(supplier_id: str, body: SupplierUpdate) -> Supplier:
    """Apply the fields the body sets; a required field cannot be set to null."""
    supplier = await supplier_or_404(supplier_id)
    changes = body.model_dump(exclude_unset=True, exclude={"supplies"})
    for field in REQUIRED:
        if field in changes and changes[field] is None:
            raise UnprocessableContent(f"{field} cannot be null.")
    for field, value in changes.items():
        setattr(supplier, field, value)
    if body.supplies is not None:
        supplier.supplies = [SupplyItem(**item.model_dump()) for item in body.supplies]
    supplier.updated_at = utcnow()
    await supplier.save()
    return supplier


async def supplier_page(
    active: bool | None,
    item_type: ItemType | None,
    item: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Supplier], str | None]:
    """Suppliers, those that supply `item` (of `item_type`) when named."""
    query: dict[str, Any] = {}
    if active is not None:
        query["active"] = active
    if item is not None or item_type is not None:
        match: dict[str, Any] = {}
        if item is not None:
            match["item"] = item.strip()
        if item_type is not None:
            match["item_type"] = str(item_type)
        query["supplies"] = {"$elemMatch": match}
    return await keyset_page(Supplier, query, limit, cursor)
