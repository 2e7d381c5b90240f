"""Every query procurement and analytics issue uses an index (the order path's are in
test_indexes.py): suppliers, purchase orders through approval, cancel and close, goods
receipts (a replay, a refusal), reorder suggestions, with procurement's inventory
consumer and receipt recovery running; analytics' projections consuming all three
feeds, and every report and an export. The admin rebuild is left out: it empties the
read models (a whole-collection delete is its job) and replays through the same
projections profiled here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.analytics.conftest import start_full_platform
from tests.procurement.support import (
    create_po,
    create_supplier,
    po_action,
    receive,
    received,
    sku_supply,
    supplier_body,
)
from tests.support.platform import Platform
from tests.support.queries import Document, profiled, recorded_reads, unindexed_reads
from tests.support.shop import Shop
from tests.support.waiting import wait_for

# Collections read whole by design, with the reason. Only an unfiltered read of these
# is accepted: a filtered one still needs an index, and an unfiltered read of any other
# collection fails. (The catalogue, product_facts, needs no entry: the stock reports
# read the products of the levels they show, by _id.)
READ_WHOLE: Mapping[str, Mapping[str, str]] = {
    "procurement": {},
    "analytics": {
        "current_levels": "a stock report with no warehouse or SKU shows every level: one "
        "document per (SKU, warehouse), bounded by catalogue and warehouses, not by history",
    },
}
# What the workload must have read, so the check cannot pass on a workload that
# stopped short.
MUST_READ = {
    "procurement": {"suppliers", "purchase_orders", "goods_receipts", "stock_signals"},
    "analytics": {
        "order_facts",
        "current_levels",
        "level_versions",
        "receipt_costs",
        "product_facts",
        "purchase_order_facts",
    },
}
REPORTS: dict[str, list[dict[str, Any]]] = {
    "sales": [{"group_by": group} for group in ("day", "week", "month", "product", "region")]
    + [{"group_by": "category", "category": "mattress"}, {"group_by": "distributor"}],
    "top-products": [{"by": "units"}, {"by": "revenue", "category": "pillow", "limit": 1}],
    "order-funnel": [{}, {"region": "IDX"}],
    "procurement-spend": [{}],
    "supplier-lead-time": [{}],
    "purchase-history": [{}],
}
STOCK_REPORTS = ("stock", "low-stock")


class Buying:
    """The procurement side of the workload, on one shop's warehouse and SKUs."""

    def __init__(self, platform: Platform, shop: Shop) -> None:
        self.platform = platform
        self.shop = shop
        self.mattress = shop.product(0, reorder_point=10, reorder_quantity=20)
        self.pillow = shop.product(0, price=149_900, category="pillow")
        self.main = create_supplier(
            platform,
            supplier_body(
                [sku_supply(self.mattress, 600_000, multiple=2), sku_supply(self.pillow, 40_000)],
                lead_time_days=5,
            ),
        )["id"]
        self.other = create_supplier(
            platform, supplier_body([sku_supply(self.mattress, 650_000)], lead_time_days=9)
        )["id"]

    def get(self, path: str, **params: Any) -> Any:
        response = self.platform.http.get(
            self.platform.url("procurement", path),
            params=params,
            headers=self.platform.as_role("procurement"),
        )
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: Any = None, role: str = "procurement") -> Any:
        response = self.platform.http.request(
            method,
            self.platform.url("procurement", path),
            json=body,
            headers=self.platform.as_role(role),
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    def po(self, supplier_id: str, lines: list[tuple[str, int]]) -> str:
        body = [{"item_type": "sku", "item": sku, "quantity": n} for sku, n in lines]
        return str(create_po(self.platform, supplier_id, body)["id"])

    def submit(self, po_id: str, status: str = "SUBMITTED") -> None:
        submitted = po_action(self.platform, po_id, "submit")
        assert submitted.json()["status"] == status, submitted.text

    def receive(self, po_id: str, lines: list[tuple[int, int]], key: str | None = None) -> Any:
        return received(self.platform, po_id, self.shop.warehouse, lines, key)

    def run(self) -> None:
        """Suppliers listed and edited; a PO edited, approved, received in two receipts
        (one replayed); one cancelled; one closed short; one refused by inventory."""
        self.get("/v1/suppliers", active="true", limit=1)
        self.get("/v1/suppliers", item_type="sku", item=self.mattress)
        self.get(f"/v1/suppliers/{self.main}")
        self.send("PATCH", f"/v1/suppliers/{self.other}", {"lead_time_days": 8})

        approved = self.po(self.main, [(self.mattress, 2)])
        lines = [(self.mattress, 14), (self.pillow, 30)]  # above the approval threshold
        body = [{"item_type": "sku", "item": sku, "quantity": n} for sku, n in lines]
        self.send("PATCH", f"/v1/purchase-orders/{approved}", {"lines": body})
        self.submit(approved, "PENDING_APPROVAL")
        assert po_action(self.platform, approved, "approve", "admin").status_code == 200
        first = self.receive(approved, [(1, 8), (2, 30)], key="idx-grn-1")
        assert self.receive(approved, [(1, 8), (2, 30)], key="idx-grn-1")["id"] == first["id"]
        self.receive(approved, [(1, 6)])
        assert self.get(f"/v1/purchase-orders/{approved}")["status"] == "RECEIVED"
        self.get(f"/v1/purchase-orders/{approved}/receipts", limit=1)
        self.get(f"/v1/receipts/{first['id']}")

        cancelled = self.po(self.other, [(self.mattress, 2)])
        self.submit(cancelled)
        assert po_action(self.platform, cancelled, "cancel").status_code == 200
        short = self.po(self.main, [(self.pillow, 10)])
        self.submit(short)
        self.receive(short, [(1, 4)])
        assert po_action(self.platform, short, "close").status_code == 200
        refused = self.po(self.main, [(self.pillow, 1)])
        self.submit(refused)
        nowhere = {"warehouse_code": "NOWHERE-9", "lines": [{"line_no": 1, "quantity": 1}]}
        assert receive(self.platform, refused, nowhere).status_code == 422

        self.get("/v1/purchase-orders", status="SUBMITTED")
        page = self.get("/v1/purchase-orders", supplier_id=self.main, limit=1)
        self.get("/v1/purchase-orders", supplier_id=self.main, cursor=page["next_cursor"])


def _stock_changes(platform: Platform, buying: Buying) -> str:
    """A price change, a damage write-off and a transfer out (inventory's other events);
    answers the distributor whose order was delivered (a second one is cancelled)."""
    shop = buying.shop
    inventory = shop.admin
    platform.http.patch(
        platform.url("inventory", f"/v1/products/{buying.pillow}"),
        json={"unit_price_paise": 159_900},
        headers=inventory,
    ).raise_for_status()
    warehouse = platform.as_role("warehouse")
    platform.http.put(
        platform.url("inventory", "/v1/adjustments/adj-idx-" + shop.warehouse),
        json={
            "warehouse_code": shop.warehouse,
            "sku": buying.pillow,
            "delta": -2,
            "reason": "damage",
        },
        headers=warehouse,
    ).raise_for_status()
    platform.http.put(
        platform.url("inventory", "/v1/transfers/trf-idx-" + shop.warehouse),
        json={
            "sku": buying.pillow,
            "from_warehouse_code": shop.warehouse,
            "to_warehouse_code": Shop(platform).warehouse,
            "quantity": 5,
        },
        headers=warehouse,
    ).raise_for_status()
    distributor = shop.distributor(region="IDX")
    headers = shop.as_distributor(distributor)
    delivered = shop.place(headers, [(buying.mattress, 5), (buying.pillow, 1)]).json()["id"]
    cancelled = shop.place(headers, [(buying.pillow, 1)]).json()["id"]
    wait_for(lambda: all(shop.order(o)["status"] == "CONFIRMED" for o in (delivered, cancelled)))
    assert shop.act(delivered, "ship").status_code == 200
    assert shop.act(delivered, "deliver").status_code == 200
    assert shop.act(cancelled, "cancel", "sales").status_code == 200
    return distributor


def _answer(platform: Platform, name: str, **params: Any) -> dict[str, Any]:
    response = platform.http.get(
        platform.url("analytics", f"/v1/reports/{name}"),
        params=params,
        headers=platform.as_role("analyst"),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _report(platform: Platform, name: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _answer(platform, name, **params)["rows"]
    return rows


def _history_pages(platform: Platform, distributor: str, **window: str) -> None:
    """The distributor's two orders a page at a time: the second page reads from a cursor."""
    first = _answer(platform, "purchase-history", distributor_id=distributor, limit=1, **window)
    cursor = first["next_cursor"]
    assert cursor is not None
    last = _answer(
        platform, "purchase-history", distributor_id=distributor, limit=1, cursor=cursor, **window
    )
    assert last["next_cursor"] is None


def _caught_up(platform: Platform, buying: Buying, distributor: str) -> None:
    """Analytics has the workload's events once its reports show them; procurement once
    it suggests reordering the mattress (5 of 14 sold: 9 left, reorder point 10)."""

    def analytics() -> bool:
        funnel = _report(platform, "order-funnel", distributor_id=distributor)
        stock = _report(platform, "stock", sku=buying.mattress)
        return {r["stage"]: r["orders"] for r in funnel}.get("delivered") == 1 and [
            r["on_hand"] for r in stock
        ] == [9]

    def procurement() -> bool:
        found = buying.get("/v1/reorder-suggestions", supplier_id=buying.main)["suggestions"]
        return bool(found) and found[0]["lines"][0]["available"] == 9

    # Analytics may have started just now, behind every event the session's earlier
    # tests made (run after tests/order alone, that took over 30 s).
    wait_for(analytics, timeout=120)
    wait_for(procurement, timeout=30)


def _reports(platform: Platform, buying: Buying, distributor: str) -> None:
    today = datetime.now(UTC).date()
    window = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}
    for name, variants in REPORTS.items():
        for params in variants:
            _report(platform, name, **params)
            _report(platform, name, **params, **window)
    _report(platform, "sales", distributor_id=distributor, region="IDX", sku=buying.mattress)
    _report(platform, "procurement-spend", supplier_id=buying.main)
    _report(platform, "supplier-lead-time", supplier_id=buying.main, **window)
    _report(platform, "purchase-history", distributor_id=distributor)
    _history_pages(platform, distributor)
    _history_pages(platform, distributor, **window)
    for name in STOCK_REPORTS:
        for as_of in (None, today, today - timedelta(days=1)):
            at = {"as_of": as_of.isoformat()} if as_of else {}
            _report(platform, name, **at)
            _report(platform, name, warehouse_code=buying.shop.warehouse, **at)
            _report(platform, name, sku=buying.pillow, category="pillow", **at)
    exported = platform.http.post(
        platform.url("analytics", "/v1/exports"),
        json={"report": "stock", "format": "csv", "filters": {}},
        headers=platform.as_role("analyst"),
    )
    assert exported.status_code == 201, exported.text


@pytest.fixture(scope="module")
def full(platform: Platform, s3_endpoint: str) -> Platform:
    return start_full_platform(platform, s3_endpoint)


def test_every_query_of_procurement_and_analytics_uses_an_index(
    full: Platform, client: MongoClient[Document]
) -> None:
    platform = full
    databases = {name: client[platform.stack.database(name)] for name in READ_WHOLE}
    with profiled(list(databases.values())):
        buying = Buying(platform, Shop(platform))
        buying.run()
        distributor = _stock_changes(platform, buying)
        _caught_up(platform, buying, distributor)
        buying.get("/v1/reorder-suggestions")
        buying.send("POST", f"/v1/reorder-suggestions/{buying.main}/purchase-order")
        _reports(platform, buying, distributor)
    for name, database in databases.items():
        read = {r["find"] for r in recorded_reads(database)}
        assert MUST_READ[name] <= read, f"{name} never read {MUST_READ[name] - read}"
    missing = [
        line
        for name, database in databases.items()
        for line in unindexed_reads(database, READ_WHOLE[name])
    ]
    assert missing == [], "queries without an index:\n" + "\n".join(missing)
    page_indexes = _page_indexes(databases["analytics"])
    assert page_indexes
    assert {tuple(keys) for keys in page_indexes} == {("distributor_id", "_id", "placed_at")}


def _index_keys(plan: Mapping[str, Any]) -> list[str]:
    if plan.get("stage") == "IXSCAN":
        return list(plan["keyPattern"])
    return _index_keys(plan["inputStage"]) if "inputStage" in plan else []


def _page_indexes(database: Database[Document]) -> list[list[str]]:
    """The index each distinct read of a distributor's history page after a cursor
    uses: one led by (distributor_id, _id), so the page starts at the cursor."""
    pages = [
        read
        for read in recorded_reads(database)
        if read["find"] == "order_facts" and set(read["filter"]) == {"distributor_id", "_id"}
    ]
    plans = [database.command("explain", read, verbosity="queryPlanner") for read in pages]
    return [_index_keys(plan["queryPlanner"]["winningPlan"]) for plan in plans]
