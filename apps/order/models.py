"""What the order service stores."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import pymongo
from pydantic import BaseModel, Field, StringConstraints
from pymongo import IndexModel

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument
from apps.kit.ids import new_id

IDEMPOTENCY_KEY_TTL_SECONDS = 86_400


AddressText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[1-9][0-9]{5}$")]
Country = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}$")]


class Address(BaseModel):
    line1: AddressText
    line2: AddressText | None = None
    city: AddressText
    state: AddressText
    postal_code: PostalCode
    country: Country = "IN"


class Distributor(KeyedDocument):
    id: str  # dst_<slug>
    name: str
    gstin: str
    region: str
    billing_address: Address
    shipping_address: Address
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "distributors"
        indexes = [
            IndexModel([("region", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
        ]


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class SagaStep(StrEnum):
    """The inventory call an order still owes; the recovery loop finishes it."""

    RESERVE = "reserve"
    COMMIT = "commit"
    RELEASE = "release"


class OrderLine(BaseModel):
    sku: str
    name: str
    category: str
    quantity: int
    unit_price_paise: int
    gst_rate_bps: int
    line_subtotal_paise: int
    line_tax_paise: int
    line_total_paise: int


class ShortLine(BaseModel):
    sku: str
    requested: int
    available: int


class Transition(BaseModel):
    status: OrderStatus
    at: datetime
    actor: str
    note: str | None = None


class Order(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("ord"))
    number: str
    status: OrderStatus = OrderStatus.PENDING
    distributor_id: str
    distributor_name: str
    region: str
    shipping_address: Address
    lines: list[OrderLine]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    reference: str | None = None
    placed_by: str
    placed_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    saga: SagaStep | None = SagaStep.RESERVE
    saga_since: datetime | None = Field(default_factory=utcnow)
    saga_actor: str | None = None
    short_lines: list[ShortLine] = Field(default_factory=list)
    rejection_reason: str | None = None
    history: list[Transition] = Field(default_factory=list)

    class Settings:
        name = "orders"
        indexes = [
            IndexModel([("distributor_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("status", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)]),
            IndexModel([("placed_at", pymongo.DESCENDING)]),
            IndexModel([("number", pymongo.ASCENDING)], unique=True, name="number_unique"),
            IndexModel([("saga", pymongo.ASCENDING), ("saga_since", pymongo.ASCENDING)]),
        ]


class OrderCounter(KeyedDocument):
    """The last order number of a year (`SO-2026`)."""

    id: str
    value: int = 0

    class Settings:
        name = "order_counters"


class IdempotencyRecord(KeyedDocument):
    """One order-placing request per (caller, Idempotency-Key): the request's
    fingerprint and the order it created. The 201 answer is the order as of its
    outcome (kept in its history); `status_code` 202 marks an answer given
    while the order was PENDING."""

    id: str  # sha256(caller, key)
    caller: str
    key: str
    fingerprint: str
    order_id: str
    status_code: int | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "idempotency_keys"
        indexes = [
            IndexModel(
                [("created_at", pymongo.ASCENDING)],
                expireAfterSeconds=IDEMPOTENCY_KEY_TTL_SECONDS,
                name="pruned_after_24h",
            )
        ]
