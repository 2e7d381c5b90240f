"""Driving the platform as its users do: distributors, products with stock in
inventory, orders, and the stock an order leaves behind. Used by the order tests
and by every other service's tests that need real orders or stock."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx

from apps.devstack.seed import example_distributor
from tests.support.platform import Platform, bearer

PRICE_PAISE = 1_249_900
GST_BPS = 1800


class Shop:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.http = platform.http
        self.warehouse = "TW" + secrets.token_hex(3).upper()
        response = self.http.post(
            platform.url("inventory", "/v1/warehouses"),
            json={"code": self.warehouse, "name": "Test warehouse", "address": "Plot 1, Hosur"},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.platform.admin_token())

    def url(self, path: str) -> str:
        return self.platform.url("order", path)

    # -- inventory -------------------------------------------------------------

    def product(
        self, stock: int, *, price: int = PRICE_PAISE, gst: int = GST_BPS, **fields: Any
    ) -> str:
        """A new product with `stock` units on hand (and any other catalogue `fields`,
        such as its reorder point); answers its SKU."""
        sku = "T" + secrets.token_hex(5).upper()
        response = self.http.post(
            self.platform.url("inventory", "/v1/products"),
            json={
                "sku": sku,
                "name": f"Test mattress {sku}",
                "category": "mattress",
                "size": "queen",
                "unit_price_paise": price,
                "gst_rate_bps": gst,
                **fields,
            },
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        if stock:
            self.receive(sku, stock)
        return sku

    def receive(self, sku: str, quantity: int) -> None:
        response = self.http.put(
            self.platform.url("inventory", f"/v1/receipts/rcp-{secrets.token_hex(8)}"),
            json={
                "warehouse_code": self.warehouse,
                "reference": "test receipt",
                "lines": [{"sku": sku, "quantity": quantity, "unit_cost_paise": 500_000}],
            },
            headers=bearer(self.platform.service_token(["inventory:receive"])),
        )
        assert response.status_code in (200, 201), response.text

    def level(self, sku: str) -> dict[str, int]:
        """on_hand and reserved of `sku` summed over warehouses."""
        response = self.http.get(
            self.platform.url("inventory", "/v1/stock"), params={"sku": sku}, headers=self.admin
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return {
            "on_hand": sum(item["on_hand"] for item in items),
            "reserved": sum(item["reserved"] for item in items),
        }

    def reservation(self, order_id: str) -> httpx.Response:
        return self.http.get(
            self.platform.url("inventory", f"/v1/reservations/{order_id}"), headers=self.admin
        )

    # -- order -----------------------------------------------------------------

    def distributor(self, *, region: str = "South") -> str:
        distributor_id = "dst_t" + secrets.token_hex(4)
        response = self.http.post(
            self.url("/v1/distributors"),
            json={
                **example_distributor(distributor_id, f"Test Distributor {distributor_id}"),
                "region": region,
            },
            headers=self.platform.as_role("sales"),
        )
        assert response.status_code == 201, response.text
        return distributor_id

    def as_distributor(self, distributor_id: str) -> dict[str, str]:
        return self.platform.as_role("distributor", distributor_id=distributor_id)

    def place(
        self,
        headers: dict[str, str],
        lines: list[tuple[str, int]],
        *,
        key: str | None = None,
        distributor_id: str | None = None,
        reference: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"lines": [{"sku": s, "quantity": q} for s, q in lines]}
        if distributor_id is not None:
            body["distributor_id"] = distributor_id
        if reference is not None:
            body["reference"] = reference
        return self.http.post(
            self.url("/v1/orders"),
            json=body,
            headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
        )

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.http.get(self.url(f"/v1/orders/{order_id}"), headers=self.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def act(
        self,
        order_id: str,
        action: str,
        role: str = "warehouse",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.post(
            self.url(f"/v1/orders/{order_id}/{action}"),
            headers=headers or self.platform.as_role(role),
        )

    def events(self, order_id: str) -> list[dict[str, Any]]:
        """The published events of one order, in feed order."""
        headers = bearer(self.platform.service_token(["events:read"]))
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            response = self.http.get(
                self.url("/v1/events"), params={"after": after, "limit": 1000}, headers=headers
            )
            assert response.status_code == 200, response.text
            page = response.json()
            found += [e for e in page["events"] if e["data"]["order_id"] == order_id]
            if len(page["events"]) < 1000:
                return found
            after = page["next_after"]
