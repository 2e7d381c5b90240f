"""The whole business flow across all five services: a supplier and a purchase
order, goods received (stock rises, once per receipt), distributors order, ship
and cancel; every report then shows exactly those numbers, the same after a
rebuild from the feeds, and an export lands in S3 (moto)."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

import boto3
import pytest

from tests.analytics.conftest import EXPORT_BUCKET, REGION
from tests.procurement.support import (
    create_po,
    create_supplier,
    po_action,
    received,
    sku_supply,
    supplier_body,
)
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_problem
from tests.support.shop import Shop
from tests.support.waiting import wait_for

MATTRESS_PRICE, PILLOW_PRICE = 2_199_900, 149_900
MATTRESS_COST, PILLOW_COST = 1_200_000, 70_000
REORDER_POINT, REORDER_QUANTITY, MULTIPLE = 18, 30, 4


def _gst(paise: int) -> int:
    return (paise * 1800 + 5_000) // 10_000


class World:
    """Everything the flow creates, with names no other test shares."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.shop = Shop(platform)
        self.warehouse = self.shop.warehouse
        tag = secrets.token_hex(3).upper()
        self.mattress = self._product(f"E2M-{tag}", "mattress", MATTRESS_PRICE)
        self.pillow = self._product(f"E2P-{tag}", "pillow", PILLOW_PRICE)
        self.region_a = "North-" + tag
        self.dist_a = self.shop.distributor(region=self.region_a)
        self.dist_b = self.shop.distributor(region="East-" + tag)

    def _product(self, sku: str, category: str, price: int) -> str:
        response = self.platform.http.post(
            self.platform.url("inventory", "/v1/products"),
            json={
                "sku": sku,
                "name": f"E2E {category} {sku}",
                "category": category,
                "unit_price_paise": price,
                "gst_rate_bps": 1800,
                "reorder_point": REORDER_POINT,
                "reorder_quantity": REORDER_QUANTITY,
            },
            headers=bearer(self.platform.admin_token()),
        )
        assert response.status_code == 201, response.text
        return sku

    def report(self, name: str, role: str = "analyst", **params: Any) -> dict[str, Any]:
        response = self.platform.http.get(
            self.platform.url("analytics", f"/v1/reports/{name}"),
            params=params,
            headers=self.platform.as_role(role),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def on_hand(self, sku: str) -> int:
        return self.shop.level(sku)["on_hand"]


def _status(shop: Shop, order_id: str, wanted: str) -> None:
    wait_for(lambda: shop.order(order_id)["status"] == wanted)


@pytest.fixture(scope="module")
def world(full_platform: Platform) -> World:
    return World(full_platform)


@pytest.fixture(scope="module")
def flow(world: World) -> dict[str, Any]:
    """Run the business once; answer what the tests check the reports against."""
    platform, shop = world.platform, world.shop
    supplier = create_supplier(
        platform,
        supplier_body(
            [
                sku_supply(world.mattress, MATTRESS_COST, multiple=MULTIPLE),
                sku_supply(world.pillow, PILLOW_COST),
            ],
            lead_time_days=10,
        ),
    )
    po = create_po(
        platform,
        supplier["id"],
        [
            {"item_type": "sku", "item": world.mattress, "quantity": 20},
            {"item_type": "sku", "item": world.pillow, "quantity": 50},
        ],
    )
    # Above the approval threshold: an admin approves before goods can come.
    assert po_action(platform, po["id"], "submit").json()["status"] == "PENDING_APPROVAL"
    assert po_action(platform, po["id"], "approve", "admin").json()["status"] == "SUBMITTED"
    first = received(platform, po["id"], world.warehouse, [(1, 12), (2, 50)], "grn-1")
    assert first["status"] == "POSTED"
    assert world.on_hand(world.mattress) == 12
    assert world.on_hand(world.pillow) == 50
    second = received(platform, po["id"], world.warehouse, [(1, 8)], "grn-2")
    again = received(platform, po["id"], world.warehouse, [(1, 8)], "grn-2")
    assert again["id"] == second["id"]
    assert world.on_hand(world.mattress) == 20  # the retry added nothing
    received_po = platform.http.get(
        platform.url("procurement", f"/v1/purchase-orders/{po['id']}"),
        headers=platform.as_role("procurement"),
    ).json()
    assert received_po["status"] == "RECEIVED"

    as_a = shop.as_distributor(world.dist_a)
    as_b = shop.as_distributor(world.dist_b)
    shipped = shop.place(as_a, [(world.mattress, 3), (world.pillow, 5)])
    assert shipped.status_code in (200, 201, 202), shipped.text
    shipped_id = shipped.json()["id"]
    _status(shop, shipped_id, "CONFIRMED")
    assert shop.act(shipped_id, "ship").status_code == 200
    assert shop.act(shipped_id, "deliver").status_code == 200
    cancelled = shop.place(as_b, [(world.mattress, 2)])
    cancelled_id = cancelled.json()["id"]
    _status(shop, cancelled_id, "CONFIRMED")
    assert shop.act(cancelled_id, "cancel", role="sales").status_code == 200
    rejected = shop.place(as_a, [(world.pillow, 1_000)])
    _status(shop, rejected.json()["id"], "REJECTED")
    assert world.on_hand(world.mattress) == 17
    assert world.on_hand(world.pillow) == 45

    mattress_net, pillow_net = 3 * MATTRESS_PRICE, 5 * PILLOW_PRICE
    return {
        "supplier": supplier,
        "po": received_po,
        "orders": {"shipped": shipped_id, "cancelled": cancelled_id},
        "sales_a": {
            world.mattress: (3, mattress_net, _gst(mattress_net)),
            world.pillow: (5, pillow_net, _gst(pillow_net)),
        },
        "ordered_paise": 20 * MATTRESS_COST
        + _gst(20 * MATTRESS_COST)
        + 50 * PILLOW_COST
        + _gst(50 * PILLOW_COST),
        "received_value": 20 * MATTRESS_COST + 50 * PILLOW_COST,
    }


def _metrics(platform: Platform) -> dict[str, float]:
    """analytics' business metrics by their name and labels, as /metrics shows them."""
    values = {}
    for line in platform.http.get(platform.url("analytics", "/metrics")).text.splitlines():
        if line.startswith("glosleep_"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def _caught_up(world: World) -> dict[str, Any]:
    """Analytics has every event of the flow once the funnel and stock show them."""

    def ready() -> dict[str, Any] | None:
        funnel = {
            r["stage"]: r["orders"]
            for r in world.report("order-funnel", distributor_id=world.dist_a)["rows"]
        }
        stock = world.report("stock", warehouse_code=world.warehouse)["rows"]
        spend = world.report("procurement-spend")["rows"]
        done = (
            funnel.get("delivered") == 1
            and funnel.get("rejected") == 1
            and stock
            and stock[0]["on_hand"] == 62
            # The cancelled order's release comes on inventory's feed, not the order's.
            and stock[0]["reserved"] == 0
            and any(r["received_value_paise"] for r in spend)
            and world.report("order-funnel", distributor_id=world.dist_b)["rows"][3]["orders"] == 1
        )
        return {"funnel": funnel, "stock": stock} if done else None

    return wait_for(ready, timeout=30)


def test_sales_funnel_and_history_show_exactly_the_flow(world: World, flow: dict[str, Any]) -> None:
    _caught_up(world)
    rows = world.report("sales", group_by="product", distributor_id=world.dist_a)["rows"]
    assert {r["group"]: (r["units"], r["net_revenue_paise"], r["tax_paise"]) for r in rows} == flow[
        "sales_a"
    ]
    assert all(r["orders"] == 1 for r in rows)
    by_day = world.report("sales", group_by="day", distributor_id=world.dist_a)["rows"]
    assert len(by_day) == 1
    assert by_day[0]["gross_revenue_paise"] == sum(n + t for _, n, t in flow["sales_a"].values())
    assert world.report("sales", distributor_id=world.dist_b)["rows"] == []  # cancelled is no sale
    by_region = world.report("sales", group_by="region", distributor_id=world.dist_a)["rows"]
    assert [(r["group"], r["orders"]) for r in by_region] == [(world.region_a, 1)]

    funnel = {
        r["stage"]: (r["orders"], r["rate"])
        for r in world.report("order-funnel", distributor_id=world.dist_a)["rows"]
    }
    assert funnel == {
        "placed": (2, 1.0),
        "confirmed": (1, 0.5),
        "rejected": (1, 0.5),
        "cancelled": (0, 0.0),
        "shipped": (1, 0.5),
        "delivered": (1, 0.5),
    }
    funnel_b = {
        r["stage"]: r["orders"]
        for r in world.report("order-funnel", distributor_id=world.dist_b)["rows"]
    }
    assert funnel_b == {
        "placed": 1,
        "confirmed": 1,
        "rejected": 0,
        "cancelled": 1,
        "shipped": 0,
        "delivered": 0,
    }

    top = world.report("top-products", by="revenue", distributor_id=world.dist_a)["rows"]
    assert [r["group"] for r in top] == [world.mattress, world.pillow]

    # A distributor asking for another's history still gets only its own.
    own = world.platform.http.get(
        world.platform.url("analytics", "/v1/reports/purchase-history"),
        params={"distributor_id": world.dist_a},
        headers=world.shop.as_distributor(world.dist_b),
    ).json()
    assert {r["distributor_id"] for r in own["rows"]} == {world.dist_b}
    assert [r["order_id"] for r in own["rows"]] == [flow["orders"]["cancelled"]]
    assert_problem(
        world.platform.http.get(
            world.platform.url("analytics", "/v1/reports/sales"),
            headers=world.shop.as_distributor(world.dist_a),
        ),
        403,
    )


def test_stock_low_stock_and_procurement_reports(world: World, flow: dict[str, Any]) -> None:
    _caught_up(world)
    stock = world.report("stock", warehouse_code=world.warehouse)["rows"]
    assert stock == [
        {
            "warehouse_code": world.warehouse,
            "skus": 2,
            "on_hand": 62,
            "reserved": 0,
            "available": 62,
            "stock_value_paise": 17 * MATTRESS_COST + 45 * PILLOW_COST,
            "retail_value_paise": 17 * MATTRESS_PRICE + 45 * PILLOW_PRICE,
        }
    ]
    low = world.report("low-stock", warehouse_code=world.warehouse)["rows"]
    assert [(r["sku"], r["available"]) for r in low] == [(world.mattress, 17)]

    supplier_id = flow["supplier"]["id"]
    spend = world.report("procurement-spend", supplier_id=supplier_id)["rows"]
    assert spend == [
        {
            "supplier_id": supplier_id,
            "supplier_name": flow["supplier"]["name"],
            "purchase_orders": 1,
            "cancelled": 0,
            "ordered_paise": flow["ordered_paise"],
            "received_value_paise": flow["received_value"],
        }
    ]
    assert flow["po"]["total_paise"] == flow["ordered_paise"]
    lead = world.report("supplier-lead-time", supplier_id=supplier_id)["rows"]
    assert [
        (r["promised_lead_time_days"], r["completed"], r["open"], r["on_time"]) for r in lead
    ] == [(10, 1, 0, 1)]
    assert 0 <= lead[0]["average_actual_days"] < 0.1


def test_reorder_suggestion_from_stock_low_becomes_a_draft(
    world: World, flow: dict[str, Any]
) -> None:
    platform = world.platform
    supplier_id = flow["supplier"]["id"]
    url = platform.url("procurement", "/v1/reorder-suggestions")

    def suggested() -> list[dict[str, Any]] | None:
        found = platform.http.get(
            url, params={"supplier_id": supplier_id}, headers=platform.as_role("procurement")
        ).json()["suggestions"]
        return found or None

    # Once procurement's consumer has seen the latest level (17 after the release).
    suggestion = wait_for(
        lambda: (found := suggested()) and found[0]["lines"][0]["available"] == 17 and found[0]
    )
    # min/max: 17 available, nothing on order; order up to 18 + 30, in fours.
    wanted = -(-(REORDER_POINT + REORDER_QUANTITY - 17) // MULTIPLE) * MULTIPLE
    assert [(line["sku"], line["available"], line["quantity"]) for line in suggestion["lines"]] == [
        (world.mattress, 17, wanted)
    ]
    draft = platform.http.post(
        f"{url}/{supplier_id}/purchase-order", headers=platform.as_role("procurement")
    )
    assert draft.status_code == 201, draft.text
    assert draft.json()["status"] == "DRAFT"
    assert [
        (line["item"], line["quantity"], line["unit_cost_paise"]) for line in draft.json()["lines"]
    ] == [(world.mattress, wanted, MATTRESS_COST)]
    # What is on order now covers the gap: no suggestion any more.
    assert suggested() is None
    assert po_action(platform, draft.json()["id"], "cancel").status_code == 200


def _reports(world: World, flow: dict[str, Any]) -> list[dict[str, Any]]:
    supplier_id = flow["supplier"]["id"]
    return [
        world.report("sales", group_by=group, distributor_id=world.dist_a)
        for group in ("day", "week", "month", "product", "category", "distributor", "region")
    ] + [
        world.report("order-funnel", distributor_id=world.dist_a),
        world.report("order-funnel", distributor_id=world.dist_b),
        world.report("stock", warehouse_code=world.warehouse),
        world.report("low-stock", warehouse_code=world.warehouse),
        world.report("procurement-spend", supplier_id=supplier_id),
        world.report("supplier-lead-time", supplier_id=supplier_id),
        world.report("purchase-history", distributor_id=world.dist_b),
    ]


def test_rebuild_from_the_feeds_gives_the_same_reports(world: World, flow: dict[str, Any]) -> None:
    _caught_up(world)
    before = _reports(world, flow)
    platform = world.platform
    assert_problem(
        platform.http.post(
            platform.url("analytics", "/v1/admin/rebuild"), headers=platform.as_role("analyst")
        ),
        403,
    )
    rebuilt = platform.http.post(
        platform.url("analytics", "/v1/admin/rebuild"),
        headers=bearer(platform.admin_token()),
        timeout=120,
    )
    assert rebuilt.status_code == 200, rebuilt.text
    assert all(count > 0 for count in rebuilt.json()["replayed"].values())
    assert _reports(world, flow) == before


def test_csv_matches_json_and_export_lands_in_s3(world: World, flow: dict[str, Any]) -> None:
    _caught_up(world)
    platform = world.platform
    params = {"group_by": "product", "distributor_id": world.dist_a}
    as_json = world.report("sales", **params)
    response = platform.http.get(
        platform.url("analytics", "/v1/reports/sales"),
        params=params,
        headers={**platform.as_role("management"), "Accept": "text/csv"},
    )
    assert response.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert [{k: str(v) for k, v in row.items()} for row in as_json["rows"]] == parsed

    stored_exports = 'glosleep_exports_total{outcome="stored",report="sales"}'
    before = _metrics(platform).get(stored_exports, 0.0)
    exported = platform.http.post(
        platform.url("analytics", "/v1/exports"),
        json={"report": "sales", "format": "csv", "filters": params},
        headers=platform.as_role("analyst"),
    )
    assert exported.status_code == 201, exported.text
    assert _metrics(platform)[stored_exports] == before + 1
    body = exported.json()
    assert body["bucket"] == EXPORT_BUCKET
    assert body["rows"] == 2
    s3 = boto3.client(
        "s3",
        endpoint_url=platform.stack.config.extra_env["analytics"]["S3_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stored = s3.get_object(Bucket=EXPORT_BUCKET, Key=body["key"])
    assert stored["Body"].read().decode() == response.text
    assert stored["ContentType"].startswith("text/csv")
    assert stored["ServerSideEncryption"] == "aws:kms"  # the bucket's key, not AES256

    bad = platform.http.post(
        platform.url("analytics", "/v1/exports"),
        json={"report": "sales", "filters": {"group_by": "planet"}},
        headers=platform.as_role("analyst"),
    )
    assert_problem(bad, 422)
    assert_problem(
        platform.http.post(
            platform.url("analytics", "/v1/exports"),
            json={"report": "sales"},
            headers=world.shop.as_distributor(world.dist_a),
        ),
        403,
    )
