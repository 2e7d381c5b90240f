"""Every procurement route answers bad input with a 4xx problem, never a 500."""

from __future__ import annotations

import pytest

from apps.kit.bounds import MAX_QUANTITY, MAX_UNIT_PAISE
from tests.procurement.support import create_supplier, sku_supply, supplier_body
from tests.support.bad_input import (
    COMMON_BAD_BODIES,
    Route,
    assert_bad_body_refused,
    assert_edges_refused,
    bad_query_values,
    openapi_routes,
)
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_client_error

BAD_BODIES: list[bytes] = [
    *COMMON_BAD_BODIES,
    b'{"lines": "many", "supplier_id": 7}',
    b'{"lines": [{"quantity": -1, "line_no": 0}], "warehouse_code": {"$gt": ""}}',
    b'{"report": "../../etc/passwd", "filters": {"a": {"b": 1}}}',
    b'{"supplier_id": "s", "lines": [{"item_type": "sku", "item": "T-1", "quantity": "5"}]}',
    b'{"supplier_id": "s", "lines": [{"item_type": "sku", "item": "T-1", "quantity": true}]}',
    b'{"supplier_id": "s", "lines": [{"item_type": "sku", "item": "T.1", "quantity": 1}]}',
    b'{"warehouse_code": "W1", "lines": [{"line_no": "1", "quantity": 1}]}',
    b'{"warehouse_code": "W1", "lines": [{"line_no": 1, "quantity": 1}],'
    b' "allow_over_receipt": "yes"}',
    b'{"name": "Bell\\u0007", "notes": "nul\\u0000"}',
]
PATH_VALUES = {
    "po_id": "po__does_not_exist",
    "supplier_id": "sup_does_not_exist",
    "receipt_id": "rec_does_not_exist",
}


def _routes(platform: Platform) -> list[Route]:
    return openapi_routes(platform, "procurement", PATH_VALUES)


def test_openapi_lists_the_routes(procurement_platform: Platform) -> None:
    routes = {(m, p) for m, p, _ in _routes(procurement_platform)}
    assert ("POST", "/v1/purchase-orders/po__does_not_exist/receipts") in routes
    assert len(routes) >= 15


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_on_every_route(procurement_platform: Platform, body: bytes) -> None:
    admin = bearer(procurement_platform.admin_token())
    routes = _routes(procurement_platform)
    assert_bad_body_refused(procurement_platform, "procurement", routes, body, admin)


def test_bad_query_values_and_unknown_ids(procurement_platform: Platform) -> None:
    admin = bearer(procurement_platform.admin_token())
    checked = 0
    for method, path, operation in _routes(procurement_platform):
        if method == "GET":
            for name, value in bad_query_values(operation):
                response = procurement_platform.http.get(
                    procurement_platform.url("procurement", path),
                    params={name: value},
                    headers=admin,
                )
                assert_client_error(response)
                checked += 1
        if "_does_not_exist" in path and "requestBody" not in operation:
            response = procurement_platform.http.request(
                method, procurement_platform.url("procurement", path), headers=admin
            )
            assert_client_error(response)
    assert checked >= 8
    for cursor in ("%%%", "bm90IGpzb24", "W10"):
        response = procurement_platform.http.get(
            procurement_platform.url("procurement", "/v1/suppliers"),
            params={"cursor": cursor},
            headers=admin,
        )
        assert_client_error(response)


def test_long_idempotency_key_is_4xx(procurement_platform: Platform) -> None:
    response = procurement_platform.http.post(
        procurement_platform.url("procurement", "/v1/purchase-orders/po_x/receipts"),
        json={"warehouse_code": "WH-1", "lines": [{"line_no": 1, "quantity": 1}]},
        headers={**procurement_platform.as_role("warehouse"), "Idempotency-Key": "k" * 300},
    )
    assert_client_error(response)


def test_numbers_and_dates_beyond_the_bounds_are_4xx(procurement_platform: Platform) -> None:
    admin = bearer(procurement_platform.admin_token())
    routes = _routes(procurement_platform)
    assert assert_edges_refused(procurement_platform, "procurement", routes, admin) >= 3


def test_a_purchase_order_total_beyond_the_maximum_is_422(procurement_platform: Platform) -> None:
    """A cost of 10^13 paise x 1,000,000 units overflowed 64 bits (a 500): costs
    are held to MAX_UNIT_PAISE and a PO's total to MAX_TOTAL_PAISE."""
    platform = procurement_platform
    too_dear = supplier_body([sku_supply("T-DEAR-1", 10**13)])
    refused = platform.http.post(
        platform.url("procurement", "/v1/suppliers"),
        json=too_dear,
        headers=platform.as_role("procurement"),
    )
    assert_client_error(refused)
    supplier = create_supplier(platform, supplier_body([sku_supply("T-DEAR-2", MAX_UNIT_PAISE)]))
    response = platform.http.post(
        platform.url("procurement", "/v1/purchase-orders"),
        json={
            "supplier_id": supplier["id"],
            "lines": [{"item_type": "sku", "item": "T-DEAR-2", "quantity": MAX_QUANTITY}],
        },
        headers=platform.as_role("procurement"),
    )
    problem = assert_client_error(response)
    assert response.status_code == 422
    assert problem["type"].endswith("total-too-large"), problem
