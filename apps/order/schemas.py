"""The order service's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from apps.kit.schemas import Gstin, Name, Quantity, RequestModel, ResponseModel, Sku, Text
from apps.order.models import Address, OrderLine, OrderStatus, SagaStep, ShortLine, Transition

DistributorId = Annotated[str, StringConstraints(pattern=r"^dst_[a-z0-9_]{3,60}$")]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
MAX_LINES = 100


class AddressIn(Address, RequestModel):
    pass


class DistributorCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "dst_sleepwell",
                    "name": "SleepWell Retail",
                    "gstin": "29ABCDE1234F1Z5",
                    "region": "south",
                    "billing_address": {
                        "line1": "14 Residency Road",
                        "city": "Bengaluru",
                        "state": "Karnataka",
                        "postal_code": "560025",
                        "country": "IN",
                    },
                }
            ]
        }
    )

    id: DistributorId
    name: Name
    gstin: Gstin
    region: Region
    billing_address: AddressIn
    shipping_address: AddressIn | None = None


class DistributorUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"region": "west", "active": True}]})

    name: Name | None = None
    gstin: Gstin | None = None
    region: Region | None = None
    billing_address: AddressIn | None = None
    shipping_address: AddressIn | None = None
    active: bool | None = None


class DistributorOut(ResponseModel):
    id: str
    name: str
    gstin: str
    region: str
    billing_address: Address
    shipping_address: Address
    active: bool
    created_at: datetime
    updated_at: datetime


class LineIn(RequestModel):
    sku: Sku
    quantity: Quantity


class OrderCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "distributor_id": "dst_sleepwell",
                    "lines": [
                        {"sku": "MAT-ORTHO-Q", "quantity": 4},
                        {"sku": "PIL-MEM-STD", "quantity": 10},
                    ],
                    "reference": "PO 4471",
                }
            ]
        }
    )

    distributor_id: DistributorId | None = Field(
        default=None, description="Required for staff; a distributor orders for itself."
    )
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    reference: Text | None = Field(default=None, max_length=100)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[LineIn]) -> list[LineIn]:
        skus = [line.sku for line in lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU may appear on one line only")
        return lines


class CancelRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "The distributor changed the order."}]}
    )

    reason: Text | None = Field(default=None, max_length=500)


class OrderOut(ResponseModel):
    id: str
    number: str
    status: OrderStatus
    distributor_id: str
    distributor_name: str
    region: str
    shipping_address: Address
    lines: list[OrderLine]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    reference: str | None
    placed_by: str
    placed_at: datetime
    updated_at: datetime
    saga: SagaStep | None = Field(description="The inventory call still owed, if any.")
    short_lines: list[ShortLine]
    rejection_reason: str | None
    history: list[Transition]
