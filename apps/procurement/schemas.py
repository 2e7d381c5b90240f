"""The procurement service's request and response bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from apps.kit.bounds import GstRate
from apps.kit.schemas import (
    SKU_PATTERN,
    Email,
    Gstin,
    Name,
    Paise,
    Quantity,
    RequestModel,
    ResponseModel,
    Text,
)
from apps.procurement.models import (
    ItemType,
    Material,
    POLine,
    POStatus,
    ReceiptLine,
    ReceiptStatus,
    SupplyItem,
)

# A SKU (inventory's catalogue) or a material name; upper case like inventory's.
Item = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    ),
]
WarehouseCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
    ),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 -]{6,20}$")]
LeadTimeDays = Annotated[int, Field(ge=0, le=365)]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]


def check_item(item_type: ItemType, item: str) -> None:
    if item_type is ItemType.MATERIAL and item not in {m.value for m in Material}:
        allowed = ", ".join(m.value for m in Material)
        raise ValueError(f"a material is one of {allowed}")
    if item_type is ItemType.SKU and not re.fullmatch(SKU_PATTERN, item):
        raise ValueError(
            "a SKU is 3-40 letters, digits and dashes, starting with a letter or digit"
        )


class SupplyItemIn(RequestModel):
    item_type: ItemType
    item: Item
    unit_cost_paise: Paise
    gst_rate_bps: GstRate = 1800
    order_multiple: Annotated[int, Field(ge=1, le=100_000)] = 1

    @model_validator(mode="after")
    def _item(self) -> SupplyItemIn:
        check_item(self.item_type, self.item)
        return self


def _unique_items(supplies: list[SupplyItemIn] | None) -> None:
    if supplies is not None:
        keys = [(s.item_type, s.item) for s in supplies]
        if len(keys) != len(set(keys)):
            raise ValueError("each item may be listed once")


class SupplierCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "FoamCo Industries",
                    "contact_name": "Arjun Rao",
                    "contact_email": "arjun@foamco.example",
                    "contact_phone": "+91 80 4000 1234",
                    "gstin": "29AAACF1234K1Z2",
                    "supplies": [
                        {
                            "item_type": "material",
                            "item": "PU_FOAM",
                            "unit_cost_paise": 85000,
                            "gst_rate_bps": 1800,
                            "order_multiple": 10,
                        }
                    ],
                    "lead_time_days": 7,
                }
            ]
        }
    )

    name: Name
    contact_name: Name
    contact_email: Email
    contact_phone: Phone | None = None
    gstin: Gstin
    supplies: list[SupplyItemIn] = Field(min_length=1, max_length=500)
    lead_time_days: LeadTimeDays
    active: bool = True

    @model_validator(mode="after")
    def _unique(self) -> SupplierCreate:
        _unique_items(self.supplies)
        return self


class SupplierUpdate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lead_time_days": 10, "active": True}]}
    )

    name: Name | None = None
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    supplies: list[SupplyItemIn] | None = Field(default=None, min_length=1, max_length=500)
    lead_time_days: LeadTimeDays | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _unique(self) -> SupplierUpdate:
        _unique_items(self.supplies)
        return self


class SupplierOut(ResponseModel):
    id: str
    name: str
    contact_name: str
    contact_email: str
    contact_phone: str | None
    gstin: str
    supplies: list[SupplyItem]
    lead_time_days: int
    active: bool
    created_at: datetime
    updated_at: datetime


class POLineIn(RequestModel):
    item_type: ItemType
    item: Item
    quantity: Quantity
    # Default: the supplier's listed cost and GST rate for the item.
    unit_cost_paise: Paise | None = None
    gst_rate_bps: GstRate | None = None

    @model_validator(mode="after")
    def _item(self) -> POLineIn:
        check_item(self.item_type, self.item)
        return self


class PurchaseOrderCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "supplier_id": "sup_foamco",
                    "lines": [{"item_type": "material", "item": "PU_FOAM", "quantity": 200}],
                    "notes": "Deliver to the Bengaluru warehouse.",
                }
            ]
        }
    )

    supplier_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    lines: list[POLineIn] = Field(min_length=1, max_length=200)
    notes: Text | None = None


class PurchaseOrderUpdate(RequestModel):
    """Only a DRAFT can be edited."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"lines": [{"item_type": "material", "item": "PU_FOAM", "quantity": 250}]}]
        }
    )
    lines: list[POLineIn] | None = Field(default=None, min_length=1, max_length=200)
    notes: Text | None = None


class PurchaseOrderOut(ResponseModel):
    id: str
    number: str
    supplier_id: str
    supplier_name: str
    promised_lead_time_days: int
    status: POStatus
    lines: list[POLine]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    notes: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    approved_by: str | None
    cancelled_at: datetime | None
    closed_at: datetime | None
    version: int


class ReceiptLineIn(RequestModel):
    line_no: Annotated[int, Field(ge=1, le=200)]
    quantity: Quantity


class ReceiptCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"warehouse_code": "BLR", "lines": [{"line_no": 1, "quantity": 200}]}]
        }
    )

    warehouse_code: WarehouseCode
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=200)
    # Receiving more than was ordered is refused unless this is set.
    allow_over_receipt: bool = False

    @model_validator(mode="after")
    def _unique_lines(self) -> ReceiptCreate:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("each PO line may appear once per receipt")
        return self


class ReceiptOut(ResponseModel):
    id: str
    po_id: str
    po_number: str
    warehouse_code: str
    lines: list[ReceiptLine]
    over_receipt: bool
    status: ReceiptStatus
    attempts: int
    last_error: str | None
    received_by: str
    created_at: datetime
    posted_at: datetime | None


class SuggestionLine(ResponseModel):
    sku: str
    available: int
    on_order: int
    reorder_point: int
    max_level: int
    order_multiple: int
    quantity: int
    unit_cost_paise: int


class Suggestion(ResponseModel):
    supplier_id: str
    supplier_name: str
    lead_time_days: int
    lines: list[SuggestionLine]
    subtotal_paise: int


class SuggestionList(ResponseModel):
    suggestions: list[Suggestion]
    # Low SKUs that no active supplier supplies.
    unassigned: list[str]
