"""The read models analytics builds from events. Each is order-independent:
the latest snapshot wins by (time, rank), per-stage times keep the earliest,
stock levels are stored per version and the current one is the highest, so
duplicate and out-of-order delivery leave the same state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel

from apps.kit.documents import KeyedDocument


class OrderFact(KeyedDocument):
    id: str  # the order id
    number: str
    distributor_id: str
    distributor_name: str
    region: str
    lines: list[dict[str, Any]]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    placed_at: datetime
    status: str
    status_at: datetime
    status_rank: int
    # stage (placed, confirmed, ...) -> when the order reached it
    stages: dict[str, datetime] = Field(default_factory=dict)

    class Settings:
        name = "order_facts"
        indexes = [
            IndexModel([("placed_at", pymongo.ASCENDING)]),
            IndexModel([("distributor_id", pymongo.ASCENDING), ("placed_at", pymongo.ASCENDING)]),
            # The purchase history's pages: a distributor's orders by _id from a cursor,
            # the placed_at window checked in the index (equality, sort, range).
            IndexModel(
                [
                    ("distributor_id", pymongo.ASCENDING),
                    ("_id", pymongo.ASCENDING),
                    ("placed_at", pymongo.ASCENDING),
                ]
            ),
        ]


class SalesLine(BaseModel):
    """A day's sales of one SKU (under one category) to one distributor."""

    sku: str
    name: str  # as the first order (by id) named it
    category: str | None
    first_order_id: str
    orders: int = 0  # sales with a line of it
    units: int = 0
    net_revenue_paise: int = 0
    tax_paise: int = 0


class SalesTotals(BaseModel):
    """The sums of a day's sales lines, so that a report that needs no line reads none."""

    units: int = 0
    net_revenue_paise: int = 0
    tax_paise: int = 0

    @classmethod
    def of(cls, lines: list[SalesLine]) -> SalesTotals:
        return cls(
            units=sum(line.units for line in lines),
            net_revenue_paise=sum(line.net_revenue_paise for line in lines),
            tax_paise=sum(line.tax_paise for line in lines),
        )


class CategoryOrders(BaseModel):
    category: str | None
    orders: int  # sales with a line of the category


class SalesDay(KeyedDocument):
    """The rollup of one day's orders of one distributor in one region
    (apps/analytics/sales_days.py), keyed "<day>|<distributor_id>|<region>"."""

    id: str
    day: datetime  # midnight UTC
    distributor_id: str
    distributor_name: str  # as its first order (by id) named it
    first_order_id: str
    region: str
    orders: int  # sales: confirmed and never cancelled
    stages: dict[str, int]  # orders placed, and orders that reached each later stage
    categories: list[CategoryOrders]
    lines: list[SalesLine]
    # The sums of `lines`; None in a rollup stored before they were kept, until its
    # next change or a rebuild (the sales report then sums its lines).
    totals: SalesTotals | None = None

    class Settings:
        name = "sales_days"
        indexes = [
            IndexModel([("day", pymongo.ASCENDING)]),
            IndexModel([("distributor_id", pymongo.ASCENDING), ("day", pymongo.ASCENDING)]),
            IndexModel([("region", pymongo.ASCENDING), ("day", pymongo.ASCENDING)]),
        ]


class SalesWholeDay(SalesDay):
    """The rollup of one day's orders of every distributor and region, keyed
    "<day>||" (distributor, region and distributor name empty): a report over the whole
    business reads one document a day, however many distributors bought that day."""

    class Settings:
        name = "sales_whole_days"
        indexes = [IndexModel([("day", pymongo.ASCENDING)])]


class Level(BaseModel):
    """A stock level (sku, warehouse) at one version."""

    sku: str
    warehouse_code: str
    version: int
    on_hand: int
    reserved: int
    at: datetime


class LevelVersion(KeyedDocument, Level):
    """One version of a stock level, keyed "<sku>|<warehouse>|<version>"; the highest
    one before a time is the position then (the stock reports as of a past day)."""

    id: str  # type: ignore[assignment]  # KeyedDocument's, lost to the second base

    class Settings:
        name = "level_versions"
        indexes = [
            IndexModel([("at", pymongo.ASCENDING)]),
            # The latest version of each level first: what the reports group by.
            IndexModel(
                [
                    ("sku", pymongo.ASCENDING),
                    ("warehouse_code", pymongo.ASCENDING),
                    ("version", pymongo.DESCENDING),
                ]
            ),
        ]


class CurrentLevel(KeyedDocument, Level):
    """The highest version of each stock level seen, keyed "<sku>|<warehouse>": the
    position now, one document per level however many versions there were."""

    id: str  # type: ignore[assignment]  # KeyedDocument's, lost to the second base

    class Settings:
        name = "current_levels"
        indexes = [
            IndexModel([("sku", pymongo.ASCENDING), ("warehouse_code", pymongo.ASCENDING)]),
            IndexModel([("warehouse_code", pymongo.ASCENDING)]),
        ]


class ReceiptCost(KeyedDocument):
    """A unit cost paid for a SKU (from stock.received); the latest values stock."""

    id: str  # "<receipt_id>|<sku>"
    sku: str
    unit_cost_paise: int
    at: datetime

    class Settings:
        name = "receipt_costs"
        # The latest cost of each SKU first (ties: the higher id).
        indexes = [
            IndexModel(
                [
                    ("sku", pymongo.ASCENDING),
                    ("at", pymongo.DESCENDING),
                    ("_id", pymongo.DESCENDING),
                ]
            )
        ]


class ProductFact(KeyedDocument):
    id: str  # the SKU
    name: str | None = None
    category: str | None = None
    unit_price_paise: int | None = None
    catalog_at: datetime | None = None
    reorder_point: int | None = None
    reorder_quantity: int | None = None
    thresholds_at: datetime | None = None

    class Settings:
        name = "product_facts"


class PurchaseOrderFact(KeyedDocument):
    id: str  # the PO id
    number: str
    supplier_id: str
    supplier_name: str
    promised_lead_time_days: int
    lines: list[dict[str, Any]]
    total_paise: int
    submitted_at: datetime | None
    snapshot_at: datetime
    snapshot_rank: int
    cancelled_at: datetime | None = None
    # receipt id -> {"at", "value_paise", "completes"}
    receipts: dict[str, dict[str, Any]] = Field(default_factory=dict)

    class Settings:
        name = "purchase_order_facts"
        indexes = [IndexModel([("supplier_id", pymongo.ASCENDING)])]


READ_MODELS: list[type[Document]] = [
    OrderFact,
    SalesDay,
    SalesWholeDay,
    LevelVersion,
    CurrentLevel,
    ReceiptCost,
    ProductFact,
    PurchaseOrderFact,
]
