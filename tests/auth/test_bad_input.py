"""Every auth route answers bad input with a 4xx problem, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.platform import Platform
from tests.support.problems import assert_client_error

BAD_BODIES: list[Any] = [
    b"{not json",
    b"[]",
    b'"a string"',
    b"null",
    b'{"email": 12, "password": ["x"]}',
    b'{"email": "a@b.co", "password": "x", "unknown_field": 1}',
    b'{"refresh_token": null}',
    b'{"roles": "admin", "email": {"$gt": ""}}',
    b"\xff\xfe\x00garbage",
]


def _routes(platform: Platform, *, with_body: bool = False) -> list[tuple[str, str]]:
    spec = platform.http.get(platform.url("auth", "/openapi.json")).json()
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if with_body and "requestBody" not in operation:
                continue
            routes.append((method.upper(), path.replace("{user_id}", "usr_does_not_exist")))
    return routes


def test_openapi_lists_the_routes(auth_platform: Platform) -> None:
    routes = _routes(auth_platform)
    assert ("POST", "/v1/auth/login") in routes
    assert len(routes) >= 10


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_on_every_route_are_4xx_problems(auth_platform: Platform, body: bytes) -> None:
    admin = {"Authorization": f"Bearer {auth_platform.admin_token()}"}
    for method, path in _routes(auth_platform, with_body=True):
        response = auth_platform.http.request(
            method,
            auth_platform.url("auth", path),
            content=body,
            headers={**admin, "content-type": "application/json"},
        )
        assert_client_error(response)


def test_bad_query_parameters_are_4xx(auth_platform: Platform) -> None:
    admin = {"Authorization": f"Bearer {auth_platform.admin_token()}"}
    for params in ({"limit": "0"}, {"limit": "many"}, {"role": "king"}, {"cursor": "%%%"}):
        response = auth_platform.http.get(
            auth_platform.url("auth", "/v1/users"), params=params, headers=admin
        )
        assert_client_error(response)


def test_oversize_and_wrong_media_type_are_4xx(auth_platform: Platform) -> None:
    login = auth_platform.url("auth", "/v1/auth/login")
    huge = b'{"email": "' + b"a" * 2_000_000 + b'"}'
    assert_client_error(
        auth_platform.http.post(login, content=huge, headers={"content-type": "application/json"})
    )
    assert_client_error(
        auth_platform.http.post(login, content=b"email=a", headers={"content-type": "text/plain"})
    )
