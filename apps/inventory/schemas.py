"""The inventory service's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from apps.inventory.models import (
    Category,
    Product,
    ReservationLine,
    ReservationStatus,
    ShortLine,
    Warehouse,
)
from apps.inventory.settings import MAX_RESERVATION_TTL_SECONDS
from apps.kit.bounds import GstRate
from apps.kit.schemas import (
    Name,
    Paise,
    Quantity,
    RequestModel,
    ResponseModel,
    Sku,
    Text,
    upper_code,
)

WAREHOUSE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,15}$"
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


WarehouseCode = Annotated[
    str, BeforeValidator(upper_code), StringConstraints(pattern=WAREHOUSE_PATTERN)
]
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
StockCount = Annotated[int, Field(ge=0, le=1_000_000)]
Size = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
AttributeKey = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,39}$")
]
AttributeValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Attributes = Annotated[dict[AttributeKey, AttributeValue], Field(max_length=30)]
Note = Annotated[Text, StringConstraints(max_length=500)]


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"each {what} may appear once")


def _no_nulls(model: RequestModel, nullable: frozenset[str] = frozenset()) -> None:
    """A partial update may leave a field out, but not set it to null."""
    for name in model.model_fields_set - nullable:
        if getattr(model, name) is None:
            raise ValueError(f"{name} cannot be null")


class ProductCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "MAT-ORTHO-Q",
                    "name": "Ortho mattress, queen",
                    "category": "mattress",
                    "size": "queen",
                    "attributes": {"firmness": "firm"},
                    "unit_price_paise": 2499900,
                    "gst_rate_bps": 1800,
                    "reorder_point": 20,
                    "reorder_quantity": 50,
                }
            ]
        }
    )

    sku: Sku
    name: Name
    category: Category
    size: Size | None = None
    attributes: Attributes = Field(default_factory=dict)
    unit_price_paise: Paise
    gst_rate_bps: GstRate
    reorder_point: StockCount = 0
    reorder_quantity: StockCount = 0
    active: bool = True


class ProductUpdate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"unit_price_paise": 2599900, "reorder_point": 25}]}
    )

    name: Name | None = None
    category: Category | None = None
    size: Size | None = None
    attributes: Attributes | None = None
    unit_price_paise: Paise | None = None
    gst_rate_bps: GstRate | None = None
    reorder_point: StockCount | None = None
    reorder_quantity: StockCount | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _present_fields_not_null(self) -> ProductUpdate:
        _no_nulls(self, frozenset({"size"}))
        return self


class ProductOut(ResponseModel):
    sku: str
    name: str
    category: Category
    size: str | None
    attributes: dict[str, str]
    unit_price_paise: int
    gst_rate_bps: int
    reorder_point: int
    reorder_quantity: int
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls.model_validate({**product.model_dump(), "sku": product.id})


class WarehouseCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "BLR",
                    "name": "Bengaluru",
                    "address": "Plot 7, Peenya Industrial Area, Bengaluru",
                }
            ]
        }
    )

    code: WarehouseCode
    name: Name
    address: Annotated[Text, StringConstraints(min_length=1, max_length=500)]
    active: bool = True


class WarehouseUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    name: Name | None = None
    address: Annotated[Text, StringConstraints(min_length=1, max_length=500)] | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _present_fields_not_null(self) -> WarehouseUpdate:
        _no_nulls(self)
        return self


class WarehouseOut(ResponseModel):
    code: str
    name: str
    address: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, warehouse: Warehouse) -> WarehouseOut:
        return cls.model_validate({**warehouse.model_dump(), "code": warehouse.id})


class LevelOut(ResponseModel):
    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, level: dict[str, Any]) -> LevelOut:
        return cls.model_validate(
            {**level, "available": int(level["on_hand"]) - int(level["reserved"])}
        )


class LowStockOut(LevelOut):
    name: str
    reorder_point: int
    reorder_quantity: int


class Availability(ResponseModel):
    sku: str
    available: int


class AvailabilityList(ResponseModel):
    items: list[Availability]


class LineIn(RequestModel):
    sku: Sku
    quantity: Quantity


class ReservationRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"lines": [{"sku": "MAT-ORTHO-Q", "quantity": 4}], "ttl_seconds": 604800}]
        }
    )

    lines: list[LineIn] = Field(min_length=1, max_length=100)
    ttl_seconds: int | None = Field(default=None, ge=1, le=MAX_RESERVATION_TTL_SECONDS)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[LineIn]) -> list[LineIn]:
        _unique([line.sku for line in lines], "sku")
        return lines


class ReservationOut(ResponseModel):
    id: str
    status: ReservationStatus
    lines: list[ReservationLine]
    short_lines: list[ShortLine] = Field(default_factory=list)
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ReceiptLine(RequestModel):
    sku: Sku
    quantity: Quantity
    unit_cost_paise: Paise


class ReceiptRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "warehouse_code": "BLR",
                    "reference": "PO-2026-3",
                    "lines": [{"sku": "MAT-ORTHO-Q", "quantity": 50, "unit_cost_paise": 1450000}],
                }
            ]
        }
    )

    warehouse_code: WarehouseCode
    reference: Name
    lines: list[ReceiptLine] = Field(min_length=1, max_length=200)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[ReceiptLine]) -> list[ReceiptLine]:
        _unique([line.sku for line in lines], "sku")
        return lines


class LevelSnapshot(ResponseModel):
    """A level as events and operation answers carry it."""

    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    version: int


class ReceiptOut(ResponseModel):
    id: str
    warehouse_code: str
    reference: str
    lines: list[dict[str, Any]]
    levels: list[LevelSnapshot]
    created_at: datetime


class AdjustmentReason(StrEnum):
    COUNT_CORRECTION = "count_correction"
    DAMAGE = "damage"
    RETURN = "return"


class AdjustmentRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "warehouse_code": "BLR",
                    "sku": "MAT-ORTHO-Q",
                    "delta": -2,
                    "reason": "damage",
                    "note": "Water damage in aisle 3.",
                }
            ]
        }
    )

    warehouse_code: WarehouseCode
    sku: Sku
    delta: int = Field(ge=-1_000_000, le=1_000_000, description="Change of on_hand.")
    reason: AdjustmentReason
    note: Note | None = None

    @model_validator(mode="after")
    def _sign_fits_reason(self) -> AdjustmentRequest:
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        if self.reason is AdjustmentReason.DAMAGE and self.delta > 0:
            raise ValueError("damage removes stock: delta must be negative")
        if self.reason is AdjustmentReason.RETURN and self.delta < 0:
            raise ValueError("a return adds stock: delta must be positive")
        return self


class AdjustmentOut(ResponseModel):
    id: str
    warehouse_code: str
    sku: str
    delta: int
    reason: AdjustmentReason
    note: str | None
    levels: list[LevelSnapshot]
    created_at: datetime


class TransferRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "MAT-ORTHO-Q",
                    "from_warehouse_code": "BLR",
                    "to_warehouse_code": "DEL",
                    "quantity": 10,
                }
            ]
        }
    )

    sku: Sku
    from_warehouse_code: WarehouseCode
    to_warehouse_code: WarehouseCode
    quantity: Quantity
    note: Note | None = None

    @model_validator(mode="after")
    def _two_places(self) -> TransferRequest:
        if self.from_warehouse_code == self.to_warehouse_code:
            raise ValueError("a transfer goes between two different warehouses")
        return self


class TransferOut(ResponseModel):
    id: str
    sku: str
    from_warehouse_code: str
    to_warehouse_code: str
    quantity: int
    note: str | None
    levels: list[LevelSnapshot]
    created_at: datetime


class MovementOut(ResponseModel):
    id: str
    sku: str
    warehouse_code: str
    kind: str
    reason: str | None
    on_hand_delta: int
    reserved_delta: int
    on_hand: int
    reserved: int
    version: int
    actor: str
    reference: str
    at: datetime
