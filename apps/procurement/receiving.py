"""Goods receipt: recorded against the PO first (status POSTING, in the same
transaction as the PO's received quantities), then posted to inventory keyed by
the receipt id, so a retry never adds stock twice. A crash or an outage between
the two leaves the receipt POSTING, and the recovery loop posts it later."""

from __future__ import annotations

import logging
from datetime import timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.leases import hold_lease
from apps.kit.problems import Conflict, UnprocessableContent
from apps.kit.service_client import UpstreamError, UpstreamUnavailable
from apps.procurement import orders
from apps.procurement.metrics import GOODS_RECEIPTS
from apps.procurement.models import (
    GoodsReceipt,
    ItemType,
    POStatus,
    PurchaseOrder,
    ReceiptLine,
    ReceiptStatus,
)
from apps.procurement.schemas import ReceiptCreate
from apps.procurement.settings import ProcurementSettings

log = logging.getLogger("glosleep.procurement.receiving")

# Inventory answers that mean "this receipt will never be accepted".
REJECTING_STATUSES = frozenset({400, 404, 409, 422})


def _apply(po: PurchaseOrder, lines: list[ReceiptLine], sign: int) -> None:
    by_number = {line.line_no: line for line in po.lines}
    for line in lines:
        by_number[line.line_no].received_quantity += sign * line.quantity


async def record_receipt(
    po_id: str, body: ReceiptCreate, key: str | None, actor: str, kit: AppKit
) -> tuple[GoodsReceipt, bool]:
    """Record the receipt (or find the one recorded with this key); answers
    (receipt, created)."""

    async def work(session: AsyncClientSession) -> tuple[GoodsReceipt, bool]:
        if key is not None:
            existing = await GoodsReceipt.find_one(
                {"po_id": po_id, "idempotency_key": key}, session=session
            )
            if existing is not None:
                return existing, False
        po = await orders.load(po_id, session)
        orders.check_transition(po, "receive")
        by_number = {line.line_no: line for line in po.lines}
        lines, over = [], []
        for wanted in body.lines:
            line = by_number.get(wanted.line_no)
            if line is None:
                raise UnprocessableContent(
                    f"{po.number} has no line {wanted.line_no}.", slug="unknown-line"
                )
            remaining = line.quantity - line.received_quantity
            if wanted.quantity > remaining:
                over.append(
                    {"line_no": line.line_no, "remaining": remaining, "receiving": wanted.quantity}
                )
            lines.append(
                ReceiptLine(
                    line_no=line.line_no,
                    item_type=line.item_type,
                    item=line.item,
                    quantity=wanted.quantity,
                    unit_cost_paise=line.unit_cost_paise,
                )
            )
        if over and not body.allow_over_receipt:
            raise Conflict(
                "This receipt is more than was ordered; set allow_over_receipt to accept it.",
                slug="over-receipt",
                over_lines=over,
            )
        _apply(po, lines, +1)
        po = await orders.guarded_update(
            po, {"lines": po.lines, "status": orders.receipt_status(po.lines)}, session
        )
        receipt = GoodsReceipt(
            po_id=po.id,
            po_number=po.number,
            idempotency_key=key,
            warehouse_code=body.warehouse_code,
            lines=lines,
            over_receipt=bool(over),
            received_by=actor,
        )
        if not _stock_lines(receipt):
            # Materials only: nothing for inventory to stock, so it is done now.
            receipt.status = ReceiptStatus.POSTED
            receipt.posted_at = utcnow()
            await publish_received(po, receipt, session)
        await receipt.insert(session=session)
        return receipt, True

    try:
        receipt, created = await kit.database.in_transaction(work)
    except DuplicateKeyError:
        # The same key raced with itself: the other request recorded it.
        found = await GoodsReceipt.find_one({"po_id": po_id, "idempotency_key": key})
        if found is None:
            raise
        return found, False
    if created and receipt.status is ReceiptStatus.POSTED:
        _count_posted()
    return receipt, created


def _stock_lines(receipt: GoodsReceipt) -> list[ReceiptLine]:
    return [line for line in receipt.lines if line.item_type is ItemType.SKU]


async def publish_received(
    po: PurchaseOrder, receipt: GoodsReceipt, session: AsyncClientSession
) -> None:
    await orders.publish(
        session,
        "received",
        po,
        receipt_id=receipt.id,
        warehouse_code=receipt.warehouse_code,
        received_lines=[
            {"item": line.item, "quantity": line.quantity, "unit_cost_paise": line.unit_cost_paise}
            for line in receipt.lines
        ],
    )


def _count_posted() -> None:
    GOODS_RECEIPTS.inc()
    orders.count_event("received")


async def post_receipt(kit: AppKit, receipt_id: str) -> GoodsReceipt:
    """Tell inventory about a POSTING receipt; safe to call any number of times."""
    receipt = await GoodsReceipt.get(receipt_id)
    assert receipt is not None
    if receipt.status is not ReceiptStatus.POSTING:
        return receipt
    settings = kit.settings
    assert isinstance(settings, ProcurementSettings)
    client = kit.client("inventory", settings.inventory_url)
    body = {
        "warehouse_code": receipt.warehouse_code,
        "reference": receipt.po_number,
        "lines": [
            {"sku": line.item, "quantity": line.quantity, "unit_cost_paise": line.unit_cost_paise}
            for line in _stock_lines(receipt)
        ],
    }
    await GoodsReceipt.get_pymongo_collection().update_one(
        {"_id": receipt.id}, {"$inc": {"attempts": 1}}
    )
    try:
        await client.request("PUT", f"/v1/receipts/{receipt.id}", json=body, idempotent=True)
    except UpstreamUnavailable as error:
        await _note_error(receipt.id, str(error))
    except UpstreamError as error:
        reason = str(error.problem.get("detail") or error)
        if error.status not in REJECTING_STATUSES:
            await _note_error(receipt.id, reason)
        else:
            await kit.database.in_transaction(lambda session: _reject(receipt.id, reason, session))
    else:
        if await kit.database.in_transaction(lambda session: _mark_posted(receipt.id, session)):
            _count_posted()
    found = await GoodsReceipt.get(receipt.id)
    assert found is not None
    return found


async def _note_error(receipt_id: str, message: str) -> None:
    log.warning("receipt not posted yet", extra={"receipt_id": receipt_id, "error": message})
    await GoodsReceipt.get_pymongo_collection().update_one(
        {"_id": receipt_id}, {"$set": {"last_error": message[:500]}}
    )


async def _claim(
    receipt_id: str, status: ReceiptStatus, extra: dict[str, object], session: AsyncClientSession
) -> GoodsReceipt | None:
    """Move a POSTING receipt on; None if someone else already did."""
    changed = await GoodsReceipt.get_pymongo_collection().update_one(
        {"_id": receipt_id, "status": str(ReceiptStatus.POSTING)},
        {"$set": {"status": str(status), **extra}},
        session=session,
    )
    if changed.modified_count != 1:
        return None
    return await GoodsReceipt.get(receipt_id, session=session)


async def _mark_posted(receipt_id: str, session: AsyncClientSession) -> bool:
    receipt = await _claim(
        receipt_id, ReceiptStatus.POSTED, {"posted_at": utcnow(), "last_error": None}, session
    )
    if receipt is None:
        return False
    po = await orders.load(receipt.po_id, session)
    await publish_received(po, receipt, session)
    return True


async def _reject(receipt_id: str, reason: str, session: AsyncClientSession) -> None:
    """Inventory refused the receipt for good: give the PO its quantities back."""
    receipt = await _claim(
        receipt_id, ReceiptStatus.REJECTED, {"last_error": reason[:500]}, session
    )
    if receipt is None:
        return
    po = await orders.load(receipt.po_id, session)
    _apply(po, receipt.lines, -1)
    status = po.status if po.status is POStatus.CLOSED else orders.receipt_status(po.lines)
    await orders.guarded_update(po, {"lines": po.lines, "status": status}, session)
    log.warning("receipt rejected by inventory", extra={"receipt_id": receipt_id, "reason": reason})


async def recover_receipts(kit: AppKit) -> None:
    """Post receipts that a crash or an inventory outage left POSTING."""
    settings = kit.settings
    assert isinstance(settings, ProcurementSettings)
    # A replica that dies leaves its lease; another takes over after a few rounds.
    ttl = max(5.0, 3 * settings.receipt_recovery_interval_seconds)
    if not await hold_lease("receipt-recovery", ttl_seconds=ttl):
        return
    cutoff = utcnow() - timedelta(seconds=settings.receipt_recovery_grace_seconds)
    pending = (
        await GoodsReceipt.find(
            {"status": str(ReceiptStatus.POSTING), "created_at": {"$lte": cutoff}}
        )
        .sort("created_at")
        .limit(100)
        .to_list()
    )
    for receipt in pending:
        await post_receipt(kit, receipt.id)
