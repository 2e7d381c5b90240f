"""Every auth route answers bad input with a 4xx problem, never a 500."""

from __future__ import annotations

import pytest

from tests.support.bad_input import (
    COMMON_BAD_BODIES,
    assert_bad_body_refused,
    assert_edges_refused,
    openapi_routes,
)
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_client_error

BAD_BODIES: list[bytes] = [
    *COMMON_BAD_BODIES,
    b'{"email": 12, "password": ["x"]}',
    b'{"email": "a@b.co", "password": "x", "unknown_field": 1}',
    b'{"refresh_token": null}',
    b'{"roles": "admin", "email": {"$gt": ""}}',
]
PATH_VALUES = {"user_id": "usr_does_not_exist"}


def test_openapi_lists_the_routes(auth_platform: Platform) -> None:
    routes = [
        (method, path) for method, path, _ in openapi_routes(auth_platform, "auth", PATH_VALUES)
    ]
    assert ("POST", "/v1/auth/login") in routes
    assert len(routes) >= 10


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_bodies_on_every_route_are_4xx_problems(auth_platform: Platform, body: bytes) -> None:
    routes = openapi_routes(auth_platform, "auth", PATH_VALUES)
    admin = bearer(auth_platform.admin_token())
    assert_bad_body_refused(auth_platform, "auth", routes, body, admin)


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


def test_numbers_beyond_the_bounds_are_4xx(auth_platform: Platform) -> None:
    """`GET /v1/revocations?after=` past 64 bits was a 500 (found by the fuzzer)."""
    routes = openapi_routes(auth_platform, "auth", PATH_VALUES)
    admin = bearer(auth_platform.admin_token())
    assert assert_edges_refused(auth_platform, "auth", routes, admin) >= 3
