"""Who sees and does what: distributors only their own orders, sales for any
distributor; distributors managed by sales and admin; listing filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.devstack.seed import example_distributor
from apps.kit.problems import problem_type
from tests.support.problems import assert_problem
from tests.support.shop import Shop


def test_distributors_see_only_their_own_orders(shop: Shop) -> None:
    mine, theirs = shop.distributor(), shop.distributor()
    sku = shop.product(stock=20)
    me, them = shop.as_distributor(mine), shop.as_distributor(theirs)
    own = shop.place(me, [(sku, 1)]).json()
    other = shop.place(them, [(sku, 1)]).json()

    assert shop.http.get(shop.url(f"/v1/orders/{own['id']}"), headers=me).status_code == 200
    assert_problem(shop.http.get(shop.url(f"/v1/orders/{other['id']}"), headers=me), 404)
    assert_problem(shop.act(other["id"], "cancel", headers=me), 404)
    listed = shop.http.get(shop.url("/v1/orders"), headers=me).json()["items"]
    assert {o["distributor_id"] for o in listed} == {mine}
    assert_problem(
        shop.http.get(shop.url("/v1/orders"), params={"distributor_id": theirs}, headers=me), 403
    )
    assert_problem(shop.place(me, [(sku, 1)], distributor_id=theirs), 403)
    assert shop.http.get(shop.url(f"/v1/distributors/{mine}"), headers=me).status_code == 200
    assert_problem(shop.http.get(shop.url(f"/v1/distributors/{theirs}"), headers=me), 403)
    assert_problem(shop.http.get(shop.url("/v1/distributors"), headers=me), 403)


def test_sales_orders_for_any_distributor(shop: Shop) -> None:
    distributor_id = shop.distributor()
    sku = shop.product(stock=5)
    sales = shop.platform.as_role("sales")
    placed = shop.place(sales, [(sku, 1)], distributor_id=distributor_id)
    assert placed.status_code == 201, placed.text
    assert placed.json()["distributor_id"] == distributor_id
    assert_problem(shop.place(sales, [(sku, 1)]), 422)
    assert_problem(shop.place(sales, [(sku, 1)], distributor_id="dst_nobody_here"), 422)
    assert_problem(shop.place(shop.platform.as_role("warehouse"), [(sku, 1)]), 403)
    assert_problem(
        shop.place(
            shop.platform.as_role("sales"), [("NO-SUCH-SKU", 1)], distributor_id=distributor_id
        ),
        422,
    )
    assert shop.level(sku)["reserved"] == 1


def test_inactive_distributors_cannot_order(shop: Shop) -> None:
    distributor_id = shop.distributor()
    sku = shop.product(stock=5)
    sales = shop.platform.as_role("sales")
    off = shop.http.patch(
        shop.url(f"/v1/distributors/{distributor_id}"),
        json={"active": False, "region": "North"},
        headers=sales,
    )
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    assert off.json()["region"] == "North"
    problem = assert_problem(shop.place(shop.as_distributor(distributor_id), [(sku, 1)]), 422)
    assert problem["type"] == problem_type("unknown-distributor")
    again = shop.http.post(
        shop.url("/v1/distributors"),
        json=example_distributor(distributor_id, "Again"),
        headers=sales,
    )
    assert_problem(again, 409)
    listed = shop.http.get(
        shop.url("/v1/distributors"), params={"region": "North", "active": "false"}, headers=sales
    ).json()["items"]
    assert distributor_id in {d["id"] for d in listed}


def test_listing_filters_and_pages(shop: Shop) -> None:
    distributor_id = shop.distributor()
    sku = shop.product(stock=3)
    me = shop.as_distributor(distributor_id)
    before = datetime.now(UTC) - timedelta(seconds=1)
    placed = [shop.place(me, [(sku, 1)]).json() for _ in range(5)]  # the last two are short
    statuses = [o["status"] for o in placed]
    assert statuses == ["CONFIRMED"] * 3 + ["REJECTED"] * 2

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"distributor_id": distributor_id, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = shop.http.get(shop.url("/v1/orders"), params=params, headers=shop.admin).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [o["id"] for o in reversed(placed)]

    rejected = shop.http.get(
        shop.url("/v1/orders"), params={"status": "REJECTED"}, headers=me
    ).json()["items"]
    assert {o["id"] for o in rejected} == {o["id"] for o in placed[3:]}
    window = {"placed_from": before.isoformat(), "placed_to": datetime.now(UTC).isoformat()}
    in_window = shop.http.get(shop.url("/v1/orders"), params=window, headers=me).json()["items"]
    assert len(in_window) == 5
    later = {"placed_from": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert shop.http.get(shop.url("/v1/orders"), params=later, headers=me).json()["items"] == []
