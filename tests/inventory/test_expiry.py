"""Expiry: a reservation not committed within its TTL is released once, even
with several inventory processes sweeping the same database. Also the dev-mode
demo catalogue, which needs its own process and database."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from apps.kit.problems import problem_type
from tests.inventory.conftest import Inventory
from tests.support.problems import assert_problem


def _replicas(inventory: Inventory, count: int, **env: str) -> list[ServiceProcess]:
    stack = inventory.platform.stack
    log_dir = stack.config.log_dir
    processes = [
        ServiceProcess(
            "inventory",
            free_port(),
            {**stack.env_for("inventory"), **env},
            log_path=log_dir / f"inventory-extra-{n}.log" if log_dir else None,
        )
        for n in range(count)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.wait_ready()
    return processes


@pytest.fixture(scope="module")
def sweepers(inventory: Inventory) -> Iterator[list[ServiceProcess]]:
    """Two more replicas of inventory on the same database, sweeping often."""
    processes = _replicas(inventory, 2, RESERVATION_EXPIRY_INTERVAL_SECONDS="0.2")
    yield processes
    for process in processes:
        process.stop()


def test_an_uncommitted_reservation_expires_exactly_once(
    inventory: Inventory, sweepers: list[ServiceProcess]
) -> None:
    first, second = inventory.new_warehouse(), inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(first, {sku: 3})
    inventory.receive(second, {sku: 2})
    expiring = "ord_" + secrets.token_hex(8)
    lasting = "ord_" + secrets.token_hex(8)
    assert inventory.reserve(expiring, {sku: 4}, ttl_seconds=1).status_code == 201  # two places
    assert inventory.reserve(lasting, {sku: 1}).status_code == 201
    assert inventory.available(sku) == 0

    deadline = time.monotonic() + 20
    while inventory.available(sku) != 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert inventory.available(sku) == 4
    read = inventory.get(f"/v1/reservations/{expiring}", inventory.service).json()
    assert read["status"] == "expired"

    time.sleep(1.0)  # every sweeper has had several more turns
    entries = list(inventory.db.movements.find({"reference": expiring, "kind": "expire"}))
    assert sorted((e["warehouse_code"], e["reserved_delta"]) for e in entries) == sorted(
        [(first, -3), (second, -1)]
    )
    expired = inventory.wait_for_events(
        lambda e: e["type"] == "reservation.expired" and e["data"]["reservation_id"] == expiring, 1
    )
    assert len(expired) == 1
    assert {lv["warehouse_code"]: lv["reserved"] for lv in expired[0]["data"]["levels"]} == {
        first: 0,
        second: 1,
    }
    assert inventory.get(f"/v1/reservations/{lasting}", inventory.service).json()["status"] == (
        "reserved"
    )
    closed = assert_problem(inventory.act(expiring, "commit"), 409)
    assert closed["type"] == problem_type("reservation-closed")
    assert assert_problem(inventory.reserve(expiring, {sku: 4}), 409)["type"] == problem_type(
        "reservation-closed"
    )
    assert inventory.act(expiring, "release").json()["status"] == "expired"
    inventory.assert_invariants([sku])

    metrics = httpx.get(inventory.url("/metrics")).text + "".join(
        httpx.get(p.url + "/metrics").text for p in sweepers
    )
    assert "glosleep_reservations_expired_total" in metrics


def _counts(mongo_url: str, database: str) -> dict[str, Any]:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        db: Database[dict[str, Any]] = client[database]
        return {
            "products": db.products.count_documents({}),
            "warehouses": sorted(w["_id"] for w in db.warehouses.find()),
            "movements": db.movements.count_documents({}),
            "on_hand": sum(level["on_hand"] for level in db.stock_levels.find()),
        }


def test_dev_mode_seeds_a_demo_catalogue_once(inventory: Inventory, mongo_url: str) -> None:
    database = inventory.platform.stack.database("inventory_demo")
    env = {"DEV_MODE": "true", "MONGO_DATABASE": database}
    (demo,) = _replicas(inventory, 1, **env)
    try:
        seeded = _counts(mongo_url, database)
        sales = inventory.platform.as_role("sales")
        low = httpx.get(demo.url + "/v1/stock/low", headers=sales).json()["items"]
        mattresses = httpx.get(
            demo.url + "/v1/products", params={"category": "mattress", "limit": 100}, headers=sales
        ).json()["items"]
        available = httpx.get(
            demo.url + "/v1/availability", params={"sku": "MTR-OR-K"}, headers=sales
        ).json()["items"]
    finally:
        demo.stop()
    assert seeded["products"] >= 30
    assert seeded["warehouses"] == ["BLR-01", "PUN-01"]
    assert low, "some demo SKUs start at or below their reorder point"
    assert {m["size"] for m in mattresses} == {"single", "double", "queen", "king"}
    assert all(m["gst_rate_bps"] == 1800 for m in mattresses)
    assert available[0]["available"] > 0

    (again,) = _replicas(inventory, 1, **env)
    again.stop()
    assert _counts(mongo_url, database) == seeded
