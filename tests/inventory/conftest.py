"""The inventory service under test, and helpers every inventory test uses:
fresh SKUs and warehouses per test, stock through real receipts, the event feed,
and the stock invariants checked straight in the database."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.support.platform import Platform, bearer


class Inventory:
    """HTTP helpers for the running inventory service."""

    def __init__(self, platform: Platform, db: Database[dict[str, Any]]) -> None:
        self.platform = platform
        self.http = platform.http
        self.db = db
        self.admin = bearer(platform.admin_token())
        self.service = bearer(platform.service_token())
        self.warehouse = platform.as_role("warehouse")

    def url(self, path: str) -> str:
        return self.platform.url("inventory", path)

    def get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return self.http.get(self.url(path), params=params, headers=headers)

    def new_warehouse(self) -> str:
        code = "T" + secrets.token_hex(3).upper()
        response = self.http.post(
            self.url("/v1/warehouses"),
            json={"code": code, "name": f"Test {code}", "address": "1 Test Road, Bengaluru"},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        return code

    def new_product(self, **fields: Any) -> str:
        sku = fields.pop("sku", None) or "T-" + secrets.token_hex(4).upper()
        body = {
            "sku": sku,
            "name": f"Test mattress {sku}",
            "category": "mattress",
            "size": "queen",
            "unit_price_paise": 1_899_900,
            "gst_rate_bps": 1800,
            "reorder_point": 0,
            "reorder_quantity": 10,
            **fields,
        }
        response = self.http.post(self.url("/v1/products"), json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return sku

    def receive(self, warehouse_code: str, lines: dict[str, int]) -> dict[str, Any]:
        receipt_id = "rcpt-" + secrets.token_hex(6)
        body = {
            "warehouse_code": warehouse_code,
            "reference": "PO test",
            "lines": [
                {"sku": sku, "quantity": qty, "unit_cost_paise": 1_000_00}
                for sku, qty in lines.items()
            ],
        }
        response = self.http.put(
            self.url(f"/v1/receipts/{receipt_id}"), json=body, headers=self.service
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def reserve(
        self, reservation_id: str, lines: dict[str, int], ttl_seconds: int | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        return self.http.put(
            self.url(f"/v1/reservations/{reservation_id}"), json=body, headers=self.service
        )

    def act(self, reservation_id: str, action: str) -> httpx.Response:
        return self.http.post(
            self.url(f"/v1/reservations/{reservation_id}/{action}"), headers=self.service
        )

    def levels(self, sku: str) -> dict[str, dict[str, Any]]:
        response = self.get("/v1/stock", self.admin, sku=sku)
        assert response.status_code == 200, response.text
        return {level["warehouse_code"]: level for level in response.json()["items"]}

    def available(self, sku: str) -> int:
        response = self.get("/v1/availability", self.service, sku=sku)
        assert response.status_code == 200, response.text
        value: int = response.json()["items"][0]["available"]
        return value

    def events(self, matches: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every published event that `matches`, in feed order."""
        found, after = [], 0
        while True:
            page = self.get("/v1/events", self.service, after=after, limit=1000).json()
            found += [event for event in page["events"] if matches(event)]
            if len(page["events"]) < 1000:
                return found
            after = page["next_after"]

    def wait_for_events(
        self, matches: Callable[[dict[str, Any]], bool], count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(matches)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def assert_invariants(self, skus: list[str]) -> None:
        """0 <= reserved <= on_hand, and the ledger sums to on_hand and reserved, for
        every level of `skus`, read straight from the database and via the API."""
        levels = list(self.db.stock_levels.find({"sku": {"$in": skus}}))
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for entry in self.db.movements.find({"sku": {"$in": skus}}):
            key = f"{entry['sku']}@{entry['warehouse_code']}"
            sums[key][0] += entry["on_hand_delta"]
            sums[key][1] += entry["reserved_delta"]
        assert levels
        for level in levels:
            assert 0 <= level["reserved"] <= level["on_hand"], level
            assert sums[level["_id"]] == [level["on_hand"], level["reserved"]], level
        for sku in skus:
            for code, level in self.levels(sku).items():
                stored = next(lv for lv in levels if lv["_id"] == f"{sku}@{code}")
                assert (level["on_hand"], level["reserved"]) == (
                    stored["on_hand"],
                    stored["reserved"],
                )
                assert level["available"] == level["on_hand"] - level["reserved"]


@pytest.fixture(scope="session")
def inventory_platform(platform: Platform) -> Platform:
    platform.start("inventory")
    return platform


@pytest.fixture(scope="session")
def inventory(inventory_platform: Platform, mongo_url: str) -> Iterator[Inventory]:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url, tz_aware=True) as client:
        yield Inventory(inventory_platform, client[inventory_platform.stack.database("inventory")])
