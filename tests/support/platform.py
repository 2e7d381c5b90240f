"""Test access to the running platform: HTTP clients and users per role."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
from pymongo import MongoClient

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from apps.devstack.stack import LocalStack, StackConfig

ADMIN_EMAIL = "admin@tests.glosleep.test"
# Log in again when a cached token has less than this left.
TOKEN_MARGIN_SECONDS = 60
TEST_CLIENT_ID = "svc-test"
ALL_SCOPES = ["catalog:read", "inventory:reserve", "inventory:receive", "events:read"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Platform:
    """The services under test, with helpers to log in as any role."""

    def __init__(self, stack: LocalStack, admin_password: str, test_client_secret: str):
        self.stack = stack
        self.admin_password = admin_password
        self.test_client_secret = test_client_secret
        self.http = httpx.Client(timeout=30.0)
        self._tokens: dict[str, str] = {}
        self._users: dict[str, dict[str, Any]] = {}

    def url(self, service: str, path: str = "") -> str:
        return self.stack.url(service) + path

    def start(self, *services: str) -> None:
        self.stack.start(["auth", *services])

    def configure(self, service: str, env: Mapping[str, str]) -> None:
        """Extra environment for `service`. A process that runs without it (another
        test folder started it first) is stopped, so the next `start` uses `env`."""
        extra = self.stack.config.extra_env.setdefault(service, {})
        if all(extra.get(name) == value for name, value in env.items()):
            return
        extra.update(env)
        running = self.stack.processes.pop(service, None)
        if running is not None:
            running.stop()

    def spawn(self, service: str, *, module: str | None = None, **env: str) -> ServiceProcess:
        """Another, separate process of `service` (or of `module`) with the
        platform's environment for it plus `env`, on its own port; started and
        ready. The caller stops it."""
        log_dir = self.stack.config.log_dir
        port = free_port()
        while port in self.stack.ports.values():  # kept for a service not started yet
            port = free_port()
        process = ServiceProcess(
            service,
            port,
            {**self.stack.env_for(service), **env},
            log_path=log_dir / f"{service}-{secrets.token_hex(3)}.log" if log_dir else None,
            module=module,
        )
        process.start()
        try:
            process.wait_ready()
        except Exception:
            process.stop()
            raise
        return process

    def login(self, email: str, password: str) -> dict[str, Any]:
        response = self.http.post(
            self.url("auth", "/v1/auth/login"), json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def _cached_token(self, key: str, email: str, password: str) -> str:
        """A cached access token, logged in again when it has under a minute left: a
        slow run (a loaded machine) outlives the 15-minute token lifetime."""
        token = self._tokens.get(key)
        if token is not None:
            claims = jwt.decode(token, options={"verify_signature": False})
            if claims["exp"] - time.time() > TOKEN_MARGIN_SECONDS:
                return token
        token = str(self.login(email, password)["access_token"])
        self._tokens[key] = token
        return token

    def admin_token(self) -> str:
        return self._cached_token("admin", ADMIN_EMAIL, self.admin_password)

    def create_user(
        self, role: str, *, distributor_id: str | None = None, email: str | None = None
    ) -> dict[str, Any]:
        """A new user with a random password (kept in the answer as `password`)."""
        password = "pw-" + secrets.token_urlsafe(12)
        body = {
            "email": email or f"{role}-{secrets.token_hex(4)}@tests.glosleep.test",
            "display_name": f"Test {role}",
            "roles": [role],
            "password": password,
        }
        if distributor_id is not None:
            body["distributor_id"] = distributor_id
        response = self.http.post(
            self.url("auth", "/v1/users"), json=body, headers=bearer(self.admin_token())
        )
        assert response.status_code == 201, response.text
        return {**response.json(), "password": password}

    def token(self, role: str, *, distributor_id: str | None = None) -> str:
        """An access token for a (cached) user of `role`."""
        key = f"{role}:{distributor_id}"
        if role == "admin" and distributor_id is None:
            return self.admin_token()
        if key not in self._users:
            self._users[key] = self.create_user(role, distributor_id=distributor_id)
        user = self._users[key]
        return self._cached_token(key, user["email"], user["password"])

    def service_token(self, scopes: list[str] | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scopes is not None:
            data["scope"] = " ".join(scopes)
        response = self.http.post(
            self.url("auth", "/v1/oauth/token"),
            data=data,
            auth=(TEST_CLIENT_ID, self.test_client_secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def as_role(self, role: str, *, distributor_id: str | None = None) -> dict[str, str]:
        return bearer(self.token(role, distributor_id=distributor_id))

    def close(self) -> None:
        self.http.close()


@contextmanager
def running_platform(mongo_url: str, database_prefix: str, log_dir: Path) -> Iterator[Platform]:
    """A platform of its own databases (named `database_prefix` + service) whose
    services start on demand; stopped and its databases dropped at the end."""
    admin_password = "admin-" + secrets.token_urlsafe(16)
    client_secret = secrets.token_urlsafe(32)
    stack = LocalStack(
        StackConfig(
            mongo_url=mongo_url,
            database_prefix=database_prefix,
            log_dir=log_dir,
            admin_email=ADMIN_EMAIL,
            admin_password=admin_password,
            extra_clients={TEST_CLIENT_ID: (client_secret, ALL_SCOPES)},
        )
    )
    running = Platform(stack, admin_password, client_secret)
    try:
        yield running
    finally:
        running.close()
        stack.stop()
        _drop_databases(mongo_url, database_prefix)


def _drop_databases(mongo_url: str, prefix: str) -> None:
    client: MongoClient[dict[str, object]]
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5_000) as client:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
