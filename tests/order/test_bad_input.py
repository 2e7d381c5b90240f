"""Every order route answers bad input with a 4xx problem, never a 500: routes
and their parameters come from the service's own OpenAPI document."""

from __future__ import annotations

from uuid import uuid4

import pytest

from apps.kit.bounds import MAX_INSTANT, MAX_QUANTITY, MAX_UNIT_PAISE
from tests.support.bad_input import (
    COMMON_BAD_BODIES,
    assert_bad_body_refused,
    assert_edges_refused,
    fill_path,
    openapi_routes,
    operations,
)
from tests.support.problems import assert_client_error
from tests.support.shop import Shop

BAD_BODIES: list[bytes] = [
    *COMMON_BAD_BODIES,
    b'{"lines": []}',
    b'{"lines": [{"sku": "T123", "quantity": 0}]}',
    b'{"lines": [{"sku": "T123", "quantity": -5}]}',
    b'{"lines": [{"sku": "T123", "quantity": 1.5}]}',
    b'{"lines": [{"sku": "T123", "quantity": 99999999999}]}',
    b'{"lines": [{"sku": "bad sku!", "quantity": 1}]}',
    b'{"lines": [{"sku": "T123", "quantity": 1}, {"sku": "T123", "quantity": 2}]}',
    b'{"lines": [{"sku": {"$gt": ""}, "quantity": 1}]}',
    b'{"lines": [{"sku": "T123", "quantity": 1}], "unknown_field": 1}',
    b'{"id": "not-a-dst", "name": "", "gstin": "12345", "region": "South"}',
    b'{"id": "dst_ok_one", "name": "X", "gstin": "29ABCDE1234F1Z5", "region": "South",'
    b' "billing_address": {"line1": "a", "city": "b", "state": "c", "postal_code": "12"}}',
    b'{"active": "maybe", "billing_address": null, "region": ""}',
    b'{"reason": "' + b"x" * 600 + b'"}',
    b'{"reason": "bell\\u0007"}',
]

PATH_VALUES = {
    "order_id": ["ord_does_not_exist", "x" * 65, "%00"],
    "distributor_id": ["dst_does_not_exist", "x" * 65],
}


def test_openapi_lists_the_routes(shop: Shop) -> None:
    routes = {(method, path) for method, path, _ in operations(shop.platform, "order")}
    assert {
        ("POST", "/v1/orders"),
        ("GET", "/v1/orders"),
        ("GET", "/v1/orders/{order_id}"),
        ("POST", "/v1/orders/{order_id}/cancel"),
        ("POST", "/v1/orders/{order_id}/ship"),
        ("POST", "/v1/orders/{order_id}/deliver"),
        ("POST", "/v1/distributors"),
        ("GET", "/v1/distributors"),
        ("GET", "/v1/distributors/{distributor_id}"),
        ("PATCH", "/v1/distributors/{distributor_id}"),
        ("GET", "/v1/events"),
    } <= routes


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_on_every_route_are_4xx_problems(shop: Shop, body: bytes) -> None:
    routes = openapi_routes(shop.platform, "order", PATH_VALUES)
    headers = {**shop.admin, "Idempotency-Key": "bad-input-" + str(abs(hash(body)))}
    assert_bad_body_refused(shop.platform, "order", routes, body, headers)


def test_bad_path_and_query_values_on_every_route_are_4xx(shop: Shop) -> None:
    bad_query = {
        "limit": ["0", "100000", "many"],
        "cursor": ["%%%", "x" * 600, "eyJub3QiOiJhIGxpc3QifQ"[:-1]],
        "status": ["SHIPPING", ""],
        "distributor_id": ["DST_UPPER", "dst_" + "x" * 70],
        "placed_from": ["yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00"],
        "placed_to": ["2026-02-30T00:00:00Z", "soon"],
        "region": ["x" * 61],
        "active": ["perhaps"],
        "after": ["-1", "x"],
        "type": ["x" * 65],
    }
    for method, path, operation in operations(shop.platform, "order"):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for concrete in fill_path(path, PATH_VALUES):
            response = shop.http.request(method, shop.url(concrete), headers=shop.admin, json={})
            if concrete != path:
                assert_client_error(response)  # nothing exists under a made-up id
            for name in names:
                for value in bad_query.get(name, []):
                    response = shop.http.request(
                        method, shop.url(concrete), params={name: value}, headers=shop.admin
                    )
                    assert 400 <= response.status_code < 500, (concrete, name, value)
                    assert_client_error(response)


def test_every_route_needs_a_token(shop: Shop) -> None:
    for method, path, _ in operations(shop.platform, "order"):
        for concrete in fill_path(path, PATH_VALUES)[:1]:
            response = shop.http.request(method, shop.url(concrete))
            assert assert_client_error(response)["status"] == 401


def test_numbers_and_dates_beyond_the_bounds_are_4xx(shop: Shop) -> None:
    """`after` past 64 bits and `placed_from`/`placed_to` whose time zone carries
    them past the calendar's ends were 500s."""
    routes = openapi_routes(shop.platform, "order", PATH_VALUES)
    assert assert_edges_refused(shop.platform, "order", routes, shop.admin) >= 11
    last = shop.http.get(
        shop.url("/v1/orders"), params={"placed_to": MAX_INSTANT.isoformat()}, headers=shop.admin
    )
    assert last.status_code == 200, last.text


def test_an_order_total_beyond_the_maximum_is_422_and_stores_nothing(shop: Shop) -> None:
    """10^13 paise x 922,338 units overflowed 64 bits: a 500 after the key was
    stored. Prices are held to MAX_UNIT_PAISE and totals to MAX_TOTAL_PAISE."""
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    refused = shop.http.post(
        shop.platform.url("inventory", "/v1/products"),
        json={
            "sku": "T-OVERFLOW",
            "name": "Dear",
            "category": "mattress",
            "unit_price_paise": 10**13,
            "gst_rate_bps": 1800,
        },
        headers=shop.admin,
    )
    assert_client_error(refused)
    sku = shop.product(stock=0, price=MAX_UNIT_PAISE)
    key = "total-too-large-" + sku
    for _ in range(2):  # nothing is stored: the retry is judged afresh, at once
        response = shop.place(me, [(sku, MAX_QUANTITY)], key=key)
        problem = assert_client_error(response)
        assert response.status_code == 422
        assert problem["type"].endswith("total-too-large"), problem
    listed = shop.http.get(
        shop.url("/v1/orders"), params={"distributor_id": distributor_id}, headers=shop.admin
    )
    assert listed.json()["items"] == []


def test_numbers_and_booleans_are_json_types_and_text_is_plain(shop: Shop) -> None:
    """A quantity of "5" or true placed an order (true as 1 unit); text took NUL
    and other control characters. One rule, in the kit's RequestModel."""
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=10)
    for quantity in ("5", True, 5.0, "1e0"):
        body = {"lines": [{"sku": sku, "quantity": quantity}]}
        response = shop.http.post(
            shop.url("/v1/orders"), json=body, headers={**me, "Idempotency-Key": str(uuid4())}
        )
        assert response.status_code == 422, (quantity, response.text)
    for text in ("nul\u0000byte", "bell\u0007", "escape\u001b[31m", "c1\u0085middle"):
        refused = shop.place(me, [(sku, 1)], reference=text)
        assert refused.status_code == 422, (text, refused.text)
    named = shop.http.patch(
        shop.url(f"/v1/distributors/{distributor_id}"),
        json={"name": "Tab\there"},
        headers=shop.platform.as_role("sales"),
    )
    assert named.status_code == 422, named.text
    for active in ("true", 1, "yes"):
        flag = shop.http.patch(
            shop.url(f"/v1/distributors/{distributor_id}"),
            json={"active": active},
            headers=shop.platform.as_role("sales"),
        )
        assert flag.status_code == 422, (active, flag.text)
    assert shop.level(sku) == {"on_hand": 10, "reserved": 0}
    placed = shop.place(me, [(sku, 1)], reference="plain text, ünïcödé ✓")
    assert placed.status_code == 201, placed.text


def test_one_sku_spelling_rule_in_every_service(shop: Shop) -> None:
    """Inventory accepted `pil-mf-std` and normalised it; order refused it."""
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=5)
    placed = shop.place(me, [(f"  {sku.lower()} ", 2)])
    assert placed.status_code == 201, placed.text
    assert [line["sku"] for line in placed.json()["lines"]] == [sku]
    availability = shop.http.get(
        shop.platform.url("inventory", "/v1/availability"),
        params={"sku": sku.lower()},
        headers=shop.admin,
    )
    assert availability.status_code == 200, availability.text
    assert availability.json()["items"] == [{"sku": sku, "available": 3}]
    for bad in ("a", "pil_mf", "pil.mf.std", "-pil"):
        refused = shop.place(me, [(bad, 1)])
        assert refused.status_code == 422, (bad, refused.text)
