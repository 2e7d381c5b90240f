"""What the procurement service stores."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import pymongo
from pydantic import BaseModel, Field
from pymongo import IndexModel

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument
from apps.kit.ids import new_id


class Material(StrEnum):
    PU_FOAM = "PU_FOAM"
    EPE_FOAM = "EPE_FOAM"
    FABRIC = "FABRIC"
    SPRINGS = "SPRINGS"


class ItemType(StrEnum):
    SKU = "sku"
    MATERIAL = "material"


class SupplyItem(BaseModel):
    """One thing a supplier sells us, at its current price."""

    item_type: ItemType
    item: str  # a SKU, or a Material value
    unit_cost_paise: int
    gst_rate_bps: int = 1800
    order_multiple: int = 1


class Supplier(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("sup"))
    name: str
    contact_name: str
    contact_email: str
    contact_phone: str | None = None
    gstin: str
    supplies: list[SupplyItem]
    lead_time_days: int
    active: bool = True
    demo: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "suppliers"
        indexes = [
            IndexModel([("gstin", pymongo.ASCENDING)], unique=True, name="gstin_unique"),
            IndexModel([("supplies.item", pymongo.ASCENDING), ("active", pymongo.ASCENDING)]),
        ]


class POStatus(StrEnum):
    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    SUBMITTED = "SUBMITTED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


OPEN_STATUSES = (
    POStatus.DRAFT,
    POStatus.PENDING_APPROVAL,
    POStatus.SUBMITTED,
    POStatus.PARTIALLY_RECEIVED,
)


class POLine(BaseModel):
    line_no: int
    item_type: ItemType
    item: str
    quantity: int
    unit_cost_paise: int
    gst_rate_bps: int
    line_subtotal_paise: int
    line_tax_paise: int
    received_quantity: int = 0


class PurchaseOrder(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("po"))
    number: str
    supplier_id: str
    supplier_name: str
    promised_lead_time_days: int
    status: POStatus = POStatus.DRAFT
    lines: list[POLine]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    notes: str | None = None
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    approved_by: str | None = None
    cancelled_at: datetime | None = None
    closed_at: datetime | None = None
    # Raised by every guarded update, so two concurrent changes cannot both win.
    version: int = 0
    demo: bool = False

    class Settings:
        name = "purchase_orders"
        indexes = [
            IndexModel([("number", pymongo.ASCENDING)], unique=True, name="number_unique"),
            IndexModel([("status", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel([("supplier_id", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
        ]


class NumberCounter(KeyedDocument):
    id: str  # "PO-<year>"
    value: int = 0

    class Settings:
        name = "number_counters"


class ReceiptStatus(StrEnum):
    POSTING = "POSTING"  # recorded against the PO; inventory not told yet
    POSTED = "POSTED"  # inventory added the stock
    REJECTED = "REJECTED"  # inventory refused it; the PO's quantities were given back


class ReceiptLine(BaseModel):
    line_no: int
    item_type: ItemType
    item: str
    quantity: int
    unit_cost_paise: int


class GoodsReceipt(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("grn"))
    po_id: str
    po_number: str
    idempotency_key: str | None = None
    warehouse_code: str
    lines: list[ReceiptLine]
    over_receipt: bool = False
    status: ReceiptStatus = ReceiptStatus.POSTING
    attempts: int = 0
    last_error: str | None = None
    received_by: str
    created_at: datetime = Field(default_factory=utcnow)
    posted_at: datetime | None = None

    class Settings:
        name = "goods_receipts"
        indexes = [
            IndexModel([("po_id", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel(
                [("po_id", pymongo.ASCENDING), ("idempotency_key", pymongo.ASCENDING)],
                unique=True,
                partialFilterExpression={"idempotency_key": {"$type": "string"}},
                name="po_idempotency_key_unique",
            ),
            IndexModel([("status", pymongo.ASCENDING), ("created_at", pymongo.ASCENDING)]),
        ]


class StockSignal(KeyedDocument):
    """What inventory's feed says about one SKU: its reorder point and quantity
    (from stock.low), and the latest stock level per warehouse (highest version)."""

    id: str  # the SKU
    reorder_point: int | None = None
    reorder_quantity: int | None = None
    low_at: datetime | None = None
    # warehouse_code -> {"available": n, "version": v}; a level without a version
    # (from stock.low alone) counts as version -1.
    levels: dict[str, dict[str, int]] = Field(default_factory=dict)

    class Settings:
        name = "stock_signals"
