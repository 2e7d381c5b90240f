"""Every analytics route answers bad input with a 4xx problem, never a 500."""

from __future__ import annotations

import pytest

from tests.support.bad_input import (
    COMMON_BAD_BODIES,
    assert_bad_body_refused,
    assert_edges_refused,
    bad_query_values,
    openapi_routes,
)
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_client_error

BAD_BODIES: list[bytes] = [
    *COMMON_BAD_BODIES,
    b'{"report": "../../etc/passwd", "filters": {"a": {"b": 1}}}',
    b'{"lines": "many", "supplier_id": 7}',
    b'{"lines": [{"quantity": -1, "line_no": 0}], "warehouse_code": {"$gt": ""}}',
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_on_every_route(full_platform: Platform, body: bytes) -> None:
    admin = bearer(full_platform.admin_token())
    routes = openapi_routes(full_platform, "analytics")
    assert_bad_body_refused(full_platform, "analytics", routes, body, admin)


def test_bad_query_values_on_every_report(full_platform: Platform) -> None:
    admin = bearer(full_platform.admin_token())
    reports = [r for r in openapi_routes(full_platform, "analytics") if r[0] == "GET"]
    assert len(reports) == 8
    for _, path, operation in reports:
        url = full_platform.url("analytics", path)
        bad = bad_query_values(operation)
        assert bad, path
        for name, value in bad:
            assert_client_error(full_platform.http.get(url, params={name: value}, headers=admin))
        assert_client_error(full_platform.http.get(url, params={"bogus": "1"}, headers=admin))
    backwards = {"from": "2026-05-01", "to": "2026-04-01"}
    url = full_platform.url("analytics", "/v1/reports/sales")
    assert_client_error(full_platform.http.get(url, params=backwards, headers=admin))


def test_dates_beyond_the_calendar_are_4xx(full_platform: Platform) -> None:
    """`to=9999-12-31` and `as_of=9999-12-31` were 500s (a day past the calendar)."""
    admin = bearer(full_platform.admin_token())
    routes = openapi_routes(full_platform, "analytics")
    assert assert_edges_refused(full_platform, "analytics", routes, admin) >= 20
    for path, name in (("/v1/reports/sales", "to"), ("/v1/reports/stock", "as_of")):
        url = full_platform.url("analytics", path)
        response = full_platform.http.get(url, params={name: "9999-12-31"}, headers=admin)
        assert_client_error(response)
        last_day = full_platform.http.get(url, params={name: "9999-12-30"}, headers=admin)
        assert last_day.status_code == 200, last_day.text
