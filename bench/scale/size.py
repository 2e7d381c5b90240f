"""One size of the scale phase: fill to that many orders, let the platform
settle, warm up, time every request kind, the relay lag and (at some sizes) the
rebuild, and check the data."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from apps.kit.garbage_collection import freeze_long_lived
from bench.run import CpuTally, MachineTally, check_invariants, memory_mb
from bench.scale import checks
from bench.scale.fill import Filler, FillReport
from bench.scale.measure import (
    RELAYED,
    Budget,
    Shopper,
    at_rate,
    measure,
    place_kind,
    read_kinds,
    rebuild,
    relay_lag,
)
from bench.scale.platform import Platform, wait_until_idle, wait_until_quiet

SHAPE_SAMPLE = 50
# Refuse to fill a size whose projected database memory is over what is free by this.
MEMORY_MARGIN = 1.25

Client = MongoClient[dict[str, Any]]


OPLOG_ENTRIES_AN_ORDER = 40


@dataclass(frozen=True)
class Plan:
    """How much to measure at each size."""

    sizes: list[int]
    rebuild_sizes: list[int]
    requests: int = 200  # orders placed and timed
    # Orders a second while they are timed: twice GloSleep's expected peak
    # (docs/capacity.md), the same load at every size.
    place_rate: float = 10.0
    # Per read kind. A p99 of 200 samples is the third slowest, and the reads take
    # 3-15 ms, so one stray millisecond moved it by a third; reading more adds no
    # order, so the data measured stays the same.
    reads: int = 1000
    kind_seconds: float = 20.0  # per kind, once `min_requests` are taken
    min_requests: int = 3
    lag_orders: int = 100
    warm_up_orders: int = 20
    warm_up_reads: int = 3  # per kind
    cache_mb: float = 0.0  # the embedded database's cache (0: not known)
    quiet_seconds: float = 180.0  # the longest wait for a quiet machine before measuring

    def budget(self, requests: int) -> Budget:
        return Budget(requests, self.kind_seconds, self.min_requests)

    def oplog_entries(self) -> int:
        """An oplog that keeps every write of the run, as MongoDB's default oplog
        (at least 990 MB) would: the fill writes 13 documents an order, the
        rebuild about as many again (3 events an order, each applied in a few
        writes), with room to spare."""
        return OPLOG_ENTRIES_AN_ORDER * max(self.sizes)


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


@dataclass
class Scale:
    """One run: the platform, the fill and the distributor measured."""

    platform: Platform
    client: Client
    filler: Filler
    shopper: Shopper
    plan: Plan
    base_mb: float  # the database's resident memory before any order

    def orders(self) -> int:
        """The orders of the run's distributors (the only ones, but in tests)."""
        customers = [customer.id for customer in self.filler.shop.customers]
        orders = self.platform.db(self.client, "order")["orders"]
        return orders.count_documents({"distributor_id": {"$in": customers}})

    def idle(self) -> float:
        return wait_until_idle(self.client, self.platform.prefix)

    def rest(self) -> float:
        """Every event relayed and consumed, then the platform's processes quiet
        (other programs on the machine are not watched); answers how long it took.
        The driver then freezes what it holds (the fill's records among them), so
        its own full collections stay short and are not timed as the platform's."""
        waited = self.idle() + wait_until_quiet(self.platform.pids(), self.plan.quiet_seconds)
        freeze_long_lived()
        return waited

    def too_big(self, orders: int) -> str | None:
        """Why the database would not fit `orders` in memory (the machine's, or
        its cache, which caps what it holds), if it would not."""
        database = self.platform.pids().get("database")
        present = self.orders()
        if database is None or present < 500:
            return None
        resident = memory_mb(database)[0]
        per_order = max(0.0, resident - self.base_mb) / present
        needed = per_order * (orders - present) * MEMORY_MARGIN
        if needed > _available_mb():
            return (
                f"{orders} orders need about {needed:.0f} MB more for the database; "
                f"{_available_mb():.0f} MB are available"
            )
        if self.plan.cache_mb and resident + needed > self.plan.cache_mb:
            return (
                f"{orders} orders need about {resident + needed:.0f} MB of database cache; "
                f"it has {self.plan.cache_mb:.0f} MB (--cache-size)"
            )
        return None

    def _fresh_tokens(self) -> dict[str, str]:
        """Log in again (tokens live 15 minutes); answers the admin's headers."""
        setup = self.platform.setup
        setup.login_again()
        self.shopper.headers = setup.tokens[0]
        self.shopper.order_ids = [
            found["_id"]
            for found in self.platform.db(self.client, "order")["orders"].find(
                {"distributor_id": self.filler.shop.customers[0].id}, {"_id": 1}
            )
        ]
        return setup.admin

    def _published(self) -> dict[str, int]:
        """The last sequence number of each relayed feed."""
        return {
            source: int(
                (
                    self.platform.db(self.client, source)["outbox_counters"].find_one(
                        {"_id": "outbox"}
                    )
                    or {"value": 0}
                )["value"]
            )
            for source in RELAYED
        }

    async def _fill(self, orders: int) -> FillReport:
        present = self.orders()
        if orders <= present:
            return FillReport(0, 0, 0.0, [])
        print(f"filling {orders - present} orders ...", flush=True)
        self.idle()
        fill = await self.filler.fill(orders - present)
        print(
            f"  {fill.documents} documents in {fill.seconds:.0f} s "
            f"({fill.documents / max(fill.seconds, 1e-9):.0f} a second)",
            flush=True,
        )
        return fill

    async def size(self, http: httpx.AsyncClient, orders: int) -> dict[str, Any]:
        plan, url = self.plan, self.platform.url
        fill = await self._fill(orders)
        settled = self.rest()
        # Before any order over HTTP moves them: the fill's own current levels.
        current_levels = checks.current_levels_unlike_levels(
            self.client, self.platform.prefix, self.filler.shop.warehouse
        )
        admin = self._fresh_tokens()
        load = os.getloadavg()[0]
        started = time.monotonic()
        reads = read_kinds(self.shopper, url("inventory", ""), url("analytics", ""), admin)
        place = [place_kind(self.shopper)]
        print("warm-up ...", flush=True)
        await measure(http, place, Budget(plan.warm_up_orders, 60.0, 1))
        self.idle()
        await measure(http, reads, Budget(plan.warm_up_reads, 5.0, 1))
        print("placing orders ...", flush=True)
        self.rest()
        placing, machine = CpuTally(self.platform.pids()), MachineTally(self.platform.pids())
        with placing.measure(), machine.measure():
            placed = await at_rate(http, place[0], plan.place_rate, plan.requests)
        samples = {place[0].name: placed}
        print("relay lag ...", flush=True)
        self.rest()
        feeds = {source: url(source, "") for source in RELAYED}
        lags = await relay_lag(http, self.shopper, feeds, admin, self._published(), plan.lag_orders)
        samples.update({f"relay lag, {source} feed": lag for source, lag in lags.items()})
        self.rest()
        print("reads ...", flush=True)
        samples.update(await measure(http, reads, plan.budget(plan.reads)))
        result: dict[str, Any] = {
            "size": orders,
            "orders": self.orders(),
            "fill": {"orders": fill.orders, "documents": fill.documents, "seconds": fill.seconds},
            "settle_seconds": settled,
            "place_rate": plan.place_rate,
            # CPU ms per order placed (timed orders only), by process, consumers included.
            "place_cpu_ms": placing.breakdown(len(samples["place order"].latencies_ms)),
            "place_machine": machine.figures,
            "requests": {name: found.figures() for name, found in samples.items()},
            "rebuild": None,
            "checks": {"analytics' current levels match the levels after the fill": current_levels},
        }
        if orders in plan.rebuild_sizes:
            print("rebuild ...", flush=True)
            prefix = self.platform.prefix
            models = checks.read_models(self.client, prefix)
            result["rebuild"] = rebuilt = await rebuild(http, url("analytics", ""), admin)
            result["checks"]["the rebuild completes, with the same read models"] = (
                [rebuilt["error"]]
                if "error" in rebuilt
                else checks.differences(models, checks.read_models(self.client, prefix))
            )
        self.idle()
        result["measure_seconds"] = time.monotonic() - started
        result["load_average"] = [load, os.getloadavg()[0]]
        result["checks"].update(self._checks(fill, last=orders == plan.sizes[-1]))
        result["memory_mb"] = {
            name: dict(zip(("resident", "peak"), memory_mb(pid), strict=True))
            for name, pid in self.platform.pids().items()
        }
        return result

    def _checks(self, fill: FillReport, *, last: bool) -> dict[str, list[str]]:
        """The stock invariants and procurement's signals at every size; the filled
        documents' shapes at the largest (only there are the newest filled orders
        young enough to have idempotency records)."""
        prefix = self.platform.prefix
        placed = dict(self.filler.quantities)
        for sku, n in self.shopper.quantities.items():
            placed[sku] = placed.get(sku, 0) + n
        found = {
            "stock invariants": check_invariants(self.platform.mongo_url, prefix, placed),
            "procurement's signals match the levels": checks.signals_unlike_levels(
                self.client, prefix, self.filler.shop.warehouse
            ),
        }
        if last:
            found["filled documents shaped as the services'"] = checks.unlike_the_services(
                self.client,
                prefix,
                self.shopper.placed[-SHAPE_SAMPLE:],
                fill.order_ids[-SHAPE_SAMPLE:],
            )
        return found
