"""Suppliers, purchase orders, their lifecycle, approval and events, and
receipts of materials (which need no inventory)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from tests.procurement.support import (
    create_po,
    create_supplier,
    po_action,
    receive,
    sku_supply,
    supplier_body,
)
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_problem
from tests.support.waiting import wait_for

MATERIALS = [
    {"item_type": "material", "item": "PU_FOAM", "unit_cost_paise": 42_000},
    {"item_type": "material", "item": "fabric", "unit_cost_paise": 9_999, "gst_rate_bps": 500},
]


def _url(platform: Platform, path: str) -> str:
    return platform.url("procurement", path)


def _material_supplier(platform: Platform) -> dict[str, Any]:
    return create_supplier(platform, supplier_body(MATERIALS, lead_time_days=5))


def _events(platform: Platform, po_id: str, count: int) -> list[dict[str, Any]]:
    """The PO's published events, once there are `count` (the relay numbers them)."""
    token = platform.service_token(["events:read"])

    def published() -> list[dict[str, Any]] | None:
        events = platform.http.get(
            _url(platform, "/v1/events"), params={"limit": 1000}, headers=bearer(token)
        ).json()["events"]
        mine = [e for e in events if e["data"].get("po_id") == po_id]
        return mine if len(mine) >= count else None

    return wait_for(published)


def test_suppliers_are_created_listed_filtered_and_updated(
    procurement_platform: Platform,
) -> None:
    platform = procurement_platform
    body = supplier_body([*MATERIALS, sku_supply("mat-t1", 100_000, multiple=5)])
    supplier = create_supplier(platform, body)
    assert supplier["gstin"] == body["gstin"]
    assert {s["item"] for s in supplier["supplies"]} == {"PU_FOAM", "FABRIC", "MAT-T1"}
    assert supplier["active"] is True

    again = platform.http.post(
        _url(platform, "/v1/suppliers"), json=body, headers=platform.as_role("procurement")
    )
    assert_problem(again, 409)

    listed = platform.http.get(
        _url(platform, "/v1/suppliers"),
        params={"item": "MAT-T1", "item_type": "sku"},
        headers=platform.as_role("analyst"),
    ).json()["items"]
    assert [s["id"] for s in listed] == [supplier["id"]]

    changed = platform.http.patch(
        _url(platform, f"/v1/suppliers/{supplier['id']}"),
        json={"lead_time_days": 12, "active": False},
        headers=platform.as_role("procurement"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["lead_time_days"] == 12
    inactive = platform.http.post(
        _url(platform, "/v1/purchase-orders"),
        json={
            "supplier_id": supplier["id"],
            "lines": [{"item_type": "sku", "item": "MAT-T1", "quantity": 1}],
        },
        headers=platform.as_role("procurement"),
    )
    assert assert_problem(inactive, 422)["type"].endswith("supplier-inactive")


def test_material_must_be_known_and_supplied(procurement_platform: Platform) -> None:
    platform = procurement_platform
    bad = supplier_body([{"item_type": "material", "item": "GOLD", "unit_cost_paise": 1}])
    response = platform.http.post(
        _url(platform, "/v1/suppliers"), json=bad, headers=platform.as_role("procurement")
    )
    assert_problem(response, 422)
    supplier = _material_supplier(platform)
    response = platform.http.post(
        _url(platform, "/v1/purchase-orders"),
        json={
            "supplier_id": supplier["id"],
            "lines": [{"item_type": "material", "item": "SPRINGS", "quantity": 1}],
        },
        headers=platform.as_role("procurement"),
    )
    assert assert_problem(response, 422)["type"].endswith("item-not-supplied")


def test_po_totals_tax_and_numbers(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    lines = [
        {"item_type": "material", "item": "PU_FOAM", "quantity": 3},
        {"item_type": "material", "item": "FABRIC", "quantity": 7, "unit_cost_paise": 1_001},
    ]
    po = create_po(platform, supplier["id"], lines)
    # Independently: 3 x 42,000 at 18 %; 7 x 1,001 at 5 % (rounded half up).
    foam, fabric = 3 * 42_000, 7 * 1_001
    foam_tax, fabric_tax = foam * 18 // 100, round(fabric * 0.05 + 1e-9)
    assert [line["line_subtotal_paise"] for line in po["lines"]] == [foam, fabric]
    assert [line["line_tax_paise"] for line in po["lines"]] == [foam_tax, fabric_tax]
    assert po["subtotal_paise"] == foam + fabric
    assert po["tax_paise"] == foam_tax + fabric_tax
    assert po["total_paise"] == foam + fabric + foam_tax + fabric_tax
    assert po["status"] == "DRAFT"
    year = datetime.now(UTC).year
    assert re.fullmatch(rf"PO-{year}-\d{{6}}", po["number"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(lambda _: create_po(platform, supplier["id"], lines[:1]), range(6)))
    numbers = sorted(int(p["number"].rsplit("-", 1)[1]) for p in made)
    assert len(set(numbers)) == 6
    assert numbers[0] > int(po["number"].rsplit("-", 1)[1])


def test_lifecycle_and_illegal_transitions(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    po = create_po(
        platform, supplier["id"], [{"item_type": "material", "item": "PU_FOAM", "quantity": 2}]
    )

    edited = platform.http.patch(
        _url(platform, f"/v1/purchase-orders/{po['id']}"),
        json={"lines": [{"item_type": "material", "item": "PU_FOAM", "quantity": 4}], "notes": "x"},
        headers=platform.as_role("procurement"),
    )
    assert edited.json()["total_paise"] == 4 * 42_000 + 4 * 42_000 * 18 // 100
    assert_problem(po_action(platform, po["id"], "close"), 409)
    assert_problem(po_action(platform, po["id"], "approve", "admin"), 409)

    submitted = po_action(platform, po["id"], "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "SUBMITTED"
    assert submitted.json()["submitted_at"]
    problem = assert_problem(po_action(platform, po["id"], "submit"), 409)
    assert problem["type"].endswith("illegal-transition")
    late_edit = platform.http.patch(
        _url(platform, f"/v1/purchase-orders/{po['id']}"),
        json={"notes": "too late"},
        headers=platform.as_role("procurement"),
    )
    assert_problem(late_edit, 409)

    cancelled = po_action(platform, po["id"], "cancel")
    assert cancelled.json()["status"] == "CANCELLED"
    assert_problem(po_action(platform, po["id"], "cancel"), 409)
    assert_problem(po_action(platform, po["id"], "submit"), 409)

    events = _events(platform, po["id"], 2)
    assert [e["type"] for e in events] == ["purchase_order.submitted", "purchase_order.cancelled"]
    data = events[0]["data"]
    assert data["number"] == po["number"]
    assert data["supplier_id"] == supplier["id"]
    assert data["promised_lead_time_days"] == 5
    assert data["lines"] == [
        {
            "line_no": 1,
            "item_type": "material",
            "item": "PU_FOAM",
            "quantity": 4,
            "unit_cost_paise": 42_000,
            "gst_rate_bps": 1800,
            "received_quantity": 0,
        }
    ]
    assert data["total_paise"] == edited.json()["total_paise"]
    assert data["submitted_at"]
    assert data["at"]


def test_large_orders_wait_for_an_admins_approval(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    # 300 x 42,000 = 12,600,000 paise + GST: above the 10,000,000 threshold.
    po = create_po(
        platform, supplier["id"], [{"item_type": "material", "item": "PU_FOAM", "quantity": 300}]
    )
    pending = po_action(platform, po["id"], "submit")
    assert pending.json()["status"] == "PENDING_APPROVAL"
    assert_problem(po_action(platform, po["id"], "approve", "procurement"), 403)
    approved = po_action(platform, po["id"], "approve", "admin")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "SUBMITTED"
    assert approved.json()["approved_by"]
    assert_problem(po_action(platform, po["id"], "approve", "admin"), 409)
    assert [e["type"] for e in _events(platform, po["id"], 1)] == ["purchase_order.submitted"]


def test_concurrent_submits_change_the_order_once(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    po = create_po(
        platform, supplier["id"], [{"item_type": "material", "item": "FABRIC", "quantity": 1}]
    )
    platform.as_role("procurement")  # log in once, before the threads
    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(
            pool.map(lambda _: po_action(platform, po["id"], "submit").status_code, range(5))
        )
    assert codes.count(200) == 1
    assert set(codes) <= {200, 409}
    assert len(_events(platform, po["id"], 1)) == 1


def test_material_receipts_over_receipt_and_idempotency(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    po = create_po(
        platform,
        supplier["id"],
        [
            {"item_type": "material", "item": "PU_FOAM", "quantity": 10},
            {"item_type": "material", "item": "FABRIC", "quantity": 4},
        ],
    )
    early = receive(
        platform, po["id"], {"warehouse_code": "WH-1", "lines": [{"line_no": 1, "quantity": 1}]}
    )
    assert_problem(early, 409)
    po_action(platform, po["id"], "submit")

    first = {"warehouse_code": "wh-1", "lines": [{"line_no": 1, "quantity": 6}]}
    made = receive(platform, po["id"], first, key="grn-a")
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "POSTED"
    assert made.json()["warehouse_code"] == "WH-1"
    replay = receive(platform, po["id"], first, key="grn-a")
    assert replay.status_code == 200
    assert replay.json()["id"] == made.json()["id"]
    read = platform.http.get(
        _url(platform, f"/v1/purchase-orders/{po['id']}"), headers=platform.as_role("analyst")
    ).json()
    assert read["status"] == "PARTIALLY_RECEIVED"
    assert [line["received_quantity"] for line in read["lines"]] == [6, 0]
    assert_problem(po_action(platform, po["id"], "cancel"), 409)

    over = {
        "warehouse_code": "WH-1",
        "lines": [{"line_no": 1, "quantity": 5}, {"line_no": 2, "quantity": 4}],
    }
    problem = assert_problem(receive(platform, po["id"], over), 409)
    assert problem["over_lines"] == [{"line_no": 1, "remaining": 4, "receiving": 5}]
    flagged = receive(platform, po["id"], {**over, "allow_over_receipt": True})
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["over_receipt"] is True
    done = platform.http.get(
        _url(platform, f"/v1/purchase-orders/{po['id']}"), headers=platform.as_role("analyst")
    ).json()
    assert done["status"] == "RECEIVED"
    assert [line["received_quantity"] for line in done["lines"]] == [11, 4]
    assert_problem(receive(platform, po["id"], first), 409)
    assert_problem(
        receive(
            platform, po["id"], {"warehouse_code": "WH-1", "lines": [{"line_no": 9, "quantity": 1}]}
        ),
        409,
    )

    receipts = platform.http.get(
        _url(platform, f"/v1/purchase-orders/{po['id']}/receipts"),
        headers=platform.as_role("procurement"),
    ).json()["items"]
    assert len(receipts) == 2
    events = _events(platform, po["id"], 3)
    received = [e["data"] for e in events if e["type"] == "purchase_order.received"]
    assert [r["receipt_id"] for r in received] == [r["id"] for r in receipts]
    assert received[0]["received_lines"] == [
        {"item": "PU_FOAM", "quantity": 6, "unit_cost_paise": 42_000}
    ]


def test_partly_received_order_can_be_closed(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    po = create_po(
        platform, supplier["id"], [{"item_type": "material", "item": "FABRIC", "quantity": 10}]
    )
    po_action(platform, po["id"], "submit")
    receive(
        platform, po["id"], {"warehouse_code": "WH-1", "lines": [{"line_no": 1, "quantity": 3}]}
    )
    closed = po_action(platform, po["id"], "close")
    assert closed.json()["status"] == "CLOSED"
    assert_problem(
        receive(
            platform, po["id"], {"warehouse_code": "WH-1", "lines": [{"line_no": 1, "quantity": 1}]}
        ),
        409,
    )


def test_roles(procurement_platform: Platform) -> None:
    platform = procurement_platform
    supplier = _material_supplier(platform)
    body = {
        "supplier_id": supplier["id"],
        "lines": [{"item_type": "material", "item": "FABRIC", "quantity": 1}],
    }
    for role in ("analyst", "warehouse", "sales", "management"):
        response = platform.http.post(
            _url(platform, "/v1/purchase-orders"), json=body, headers=platform.as_role(role)
        )
        assert_problem(response, 403)
    reader = platform.http.get(
        _url(platform, "/v1/purchase-orders"), headers=platform.as_role("management")
    )
    assert reader.status_code == 200
    distributor = platform.as_role("distributor", distributor_id="dst_procurement_test")
    assert_problem(platform.http.get(_url(platform, "/v1/suppliers"), headers=distributor), 403)
    assert_problem(platform.http.get(_url(platform, "/v1/purchase-orders")), 401)
    service = bearer(platform.service_token(["events:read"]))
    assert_problem(platform.http.get(_url(platform, "/v1/purchase-orders"), headers=service), 403)
