"""Stock: availability, levels, the low-stock view, the movement ledger, and the
keyed operations that change on_hand (receipts, adjustments, transfers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from apps.inventory import levels, operations
from apps.inventory.access import AvailabilityReader, Receiver, Staff, WarehouseStaff
from apps.inventory.models import Movement, MovementKind
from apps.inventory.routes.catalogue import SkuQuery, sku_list
from apps.inventory.schemas import (
    KEY_PATTERN,
    AdjustmentOut,
    AdjustmentRequest,
    Availability,
    AvailabilityList,
    LevelOut,
    LowStockOut,
    MovementOut,
    ReceiptOut,
    ReceiptRequest,
    TransferOut,
    TransferRequest,
    WarehouseCode,
)
from apps.kit.app import Kit
from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import BadRequest, Conflict, UnprocessableContent

router = APIRouter(prefix="/v1", tags=["stock"])

KeyPath = Annotated[str, Path(pattern=KEY_PATTERN)]
WarehouseQuery = Annotated[WarehouseCode | None, Query()]


@router.get(
    "/availability",
    response_model=AvailabilityList,
    responses=problems(BadRequest("Name at least one sku.", slug="sku-required")),
    summary="Available stock per SKU",
)
async def availability(_: AvailabilityReader, sku: SkuQuery = None) -> AvailabilityList:
    """Summed over active warehouses; an unknown or inactive SKU has 0 available."""
    skus = sku_list(sku)
    if not skus:
        raise BadRequest("Name at least one sku.", slug="sku-required")
    totals = await levels.available(skus)
    return AvailabilityList(items=[Availability(sku=s, available=n) for s, n in totals.items()])


@router.get("/stock", response_model=Page[LevelOut], summary="Stock levels per SKU and warehouse")
async def stock_levels(
    _: Staff,
    sku: SkuQuery = None,
    warehouse_code: WarehouseQuery = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[LevelOut]:
    found, next_cursor = await levels.level_page(sku_list(sku), warehouse_code, limit, cursor)
    return Page[LevelOut](
        items=[LevelOut.of(level.model_dump()) for level in found], next_cursor=next_cursor
    )


@router.get("/stock/low", response_model=Page[LowStockOut], summary="Levels at or below reorder")
async def low_stock(_: Staff, warehouse_code: WarehouseQuery = None) -> Page[LowStockOut]:
    """Active products in active warehouses whose available stock is at or below
    the product's reorder point, lowest first (one page)."""
    return Page[LowStockOut](items=await levels.low_stock(warehouse_code))


@router.get("/movements", response_model=Page[MovementOut], summary="The movement ledger")
async def movements(
    _: Staff,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    warehouse_code: WarehouseQuery = None,
    reference: Annotated[str | None, Query(max_length=128)] = None,
    kind: MovementKind | None = None,
    limit: PageLimit = 100,
    cursor: Cursor = None,
) -> Page[MovementOut]:
    """Oldest first; every change of on_hand or reserved, with its resulting levels."""
    query: dict[str, Any] = {}
    if sku:
        query["sku"] = sku.strip().upper()
    if warehouse_code is not None:
        query["warehouse_code"] = warehouse_code
    if reference:
        query["reference"] = reference
    if kind is not None:
        query["kind"] = kind.value
    entries, next_cursor = await keyset_page(Movement, query, limit, cursor)
    return Page[MovementOut](
        items=[MovementOut.model_validate(e) for e in entries], next_cursor=next_cursor
    )


def _answer(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


@router.put(
    "/receipts/{receipt_id}",
    response_model=ReceiptOut,
    responses=problems(
        Conflict("The receipt rcp-1 exists with other content.", slug="receipt-mismatch"),
        UnprocessableContent("Unknown SKU: MAT-X", slug="unknown-sku", skus=["MAT-X"]),
        UnprocessableContent("Unknown warehouse XYZ.", slug="unknown-warehouse"),
    ),
    summary="Receive goods",
)
async def receive(
    receipt_id: KeyPath, body: ReceiptRequest, principal: Receiver, kit: Kit, response: Response
) -> dict[str, Any]:
    """Adds to on_hand once per receipt id: a retry answers 200 with the first
    result; the same id with other content is 409 receipt-mismatch."""
    result, created = await operations.apply_receipt(kit, receipt_id, body, principal.subject)
    _answer(response, created)
    return result


# What an adjustment or a transfer can be refused for (besides its own mismatch).
STOCK_CHANGE_PROBLEMS = (
    operations.insufficient("MAT-ORTHO-Q", "BLR"),
    UnprocessableContent("Unknown SKU: MAT-X", slug="unknown-sku", skus=["MAT-X"]),
    UnprocessableContent("Unknown warehouse XYZ.", slug="unknown-warehouse"),
)


@router.put(
    "/adjustments/{adjustment_id}",
    response_model=AdjustmentOut,
    responses=problems(
        Conflict("The adjustment adj-1 exists with other content.", slug="adjustment-mismatch"),
        *STOCK_CHANGE_PROBLEMS,
    ),
    summary="Adjust on_hand",
)
async def adjust(
    adjustment_id: KeyPath,
    body: AdjustmentRequest,
    principal: WarehouseStaff,
    kit: Kit,
    response: Response,
) -> dict[str, Any]:
    """Count corrections, damage and returns change on_hand only, never below reserved."""
    result, created = await operations.adjust(kit, adjustment_id, body, principal.subject)
    _answer(response, created)
    return result


@router.put(
    "/transfers/{transfer_id}",
    response_model=TransferOut,
    responses=problems(
        Conflict("The transfer trf-1 exists with other content.", slug="transfer-mismatch"),
        *STOCK_CHANGE_PROBLEMS,
        UnprocessableContent("Warehouse DEL is inactive.", slug="warehouse-inactive"),
    ),
    summary="Move stock between warehouses",
)
async def transfer(
    transfer_id: KeyPath,
    body: TransferRequest,
    principal: WarehouseStaff,
    kit: Kit,
    response: Response,
) -> dict[str, Any]:
    result, created = await operations.transfer(kit, transfer_id, body, principal.subject)
    _answer(response, created)
    return result
