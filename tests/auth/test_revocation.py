"""Revocation reaches every service (issue 14, item 8): deactivating a user, or
ending one session, voids the access tokens already issued at inventory and order
(separate processes verifying tokens on their own) within 30 s, through auth's
revocation list; other sessions and later logins keep working."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import jwt
import pytest

from tests.support.platform import Platform, bearer
from tests.support.waiting import wait_for

REVOCATION_DEADLINE_SECONDS = 30


@pytest.fixture(scope="module")
def services(auth_platform: Platform) -> Platform:
    auth_platform.start("inventory", "order")
    return auth_platform


def _statuses(platform: Platform, token: str) -> tuple[int, int]:
    headers = bearer(token)
    inventory = platform.http.get(platform.url("inventory", "/v1/products"), headers=headers)
    order = platform.http.get(platform.url("order", "/v1/orders"), headers=headers)
    return inventory.status_code, order.status_code


def _becomes(platform: Platform, token: str, wanted: tuple[int, int]) -> Callable[[], bool]:
    return lambda: _statuses(platform, token) == wanted


def test_a_deactivated_users_token_is_refused_everywhere_within_30_s(services: Platform) -> None:
    user = services.create_user("sales")
    token = services.login(user["email"], user["password"])["access_token"]
    assert _statuses(services, token) == (200, 200)
    deactivated = services.http.post(
        services.url("auth", f"/v1/users/{user['id']}/deactivate"),
        headers=bearer(services.admin_token()),
    )
    assert deactivated.status_code == 200, deactivated.text
    wait_for(_becomes(services, token, (401, 401)), timeout=REVOCATION_DEADLINE_SECONDS)
    # Active again: a new login works everywhere; the old token stays void.
    reactivated = services.http.patch(
        services.url("auth", f"/v1/users/{user['id']}"),
        json={"active": True},
        headers=bearer(services.admin_token()),
    )
    assert reactivated.status_code == 200, reactivated.text
    fresh = wait_for(lambda: services.login(user["email"], user["password"])["access_token"])
    assert _statuses(services, fresh) == (200, 200)
    assert _statuses(services, token) == (401, 401)


def test_a_login_after_a_reactivation_in_the_same_second_as_the_deactivation_works(
    services: Platform,
) -> None:
    """A user's revocation voids the tokens issued before its moment, and only those:
    with whole-second token times, a login just after the reactivation counted as
    issued with the tokens it voids (401 at every service for its whole life)."""
    user = services.create_user("sales")
    before = services.login(user["email"], user["password"])["access_token"]
    admin = bearer(services.admin_token())
    time.sleep(1 - time.time() % 1)  # at the start of a second: all of it fits in one
    deactivated = services.http.post(
        services.url("auth", f"/v1/users/{user['id']}/deactivate"), headers=admin
    )
    assert deactivated.status_code == 200, deactivated.text
    reactivated = services.http.patch(
        services.url("auth", f"/v1/users/{user['id']}"), json={"active": True}, headers=admin
    )
    assert reactivated.status_code == 200, reactivated.text
    after = services.login(user["email"], user["password"])["access_token"]
    wait_for(_becomes(services, before, (401, 401)), timeout=REVOCATION_DEADLINE_SECONDS)
    assert _statuses(services, after) == (200, 200)


def test_ending_one_session_voids_only_its_tokens(services: Platform) -> None:
    user = services.create_user("analyst")
    first = services.login(user["email"], user["password"])
    second = services.login(user["email"], user["password"])
    first_sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    second_sid = jwt.decode(second["access_token"], options={"verify_signature": False})["sid"]
    assert first_sid != second_sid
    logout = services.http.post(
        services.url("auth", "/v1/auth/logout"), json={"refresh_token": first["refresh_token"]}
    )
    assert logout.status_code == 204
    wait_for(
        _becomes(services, first["access_token"], (401, 401)),
        timeout=REVOCATION_DEADLINE_SECONDS,
    )
    assert _statuses(services, second["access_token"]) == (200, 200)
    # Auth itself refuses the ended session too.
    me = services.url("auth", "/v1/me")
    wait_for(
        lambda: services.http.get(me, headers=bearer(first["access_token"])).status_code == 401,
        timeout=REVOCATION_DEADLINE_SECONDS,
    )
    assert services.http.get(me, headers=bearer(second["access_token"])).status_code == 200


def _revocation_list_age(platform: Platform, service: str) -> float:
    metrics = platform.http.get(platform.url(service, "/metrics")).text
    (line,) = [
        line
        for line in metrics.splitlines()
        if line.startswith("glosleep_revocation_list_age_seconds ")
    ]
    return float(line.split()[1])


def test_each_service_reports_how_fresh_its_revocation_list_is(services: Platform) -> None:
    for service in ("auth", "inventory", "order"):
        fresh = partial(lambda name: 0 <= _revocation_list_age(services, name) < 10, service)
        # Read every REVOCATION_POLL_SECONDS (2 s): never far behind while auth is up.
        assert wait_for(fresh), service
