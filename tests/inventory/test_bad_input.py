"""Every inventory route answers bad input with a 4xx problem, never a 500,
driven from the service's own OpenAPI document."""

from __future__ import annotations

import pytest

from apps.kit.bounds import MAX_UNIT_PAISE
from tests.inventory.conftest import Inventory
from tests.support.bad_input import (
    COMMON_BAD_BODIES,
    Route,
    assert_bad_body_refused,
    assert_edges_refused,
    openapi_routes,
)
from tests.support.problems import assert_client_error

BAD_BODIES: list[bytes] = [
    *COMMON_BAD_BODIES,
    b"{}",
    b'{"lines": [{"sku": "MTR-MF6-Q", "quantity": 0}]}',
    b'{"lines": [{"sku": "MTR-MF6-Q", "quantity": 1.5}], "ttl_seconds": -1}',
    b'{"lines": [{"sku": {"$gt": ""}, "quantity": 1}]}',
    b'{"lines": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}]}',
    b'{"warehouse_code": "BLR-01", "reference": "", "lines": []}',
    b'{"sku": "X1", "delta": 99999999999, "reason": "damage"}',
    b'{"unit_price_paise": -5, "gst_rate_bps": 99999, "name": null}',
    b'{"code": "bad code!", "name": "", "address": "\\u0000"}',
    b'{"name": "x", "unknown_field": 1}',
    b'{"sku": "T-STR", "name": "n", "category": "mattress", "unit_price_paise": "100",'
    b' "gst_rate_bps": 0}',
    b'{"sku": "T-BOOL", "name": "n", "category": "mattress", "unit_price_paise": 100,'
    b' "gst_rate_bps": 0, "active": "true"}',
    b'{"sku": "T-NUL", "name": "n\\u0000", "category": "mattress", "unit_price_paise": 1,'
    b' "gst_rate_bps": 0}',
    b'{"lines": [{"sku": "MTR-MF6-Q", "quantity": "5"}]}',
    b'{"lines": [{"sku": "MTR-MF6-Q", "quantity": true}]}',
    b'{"warehouse_code": "BLR-01", "sku": "X1", "delta": "-1", "reason": "damage"}',
]
PATH_VALUES = {
    "sku": "T-NO-SUCH",
    "code": "NOPE-01",
    "reservation_id": "bad-input-1",
    "receipt_id": "bad-input-1",
    "adjustment_id": "bad-input-1",
    "transfer_id": "bad-input-1",
}


def _routes(inventory: Inventory) -> list[Route]:
    return openapi_routes(inventory.platform, "inventory", PATH_VALUES)


def test_openapi_lists_the_contract_routes(inventory: Inventory) -> None:
    routes = [(method, path) for method, path, _ in _routes(inventory)]
    for expected in [
        ("GET", "/v1/products"),
        ("GET", "/v1/availability"),
        ("PUT", "/v1/reservations/bad-input-1"),
        ("POST", "/v1/reservations/bad-input-1/commit"),
        ("POST", "/v1/reservations/bad-input-1/release"),
        ("GET", "/v1/reservations/bad-input-1"),
        ("PUT", "/v1/receipts/bad-input-1"),
        ("GET", "/v1/events"),
        ("GET", "/v1/movements"),
    ]:
        assert expected in routes


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_on_every_route_are_4xx_problems(inventory: Inventory, body: bytes) -> None:
    # The admin passes role checks and the service account scope checks, so the
    # body itself is judged on every route that takes one.
    routes = _routes(inventory)
    for headers in (inventory.admin, inventory.service, inventory.warehouse):
        assert_bad_body_refused(inventory.platform, "inventory", routes, body, headers)


def test_bad_path_and_query_parameters_are_4xx(inventory: Inventory) -> None:
    admin = inventory.admin
    cases: list[tuple[str, dict[str, str | list[str]]]] = [
        ("/v1/products", {"limit": "0"}),
        ("/v1/products", {"limit": "many"}),
        ("/v1/products", {"category": "sofa"}),
        ("/v1/products", {"cursor": "%%%"}),
        ("/v1/products", {"sku": "!!"}),
        ("/v1/products", {"sku": [f"T-{n:04d}" for n in range(101)]}),
        ("/v1/products", {"q": "x" * 101}),
        ("/v1/availability", {}),
        ("/v1/availability", {"sku": "a b"}),
        ("/v1/stock", {"warehouse_code": "?"}),
        ("/v1/stock", {"cursor": "bm90IGpzb24"}),
        ("/v1/movements", {"kind": "theft"}),
        ("/v1/movements", {"limit": "201"}),
        ("/v1/events", {"after": "-1"}),
        ("/v1/warehouses", {"active": "maybe"}),
        ("/v1/reservations/" + "x" * 200, {}),
        ("/v1/reservations/bad id", {}),
        ("/v1/products/" + "A" * 100, {}),
    ]
    for path, params in cases:
        for headers in (admin, inventory.service):
            assert_client_error(inventory.get(path, headers, **params))
    for path in ("/v1/reservations/" + "x" * 200, "/v1/receipts/a%20b", "/v1/adjustments/%00"):
        assert_client_error(
            inventory.http.put(inventory.url(path), json={}, headers=inventory.service)
        )


def test_oversize_and_wrong_media_type_are_4xx(inventory: Inventory) -> None:
    url = inventory.url("/v1/reservations/ord_big")
    huge = b'{"lines": [' + b'{"sku": "MTR-MF6-Q", "quantity": 1},' * 40_000 + b"]}"
    assert_client_error(
        inventory.http.put(
            url, content=huge, headers={**inventory.service, "content-type": "application/json"}
        )
    )
    assert_client_error(
        inventory.http.put(
            url, content=b"lines=1", headers={**inventory.service, "content-type": "text/plain"}
        )
    )


def test_numbers_and_dates_beyond_the_bounds_are_4xx(inventory: Inventory) -> None:
    """An event cursor past 64 bits (it was a 500), and a price above the
    documented maximum (its totals would not fit 64 bits)."""
    routes = _routes(inventory)
    assert assert_edges_refused(inventory.platform, "inventory", routes, inventory.admin) >= 3
    too_dear = {"unit_price_paise": MAX_UNIT_PAISE + 1}
    response = inventory.http.post(
        inventory.url("/v1/products"),
        json={
            "sku": "T-DEAR",
            "name": "Dear",
            "category": "mattress",
            "gst_rate_bps": 0,
            **too_dear,
        },
        headers=inventory.admin,
    )
    assert_client_error(response)
