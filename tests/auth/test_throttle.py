"""Throttling of secret guessing (issue 14, items 4 and 10), against a real auth
process of its own (own database, small limits) over HTTP. The address the
service sees is set with X-Forwarded-For, which it believes from loopback only
(FORWARDED_ALLOW_IPS), as it would from the Gateway."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apps.devstack.processes import ServiceProcess
from tests.support.platform import ADMIN_EMAIL, TEST_CLIENT_ID, Platform, bearer
from tests.support.problems import assert_problem
from tests.support.waiting import wait_for

PAIR_LIMIT = 5
ADDRESS_LIMIT = 15
FIRST_BLOCK = 5


class Auth:
    """A separate auth process and a few helpers to act on it from any address."""

    def __init__(self, platform: Platform, process: ServiceProcess) -> None:
        self.platform = platform
        self.process = process
        self.http = httpx.Client(base_url=process.url, timeout=30.0)
        admin = self.login(ADMIN_EMAIL, platform.admin_password, self.address())
        assert admin.status_code == 200, admin.text
        self.admin = bearer(admin.json()["access_token"])

    @staticmethod
    def address() -> str:
        """A fresh client address (TEST-NET-3 / 2001:db8::/32 documentation ranges)."""
        return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"

    def login(self, email: str, password: str, address: str) -> httpx.Response:
        return self.http.post(
            "/v1/auth/login",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": address},
        )

    def user(self) -> dict[str, Any]:
        password = "pw-" + secrets.token_urlsafe(12)
        email = f"throttle-{secrets.token_hex(4)}@tests.glosleep.test"
        created = self.http.post(
            "/v1/users",
            json={
                "email": email,
                "display_name": "Throttle",
                "roles": ["sales"],
                "password": password,
            },
            headers=self.admin,
        )
        assert created.status_code == 201, created.text
        return {**created.json(), "password": password}

    def client_token(self, secret: str, address: str) -> httpx.Response:
        return self.http.post(
            "/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(TEST_CLIENT_ID, secret),
            headers={"X-Forwarded-For": address},
        )


@pytest.fixture(scope="module")
def auth(auth_platform: Platform) -> Iterator[Auth]:
    process = auth_platform.spawn(
        "auth",
        MONGO_DATABASE=auth_platform.stack.database(f"auth_throttle_{secrets.token_hex(3)}"),
        FORWARDED_ALLOW_IPS="127.0.0.1",
        LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS=str(PAIR_LIMIT),
        LOGIN_MAX_FAILURES_PER_ADDRESS=str(ADDRESS_LIMIT),
        LOGIN_FIRST_BLOCK_SECONDS=str(FIRST_BLOCK),
        LOGIN_WINDOW_SECONDS="600",
    )
    try:
        yield Auth(auth_platform, process)
    finally:
        process.stop()


def test_failures_from_other_addresses_do_not_lock_the_owner_out(auth: Auth) -> None:
    owner = auth.user()
    attackers = [auth.address() for _ in range(5)]
    for address in attackers:
        for _ in range(PAIR_LIMIT):
            assert_problem(auth.login(owner["email"], "wrong-guess-1234", address), 401)
        # That address now waits, even with the right password ...
        held = auth.login(owner["email"], owner["password"], address)
        assert_problem(held, 429)
        assert 0 < int(held.headers["retry-after"]) <= FIRST_BLOCK
    # ... but the owner, from their own address, logs in.
    assert auth.login(owner["email"], owner["password"], auth.address()).status_code == 200


def test_concurrent_wrong_logins_check_at_most_the_limit(auth: Auth) -> None:
    victim = auth.user()
    address = auth.address()
    start = threading.Barrier(20)
    statuses: list[int] = []

    def guess() -> None:
        with httpx.Client(base_url=auth.process.url, timeout=30.0) as http:
            start.wait()
            response = http.post(
                "/v1/auth/login",
                json={"email": victim["email"], "password": "wrong-guess-1234"},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * PAIR_LIMIT + [429] * (20 - PAIR_LIMIT)


def test_each_lockout_doubles_the_wait(auth: Auth) -> None:
    user = auth.user()
    address = auth.address()
    for _ in range(PAIR_LIMIT):
        assert_problem(auth.login(user["email"], "wrong-guess-1234", address), 401)
    first = auth.login(user["email"], "wrong-guess-1234", address)
    assert_problem(first, 429)
    # Once the block ends, guesses are checked again (refused ones did not count) ...
    wait_for(
        lambda: auth.login(user["email"], "wrong-guess-1234", address).status_code == 401,
        timeout=FIRST_BLOCK * 4,
        every=0.25,
    )
    for _ in range(PAIR_LIMIT - 1):
        assert_problem(auth.login(user["email"], "wrong-guess-1234", address), 401)
    # ... and the pair's second lockout waits twice as long.
    second = auth.login(user["email"], "wrong-guess-1234", address)
    assert_problem(second, 429)
    assert int(first.headers["retry-after"]) <= FIRST_BLOCK
    assert FIRST_BLOCK < int(second.headers["retry-after"]) <= 2 * FIRST_BLOCK
    # The right password after the wait clears the pair.
    wait_for(
        lambda: auth.login(user["email"], user["password"], address).status_code == 200,
        timeout=FIRST_BLOCK * 8,
        every=0.25,
    )
    assert_problem(auth.login(user["email"], "wrong-guess-1234", address), 401)


def test_one_address_spraying_many_accounts_is_slowed(auth: Auth) -> None:
    sprayer = auth.address()
    users = [auth.user() for _ in range(ADDRESS_LIMIT)]
    for user in users:
        assert_problem(auth.login(user["email"], "Spring2026!spray", sprayer), 401)
    fresh = auth.user()
    assert_problem(auth.login(fresh["email"], fresh["password"], sprayer), 429)
    # Everyone else is unaffected.
    assert auth.login(fresh["email"], fresh["password"], auth.address()).status_code == 200


def test_current_password_checks_are_throttled_like_logins(auth: Auth) -> None:
    user = auth.user()
    address = auth.address()
    pair = auth.login(user["email"], user["password"], address).json()
    headers = {**bearer(pair["access_token"]), "X-Forwarded-For": address}
    change = {"current_password": "wrong-guess-1234", "new_password": "a-brand-new-pass-9"}
    for _ in range(PAIR_LIMIT):
        wrong = auth.http.post("/v1/me/password", json=change, headers=headers)
        assert_problem(wrong, 403)
    right = {**change, "current_password": user["password"]}
    held = auth.http.post("/v1/me/password", json=right, headers=headers)
    assert_problem(held, 429)
    assert int(held.headers["retry-after"]) > 0
    # The same pair is held at login too.
    assert_problem(auth.login(user["email"], user["password"], address), 429)


def test_client_credentials_are_throttled_like_logins(auth: Auth) -> None:
    address = auth.address()
    for _ in range(PAIR_LIMIT):
        assert_problem(auth.client_token("not-the-secret-" + "x" * 20, address), 401)
    held = auth.client_token(auth.platform.test_client_secret, address)
    assert_problem(held, 429)
    assert int(held.headers["retry-after"]) > 0
    # The client itself, from its own address, still gets tokens.
    assert auth.client_token(auth.platform.test_client_secret, auth.address()).status_code == 200
