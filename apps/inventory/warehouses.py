"""Warehouses: adding, listing and changing them. Stock in an inactive warehouse
is not offered for reservation."""

from __future__ import annotations

from typing import Any

from apps.inventory.models import Warehouse
from apps.inventory.schemas import WarehouseCreate
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404, insert_new
from apps.kit.problems import Conflict


async def create_warehouse(body: WarehouseCreate) -> Warehouse:
    warehouse = Warehouse(id=body.code, **body.model_dump(exclude={"code"}))
    taken = Conflict(f"Warehouse {body.code} exists.", slug="warehouse-exists")
    return await insert_new(warehouse, taken)


async def warehouses(active: bool | None) -> list[Warehouse]:
    query = {} if active is None else {"active": active}
    return await Warehouse.find(query).sort("_id").to_list()


async def warehouse_or_404(code: str) -> Warehouse:
    return await get_or_404(Warehouse, code.strip().upper(), "warehouse")


async def update_warehouse(code: str, changes: dict[str, Any]) -> Warehouse:
    warehouse = await warehouse_or_404(code)
    for name, value in changes.items():
        setattr(warehouse, name, value)
    warehouse.updated_at = utcnow()
    await warehouse.save()
    return warehouse
