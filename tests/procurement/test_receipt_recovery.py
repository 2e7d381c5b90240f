"""A receipt recorded while inventory cannot be reached (or a crash before it
was posted) stays POSTING and is posted by the recovery loop: stock rises
exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from tests.procurement.support import (
    create_po,
    po_action,
    sku_supply,
    supplier_body,
    use_fast_loops,
)
from tests.support.platform import Platform
from tests.support.shop import Shop
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def stock_platform(platform: Platform) -> Platform:
    use_fast_loops(platform)
    platform.start("inventory", "procurement")
    return platform


def _procurement(
    platform: Platform, port: int, database: str, inventory_url: str
) -> ServiceProcess:
    log_dir = platform.stack.config.log_dir
    env = {
        **platform.stack.env_for("procurement"),
        "MONGO_DATABASE": database,
        "INVENTORY_URL": inventory_url,
    }
    process = ServiceProcess(
        "procurement", port, env, log_path=log_dir / "procurement-recovery.log" if log_dir else None
    )
    process.start()
    process.wait_ready()
    return process


@pytest.fixture
def isolated(stock_platform: Platform) -> Iterator[dict[str, object]]:
    port = free_port()
    database = stock_platform.stack.database("procurement_recovery")
    state: dict[str, object] = {"port": port, "database": database, "process": None}
    yield state
    process = state["process"]
    if isinstance(process, ServiceProcess):
        process.stop()


def test_receipt_left_posting_is_posted_once_after_restart(
    stock_platform: Platform, isolated: dict[str, object]
) -> None:
    platform = stock_platform
    shop = Shop(platform)
    sku = shop.product(0)
    port, database = int(str(isolated["port"])), str(isolated["database"])
    dead_inventory = f"http://127.0.0.1:{free_port()}"
    isolated["process"] = first = _procurement(platform, port, database, dead_inventory)
    base = f"http://127.0.0.1:{port}"
    procurement = platform.as_role("procurement")

    body = supplier_body([sku_supply(sku, 40_000)])
    supplier = platform.http.post(f"{base}/v1/suppliers", json=body, headers=procurement).json()
    po = platform.http.post(
        f"{base}/v1/purchase-orders",
        json={
            "supplier_id": supplier["id"],
            "lines": [{"item_type": "sku", "item": sku, "quantity": 9}],
        },
        headers=procurement,
    ).json()
    assert (
        platform.http.post(
            f"{base}/v1/purchase-orders/{po['id']}/submit", headers=procurement
        ).status_code
        == 200
    )
    receipt = platform.http.post(
        f"{base}/v1/purchase-orders/{po['id']}/receipts",
        json={"warehouse_code": shop.warehouse, "lines": [{"line_no": 1, "quantity": 9}]},
        headers=platform.as_role("warehouse"),
    )
    assert receipt.status_code == 201, receipt.text
    assert receipt.json()["status"] == "POSTING"
    assert receipt.json()["last_error"]
    assert shop.level(sku)["on_hand"] == 0
    first.stop()  # as if it crashed with the receipt unposted

    isolated["process"] = _procurement(platform, port, database, platform.url("inventory"))
    url = f"{base}/v1/receipts/{receipt.json()['id']}"
    posted = wait_for(
        lambda: (
            (r := platform.http.get(url, headers=procurement).json())["status"] == "POSTED" and r
        )
    )
    assert posted["posted_at"]
    assert shop.level(sku)["on_hand"] == 9
    # Posting again (the inventory receipt id is the receipt id) adds nothing.
    again = platform.http.put(
        platform.url("inventory", f"/v1/receipts/{posted['id']}"),
        json={
            "warehouse_code": shop.warehouse,
            "reference": po["number"],
            "lines": [{"sku": sku, "quantity": 9, "unit_cost_paise": 40_000}],
        },
        headers=platform.as_role("warehouse"),
    )
    assert again.status_code == 200, again.text
    assert shop.level(sku)["on_hand"] == 9


def test_receipt_refused_by_inventory_gives_the_quantities_back(stock_platform: Platform) -> None:
    platform = stock_platform
    shop = Shop(platform)
    sku = shop.product(0)
    supplier = platform.http.post(
        platform.url("procurement", "/v1/suppliers"),
        json=supplier_body([sku_supply(sku, 10_000)]),
        headers=platform.as_role("procurement"),
    ).json()
    po = create_po(platform, supplier["id"], [{"item_type": "sku", "item": sku, "quantity": 5}])
    po_action(platform, po["id"], "submit")
    refused = platform.http.post(
        platform.url("procurement", f"/v1/purchase-orders/{po['id']}/receipts"),
        json={"warehouse_code": "NOWHERE-9", "lines": [{"line_no": 1, "quantity": 5}]},
        headers=platform.as_role("warehouse"),
    )
    problem = refused.json()
    assert refused.status_code == 422, refused.text
    assert problem["type"].endswith("receipt-rejected")
    read = platform.http.get(
        platform.url("procurement", f"/v1/purchase-orders/{po['id']}"),
        headers=platform.as_role("procurement"),
    ).json()
    assert read["status"] == "SUBMITTED"
    assert read["lines"][0]["received_quantity"] == 0
    receipt = platform.http.get(
        platform.url("procurement", f"/v1/receipts/{problem['receipt_id']}"),
        headers=platform.as_role("procurement"),
    ).json()
    assert receipt["status"] == "REJECTED"
