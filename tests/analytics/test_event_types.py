"""Analytics accepts every typed event version it claims (projections.ACCEPTS): each
claimed (type, version) exists in apps/kit/event_types.py, and an event built from that
version's model, applied by analytics' own handler to a real database, lands in the
read model."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient

from apps.analytics.models import READ_MODELS, OrderFact, PurchaseOrderFact
from apps.analytics.projections import ACCEPTS, HANDLERS
from apps.kit.event_types import (
    EVENT_TYPES,
    OrderSnapshotV1,
    PurchaseOrderReceivedV1,
    PurchaseOrderSnapshotV1,
    event_type,
)
from apps.kit.events import Event

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ORDER_LINE = {
    "sku": "MAT-ORTHO-Q",
    "name": "Ortho mattress, queen",
    "category": "mattress",
    "quantity": 2,
    "unit_price_paise": 1_249_900,
    "gst_rate_bps": 1800,
    "line_subtotal_paise": 2_499_800,
    "line_tax_paise": 449_964,
}
PO_LINE = {
    "line_no": 1,
    "item_type": "material",
    "item": "PU_FOAM",
    "quantity": 4,
    "unit_cost_paise": 42_000,
    "gst_rate_bps": 1800,
    "received_quantity": 4,
}


def example(name: str, version: int, subject: str) -> dict[str, Any]:
    """A payload of `name` at `version`, validated by that version's model."""
    model = event_type(name, version).payload
    if model is OrderSnapshotV1:
        status = {"placed": "PENDING"}.get(name.split(".")[1], name.split(".")[1].upper())
        data: dict[str, Any] = {
            "order_id": subject,
            "number": "SO-2026-000001",
            "status": status,
            "distributor_id": "dst_sleepwell",
            "distributor_name": "SleepWell Retail",
            "region": "South",
            "lines": [ORDER_LINE],
            "subtotal_paise": 2_499_800,
            "tax_paise": 449_964,
            "total_paise": 2_949_764,
            "placed_at": AT.isoformat(),
            "at": AT.isoformat(),
        }
        if name == "order.rejected":
            data["short_lines"] = [{"sku": "MAT-ORTHO-Q", "requested": 2, "available": 0}]
    else:
        data = {
            "po_id": subject,
            "number": "PO-2026-000001",
            "status": "SUBMITTED",
            "supplier_id": "sup_foamco",
            "supplier_name": "FoamCo",
            "promised_lead_time_days": 7,
            "lines": [PO_LINE],
            "subtotal_paise": 168_000,
            "tax_paise": 30_240,
            "total_paise": 198_240,
            "submitted_at": AT.isoformat(),
            "at": AT.isoformat(),
        }
        if model is PurchaseOrderReceivedV1:
            data |= {
                "receipt_id": "grn_1",
                "warehouse_code": "WH-1",
                "received_lines": [{"item": "PU_FOAM", "quantity": 4, "unit_cost_paise": 42_000}],
            }
        assert model in (PurchaseOrderSnapshotV1, PurchaseOrderReceivedV1)
    return model.model_validate(data).model_dump(mode="json", exclude_none=True)


@pytest.fixture
async def read_models(mongo_url: str, database_prefix: str) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    name = f"{database_prefix}event_types"
    await init_beanie(database=client[name], document_models=list(READ_MODELS))
    yield
    await client.drop_database(name)
    await client.close()


def test_every_claimed_version_is_a_typed_event() -> None:
    assert {item.key for item in EVENT_TYPES} >= ACCEPTS
    assert {name for name, _ in ACCEPTS} == {item.name for item in EVENT_TYPES}


@pytest.mark.parametrize(("name", "version"), sorted(ACCEPTS))
async def test_analytics_applies_each_claimed_version(
    read_models: None, name: str, version: int
) -> None:
    subject = "sub_" + secrets.token_hex(4)
    source = "order" if name.startswith("order.") else "procurement"
    event = Event(
        id="evt_" + secrets.token_hex(4),
        seq=1,
        type=name,
        source=source,
        occurred_at=AT,
        data=example(name, version, subject),
    )
    await HANDLERS[source](event, None)
    fact = await (OrderFact if source == "order" else PurchaseOrderFact).get(subject)
    assert fact is not None, name
    assert fact.number == event.data["number"]
