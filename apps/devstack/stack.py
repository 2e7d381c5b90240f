"""The platform on one machine: every service as its own process, wired to each
other over loopback HTTP and to one MongoDB server, each with its own database."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from glosleep_platform import catalogue

# From the one table of the services (glosleep_platform.catalogue), in start order:
# a service starts after the ones it calls.
SERVICES = catalogue.SERVICE_NAMES
DEV_PORTS = {spec.name: spec.dev_port for spec in catalogue.SERVICES}
# The service account each caller uses, and its scopes.
SERVICE_ACCOUNTS = {
    spec.name: (spec.client.client_id, list(spec.client.scopes))
    for spec in catalogue.SERVICES
    if spec.client is not None
}
_URL_VARIABLES = catalogue.URL_VARIABLES


def available_services() -> list[str]:
    """The services whose code exists in this checkout."""
    apps_dir = Path(__file__).resolve().parents[1]
    return [name for name in SERVICES if (apps_dir / name / "main.py").is_file()]


def new_key_encryption_key() -> str:
    """32 random bytes, base64url: what AUTH_KEY_ENCRYPTION_KEY takes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass
class StackConfig:
    mongo_url: str
    database_prefix: str = "glosleep_"
    dev_mode: bool = False
    ports: dict[str, int] = field(default_factory=dict)
    log_dir: Path | None = None
    admin_email: str | None = None
    admin_password: str | None = None
    # Extra service accounts (for tests): client id -> (secret, scopes).
    extra_clients: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # AUTH_KEY_ENCRYPTION_KEY: encrypts the signing keys auth keeps in the database
    # (`make dev` keeps one in .data/dev; tests make a fresh one).
    key_encryption_key: str = field(default_factory=new_key_encryption_key)


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.ports = {name: config.ports.get(name) or free_port() for name in SERVICES}
        self.client_secrets = {
            client_id: secrets.token_urlsafe(32) for client_id, _ in SERVICE_ACCOUNTS.values()
        }
        self.processes: dict[str, ServiceProcess] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def database(self, name: str) -> str:
        return f"{self.config.database_prefix}{name}"

    def _clients_json(self) -> str:
        clients = [
            {
                "client_id": client_id,
                "client_secret": self.client_secrets[client_id],
                "scopes": scopes,
            }
            for client_id, scopes in SERVICE_ACCOUNTS.values()
        ]
        clients += [
            {"client_id": client_id, "client_secret": secret, "scopes": scopes}
            for client_id, (secret, scopes) in self.config.extra_clients.items()
        ]
        return json.dumps(clients)

    def env_for(self, name: str) -> dict[str, str]:
        env = {
            "MONGO_URL": self.config.mongo_url,
            "MONGO_DATABASE": self.database(name),
            "DEV_MODE": "true" if self.config.dev_mode else "false",
            "JWKS_URL": self.url("auth") + "/.well-known/jwks.json",
            "AUTH_URL": self.url("auth"),
            "SHUTDOWN_DRAIN_SECONDS": "0",
            "LOG_LEVEL": "INFO",
        }
        for service, variable in _URL_VARIABLES.items():
            env[variable] = self.url(service)
        if name in SERVICE_ACCOUNTS:
            client_id, _ = SERVICE_ACCOUNTS[name]
            env["SERVICE_CLIENT_ID"] = client_id
            env["SERVICE_CLIENT_SECRET"] = self.client_secrets[client_id]
        if name == "auth":
            env["AUTH_SERVICE_CLIENTS"] = self._clients_json()
            env["AUTH_KEY_ENCRYPTION_KEY"] = self.config.key_encryption_key
            if self.config.admin_email and self.config.admin_password:
                env["AUTH_BOOTSTRAP_ADMIN_EMAIL"] = self.config.admin_email
                env["AUTH_BOOTSTRAP_ADMIN_PASSWORD"] = self.config.admin_password
        env.update(self.config.extra_env.get(name, {}))
        return env

    def process(self, name: str) -> ServiceProcess:
        if name not in self.processes:
            log = self.config.log_dir / f"{name}.log" if self.config.log_dir else None
            self.processes[name] = ServiceProcess(name, self.ports[name], self.env_for(name), log)
        return self.processes[name]

    def start(self, names: Iterable[str], timeout_seconds: float = 60.0) -> None:
        """Start the services (in dependency order) and wait until each is ready."""
        wanted = [name for name in SERVICES if name in set(names)]
        for name in wanted:
            if not self.process(name).running():
                self.process(name).start()
        for name in wanted:
            self.process(name).wait_ready(timeout_seconds)

    def stop(self) -> dict[str, int | None]:
        codes = {}
        for name in reversed(SERVICES):
            if name in self.processes:
                codes[name] = self.processes[name].stop()
        return codes

    def urls(self) -> Mapping[str, str]:
        return {name: self.url(name) for name in self.processes}
