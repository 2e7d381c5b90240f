"""The address login throttling and the audit record is the connection's, unless a
trusted proxy (the Gateway) names the client: a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

import secrets

import httpx

from tests.support.platform import ADMIN_EMAIL, Platform, bearer
from tests.support.problems import assert_problem

PAIR_LIMIT = 3


def test_a_forged_forwarded_for_does_not_change_the_audited_address(
    auth_platform: Platform,
) -> None:
    user = auth_platform.create_user("sales")
    response = auth_platform.http.post(
        auth_platform.url("auth", "/v1/auth/login"),
        json={"email": user["email"], "password": "not-the-password"},
        headers={"X-Forwarded-For": "6.6.6.6"},
    )
    assert response.status_code == 401
    audit = auth_platform.http.get(
        auth_platform.url("auth", "/v1/audit"),
        params={"subject": user["email"], "limit": 50},
        headers=bearer(auth_platform.admin_token()),
    ).json()
    failures = [entry for entry in audit["items"] if entry["action"] == "login.failure"]
    assert [entry["address"] for entry in failures] == ["127.0.0.1"]


def test_a_forged_forwarded_for_does_not_escape_the_throttle(auth_platform: Platform) -> None:
    # Its own auth process and database (default FORWARDED_ALLOW_IPS: nobody), so
    # blocking 127.0.0.1 here touches no other test.
    process = auth_platform.spawn(
        "auth",
        MONGO_DATABASE=auth_platform.stack.database(f"auth_xff_{secrets.token_hex(3)}"),
        LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS=str(PAIR_LIMIT),
        LOGIN_FIRST_BLOCK_SECONDS="600",
    )
    try:
        with httpx.Client(base_url=process.url, timeout=30.0) as http:

            def login(email: str, password: str, forged: str) -> httpx.Response:
                return http.post(
                    "/v1/auth/login",
                    json={"email": email, "password": password},
                    headers={"X-Forwarded-For": forged},
                )

            admin = login(ADMIN_EMAIL, auth_platform.admin_password, "6.6.6.6")
            assert admin.status_code == 200, admin.text
            admin_auth = bearer(admin.json()["access_token"])
            email = f"xff-{secrets.token_hex(4)}@tests.glosleep.test"
            created = http.post(
                "/v1/users",
                json={
                    "email": email,
                    "display_name": "Forger",
                    "roles": ["sales"],
                    "password": "pw-" + secrets.token_urlsafe(12),
                },
                headers=admin_auth,
            )
            assert created.status_code == 201, created.text
            # Each guess claims another address; believed, none would ever be throttled.
            for n in range(PAIR_LIMIT):
                assert_problem(login(email, "wrong-guess-1234", f"203.0.113.{n + 1}"), 401)
            assert_problem(login(email, "wrong-guess-1234", "203.0.113.99"), 429)
            audit = http.get(
                "/v1/audit", params={"subject": email, "limit": 50}, headers=admin_auth
            ).json()
            recorded = {(e["action"], e["address"]) for e in audit["items"]}
            assert recorded == {("login.failure", "127.0.0.1"), ("login.throttled", "127.0.0.1")}
    finally:
        process.stop()
