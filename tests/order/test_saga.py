"""The order saga end to end: auth, inventory and order as real processes."""

from __future__ import annotations

import re
import threading

from tests.support.problems import assert_problem
from tests.support.shop import GST_BPS, PRICE_PAISE, Shop
from tests.support.waiting import wait_for


def test_distributor_orders_warehouse_ships_and_delivers(shop: Shop) -> None:
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    mattress = shop.product(stock=10)
    pillow = shop.product(stock=50, price=149_900, gst=500)

    placed = shop.place(me, [(mattress, 3), (pillow, 4)], reference="PO-7781")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "CONFIRMED"
    assert order["distributor_id"] == distributor_id
    assert re.fullmatch(r"SO-20\d\d-\d{6}", order["number"])
    mattress_line, pillow_line = order["lines"]
    assert mattress_line["unit_price_paise"] == PRICE_PAISE
    assert mattress_line["gst_rate_bps"] == GST_BPS
    assert mattress_line["line_subtotal_paise"] == 3 * PRICE_PAISE
    assert mattress_line["line_tax_paise"] == 3 * PRICE_PAISE * GST_BPS // 10_000
    assert pillow_line["line_tax_paise"] == (4 * 149_900 * 500 + 5_000) // 10_000
    assert order["subtotal_paise"] == 3 * PRICE_PAISE + 4 * 149_900
    assert order["total_paise"] == order["subtotal_paise"] + order["tax_paise"]
    assert order["tax_paise"] == mattress_line["line_tax_paise"] + pillow_line["line_tax_paise"]
    assert shop.level(mattress) == {"on_hand": 10, "reserved": 3}
    assert shop.level(pillow) == {"on_hand": 50, "reserved": 4}

    assert_problem(shop.act(order["id"], "ship", headers=me), 403)
    assert_problem(shop.act(order["id"], "deliver"), 409)
    shipped = shop.act(order["id"], "ship")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "SHIPPED"
    assert shop.level(mattress) == {"on_hand": 7, "reserved": 0}
    assert shop.level(pillow) == {"on_hand": 46, "reserved": 0}
    assert_problem(shop.act(order["id"], "ship"), 409)
    assert_problem(shop.act(order["id"], "cancel", role="sales"), 409)

    delivered = shop.act(order["id"], "deliver")
    assert delivered.json()["status"] == "DELIVERED"
    history = delivered.json()["history"]
    assert [h["status"] for h in history] == ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"]
    assert all(h["actor"] and h["at"] for h in history)
    assert history[0]["actor"] == history[1]["actor"] != history[2]["actor"]

    events = wait_for(lambda: len(shop.events(order["id"])) == 4 and shop.events(order["id"]))
    assert [e["type"] for e in events] == [
        "order.placed",
        "order.confirmed",
        "order.shipped",
        "order.delivered",
    ]
    data = events[1]["data"]
    assert data["number"] == order["number"]
    assert data["status"] == "CONFIRMED"
    assert data["distributor_name"].startswith("Test Distributor")
    assert data["region"] == "South"
    assert data["total_paise"] == order["total_paise"]
    assert data["lines"][0]["sku"] == mattress
    assert data["lines"][0]["category"] == "mattress"
    assert data["lines"][0]["line_tax_paise"] == mattress_line["line_tax_paise"]
    assert data["placed_at"] == order["placed_at"].replace("Z", "+00:00")
    assert data["at"] >= data["placed_at"]


def test_cancelling_releases_the_stock(shop: Shop) -> None:
    distributor_id = shop.distributor()
    sku = shop.product(stock=8)
    kept = shop.place(shop.as_distributor(distributor_id), [(sku, 2)]).json()
    cancelled_order = shop.place(shop.as_distributor(distributor_id), [(sku, 5)]).json()
    assert shop.level(sku) == {"on_hand": 8, "reserved": 7}

    cancel = shop.http.post(
        shop.url(f"/v1/orders/{cancelled_order['id']}/cancel"),
        json={"reason": "customer changed their mind"},
        headers=shop.as_distributor(distributor_id),
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["status"] == "CANCELLED"
    assert cancel.json()["saga"] is None
    assert cancel.json()["history"][-1]["note"] == "customer changed their mind"
    assert shop.level(sku) == {"on_hand": 8, "reserved": 2}
    assert shop.reservation(cancelled_order["id"]).json()["status"] == "released"
    assert_problem(shop.act(cancelled_order["id"], "ship"), 409)
    assert_problem(shop.act(cancelled_order["id"], "cancel", role="sales"), 409)
    assert shop.order(kept["id"])["status"] == "CONFIRMED"
    types = wait_for(lambda: [e["type"] for e in shop.events(cancelled_order["id"])][2:])
    assert types == ["order.cancelled"]


def test_short_stock_rejects_and_names_the_short_lines(shop: Shop) -> None:
    distributor_id = shop.distributor()
    plenty, scarce = shop.product(stock=20), shop.product(stock=2)
    response = shop.place(shop.as_distributor(distributor_id), [(plenty, 1), (scarce, 5)])
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "REJECTED"
    assert order["short_lines"] == [{"sku": scarce, "requested": 5, "available": 2}]
    assert shop.level(plenty)["reserved"] == 0
    assert shop.level(scarce)["reserved"] == 0
    assert_problem(shop.act(order["id"], "ship"), 409)
    assert_problem(shop.act(order["id"], "cancel", role="sales"), 409)
    rejected = wait_for(
        lambda: [e for e in shop.events(order["id"]) if e["type"] == "order.rejected"]
    )
    assert rejected[0]["data"]["short_lines"] == order["short_lines"]


def test_concurrent_ship_and_cancel_cannot_both_win(shop: Shop) -> None:
    distributor_id = shop.distributor()
    sku = shop.product(stock=30)
    orders = [shop.place(shop.as_distributor(distributor_id), [(sku, 1)]).json() for _ in range(4)]
    answers: dict[str, list[int]] = {o["id"]: [] for o in orders}

    def act(order_id: str, action: str, role: str) -> None:
        answers[order_id].append(shop.act(order_id, action, role).status_code)

    threads = [
        threading.Thread(target=act, args=(o["id"], action, role))
        for o in orders
        for action, role in (("ship", "warehouse"), ("cancel", "sales"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shipped = 0
    for order in orders:
        final = shop.order(order["id"])
        assert sorted(answers[order["id"]]) == [200, 409], answers
        assert final["status"] in ("SHIPPED", "CANCELLED")
        assert [h["status"] for h in final["history"]][-1] == final["status"]
        assert len(final["history"]) == 3
        shipped += final["status"] == "SHIPPED"
    assert shop.level(sku) == {"on_hand": 30 - shipped, "reserved": 0}


def test_business_metrics_are_exported(shop: Shop) -> None:
    distributor_id = shop.distributor()
    shop.place(shop.as_distributor(distributor_id), [(shop.product(stock=5), 1)])
    metrics = shop.http.get(shop.url("/metrics")).text
    for name in (
        "glosleep_orders_placed_total ",
        'glosleep_orders_total{outcome="confirmed"} ',
        "glosleep_order_value_paise_total ",
        'glosleep_saga_step_duration_seconds_count{step="reserve"} ',
        "glosleep_orders_pending ",
        "glosleep_outbox_backlog ",
    ):
        assert name in metrics, name
    placed = next(
        line for line in metrics.splitlines() if line.startswith("glosleep_orders_placed_total ")
    )
    assert float(placed.split()[1]) >= 1
