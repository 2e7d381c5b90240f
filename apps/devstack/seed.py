"""Demo data that needs more than one service, created through the real APIs
(so it is idempotent the same way clients' retries are). Each service seeds its
own reference data itself in dev mode."""

from __future__ import annotations

from typing import Any

import httpx

from apps.devstack.stack import LocalStack
from apps.kit.demo import demo_email


def seed_demo_data(stack: LocalStack, services: list[str], password: str) -> None:
    if {"inventory", "procurement"} <= set(services):
        receive_demo_purchase_orders(stack, password)
    if {"inventory", "order"} <= set(services):
        place_demo_orders(stack, password)


def receive_demo_purchase_orders(stack: LocalStack, password: str) -> None:
    """Procurement: receive its demo purchase order of finished goods into the
    Bengaluru warehouse (stock rises in inventory; analytics sees both). The
    Idempotency-Key makes a restart replay the receipt instead of adding stock."""
    from apps.devstack.demo.procurement import DEMO_PO_NOTE

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


# Demo orders: (reference, distributor, placed by, lines, the state to drive it to).
# PENDING is a passing state (inventory answers within milliseconds), so none stays in it.
DEMO_ORDERS = [
    ("DEMO-1", "dst_demo_sleepwell", "distributor", [("PIL-MF-STD", 4)], "CONFIRMED"),
    ("DEMO-2", "dst_demo_sleepwell", "distributor", [("PIL-FIB-STD", 6)], "SHIPPED"),
    ("DEMO-3", "dst_demo_dreamhome", "sales", [("FOM-PU-25", 2), ("PIL-MF-STD", 2)], "DELIVERED"),
    ("DEMO-4", "dst_demo_dreamhome", "sales", [("FOM-EPE-10", 3)], "CANCELLED"),
    ("DEMO-5", "dst_demo_sleepwell", "sales", [("PIL-CON-STD", 100_000)], "REJECTED"),
]
_NEXT_STEP = {
    ("CONFIRMED", "SHIPPED"): "ship",
    ("CONFIRMED", "DELIVERED"): "ship",
    ("SHIPPED", "DELIVERED"): "deliver",
    ("CONFIRMED", "CANCELLED"): "cancel",
}


def place_demo_orders(stack: LocalStack, password: str) -> None:
    """Order: demo orders in every lasting state, through the real saga. Fixed
    Idempotency-Keys (and the references, once keys are pruned after 24 h) make
    a restart place nothing twice; each order is then driven to its state."""
    url = stack.url("order") + "/v1/orders"
    with httpx.Client(timeout=30.0) as http:
        tokens = {}
        for role in ("distributor", "sales", "warehouse"):
            login = http.post(
                stack.url("auth") + "/v1/auth/login",
                json={"email": demo_email(role), "password": password},
            )
            login.raise_for_status()
            tokens[role] = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = http.get(url, params={"limit": 200}, headers=tokens["sales"])
        listed.raise_for_status()
        existing = {o["reference"]: o for o in listed.json()["items"] if o["reference"]}
        for reference, distributor_id, role, lines, target in DEMO_ORDERS:
            order = existing.get(reference)
            if order is None:
                placed = http.post(
                    url,
                    json={
                        "distributor_id": distributor_id,
                        "lines": [{"sku": sku, "quantity": n} for sku, n in lines],
                        "reference": reference,
                    },
                    headers={**tokens[role], "Idempotency-Key": f"demo-order-{reference}"},
                )
                placed.raise_for_status()
                order = placed.json()
            while (step := _NEXT_STEP.get((order["status"], target))) is not None:
                who = "sales" if step == "cancel" else "warehouse"
                moved = http.post(f"{url}/{order['id']}/{step}", headers=tokens[who])
                moved.raise_for_status()
                order = moved.json()


def example_distributor(distributor_id: str, name: str) -> dict[str, Any]:
    """A request body for POST /v1/distributors (the benchmark and the tests)."""
    return {
        "id": distributor_id,
        "name": name,
        "gstin": "29ABCDE1234F1Z5",
        "region": "South",
        "billing_address": {
            "line1": "12 Residency Road",
            "city": "Bengaluru",
            "state": "Karnataka",
            "postal_code": "560025",
        },
    }
