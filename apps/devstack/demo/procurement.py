"""Dev-mode demo data: suppliers, and purchase orders in several states, with
their events (so analytics' procurement reports have something to show).
Receipts of finished goods need inventory, so apps/devstack/seed.py makes those
through the API. Idempotent: nothing is created when the demo suppliers exist."""

from __future__ import annotations

import logging
from datetime import timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.money import totals
from apps.procurement import orders
from apps.procurement.models import (
    GoodsReceipt,
    ItemType,
    POStatus,
    PurchaseOrder,
    ReceiptLine,
    ReceiptStatus,
    Supplier,
    SupplyItem,
)
from apps.procurement.receiving import publish_received
from apps.procurement.schemas import POLineIn
from apps.procurement.settings import ProcurementSettings

log = logging.getLogger("glosleep.procurement.seed")

# Finished goods the inventory demo catalogue sells (apps/inventory seed).
DEMO_SKUS = ("MTR-MF6-Q", "MTR-SP-K", "PIL-MF-STD")
DEMO_PO_NOTE = "demo: finished goods awaiting receipt"


def _suppliers() -> list[Supplier]:
    sku = ItemType.SKU
    material = ItemType.MATERIAL
    return [
        Supplier(
            name="Kanpur Foam Works",
            contact_name="Ravi Sharma",
            contact_email="ravi@kanpurfoam.example",
            contact_phone="+91 512 555 0101",
            gstin="09AAACK1234A1Z5",
            supplies=[
                SupplyItem(item_type=material, item="PU_FOAM", unit_cost_paise=42_000),
                SupplyItem(item_type=material, item="EPE_FOAM", unit_cost_paise=18_000),
            ],
            lead_time_days=7,
            demo=True,
        ),
        Supplier(
            name="Surat Textile Mills",
            contact_name="Meera Patel",
            contact_email="meera@surattextile.example",
            gstin="24AABCS5678B1Z2",
            supplies=[
                SupplyItem(
                    item_type=material, item="FABRIC", unit_cost_paise=9_500, gst_rate_bps=500
                ),
                SupplyItem(item_type=material, item="SPRINGS", unit_cost_paise=1_200),
            ],
            lead_time_days=10,
            demo=True,
        ),
        Supplier(
            name="Deccan Sleep Manufacturing",
            contact_name="Arjun Rao",
            contact_email="arjun@deccansleep.example",
            gstin="29AADCD9012C1Z8",
            supplies=[
                SupplyItem(
                    item_type=sku, item=DEMO_SKUS[0], unit_cost_paise=1_450_000, order_multiple=5
                ),
                SupplyItem(
                    item_type=sku, item=DEMO_SKUS[1], unit_cost_paise=1_980_000, order_multiple=5
                ),
                SupplyItem(
                    item_type=sku, item=DEMO_SKUS[2], unit_cost_paise=45_000, order_multiple=20
                ),
            ],
            lead_time_days=14,
            demo=True,
        ),
    ]


async def _po(supplier: Supplier, lines: list[POLineIn], note: str, days_ago: int) -> PurchaseOrder:
    priced = orders.price_lines(supplier, lines)
    created = utcnow() - timedelta(days=days_ago)
    return PurchaseOrder(
        number=await orders.next_number(created),
        supplier_id=supplier.id,
        supplier_name=supplier.name,
        promised_lead_time_days=supplier.lead_time_days,
        lines=priced,
        notes=note,
        created_by="seed",
        created_at=created,
        updated_at=created,
        demo=True,
        **totals(priced).fields(),
    )


async def demo_data(kit: AppKit) -> None:
    settings = kit.settings
    assert isinstance(settings, ProcurementSettings)
    if not settings.dev_mode or await Supplier.find_one({"demo": True}) is not None:
        return
    foam, textile, factory = _suppliers()
    for supplier in (foam, textile, factory):
        try:
            await supplier.insert()
        except DuplicateKeyError:
            return  # another replica is seeding
    material = ItemType.MATERIAL
    received = await _po(
        foam,
        [
            POLineIn(item_type=material, item="PU_FOAM", quantity=200),
            POLineIn(item_type=material, item="EPE_FOAM", quantity=300),
        ],
        "demo: foam, received",
        days_ago=20,
    )
    partial = await _po(
        textile,
        [
            POLineIn(item_type=material, item="FABRIC", quantity=1_000),
            POLineIn(item_type=material, item="SPRINGS", quantity=5_000),
        ],
        "demo: fabric and springs, partly received",
        days_ago=12,
    )
    awaiting = await _po(
        factory,
        [
            POLineIn(item_type=ItemType.SKU, item=DEMO_SKUS[0], quantity=20),
            POLineIn(item_type=ItemType.SKU, item=DEMO_SKUS[2], quantity=100),
        ],
        DEMO_PO_NOTE,
        days_ago=3,
    )
    draft = await _po(
        foam, [POLineIn(item_type=material, item="PU_FOAM", quantity=50)], "demo: draft", 0
    )

    async def work(session: AsyncClientSession) -> None:
        for po, days_ago in ((received, 20), (partial, 12), (awaiting, 3)):
            po.status = POStatus.SUBMITTED
            po.submitted_at = po.updated_at = utcnow() - timedelta(days=days_ago)
            await po.insert(session=session)
            await orders.publish(session, "submitted", po)
        await draft.insert(session=session)
        await _receive_all(received, 6, "BLR-01", session, complete=True)
        await _receive_all(partial, 9, "PUN-01", session, complete=False)

    await kit.database.in_transaction(work)
    log.info("demo suppliers and purchase orders created")


async def _receive_all(
    po: PurchaseOrder,
    after_days: int,
    warehouse: str,
    session: AsyncClientSession,
    *,
    complete: bool,
) -> None:
    """A materials receipt: nothing for inventory to stock, so it is POSTED at once."""
    assert po.submitted_at is not None
    at = po.submitted_at + timedelta(days=after_days)
    lines = []
    for line in po.lines:
        quantity = line.quantity if complete else line.quantity // 2
        line.received_quantity = quantity
        lines.append(
            ReceiptLine(
                line_no=line.line_no,
                item_type=line.item_type,
                item=line.item,
                quantity=quantity,
                unit_cost_paise=line.unit_cost_paise,
            )
        )
    receipt = GoodsReceipt(
        po_id=po.id,
        po_number=po.number,
        warehouse_code=warehouse,
        lines=lines,
        status=ReceiptStatus.POSTED,
        received_by="seed",
        created_at=at,
        posted_at=at,
    )
    await receipt.insert(session=session)
    po.status = orders.receipt_status(po.lines)
    po.updated_at = at
    po.version += 1
    await po.replace(session=session)
    await publish_received(po, receipt, session)


# What the kit runs at start in dev mode (apps/kit/app.py, DEMO_PACKAGE).
seed = demo_data
