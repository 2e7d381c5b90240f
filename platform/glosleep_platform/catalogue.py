"""The five services and the flows between them, as docs/architecture.md states them.

The one table of the services: name, dev port, database, Gateway route, who calls
whom, and each caller's service account with its scopes. The Pulumi program derives
everything from it (environment, NetworkPolicies, service accounts, routes); the local
platform (apps/devstack) and the dashboard generator read it; compose.yaml, the
compose Prometheus, the dashboards and docs/architecture.md are checked against it
(tests/platform/test_service_table.py). Standard library only, so anything can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTAINER_PORT = 8080
PORT_NAME = "http"
JWT_ISSUER = "glosleep-auth"
JWT_AUDIENCE = "glosleep"
AUTH_SIGNING_KEY_DIR = "/var/run/glosleep/signing-keys"


@dataclass(frozen=True)
class ServiceClient:
    """A client-credentials account a service uses to call others."""

    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    route_prefix: str
    dev_port: int
    calls: tuple[str, ...] = ()
    client: ServiceClient | None = None
    needs_export_bucket: bool = False

    @property
    def database(self) -> str:
        return f"glosleep_{self.name}"

    @property
    def package(self) -> str:
        return f"apps.{self.name}"


AUTH = "auth"
INVENTORY = "inventory"
ORDER = "order"
PROCUREMENT = "procurement"
ANALYTICS = "analytics"

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(name=AUTH, route_prefix="/auth", dev_port=8001),
    ServiceSpec(name=INVENTORY, route_prefix="/inventory", dev_port=8002, calls=(AUTH,)),
    ServiceSpec(
        name=ORDER,
        route_prefix="/orders",
        dev_port=8003,
        calls=(AUTH, INVENTORY),
        client=ServiceClient("svc-order", ("catalog:read", "inventory:reserve")),
    ),
    ServiceSpec(
        name=PROCUREMENT,
        route_prefix="/procurement",
        dev_port=8004,
        calls=(AUTH, INVENTORY),
        client=ServiceClient(
            "svc-procurement", ("catalog:read", "inventory:receive", "events:read")
        ),
    ),
    ServiceSpec(
        name=ANALYTICS,
        route_prefix="/analytics",
        dev_port=8005,
        calls=(AUTH, INVENTORY, ORDER, PROCUREMENT),
        client=ServiceClient("svc-analytics", ("catalog:read", "events:read")),
        needs_export_bucket=True,
    ),
)

SERVICE_NAMES: tuple[str, ...] = tuple(spec.name for spec in SERVICES)

# Base-URL variables a caller reads for each service it calls (AUTH_URL is set
# together with the caller's own credentials).
URL_VARIABLES: dict[str, str] = {
    AUTH: "AUTH_URL",
    INVENTORY: "INVENTORY_URL",
    ORDER: "ORDER_URL",
    PROCUREMENT: "PROCUREMENT_URL",
}


def internal_url(service: str, namespace: str) -> str:
    """The service's base URL inside the cluster."""
    return f"http://{service}.{namespace}.svc.cluster.local:{CONTAINER_PORT}"


def spec(name: str) -> ServiceSpec:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def callers_of(name: str) -> tuple[str, ...]:
    return tuple(s.name for s in SERVICES if name in s.calls)


def service_clients() -> tuple[ServiceClient, ...]:
    return tuple(s.client for s in SERVICES if s.client is not None)
