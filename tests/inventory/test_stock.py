"""Goods receipts, adjustments and transfers: keyed so a retry changes stock
once, guarded so on_hand never falls below reserved, and every change in the
ledger and the event feed."""

from __future__ import annotations

import secrets
from typing import Any

from apps.kit.problems import problem_type
from tests.inventory.conftest import Inventory
from tests.support.platform import bearer
from tests.support.problems import assert_problem


def _receipt(code: str, sku: str, quantity: int, reference: str = "PO-1001") -> dict[str, Any]:
    return {
        "warehouse_code": code,
        "reference": reference,
        "lines": [{"sku": sku, "quantity": quantity, "unit_cost_paise": 950_000}],
    }


def test_a_receipt_adds_stock_once_per_receipt_id(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product()
    url = inventory.url(f"/v1/receipts/rcpt-{secrets.token_hex(6)}")
    procurement = bearer(inventory.platform.service_token(["catalog:read", "inventory:receive"]))

    first = inventory.http.put(url, json=_receipt(code, sku, 12), headers=procurement)
    assert first.status_code == 201, first.text
    assert first.json()["levels"] == [
        {"sku": sku, "warehouse_code": code, "on_hand": 12, "reserved": 0, "version": 1}
    ]
    retry = inventory.http.put(url, json=_receipt(code, sku, 12), headers=inventory.warehouse)
    assert retry.status_code == 200
    assert retry.json() == first.json()
    mismatch = inventory.http.put(url, json=_receipt(code, sku, 13), headers=procurement)
    assert assert_problem(mismatch, 409)["type"] == problem_type("receipt-mismatch")
    assert inventory.levels(sku)[code]["on_hand"] == 12

    events = inventory.wait_for_events(
        lambda e: e["type"] == "stock.received" and e["data"]["receipt_id"] in url, 1
    )
    assert len(events) == 1
    data = events[0]["data"]
    assert data["reference"] == "PO-1001"
    assert data["warehouse_code"] == code
    assert data["lines"] == [{"sku": sku, "quantity": 12, "unit_cost_paise": 950_000}]
    assert data["levels"] == first.json()["levels"]

    for headers in (
        inventory.platform.as_role("sales"),
        bearer(inventory.platform.service_token(["catalog:read"])),
    ):
        assert_problem(inventory.http.put(url, json=_receipt(code, sku, 12), headers=headers), 403)
    unknown = inventory.http.put(
        inventory.url("/v1/receipts/rcpt-unknown-sku"),
        json=_receipt(code, "T-NOT-IN-CATALOGUE", 1),
        headers=procurement,
    )
    assert assert_problem(unknown, 422)["type"] == problem_type("unknown-sku")


def test_adjustments_change_on_hand_only_and_never_below_reserved(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(code, {sku: 10})
    assert inventory.reserve("ord_" + secrets.token_hex(8), {sku: 6}).status_code == 201

    def adjust(key: str, delta: int, reason: str, headers: dict[str, str] | None = None) -> Any:
        return inventory.http.put(
            inventory.url(f"/v1/adjustments/{key}"),
            json={"warehouse_code": code, "sku": sku, "delta": delta, "reason": reason},
            headers=headers or inventory.warehouse,
        )

    damage = "adj-" + secrets.token_hex(6)
    assert adjust(damage, -3, "damage").status_code == 201
    assert adjust(damage, -3, "damage").status_code == 200  # retried: applied once
    assert assert_problem(adjust(damage, -2, "damage"), 409)["type"] == problem_type(
        "adjustment-mismatch"
    )
    level = inventory.levels(sku)[code]
    assert (level["on_hand"], level["reserved"]) == (7, 6)

    too_much = assert_problem(adjust("adj-" + secrets.token_hex(6), -2, "count_correction"), 409)
    assert too_much["type"] == problem_type("insufficient-stock")
    assert adjust("adj-" + secrets.token_hex(6), 4, "return").status_code == 201
    assert adjust("adj-" + secrets.token_hex(6), -5, "count_correction").status_code == 201
    level = inventory.levels(sku)[code]
    assert (level["on_hand"], level["reserved"]) == (6, 6)

    assert adjust("adj-x1", 2, "damage").status_code == 422
    assert adjust("adj-x2", -2, "return").status_code == 422
    assert adjust("adj-x3", 0, "count_correction").status_code == 422
    assert adjust("adj-x4", 1, "theft").status_code == 422
    for role in ("sales", "procurement", "analyst"):
        assert_problem(adjust("adj-x5", 1, "return", inventory.platform.as_role(role)), 403)
    assert_problem(adjust("adj-x6", 1, "return", inventory.service), 403)

    ledger = inventory.get("/v1/movements", inventory.admin, sku=sku, kind="adjustment").json()
    assert [(m["on_hand_delta"], m["reason"]) for m in ledger["items"]] == [
        (-3, "damage"),
        (4, "return"),
        (-5, "count_correction"),
    ]
    inventory.assert_invariants([sku])


def test_transfer_moves_unreserved_stock_between_warehouses(inventory: Inventory) -> None:
    source, target = inventory.new_warehouse(), inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(source, {sku: 8})
    inventory.reserve("ord_" + secrets.token_hex(8), {sku: 5})
    key = "trf-" + secrets.token_hex(6)
    body = {"sku": sku, "from_warehouse_code": source, "to_warehouse_code": target, "quantity": 3}
    url = inventory.url(f"/v1/transfers/{key}")
    moved = inventory.http.put(url, json=body, headers=inventory.warehouse)
    assert moved.status_code == 201, moved.text
    assert inventory.http.put(url, json=body, headers=inventory.warehouse).status_code == 200
    levels = inventory.levels(sku)
    assert (levels[source]["on_hand"], levels[target]["on_hand"]) == (5, 3)

    more = {**body, "quantity": 1}
    refused = inventory.http.put(
        inventory.url(f"/v1/transfers/trf-{secrets.token_hex(6)}"),
        json=more,
        headers=inventory.warehouse,
    )
    assert_problem(refused, 409)  # the 5 left in the source are all reserved
    same = {**body, "to_warehouse_code": source}
    assert inventory.http.put(url, json=same, headers=inventory.warehouse).status_code == 422

    events = inventory.wait_for_events(
        lambda e: e["type"] == "stock.transferred" and e["data"]["transfer_id"] == key, 1
    )
    assert len(events) == 1
    assert {(lv["warehouse_code"], lv["on_hand"]) for lv in events[0]["data"]["levels"]} == {
        (source, 5),
        (target, 3),
    }
    inventory.assert_invariants([sku])


def test_stock_low_fires_once_when_available_crosses_the_reorder_point(
    inventory: Inventory,
) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product(reorder_point=5, reorder_quantity=20)
    inventory.receive(code, {sku: 9})
    for quantity in (3, 1, 2):  # available 9 -> 6 -> 5 (crosses) -> 3
        assert inventory.reserve("ord_" + secrets.token_hex(8), {sku: quantity}).status_code == 201
    low = inventory.wait_for_events(
        lambda e: e["type"] == "stock.low" and e["data"]["sku"] == sku, 1
    )
    assert len(low) == 1
    assert low[0]["data"] | {"levels": None} == {
        "sku": sku,
        "warehouse_code": code,
        "available": 5,
        "reorder_point": 5,
        "reorder_quantity": 20,
        "levels": None,
    }
    view = inventory.get("/v1/stock/low", inventory.platform.as_role("procurement"))
    mine = [item for item in view.json()["items"] if item["sku"] == sku]
    assert mine == [
        {
            **inventory.levels(sku)[code],
            "name": f"Test mattress {sku}",
            "reorder_point": 5,
            "reorder_quantity": 20,
        }
    ]
    assert mine[0]["available"] == 3


def test_availability_counts_active_warehouses_and_is_all_a_distributor_sees(
    inventory: Inventory,
) -> None:
    open_code, closing = inventory.new_warehouse(), inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(open_code, {sku: 4})
    inventory.receive(closing, {sku: 6})
    distributor = inventory.platform.as_role("distributor", distributor_id="dst_demo_sleepwell")
    seen = inventory.get("/v1/availability", distributor, sku=[sku, "T-UNKNOWN"])
    assert seen.status_code == 200
    assert seen.json()["items"] == [
        {"sku": sku, "available": 10},
        {"sku": "T-UNKNOWN", "available": 0},
    ]
    off = inventory.http.patch(
        inventory.url(f"/v1/warehouses/{closing}"), json={"active": False}, headers=inventory.admin
    )
    assert off.json()["active"] is False
    assert inventory.available(sku) == 4
    short = assert_problem(inventory.reserve("ord_" + secrets.token_hex(8), {sku: 5}), 409)
    assert short["short_lines"] == [{"sku": sku, "requested": 5, "available": 4}]
    for path in ("/v1/stock", "/v1/products", "/v1/movements", "/v1/stock/low", "/v1/warehouses"):
        assert_problem(inventory.get(path, distributor), 403)
    assert_problem(inventory.get("/v1/events", inventory.platform.as_role("sales")), 403)
