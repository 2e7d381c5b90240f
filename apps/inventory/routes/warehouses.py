"""Warehouses (admin edits; staff read). Stock in an inactive warehouse is not
offered for reservation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from apps.inventory import warehouses
from apps.inventory.access import Admin, Staff
from apps.inventory.schemas import WarehouseCreate, WarehouseOut, WarehouseUpdate
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
    return WarehouseOut.of(await warehouses.create_warehouse(body))


@router.get("", response_model=list[WarehouseOut], summary="List warehouses")
async def list_warehouses(_: Staff, active: bool | None = None) -> list[WarehouseOut]:
    return [WarehouseOut.of(w) for w in await warehouses.warehouses(active)]


@router.get("/{code}", response_model=WarehouseOut, summary="Read a warehouse")
async def read_warehouse(code: CodePath, _: Staff) -> WarehouseOut:
    return WarehouseOut.of(await warehouses.warehouse_or_404(code))


@router.patch("/{code}", response_model=WarehouseOut, summary="Change or deactivate a warehouse")
async def update_warehouse(code: CodePath, body: WarehouseUpdate, _: Admin) -> WarehouseOut:
    changes = body.model_dump(exclude_unset=True)
    return WarehouseOut.of(await warehouses.update_warehouse(code, changes))
