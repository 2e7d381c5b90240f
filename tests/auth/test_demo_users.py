"""Demo users outlive dev mode no more (issue 14, item 6): an auth process started
with dev mode off disables the demo users an earlier dev-mode run created in the
same database, so neither their password nor their refresh tokens work."""

from __future__ import annotations

import secrets

import httpx

from apps.kit.demo import demo_email
from apps.kit.security import Role
from tests.support.platform import ADMIN_EMAIL, Platform, bearer
from tests.support.problems import assert_problem

DEMO_PASSWORD = "glosleep-demo"


def _login(url: str, email: str, password: str) -> httpx.Response:
    return httpx.post(url + "/v1/auth/login", json={"email": email, "password": password})


def test_demo_users_are_disabled_whenever_dev_mode_is_off(auth_platform: Platform) -> None:
    database = auth_platform.stack.database(f"auth_demo_{secrets.token_hex(3)}")
    dev = auth_platform.spawn("auth", MONGO_DATABASE=database, DEV_MODE="true")
    try:
        session = _login(dev.url, demo_email(Role.ADMIN), DEMO_PASSWORD)
        assert session.status_code == 200, session.text
        assert _login(dev.url, demo_email(Role.SALES), DEMO_PASSWORD).status_code == 200
    finally:
        dev.stop()

    production = auth_platform.spawn("auth", MONGO_DATABASE=database, DEV_MODE="false")
    try:
        for role in Role:
            assert_problem(_login(production.url, demo_email(role), DEMO_PASSWORD), 401)
        refresh = httpx.post(
            production.url + "/v1/auth/refresh",
            json={"refresh_token": session.json()["refresh_token"]},
        )
        assert_problem(refresh, 401)
        admin = _login(production.url, ADMIN_EMAIL, auth_platform.admin_password)
        assert admin.status_code == 200, admin.text
        listed = httpx.get(
            production.url + "/v1/users",
            params={"email": demo_email(Role.ADMIN)},
            headers=bearer(admin.json()["access_token"]),
        ).json()["items"]
        assert [user["active"] for user in listed] == [False]
    finally:
        production.stop()
