"""Demo data that needs more than one service, created through the real APIs
(so it is idempotent the same way clients' retries are). Each service seeds its
own reference data itself in dev mode."""

from __future__ import annotations

import httpx

from apps.devstack.stack import LocalStack
from apps.kit.demo import demo_email


def seed_demo_data(stack: LocalStack, services: list[str], password: str) -> None:
    if {"inventory", "procurement"} <= set(services):
        receive_demo_purchase_orders(stack, password)


def receive_demo_purchase_orders(stack: LocalStack, password: str) -> None:
    """Procurement: receive its demo purchase order of finished goods into the
    Bengaluru warehouse (stock rises in inventory; analytics sees both). The
    Idempotency-Key makes a restart replay the receipt instead of adding stock."""
    from apps.procurement.seed import DEMO_PO_NOTE

    with httpx.Client(timeout=30.0) as http:
        login = http.post(
            stack.url("auth") + "/v1/auth/login",
            json={"email": demo_email("warehouse"), "password": password},
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        found = http.get(
            stack.url("procurement") + "/v1/purchase-orders",
            params={"status": "SUBMITTED", "limit": 200},
            headers=headers,
        )
        found.raise_for_status()
        for po in found.json()["items"]:
            if po["notes"] != DEMO_PO_NOTE:
                continue
            lines = [
                {"line_no": line["line_no"], "quantity": line["quantity"]} for line in po["lines"]
            ]
            http.post(
                stack.url("procurement") + f"/v1/purchase-orders/{po['id']}/receipts",
                json={"warehouse_code": "BLR-01", "lines": lines},
                headers={**headers, "Idempotency-Key": f"demo-receipt-{po['id']}"},
            ).raise_for_status()
