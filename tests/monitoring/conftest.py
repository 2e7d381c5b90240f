"""A real Prometheus (Debian's binary) scraping the running services every second
with the repo's rule files, after traffic through the journeys the SLOs watch."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.devstack.prometheus import LocalPrometheus
from apps.devstack.stack import available_services
from tests.support.platform import Platform
from tests.support.waiting import wait_for

SCRAPE_SECONDS = 1.0
# Prometheus answers change once a scrape: poll it at half that.
POLL_SECONDS = SCRAPE_SECONDS / 2


class Monitored:
    """The platform's running services and a Prometheus scraping them."""

    def __init__(self, platform: Platform, prometheus: LocalPrometheus, services: list[str]):
        self.platform = platform
        self.prometheus = prometheus
        self.services = services
        self.http = httpx.Client(base_url=prometheus.url, timeout=10.0)

    def query(self, expr: str) -> httpx.Response:
        return self.http.get("/api/v1/query", params={"query": expr})

    def series(self, expr: str) -> list[dict[str, Any]]:
        response = self.query(expr)
        assert response.status_code == 200, f"{expr}: {response.text}"
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result


def drive_traffic(platform: Platform, services: list[str]) -> None:
    """Logins (good, bad), client-credentials tokens, and orders when order exists."""
    http = platform.http
    user = platform.create_user("sales")
    for _ in range(3):
        platform.login(user["email"], user["password"])
    for _ in range(2):
        response = http.post(
            platform.url("auth", "/v1/auth/login"),
            json={"email": user["email"], "password": "not-the-password-" + secrets.token_hex(4)},
        )
        assert response.status_code == 401, response.text
    platform.service_token(["catalog:read"])
    if {"inventory", "order"} <= set(services):
        from tests.support.shop import Shop

        shop = Shop(platform)
        sku = shop.product(stock=3)
        distributor = shop.distributor()
        headers = shop.as_distributor(distributor)
        confirmed = shop.place(headers, [(sku, 2)])
        assert confirmed.status_code == 201, confirmed.text
        rejected = shop.place(headers, [(sku, 50)])
        assert rejected.status_code == 201, rejected.text


@pytest.fixture(scope="session")
def monitored(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    services = available_services()
    platform.start(*services)
    data: Path = tmp_path_factory.mktemp("prometheus")
    prometheus = LocalPrometheus(
        data,
        {name: platform.stack.ports[name] for name in services},
        interval_seconds=SCRAPE_SECONDS,
        log=data / "prometheus.log",
    )
    prometheus.start()
    running = Monitored(platform, prometheus, services)
    try:
        # Rates need two samples of a series: every service scraped before the
        # traffic, and the traffic driven twice with a scrape between, so series
        # that the first round creates also show an increase.
        for _ in range(2):
            since = time.time()

            def scraped_since(since: float = since) -> bool:
                samples = running.series("timestamp(up == 1)")
                fresh = [s for s in samples if float(s["value"][1]) > since]
                return len(fresh) == len(services)

            wait_for(scraped_since, timeout=60, every=POLL_SECONDS)
            drive_traffic(platform, services)
        yield running
    finally:
        running.http.close()
        prometheus.stop()
