"""The keyed operations that change on_hand: receipts, adjustments and transfers.
Each runs once per client key (`stock.run_operation`): a retry answers the first
result, other content under the same key is a 409."""

from __future__ import annotations

from typing import Any

from apps.inventory.metrics import RECEIPTS
from apps.inventory.models import MovementKind, Product, Warehouse
from apps.inventory.schemas import (
    AdjustmentOut,
    AdjustmentRequest,
    ReceiptOut,
    ReceiptRequest,
    TransferOut,
    TransferRequest,
)
from apps.inventory.stock import StockChange, ensure_levels, run_operation
from apps.kit.app import AppKit
from apps.kit.problems import Conflict, UnprocessableContent


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


def insufficient(sku: str, warehouse_code: str) -> Conflict:
    return Conflict(
        f"{sku} at {warehouse_code} has too little unreserved stock for this change.",
        slug="insufficient-stock",
    )


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


async def adjust(
    kit: AppKit, adjustment_id: str, body: AdjustmentRequest, actor: str
) -> tuple[dict[str, Any], bool]:
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
            raise insufficient(body.sku, body.warehouse_code)
        data = {"adjustment_id": adjustment_id, **content}
        await change.emit("stock.adjusted", data)
        return change.answer(AdjustmentOut, adjustment_id, content)

    return await run_operation(kit, "adjustment", adjustment_id, content, actor, work)


async def transfer(
    kit: AppKit, transfer_id: str, body: TransferRequest, actor: str
) -> tuple[dict[str, Any], bool]:
    """Move on_hand from one warehouse to another (an active one)."""
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
            raise insufficient(body.sku, body.from_warehouse_code)
        await change.apply(
            body.sku, body.to_warehouse_code, MovementKind.TRANSFER_IN, on_hand_delta=body.quantity
        )
        await change.emit("stock.transferred", {"transfer_id": transfer_id, **content})
        return change.answer(TransferOut, transfer_id, content)

    return await run_operation(kit, "transfer", transfer_id, content, actor, work)
