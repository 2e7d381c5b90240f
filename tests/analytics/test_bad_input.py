"""Every analytics route answers bad input with a 4xx problem, never a 500."""

from __future__ import annotations

import pytest

from tests.procurement.support import BAD_BODIES, bad_query_values, openapi_routes
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_client_error


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_on_every_route(full_platform: Platform, body: bytes) -> None:
    admin = bearer(full_platform.admin_token())
    with_body = [r for r in openapi_routes(full_platform, "analytics") if "requestBody" in r[2]]
    assert with_body
    for method, path, _ in with_body:
        response = full_platform.http.request(
            method,
            full_platform.url("analytics", path),
            content=body,
            headers={**admin, "content-type": "application/json"},
        )
        assert_client_error(response)


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
