"""One example payload of every typed event (apps/kit/event_types.py), validated by
its model, for the consumers' tests: an event a producer could have sent."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from apps.kit.event_types import event_type
from apps.kit.events import Event

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SKU, WAREHOUSE = "MAT-ORTHO-Q", "BLR"
LEVEL: dict[str, Any] = {
    "sku": SKU,
    "warehouse_code": WAREHOUSE,
    "on_hand": 8,
    "reserved": 4,
    "version": 3,
}
RESERVED_LINE = {
    "sku": SKU,
    "quantity": 2,
    "allocations": [{"warehouse_code": WAREHOUSE, "quantity": 2}],
}
ORDER = {
    "number": "SO-2026-000001",
    "distributor_id": "dst_sleepwell",
    "distributor_name": "SleepWell Retail",
    "region": "South",
    "lines": [
        {
            "sku": SKU,
            "name": "Ortho mattress, queen",
            "category": "mattress",
            "quantity": 2,
            "unit_price_paise": 1_249_900,
            "gst_rate_bps": 1800,
            "line_subtotal_paise": 2_499_800,
            "line_tax_paise": 449_964,
        }
    ],
    "subtotal_paise": 2_499_800,
    "tax_paise": 449_964,
    "total_paise": 2_949_764,
    "placed_at": AT.isoformat(),
    "at": AT.isoformat(),
}
PURCHASE_ORDER = {
    "number": "PO-2026-000001",
    "status": "SUBMITTED",
    "supplier_id": "sup_foamco",
    "supplier_name": "FoamCo",
    "promised_lead_time_days": 7,
    "lines": [
        {
            "line_no": 1,
            "item_type": "material",
            "item": "PU_FOAM",
            "quantity": 4,
            "unit_cost_paise": 42_000,
            "gst_rate_bps": 1800,
            "received_quantity": 4,
        }
    ],
    "subtotal_paise": 168_000,
    "tax_paise": 30_240,
    "total_paise": 198_240,
    "submitted_at": AT.isoformat(),
    "at": AT.isoformat(),
}


def payload(name: str, subject: str) -> dict[str, Any]:
    family, _, stage = name.partition(".")
    levels: dict[str, Any] = {"levels": [LEVEL]}
    if family == "order":
        status = "PENDING" if stage == "placed" else stage.upper()
        data: dict[str, Any] = {**ORDER, "order_id": subject, "status": status}
        if stage == "rejected":
            data["short_lines"] = [{"sku": SKU, "requested": 2, "available": 0}]
        return data
    if family == "purchase_order":
        data = {**PURCHASE_ORDER, "po_id": subject}
        if stage == "received":
            data |= {
                "receipt_id": "grn_1",
                "warehouse_code": "WH-1",
                "received_lines": [{"item": "PU_FOAM", "quantity": 4, "unit_cost_paise": 42_000}],
            }
        return data
    if family == "product":
        return {
            "sku": subject,
            "name": "Ortho mattress, queen",
            "category": "mattress",
            "size": "queen",
            "attributes": {},
            "unit_price_paise": 1_249_900,
            "gst_rate_bps": 1800,
            "reorder_point": 5,
            "reorder_quantity": 20,
            "active": True,
            "created_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
        }
    if family == "reservation":
        data = {"reservation_id": subject, "status": stage.upper(), "lines": [RESERVED_LINE]}
        if stage == "created":
            data |= {"status": "RESERVED", "expires_at": AT.isoformat()}
        return data | levels
    common: dict[str, Any] = {"warehouse_code": WAREHOUSE, "sku": SKU}
    by_stage: dict[str, dict[str, Any]] = {
        "received": {
            "receipt_id": subject,
            "reference": "PO-2026-000001",
            "warehouse_code": WAREHOUSE,
            "lines": [{"sku": SKU, "quantity": 10, "unit_cost_paise": 500_000}],
        },
        "adjusted": {
            **common,
            "adjustment_id": subject,
            "delta": -1,
            "reason": "damage",
            "note": None,
        },
        "transferred": {
            "transfer_id": subject,
            "sku": SKU,
            "from_warehouse_code": WAREHOUSE,
            "to_warehouse_code": "DEL",
            "quantity": 1,
            "note": None,
        },
        "low": {**common, "available": 4, "reorder_point": 5, "reorder_quantity": 20},
    }
    return levels | by_stage[stage]


def example_event(name: str, version: int, source: str) -> Event:
    """An event of `name` at `version` whose data that version's model accepts."""
    subject = "sub_" + secrets.token_hex(4)
    data = payload(name, subject)
    event_type(name, version).payload.model_validate(data)
    return Event(
        id="evt_" + secrets.token_hex(4), seq=1, type=name, source=source, occurred_at=AT, data=data
    )
