"""Requests through the services' HTTP APIs, reads timed one at a time (the cost
of each request at this size, not queueing) and orders placed at a fixed rate:
placing an order, reading one,
listing a distributor's orders page by page, stock levels, every analytics
report; the outbox relays' lag; the analytics rebuild."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from apps.analytics.reports import REPORTS
from apps.kit.events import EventPage
from bench.baseline import order_lines
from bench.run import on_schedule, percentile

Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
# Feeds whose relay lag is measured.
RELAYED = ("order", "inventory")
FEED_POLL_SECONDS = 0.025
PAGE = 50


@dataclass(frozen=True)
class Kind:
    name: str
    send: Send
    expect: int = 200


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def figures(self) -> dict[str, Any]:
        return {
            "n": len(self.latencies_ms),
            "p50_ms": percentile(self.latencies_ms, 50),
            "p99_ms": percentile(self.latencies_ms, 99),
            "errors": self.errors,
            "latencies_ms": [round(ms, 2) for ms in self.latencies_ms],
        }


@dataclass(frozen=True)
class Budget:
    """Per kind: stop at `requests` samples, or once `seconds` are spent and at
    least `minimum` samples taken (a report that takes seconds at 100k orders
    would otherwise hold the run for an hour)."""

    requests: int
    seconds: float
    minimum: int

    def done(self, samples: Samples) -> bool:
        taken = len(samples.latencies_ms) + sum(samples.errors.values())
        return taken >= self.requests or (samples.seconds >= self.seconds and taken >= self.minimum)


async def _timed(
    http: httpx.AsyncClient, kind: Kind, samples: Samples, started: float | None = None
) -> None:
    """One request, timed from `started` (by default, from now)."""
    started = time.perf_counter() if started is None else started
    try:
        response = await kind.send(http)
    except httpx.HTTPError as error:
        samples.error(type(error).__name__)
        samples.seconds += time.perf_counter() - started
        return
    elapsed = time.perf_counter() - started
    samples.seconds += elapsed
    if response.status_code != kind.expect:
        samples.error(f"HTTP {response.status_code}")
        return
    samples.latencies_ms.append(elapsed * 1000)


async def measure(http: httpx.AsyncClient, kinds: list[Kind], budget: Budget) -> dict[str, Samples]:
    """Round after round, one request of every kind still short of its budget,
    so that whatever else loads the machine falls on every kind alike."""
    samples = {kind.name: Samples() for kind in kinds}
    active = list(kinds)
    while active:
        for kind in active:
            await _timed(http, kind, samples[kind.name])
        active = [kind for kind in active if not budget.done(samples[kind.name])]
    return samples


async def at_rate(http: httpx.AsyncClient, kind: Kind, rate: float, count: int) -> Samples:
    """`count` requests arriving `rate` a second whatever the answers' speed, each
    timed from its scheduled time (no coordinated omission): the latency a caller
    meets at that load. Back to back, each request would instead queue behind the
    background work its predecessors left (relays, consumers), and a size whose
    requests cost more would be measured under a heavier load."""
    samples = Samples()
    await on_schedule(count, rate, lambda _, scheduled: _timed(http, kind, samples, scheduled))
    return samples


@dataclass
class Shopper:
    """A distributor placing orders, reading them and paging through them; the
    quantities of its CONFIRMED orders are kept for the stock invariants."""

    order_url: str
    headers: dict[str, str]
    skus: list[str]
    order_ids: list[str]
    quantities: dict[str, int] = field(default_factory=dict)
    placed: list[str] = field(default_factory=list)
    _cursor: str | None = None
    _rng: random.Random = field(default_factory=lambda: random.Random(16))  # noqa: S311 - a repeatable mix

    async def place(self, http: httpx.AsyncClient) -> httpx.Response:
        lines = order_lines(self._rng, self.skus)
        response = await http.post(
            self.order_url + "/v1/orders",
            json={"lines": [{"sku": sku, "quantity": n} for sku, n in lines]},
            headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code == 201 and response.json()["status"] == "CONFIRMED":
            self.placed.append(response.json()["id"])
            for sku, n in lines:
                self.quantities[sku] = self.quantities.get(sku, 0) + n
        return response

    async def read(self, http: httpx.AsyncClient) -> httpx.Response:
        order_id = self._rng.choice(self.order_ids)
        return await http.get(f"{self.order_url}/v1/orders/{order_id}", headers=self.headers)

    async def page(self, http: httpx.AsyncClient) -> httpx.Response:
        """The next page of its orders, newest first; after the last, the first again."""
        params: dict[str, Any] = {"limit": PAGE}
        if self._cursor:
            params["cursor"] = self._cursor
        response = await http.get(
            self.order_url + "/v1/orders", params=params, headers=self.headers
        )
        if response.status_code == 200:
            self._cursor = response.json().get("next_cursor")
        return response


def read_kinds(
    shopper: Shopper, inventory_url: str, analytics_url: str, admin: dict[str, str]
) -> list[Kind]:
    """Every read measured: an order, a page of orders, stock levels, each report
    with its default filters (the whole history) as the admin, and the purchase
    history as the distributor (the first page of its own orders, as many as a page of
    its order list: at 1k orders a distributor has about 50, and a page twice as long
    at 100k would measure the page's length, not the data's growth)."""

    def get(url: str, headers: dict[str, str]) -> Send:
        async def send(http: httpx.AsyncClient) -> httpx.Response:
            return await http.get(url, headers=headers)

        return send

    kinds = [
        Kind("read order", shopper.read),
        Kind("list orders (page)", shopper.page),
        Kind("stock levels", get(f"{inventory_url}/v1/stock?limit={PAGE}", admin)),
    ]
    for report in REPORTS:
        url = f"{analytics_url}/v1/reports/{report}"
        if report == "purchase-history":
            kinds.append(Kind(f"report {report}", get(f"{url}?limit={PAGE}", shopper.headers)))
        else:
            kinds.append(Kind(f"report {report}", get(url, admin)))
    return kinds


def place_kind(shopper: Shopper) -> Kind:
    return Kind("place order", shopper.place, expect=201)


async def relay_lag(
    http: httpx.AsyncClient,
    shopper: Shopper,
    feeds: dict[str, str],
    admin: dict[str, str],
    after: dict[str, int],
    orders: int,
) -> dict[str, Samples]:
    """Orders placed one after another while a reader polls each feed every 25 ms:
    per event, the time from its `occurred_at` to its first appearance in the
    feed (relay pass, numbering, the feed's read; up to 25 ms of polling)."""
    lags = {source: Samples() for source in feeds}
    seen = dict.fromkeys(feeds, 0)
    placing = True

    async def poll() -> None:
        positions = dict(after)
        while True:
            for source, url in feeds.items():
                response = await http.get(
                    url + "/v1/events",
                    params={"after": positions[source], "limit": 1000},
                    headers=admin,
                )
                arrived = datetime.now(UTC)
                response.raise_for_status()
                page = EventPage.model_validate(response.json())
                for event in page.events:
                    lag = (arrived - event.occurred_at).total_seconds() * 1000
                    lags[source].latencies_ms.append(lag)
                seen[source] += len(page.events)
                positions[source] = page.next_after
            # Every order leaves two order events and one inventory event.
            if not placing and seen["order"] >= 2 * orders and seen["inventory"] >= orders:
                return
            await asyncio.sleep(FEED_POLL_SECONDS)

    reader = asyncio.create_task(poll())
    try:
        for _ in range(orders):
            response = await shopper.place(http)
            if response.status_code != 201:
                lags["order"].error(f"placing: HTTP {response.status_code}")
        placing = False
        await asyncio.wait_for(reader, timeout=120)
    finally:
        reader.cancel()
    return lags


async def rebuild(
    http: httpx.AsyncClient, analytics_url: str, admin: dict[str, str]
) -> dict[str, Any]:
    """The analytics read models emptied and built again from every feed; an
    answer other than 200 is kept as the rebuild's error."""
    started = time.perf_counter()
    response = await http.post(analytics_url + "/v1/admin/rebuild", headers=admin, timeout=None)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        return {"seconds": seconds, "error": f"HTTP {response.status_code}: {response.text[:300]}"}
    replayed: dict[str, int] = response.json()["replayed"]
    events = sum(replayed.values())
    return {"seconds": seconds, "replayed": replayed, "events_per_s": events / seconds}
