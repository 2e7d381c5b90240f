"""Warehouses (admin edits; staff read). Stock in an inactive warehouse is not
offered for reservation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pymongo.errors import DuplicateKeyError

from apps.inventory.access import Admin, Staff
from apps.inventory.models import Warehouse
from apps.inventory.schemas import WarehouseCreate, WarehouseOut, WarehouseUpdate
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
from apps.kit.openapi import problems
from apps.kit.problems import Conflict

router = APIRouter(prefix="/v1/warehouses", tags=["warehouses"])

CodePath = Annotated[str, Path(max_length=32)]


@router.post(
    "",
    response_model=WarehouseOut,
    status_code=201,
    responses=problems(Conflict("Warehouse BLR exists.", slug="warehouse-exists")),
    summary="Add a warehouse",
)
async def create_warehouse(body: WarehouseCreate, _: Admin) -> WarehouseOut:
    warehouse = Warehouse(id=body.code, **body.model_dump(exclude={"code"}))
    try:
        await warehouse.insert()
    except DuplicateKeyError:
        raise Conflict(f"Warehouse {body.code} exists.", slug="warehouse-exists") from None
    return WarehouseOut.of(warehouse)


@router.get("", response_model=list[WarehouseOut], summary="List warehouses")
async def list_warehouses(_: Staff, active: bool | None = None) -> list[WarehouseOut]:
    query = {} if active is None else {"active": active}
    return [WarehouseOut.of(w) for w in await Warehouse.find(query).sort("_id").to_list()]


async def warehouse_or_404(code: str) -> Warehouse:
    return await get_or_404(Warehouse, code.strip().upper(), "warehouse")


@router.get("/{code}", response_model=WarehouseOut, summary="Read a warehouse")
async def read_warehouse(code: CodePath, _: Staff) -> WarehouseOut:
    return WarehouseOut.of(await warehouse_or_404(code))


@router.patch("/{code}", response_model=WarehouseOut, summary="Change or deactivate a warehouse")
async def update_warehouse(code: CodePath, body: WarehouseUpdate, _: Admin) -> WarehouseOut:
    warehouse = await warehouse_or_404(code)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(warehouse, name, value)
    warehouse.updated_at = utcnow()
    await warehouse.save()
    return WarehouseOut.of(warehouse)
