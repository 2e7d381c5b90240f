"""Inventory emits every event type in the shape it declares (apps/kit/event_types.py):
each event of the real feed validates against its model, every type appears."""

from __future__ import annotations

import secrets
from typing import Any

from apps.kit.event_types import EVENT_TYPES, validate
from apps.kit.events import Event
from tests.inventory.conftest import Inventory
from tests.support.waiting import wait_for

INVENTORY_TYPES = {
    item.name
    for item in EVENT_TYPES
    if item.name.split(".")[0] in {"product", "stock", "reservation"}
}


def test_every_inventory_event_fits_its_type(inventory: Inventory) -> None:
    here, there = inventory.new_warehouse(), inventory.new_warehouse()
    sku = inventory.new_product(reorder_point=5, reorder_quantity=20)
    warehouse = inventory.platform.as_role("warehouse")
    changed = inventory.http.patch(
        inventory.url(f"/v1/products/{sku}"), json={"name": "Renamed"}, headers=inventory.admin
    )
    assert changed.status_code == 200, changed.text
    inventory.receive(here, {sku: 10})
    for path, body in (
        (
            f"/v1/adjustments/adj-{secrets.token_hex(4)}",
            {"warehouse_code": here, "sku": sku, "delta": -1, "reason": "damage"},
        ),
        (
            f"/v1/transfers/trf-{secrets.token_hex(4)}",
            {"sku": sku, "from_warehouse_code": here, "to_warehouse_code": there, "quantity": 1},
        ),
    ):
        response = inventory.http.put(inventory.url(path), json=body, headers=warehouse)
        assert response.status_code == 201, response.text
    committed, released, expiring = (f"ord_{secrets.token_hex(4)}" for _ in range(3))
    assert inventory.reserve(committed, {sku: 2}).status_code == 201
    assert inventory.reserve(released, {sku: 2}).status_code == 201  # available 8 -> 4: low
    assert inventory.reserve(expiring, {sku: 1}, ttl_seconds=1).status_code == 201
    assert inventory.act(committed, "commit").status_code == 200
    assert inventory.act(released, "release").status_code == 200

    def mine(event: dict[str, Any]) -> bool:
        data = event["data"]
        return data.get("sku") == sku or any(
            level["sku"] == sku for level in data.get("levels", [])
        )

    def every_type() -> list[dict[str, Any]] | None:
        events = inventory.events(mine)
        return events if {e["type"] for e in events} == INVENTORY_TYPES else None

    wait_for(every_type, timeout=30)
    for event in inventory.events(lambda _: True):  # this test's and every earlier one's
        validate(Event.model_validate(event))
