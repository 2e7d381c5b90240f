"""`make bench-scale`: the platform's request costs as its data grows. All five
services run on one embedded database; at each size (1k, 10k, 100k orders by
default) the databases are filled to that many orders (bench/scale/fill.py),
the platform is left to settle, and requests are timed through the HTTP APIs:
placing an order, reading one, paging through a distributor's orders, stock
levels, every analytics report; the outbox relays' lag; the analytics rebuild.
Prints p50/p99 per request kind and size, the rebuild time per size, the
targets (p99 grows at most 1.3x from the smallest size to the largest, the
rebuild at most linearly) and the checks; exits 1 when one is missed."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient, MongoClient

from bench.run import check_invariants, memory_mb, write_figures
from bench.scale import checks
from bench.scale.fill import Filler, FillReport, Timeline
from bench.scale.measure import (
    RELAYED,
    Budget,
    Shopper,
    measure,
    place_kind,
    read_kinds,
    rebuild,
    relay_lag,
)
from bench.scale.platform import PREFIX, Platform, running_platform, wait_until_idle

FIGURES = Path("docs/bench/scale.json")
SIZES = [1_000, 10_000, 100_000]
REBUILD_UP_TO = 10_000  # a rebuild replays three events per order, about 100 a second
TARGET_P99_GROWTH = 1.3
WARM_UP_ORDERS = 20
SHAPE_SAMPLE = 50
# Refuse to fill a size whose projected database memory leaves less than this free.
MEMORY_MARGIN = 1.25

Client = MongoClient[dict[str, Any]]


def _sizes(text: str) -> list[int]:
    return sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench-scale", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=SIZES,
        help="orders at each step (default: 1000,10000,100000)",
    )
    parser.add_argument(
        "--rebuild-sizes",
        default=None,
        help=f"sizes at which to time the analytics rebuild: a list or 'all' (default: "
        f"those up to {REBUILD_UP_TO}; at 100k orders it takes about an hour)",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per kind")
    parser.add_argument(
        "--kind-seconds",
        type=float,
        default=20.0,
        help="per kind and size, stop after this long once --min-requests are taken",
    )
    parser.add_argument("--min-requests", type=int, default=3)
    parser.add_argument("--lag-orders", type=int, default=100, help="orders for the relay lag")
    parser.add_argument("--distributors", type=int, default=20)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument(
        "--cache-size", default="8G", help="the embedded database's cache: its most data"
    )
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args()
    if args.rebuild_sizes == "all":
        args.rebuild_sizes = args.sizes
    elif args.rebuild_sizes is None:
        args.rebuild_sizes = [size for size in args.sizes if size <= REBUILD_UP_TO]
    else:
        args.rebuild_sizes = _sizes(args.rebuild_sizes)
    return args


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
    args: argparse.Namespace
    base_mb: float  # the database's resident memory before any order

    def orders(self) -> int:
        return self.client[PREFIX + "order"]["orders"].count_documents({})

    def _too_big(self, orders: int) -> str | None:
        present = self.orders()
        database = self.platform.pids()["database"]
        if present < 500:
            return None
        per_order = max(0.0, memory_mb(database)[0] - self.base_mb) / present
        needed = per_order * (orders - present) * MEMORY_MARGIN
        if needed > _available_mb():
            return (
                f"{orders} orders need about {needed:.0f} MB more for the database; "
                f"{_available_mb():.0f} MB are available"
            )
        return None

    def _fresh_tokens(self) -> dict[str, str]:
        setup = self.platform.setup
        setup.login_again()
        self.shopper.headers = setup.tokens[0]
        return setup.admin

    def _distributor_orders(self) -> list[str]:
        orders = self.client[PREFIX + "order"]["orders"]
        distributor = self.filler.shop.customers[0].id
        return [found["_id"] for found in orders.find({"distributor_id": distributor}, {"_id": 1})]

    async def size(self, http: httpx.AsyncClient, orders: int) -> dict[str, Any]:
        args = self.args
        present = self.orders()
        fill = FillReport(0, 0, 0.0, [])
        if orders > present:
            print(f"filling {orders - present} orders ...", flush=True)
            fill = await self.filler.fill(orders - present)
            print(
                f"  {fill.documents} documents in {fill.seconds:.0f} s "
                f"({fill.documents / max(fill.seconds, 1e-9):.0f} a second)"
            )
        settled = wait_until_idle(self.client)
        admin = self._fresh_tokens()
        self.shopper.order_ids = self._distributor_orders()
        load = os.getloadavg()[0]
        started = time.monotonic()

        url = self.platform.url
        reads = read_kinds(self.shopper, url("inventory", ""), url("analytics", ""), admin)
        print("warm-up ...", flush=True)
        await measure(http, [place_kind(self.shopper)], Budget(WARM_UP_ORDERS, 60.0, 1))
        wait_until_idle(self.client)
        await measure(http, reads, Budget(3, 5.0, 1))
        budget = Budget(args.requests, args.kind_seconds, args.min_requests)
        print("placing orders ...", flush=True)
        samples = await measure(http, [place_kind(self.shopper)], budget)
        print("relay lag ...", flush=True)
        wait_until_idle(self.client)
        counters = self.client
        after = {
            source: int(
                (
                    counters[PREFIX + source]["outbox_counters"].find_one({"_id": "outbox"}) or {}
                ).get("value", 0)
            )
            for source in RELAYED
        }
        feeds = {source: url(source, "") for source in RELAYED}
        lags = await relay_lag(http, self.shopper, feeds, admin, after, args.lag_orders)
        samples.update({f"relay lag, {source} feed": lag for source, lag in lags.items()})
        wait_until_idle(self.client)
        print("reads ...", flush=True)
        samples.update(await measure(http, reads, budget))

        result: dict[str, Any] = {
            "size": orders,
            "orders": self.orders(),
            "fill": {"orders": fill.orders, "documents": fill.documents, "seconds": fill.seconds},
            "settle_seconds": settled,
            "requests": {name: found.figures() for name, found in samples.items()},
            "rebuild": None,
            "checks": {},
        }
        if orders in args.rebuild_sizes:
            print("rebuild ...", flush=True)
            models = checks.read_models(self.client, PREFIX)
            result["rebuild"] = await rebuild(http, url("analytics", ""), admin)
            result["checks"]["read models the same after the rebuild"] = checks.differences(
                models, checks.read_models(self.client, PREFIX)
            )
        wait_until_idle(self.client)
        result["measure_seconds"] = time.monotonic() - started
        result["load_average"] = [load, os.getloadavg()[0]]
        result["checks"].update(self._checks(fill, last=orders == args.sizes[-1]))
        result["memory_mb"] = {
            name: dict(zip(("resident", "peak"), memory_mb(pid), strict=True))
            for name, pid in self.platform.pids().items()
        }
        return result

    def _checks(self, fill: FillReport, *, last: bool) -> dict[str, list[str]]:
        """The stock invariants and procurement's signals at every size; the filled
        documents' shapes at the largest (only there are the newest filled orders
        young enough to have idempotency records)."""
        placed = dict(self.filler.quantities)
        for sku, n in self.shopper.quantities.items():
            placed[sku] = placed.get(sku, 0) + n
        found = {
            "stock invariants": check_invariants(self.platform.mongo_url, PREFIX, placed),
            "procurement's signals match the levels": checks.signals_unlike_levels(
                self.client, PREFIX
            ),
        }
        if last:
            found["filled documents shaped as the services'"] = checks.unlike_the_services(
                self.client,
                PREFIX,
                self.shopper.placed[-SHAPE_SAMPLE:],
                fill.order_ids[-SHAPE_SAMPLE:],
            )
        return found


def targets(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its verdict (None: not measured at both ends)."""
    if len(sizes) < 2:
        return []
    first, last = sizes[0], sizes[-1]
    span = f"{first['size']} -> {last['size']} orders"
    verdicts = []
    for kind, figures in first["requests"].items():
        then, now = figures["p99_ms"], last["requests"].get(kind, {}).get("p99_ms")
        measured = bool(now and then and not math.isnan(now) and not math.isnan(then))
        growth = now / then if measured else None
        verdicts.append(
            {
                "target": f"p99 of {kind} grows at most {TARGET_P99_GROWTH}x ({span})",
                "growth": growth,
                "met": None if growth is None else growth <= TARGET_P99_GROWTH,
            }
        )
    orders_growth = last["size"] / first["size"]
    rebuilt = [size for size in sizes if size["rebuild"]]
    target = f"rebuild time grows at most linearly ({span}: {orders_growth:.0f}x the orders)"
    if rebuilt and rebuilt[0] is first and rebuilt[-1] is last:
        growth = last["rebuild"]["seconds"] / first["rebuild"]["seconds"]
        verdicts.append({"target": target, "growth": growth, "met": growth <= orders_growth})
    else:
        at = ", ".join(str(size["orders"]) for size in rebuilt) or "no size"
        verdicts.append({"target": f"{target}; rebuilt at {at}", "met": None})
    return verdicts


def _print_size(result: dict[str, Any]) -> None:
    print(
        f"\n{result['size']} orders ({result['orders']} at the end; "
        f"load average {result['load_average'][0]:.1f})"
    )
    for kind, figures in result["requests"].items():
        errors = sum(figures["errors"].values())
        print(
            f"  {kind:<32} n={figures['n']:<4} p50 {figures['p50_ms']:8.1f} ms   "
            f"p99 {figures['p99_ms']:8.1f} ms"
            + (f"   errors {figures['errors']}" if errors else "")
        )
    if result["rebuild"]:
        rebuilt = result["rebuild"]
        print(
            f"  rebuild: {rebuilt['seconds']:.1f} s for {sum(rebuilt['replayed'].values())} "
            f"events ({rebuilt['events_per_s']:.0f} a second)"
        )
    print(
        "  resident MB: "
        + ", ".join(f"{name} {mb['resident']:.0f}" for name, mb in result["memory_mb"].items())
    )
    for check, problems in result["checks"].items():
        print(
            f"  [{'ok' if not problems else 'FAILED'}] {check}"
            + "".join(f"\n      {problem}" for problem in problems[:5])
        )


async def _run(platform: Platform, args: argparse.Namespace) -> list[dict[str, Any]]:
    client: Client = MongoClient(platform.mongo_url, tz_aware=True)
    database_pid = platform.pids()["database"]
    filler = Filler(
        AsyncMongoClient(platform.mongo_url, tz_aware=True),
        PREFIX,
        platform.shop(client),
        Timeline.for_orders(args.sizes[-1]),
    )
    await filler.bind()
    shopper = Shopper(platform.url("order", ""), platform.setup.tokens[0], platform.setup.skus, [])
    scale = Scale(platform, client, filler, shopper, args, memory_mb(database_pid)[0])
    results = []
    async with httpx.AsyncClient(timeout=600.0) as http:
        for size in args.sizes:
            if reason := scale._too_big(size):
                print(f"\nstopped before {size} orders: {reason}")
                break
            print(f"\n== {size} orders ==", flush=True)
            results.append(await scale.size(http, size))
            _print_size(results[-1])
    return results


def main() -> int:
    args = _arguments()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="glosleep-scale-"))
    with running_platform(work, args.distributors, args.skus, args.cache_size) as platform:
        results = asyncio.run(_run(platform, args))
    verdicts = targets(results)
    print("\ntargets")
    for verdict in verdicts:
        growth = verdict.get("growth")
        shown = f" ({growth:.2f}x)" if growth is not None else ""
        label = {True: "met", False: "MISSED", None: "NOT MEASURED"}[verdict["met"]]
        print(f"  [{label}] {verdict['target']}{shown}")
    checks_ok = all(not problems for size in results for problems in size["checks"].values())
    met = bool(verdicts) and all(verdict["met"] for verdict in verdicts)
    print(f"checks: {'all hold' if checks_ok else 'FAILED (above)'}")
    print(f"scale phase: {time.monotonic() - started:.0f} s")
    figures = {
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": time.monotonic() - started,
        "sizes": results,
        "targets": verdicts,
        "targets_met": met,
        "checks_hold": checks_ok,
    }
    write_figures(args.out, figures)
    return 0 if met and checks_ok else 1
