"""Procurement emits every purchase_order.* event in the shape its type declares
(apps/kit/event_types.py): each event of the real feed validates against its model."""

from __future__ import annotations

from typing import Any

from apps.kit.event_types import validate
from apps.kit.events import Event
from tests.procurement.support import create_po, create_supplier, po_action, supplier_body
from tests.support.feeds import all_events
from tests.support.platform import Platform
from tests.support.waiting import wait_for

FOAM = {"item_type": "material", "item": "PU_FOAM", "unit_cost_paise": 42_000}


def test_every_purchase_order_event_fits_its_type(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = create_supplier(platform, supplier_body([FOAM]))
    line = [{"item_type": "material", "item": "PU_FOAM", "quantity": 4}]
    received, cancelled = (
        create_po(platform, supplier["id"], line),
        create_po(platform, supplier["id"], line),
    )
    for po in (received, cancelled):
        assert po_action(platform, po["id"], "submit").status_code == 200
    assert po_action(platform, cancelled["id"], "cancel").status_code == 200
    receipt = platform.http.post(
        platform.url("procurement", f"/v1/purchase-orders/{received['id']}/receipts"),
        json={"warehouse_code": "WH-1", "lines": [{"line_no": 1, "quantity": 4}]},
        headers=platform.as_role("warehouse"),
    )
    assert receipt.status_code == 201, receipt.text
    ours = {received["id"], cancelled["id"]}

    def published() -> list[dict[str, Any]] | None:
        feed = all_events(platform, "procurement")
        events = [e for e in feed if e["data"].get("po_id") in ours]
        return events if len(events) == 4 else None  # 2 submitted, 1 cancelled, 1 received

    events = wait_for(published)
    assert {e["type"] for e in events} == {
        "purchase_order.submitted",
        "purchase_order.cancelled",
        "purchase_order.received",
    }
    for event in all_events(platform, "procurement"):
        validate(Event.model_validate(event))
