"""Demo data that needs more than one service, created through the real APIs
(so it is idempotent the same way clients' retries are). Each service seeds its
own reference data itself in dev mode."""

from __future__ import annotations

from apps.devstack.stack import LocalStack


def seed_demo_data(stack: LocalStack, services: list[str], password: str) -> None:
    """Nothing spans services until the order service exists."""
    del stack, services, password
