"""Typed events: the payload (`data`) of each event type, per version, as pydantic
models, and their JSON Schemas (docs/events/). The contract between a producer and its
consumers (docs/architecture.md, "Event payloads"), so it lives in the kit that both
sides install. Producers are tested to emit payloads these models accept; consumers
declare the (type, version) pairs they handle and are tested against each.

Every event published so far is version 1 (the envelope carries no version yet; a
second version of a type would add one, and consumers would claim it here first).
Covered: every type of the order, procurement and inventory feeds."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from apps.kit.events import Event

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "events"


class Payload(BaseModel):
    """An event's `data`. Unknown fields are refused, so a producer that adds or renames
    a field without a new version fails its tests instead of surprising a consumer."""

    model_config = ConfigDict(extra="forbid")


# -- order ---------------------------------------------------------------------


class OrderLinePayload(Payload):
    sku: str
    name: str
    category: str
    quantity: int
    unit_price_paise: int
    gst_rate_bps: int
    line_subtotal_paise: int
    line_tax_paise: int


class ShortLinePayload(Payload):
    sku: str
    requested: int
    available: int


class OrderSnapshotV1(Payload):
    """Every `order.*` event: the whole order as of the transition (`at`)."""

    order_id: str
    number: str
    status: Literal["PENDING", "CONFIRMED", "REJECTED", "SHIPPED", "DELIVERED", "CANCELLED"]
    distributor_id: str
    distributor_name: str
    region: str
    lines: list[OrderLinePayload]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    placed_at: datetime
    at: datetime
    short_lines: list[ShortLinePayload] | None = None  # order.rejected only


# -- procurement -----------------------------------------------------------------


class PurchaseOrderLinePayload(Payload):
    line_no: int
    item_type: Literal["sku", "material"]
    item: str
    quantity: int
    unit_cost_paise: int
    gst_rate_bps: int
    received_quantity: int


class ReceivedLinePayload(Payload):
    item: str
    quantity: int
    unit_cost_paise: int


class PurchaseOrderSnapshotV1(Payload):
    """`purchase_order.submitted` and `purchase_order.cancelled`: the PO as it is."""

    po_id: str
    number: str
    status: str
    supplier_id: str
    supplier_name: str
    promised_lead_time_days: int
    lines: list[PurchaseOrderLinePayload]
    subtotal_paise: int
    tax_paise: int
    total_paise: int
    submitted_at: datetime | None
    at: datetime


class PurchaseOrderReceivedV1(PurchaseOrderSnapshotV1):
    """`purchase_order.received`: the PO, and the receipt inventory accepted."""

    receipt_id: str
    warehouse_code: str
    received_lines: list[ReceivedLinePayload]


# -- inventory -------------------------------------------------------------------


class LevelPayload(Payload):
    """A stock level after the change; `version` rises by one per change of the level."""

    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    version: int


class StockChangeV1(Payload):
    levels: list[LevelPayload]


class ReceiptLinePayload(Payload):
    sku: str
    quantity: int
    unit_cost_paise: int


class StockReceivedV1(StockChangeV1):
    receipt_id: str
    reference: str
    warehouse_code: str
    lines: list[ReceiptLinePayload]


class StockAdjustedV1(StockChangeV1):
    adjustment_id: str
    warehouse_code: str
    sku: str
    delta: int
    reason: Literal["count_correction", "damage", "return"]
    note: str | None


class StockTransferredV1(StockChangeV1):
    transfer_id: str
    sku: str
    from_warehouse_code: str
    to_warehouse_code: str
    quantity: int
    note: str | None


class StockLowV1(StockChangeV1):
    """Once per crossing from above the reorder point to at or below it."""

    sku: str
    warehouse_code: str
    available: int
    reorder_point: int
    reorder_quantity: int


class AllocationPayload(Payload):
    warehouse_code: str
    quantity: int


class ReservationLinePayload(Payload):
    sku: str
    quantity: int
    allocations: list[AllocationPayload]


class ReservationV1(StockChangeV1):
    """`reservation.committed`, `.released`, `.expired`."""

    reservation_id: str
    status: str
    lines: list[ReservationLinePayload]


class ReservationCreatedV1(ReservationV1):
    expires_at: datetime | None


class ProductV1(Payload):
    """`product.created` and `product.updated`: the catalogue entry."""

    sku: str
    name: str
    category: str
    size: str | None
    attributes: dict[str, str]
    unit_price_paise: int
    gst_rate_bps: int
    reorder_point: int
    reorder_quantity: int
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    payload: type[Payload]

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    def json_schema(self) -> dict[str, Any]:
        schema = self.payload.model_json_schema()
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{self.name}.v{self.version}.json",
            "title": f"{self.name} (version {self.version}): data",
            **schema,
        }


ORDER_STAGES = ("placed", "confirmed", "rejected", "shipped", "delivered", "cancelled")
EVENT_TYPES: tuple[EventType, ...] = (
    *(EventType(f"order.{stage}", 1, OrderSnapshotV1) for stage in ORDER_STAGES),
    EventType("purchase_order.submitted", 1, PurchaseOrderSnapshotV1),
    EventType("purchase_order.cancelled", 1, PurchaseOrderSnapshotV1),
    EventType("purchase_order.received", 1, PurchaseOrderReceivedV1),
    EventType("product.created", 1, ProductV1),
    EventType("product.updated", 1, ProductV1),
    EventType("stock.received", 1, StockReceivedV1),
    EventType("stock.adjusted", 1, StockAdjustedV1),
    EventType("stock.transferred", 1, StockTransferredV1),
    EventType("stock.low", 1, StockLowV1),
    EventType("reservation.created", 1, ReservationCreatedV1),
    EventType("reservation.committed", 1, ReservationV1),
    EventType("reservation.released", 1, ReservationV1),
    EventType("reservation.expired", 1, ReservationV1),
)
_BY_KEY = {event_type.key: event_type for event_type in EVENT_TYPES}


def event_type(name: str, version: int = 1) -> EventType:
    return _BY_KEY[(name, version)]


def typed(name: str) -> bool:
    return any(event_type.name == name for event_type in EVENT_TYPES)


def validate(event: Event, version: int = 1) -> Payload:
    """The event's data as its type's model; a ValidationError when it does not fit."""
    return event_type(event.type, version).payload.model_validate(event.data)


def write_schemas(folder: Path = SCHEMA_DIR, types: Iterable[EventType] = EVENT_TYPES) -> None:
    """docs/events/<type>.v<version>.json for each typed event (python -m apps.kit.event_types)."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in types:
        path = folder / f"{item.name}.v{item.version}.json"
        path.write_text(json.dumps(item.json_schema(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_schemas()
