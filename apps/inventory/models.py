"""What the inventory service stores."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import pymongo
from pydantic import BaseModel, Field
from pymongo import IndexModel

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument
from apps.kit.ids import new_id


class Category(StrEnum):
    MATTRESS = "mattress"
    PILLOW = "pillow"
    FOAM = "foam"
    MATERIAL = "material"


class Product(KeyedDocument):
    id: str  # the SKU
    name: str
    category: Category
    size: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    unit_price_paise: int
    gst_rate_bps: int
    reorder_point: int = 0
    reorder_quantity: int = 0
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "products"
        indexes = [
            IndexModel([("category", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel([("active", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
        ]


class Warehouse(KeyedDocument):
    id: str  # the warehouse code
    name: str
    address: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "warehouses"
        indexes = [IndexModel([("active", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)])]


def level_id(sku: str, warehouse_code: str) -> str:
    return f"{sku}@{warehouse_code}"


class StockLevel(KeyedDocument):
    """One level per SKU and warehouse. `available` is on_hand - reserved and is
    never stored; `version` rises by one with every change."""

    id: str  # "<sku>@<warehouse_code>"
    sku: str
    warehouse_code: str
    on_hand: int = 0
    reserved: int = 0
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "stock_levels"
        indexes = [
            IndexModel(
                [("sku", pymongo.ASCENDING), ("warehouse_code", pymongo.ASCENDING)],
                unique=True,
                name="sku_warehouse_unique",
            ),
            # Not (warehouse_code, sku): Beanie keys indexes by their sorted fields, so
            # that one silently replaced the unique (sku, warehouse_code) above, and
            # every read by SKU (each reservation) scanned the collection.
            IndexModel([("warehouse_code", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
        ]


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RESERVE = "reserve"
    RELEASE = "release"
    EXPIRE = "expire"
    COMMIT = "commit"


class Movement(KeyedDocument):
    """The append-only ledger: one entry per change of one level. Per SKU and
    warehouse, the on_hand deltas sum to on_hand and the reserved deltas to reserved."""

    id: str = Field(default_factory=lambda: new_id("mov"))
    sku: str
    warehouse_code: str
    kind: MovementKind
    reason: str | None = None
    on_hand_delta: int
    reserved_delta: int
    on_hand: int
    reserved: int
    version: int
    actor: str
    reference: str
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "movements"
        indexes = [
            IndexModel([("sku", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel([("warehouse_code", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
            IndexModel([("reference", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
        ]


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    REJECTED = "rejected"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


class Allocation(BaseModel):
    warehouse_code: str
    quantity: int


class ReservationLine(BaseModel):
    sku: str
    quantity: int
    allocations: list[Allocation] = Field(default_factory=list)


class ShortLine(BaseModel):
    sku: str
    requested: int
    available: int


class Reservation(KeyedDocument):
    """Keyed by the caller's id (the order id). A rejection is kept, so a replay
    answers the same; a release of an unknown id leaves a tombstone."""

    id: str  # the caller's reservation id
    status: ReservationStatus
    fingerprint: str
    lines: list[ReservationLine]
    short_lines: list[ShortLine] = Field(default_factory=list)
    tombstone: bool = False
    expires_at: datetime | None = None
    actor: str
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "reservations"
        indexes = [
            IndexModel([("status", pymongo.ASCENDING), ("expires_at", pymongo.ASCENDING)]),
        ]


class Operation(KeyedDocument):
    """A receipt, adjustment or transfer, stored under its client-supplied key so
    a retry replays the first answer instead of changing stock twice."""

    id: str  # "<kind>:<client key>"
    kind: str
    key: str
    fingerprint: str
    actor: str
    result: dict[str, Any]
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "operations"
