"""Goods receipt against a purchase order, posted to inventory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from apps.kit.app import Kit
from apps.kit.documents import get_or_404
from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict, UnprocessableContent
from apps.procurement import orders
from apps.procurement.access import Reader, Receiver
from apps.procurement.models import GoodsReceipt, ReceiptStatus
from apps.procurement.receiving import post_receipt, record_receipt
from apps.procurement.schemas import IdempotencyKey, ReceiptCreate, ReceiptOut

router = APIRouter(prefix="/v1", tags=["goods receipts"])


@router.post(
    "/purchase-orders/{po_id}/receipts",
    response_model=ReceiptOut,
    status_code=201,
    summary="Receive goods into a warehouse",
    responses={
        200: {"description": "A replay of the receipt with this Idempotency-Key"},
        **problems(
            Conflict(
                "This receipt is more than was ordered; set allow_over_receipt to accept it.",
                slug="over-receipt",
            ),
            Conflict(
                "Cannot receive purchase order PO-2026-3 in status DRAFT.",
                slug="illegal-transition",
            ),
            UnprocessableContent("PO-2026-3 has no line 4.", slug="unknown-line"),
            UnprocessableContent(
                "Inventory refused the receipt: unknown-warehouse",
                slug="receipt-rejected",
                receipt_id="grn_01",
            ),
        ),
    },
)
async def receive_goods(
    po_id: str,
    body: ReceiptCreate,
    receiver: Receiver,
    kit: Kit,
    response: Response,
    idempotency_key: Annotated[IdempotencyKey | None, Header()] = None,
) -> GoodsReceipt:
    """201 with status POSTED once inventory has the stock; POSTING when
    inventory could not be reached (the recovery loop posts it later); 422 when
    inventory refused it (the PO's quantities are given back)."""
    receipt, created = await record_receipt(po_id, body, idempotency_key, receiver.subject, kit)
    if not created:
        response.status_code = 200
    receipt = await post_receipt(kit, receipt.id)
    if receipt.status is ReceiptStatus.REJECTED:
        raise UnprocessableContent(
            f"Inventory refused the receipt: {receipt.last_error}",
            slug="receipt-rejected",
            receipt_id=receipt.id,
        )
    return receipt


@router.get(
    "/purchase-orders/{po_id}/receipts",
    response_model=Page[ReceiptOut],
    summary="Receipts of a purchase order",
)
async def list_receipts(
    po_id: str, _: Reader, limit: PageLimit = 50, cursor: Cursor = None
) -> Page[ReceiptOut]:
    await orders.load(po_id)
    found, next_cursor = await keyset_page(GoodsReceipt, {"po_id": po_id}, limit, cursor)
    return Page[ReceiptOut](
        items=[ReceiptOut.model_validate(r) for r in found], next_cursor=next_cursor
    )


@router.get("/receipts/{receipt_id}", response_model=ReceiptOut, summary="Read a receipt")
async def read_receipt(receipt_id: str, _: Reader) -> GoodsReceipt:
    return await get_or_404(GoodsReceipt, receipt_id, "receipt")
