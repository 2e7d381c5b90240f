"""Shared by the procurement and analytics tests: fast background loops for the
test processes, and small builders of suppliers and purchase orders."""

from __future__ import annotations

import secrets
import string
from typing import Any

from tests.support.platform import Platform

FAST_LOOPS = {
    "procurement": {
        "CONSUMER_INTERVAL_SECONDS": "0.2",
        "RECEIPT_RECOVERY_INTERVAL_SECONDS": "0.3",
        "RECEIPT_RECOVERY_GRACE_SECONDS": "0.5",
        "APPROVAL_THRESHOLD_PAISE": "10000000",
    },
    "analytics": {"CONSUMER_INTERVAL_SECONDS": "0.2"},
}


def use_fast_loops(platform: Platform) -> None:
    """Short consumer and recovery intervals (restarting a service that runs without them)."""
    for name, env in FAST_LOOPS.items():
        platform.configure(name, env)


def random_gstin() -> str:
    letters = "".join(secrets.choice(string.ascii_uppercase) for _ in range(5))
    digits = "".join(secrets.choice(string.digits) for _ in range(4))
    return f"27{letters}{digits}A1Z{secrets.choice(string.digits)}"


def supplier_body(supplies: list[dict[str, Any]], lead_time_days: int = 7) -> dict[str, Any]:
    return {
        "name": f"Supplier {secrets.token_hex(3)}",
        "contact_name": "Test Contact",
        "contact_email": "buyer@supplier.example",
        "gstin": random_gstin(),
        "supplies": supplies,
        "lead_time_days": lead_time_days,
    }


def sku_supply(sku: str, cost: int, multiple: int = 1, gst: int = 1800) -> dict[str, Any]:
    return {
        "item_type": "sku",
        "item": sku,
        "unit_cost_paise": cost,
        "order_multiple": multiple,
        "gst_rate_bps": gst,
    }


def create_supplier(platform: Platform, body: dict[str, Any]) -> dict[str, Any]:
    response = platform.http.post(
        platform.url("procurement", "/v1/suppliers"),
        json=body,
        headers=platform.as_role("procurement"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def create_po(platform: Platform, supplier_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    response = platform.http.post(
        platform.url("procurement", "/v1/purchase-orders"),
        json={"supplier_id": supplier_id, "lines": lines},
        headers=platform.as_role("procurement"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def po_action(platform: Platform, po_id: str, action: str, role: str = "procurement") -> Any:
    return platform.http.post(
        platform.url("procurement", f"/v1/purchase-orders/{po_id}/{action}"),
        headers=platform.as_role(role),
    )


def receive(platform: Platform, po_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    """Goods received against the purchase order, as the warehouse; `key` is the
    receipt's Idempotency-Key."""
    headers = platform.as_role("warehouse")
    if key:
        headers = {**headers, "Idempotency-Key": key}
    return platform.http.post(
        platform.url("procurement", f"/v1/purchase-orders/{po_id}/receipts"),
        json=body,
        headers=headers,
    )


def received(
    platform: Platform,
    po_id: str,
    warehouse: str,
    lines: list[tuple[int, int]],
    key: str | None = None,
) -> dict[str, Any]:
    """The receipt of (line_no, quantity) `lines` into `warehouse` (201, or 200 when
    `key` replays one)."""
    body = {"warehouse_code": warehouse, "lines": [{"line_no": n, "quantity": q} for n, q in lines]}
    response = receive(platform, po_id, body, key)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result
