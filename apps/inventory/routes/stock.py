"""Stock: availability, levels, the low-stock view, the movement ledger, and the
keyed operations that change on_hand (receipts, adjustments, transfers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from apps.inventory.access import AvailabilityReader, Receiver, Staff, WarehouseStaff
from apps.inventory.metrics import RECEIPTS
from apps.inventory.models import Movement, MovementKind, Product, StockLevel, Warehouse
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
from apps.inventory.stock import StockChange, ensure_levels, run_operation
from apps.kit.app import AppKit, Kit
from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import BadRequest, Conflict, UnprocessableContent

router = APIRouter(prefix="/v1", tags=["stock"])

KeyPath = Annotated[str, Path(pattern=KEY_PATTERN)]
WarehouseQuery = Annotated[WarehouseCode | None, Query()]
LOW_STOCK_LIMIT = 1000


async def _active_warehouses() -> list[str]:
    return [w.id for w in await Warehouse.find({"active": True}).to_list()]


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
    active_products = {
        p.id for p in await Product.find({"_id": {"$in": skus}, "active": True}).to_list()
    }
    totals = dict.fromkeys(skus, 0)
    levels = StockLevel.get_pymongo_collection().find(
        {
            "sku": {"$in": sorted(active_products)},
            "warehouse_code": {"$in": await _active_warehouses()},
        }
    )
    async for level in levels:
        totals[level["sku"]] += max(0, level["on_hand"] - level["reserved"])
    return AvailabilityList(items=[Availability(sku=s, available=n) for s, n in totals.items()])


@router.get("/stock", response_model=Page[LevelOut], summary="Stock levels per SKU and warehouse")
async def stock_levels(
    _: Staff,
    sku: SkuQuery = None,
    warehouse_code: WarehouseQuery = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[LevelOut]:
    query: dict[str, Any] = {}
    skus = sku_list(sku)
    if skus is not None:
        query["sku"] = {"$in": skus}
    if warehouse_code is not None:
        query["warehouse_code"] = warehouse_code
    levels, next_cursor = await keyset_page(StockLevel, query, limit, cursor)
    return Page[LevelOut](
        items=[LevelOut.of(level.model_dump()) for level in levels], next_cursor=next_cursor
    )


@router.get("/stock/low", response_model=Page[LowStockOut], summary="Levels at or below reorder")
async def low_stock(_: Staff, warehouse_code: WarehouseQuery = None) -> Page[LowStockOut]:
    """Active products in active warehouses whose available stock is at or below
    the product's reorder point, lowest first (one page)."""
    products = {p.id: p for p in await Product.find({"active": True}).to_list()}
    warehouses = await _active_warehouses()
    if warehouse_code is not None:
        warehouses = [w for w in warehouses if w == warehouse_code]
    found = []
    async for level in StockLevel.get_pymongo_collection().find(
        {"warehouse_code": {"$in": warehouses}}
    ):
        product = products.get(level["sku"])
        if product is not None and level["on_hand"] - level["reserved"] <= product.reorder_point:
            found.append(
                LowStockOut.model_validate(
                    {
                        **LevelOut.of(level).model_dump(),
                        "name": product.name,
                        "reorder_point": product.reorder_point,
                        "reorder_quantity": product.reorder_quantity,
                    }
                )
            )
    found.sort(key=lambda item: (item.available - item.reorder_point, item.sku))
    return Page[LowStockOut](items=found[:LOW_STOCK_LIMIT])


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


async def _known(skus: list[str], warehouse_codes: list[str], *, to_active: str | None) -> None:
    """422 for SKUs or warehouses that do not exist (or a destination that is inactive)."""
    found = {p.id for p in await Product.find({"_id": {"$in": skus}}).to_list()}
    missing = sorted(set(skus) - found)
    if missing:
        raise UnprocessableContent(
            "Unknown SKU: " + ", ".join(missing), slug="unknown-sku", skus=missing
        )
    warehouses = {
        w.id: w for w in await Warehouse.find({"_id": {"$in": warehouse_codes}}).to_list()
    }
    for code in warehouse_codes:
        if code not in warehouses:
            raise UnprocessableContent(f"Unknown warehouse {code}.", slug="unknown-warehouse")
    if to_active is not None and not warehouses[to_active].active:
        raise UnprocessableContent(f"Warehouse {to_active} is inactive.", slug="warehouse-inactive")


def _answer(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


async def apply_receipt(
    kit: AppKit, receipt_id: str, body: ReceiptRequest, actor: str
) -> tuple[dict[str, Any], bool]:
    """Add a receipt's lines to on_hand once per receipt id."""
    content = body.model_dump(mode="json")
    skus = [line.sku for line in body.lines]
    await _known(skus, [body.warehouse_code], to_active=body.warehouse_code)
    await ensure_levels((sku, body.warehouse_code) for sku in skus)

    async def work(change: StockChange) -> dict[str, Any]:
        for line in body.lines:
            await change.apply(
                line.sku, body.warehouse_code, MovementKind.RECEIPT, on_hand_delta=line.quantity
            )
        data = {
            "receipt_id": receipt_id,
            "reference": body.reference,
            "warehouse_code": body.warehouse_code,
            "lines": content["lines"],
        }
        await change.emit("stock.received", data)
        return change.answer(ReceiptOut, receipt_id, content)

    result, created = await run_operation(kit, "receipt", receipt_id, content, actor, work)
    if created:
        RECEIPTS.inc()
    return result, created


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
    result, created = await apply_receipt(kit, receipt_id, body, principal.subject)
    _answer(response, created)
    return result


def _insufficient(sku: str, warehouse_code: str) -> Conflict:
    return Conflict(
        f"{sku} at {warehouse_code} has too little unreserved stock for this change.",
        slug="insufficient-stock",
    )


# What an adjustment or a transfer can be refused for (besides its own mismatch).
STOCK_CHANGE_PROBLEMS = (
    _insufficient("MAT-ORTHO-Q", "BLR"),
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
    content = body.model_dump(mode="json")
    await _known([body.sku], [body.warehouse_code], to_active=None)
    await ensure_levels([(body.sku, body.warehouse_code)])

    async def work(change: StockChange) -> dict[str, Any]:
        done = await change.apply(
            body.sku,
            body.warehouse_code,
            MovementKind.ADJUSTMENT,
            on_hand_delta=body.delta,
            reason=body.reason.value,
        )
        if done is None:
            raise _insufficient(body.sku, body.warehouse_code)
        data = {"adjustment_id": adjustment_id, **content}
        await change.emit("stock.adjusted", data)
        return change.answer(AdjustmentOut, adjustment_id, content)

    result, created = await run_operation(
        kit, "adjustment", adjustment_id, content, principal.subject, work
    )
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
    content = body.model_dump(mode="json")
    await _known(
        [body.sku],
        [body.from_warehouse_code, body.to_warehouse_code],
        to_active=body.to_warehouse_code,
    )
    await ensure_levels([(body.sku, body.from_warehouse_code), (body.sku, body.to_warehouse_code)])

    async def work(change: StockChange) -> dict[str, Any]:
        out = await change.apply(
            body.sku,
            body.from_warehouse_code,
            MovementKind.TRANSFER_OUT,
            on_hand_delta=-body.quantity,
        )
        if out is None:
            raise _insufficient(body.sku, body.from_warehouse_code)
        await change.apply(
            body.sku, body.to_warehouse_code, MovementKind.TRANSFER_IN, on_hand_delta=body.quantity
        )
        await change.emit("stock.transferred", {"transfer_id": transfer_id, **content})
        return change.answer(TransferOut, transfer_id, content)

    result, created = await run_operation(
        kit, "transfer", transfer_id, content, principal.subject, work
    )
    _answer(response, created)
    return result
