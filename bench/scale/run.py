"""`make bench-scale`: the platform's request costs as its data grows. All five
services run on one embedded database; at each size (1k, 10k, 100k orders by
default) the databases are filled to that many orders (bench/scale/fill.py),
the platform is left to settle, and requests are timed through the HTTP APIs:
placing an order (10 a second, twice the expected peak), reading one, paging
through a distributor's orders, stock levels, every analytics report; the
outbox relays' lag; the analytics rebuild.
Prints p50/p99 per request kind and size, the rebuild time per size, the
targets (p99 grows at most 1.3x from the smallest size to the largest, the
rebuild at most linearly) and the checks; exits 1 when one is missed."""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient, MongoClient

from bench.run import memory_mb, write_figures
from bench.scale.fill import Filler, Timeline
from bench.scale.measure import Shopper
from bench.scale.platform import Platform, running_platform
from bench.scale.size import Plan, Scale

FIGURES = Path("docs/bench/scale.json")
SIZES = [1_000, 10_000, 100_000]
REBUILD_UP_TO = 10_000  # a rebuild replays three events per order, about 100 a second
TARGET_P99_GROWTH = 1.3


def _sizes(text: str) -> list[int]:
    return sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})


def _megabytes(size: str) -> float:
    """A size like 512M or 12G (the server's --cache-size) in MB."""
    units = {"K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0**2}
    return float(size[:-1]) * units[size[-1].upper()]


def _arguments() -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="make bench-scale", description=__doc__)
    parser.add_argument(
        "--sizes", type=_sizes, default=SIZES, help="orders at each step: 1000,10000,100000"
    )
    parser.add_argument(
        "--rebuild-sizes",
        default=None,
        help=f"sizes at which to time the analytics rebuild: a list or 'all' (default: "
        f"those up to {REBUILD_UP_TO}; at 100k orders it takes about an hour)",
    )
    parser.add_argument("--requests", type=int, default=200, help="orders placed and timed")
    parser.add_argument(
        "--place-rate",
        type=float,
        default=Plan.place_rate,
        help="orders a second while they are timed (twice the expected peak)",
    )
    parser.add_argument("--reads", type=int, default=1000, help="timed requests per read kind")
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
        "--cache-size",
        default="12G",
        help="the embedded database's cache, the most data it holds in memory (100k orders "
        "take about 7G); a cap, not an allocation",
    )
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args()
    if args.rebuild_sizes == "all":
        rebuild_sizes = args.sizes
    elif args.rebuild_sizes is None:
        rebuild_sizes = [size for size in args.sizes if size <= REBUILD_UP_TO]
    else:
        rebuild_sizes = _sizes(args.rebuild_sizes)
    args.rebuild_sizes = rebuild_sizes
    plan = Plan(
        sizes=args.sizes,
        rebuild_sizes=rebuild_sizes,
        requests=args.requests,
        place_rate=args.place_rate,
        reads=args.reads,
        kind_seconds=args.kind_seconds,
        min_requests=args.min_requests,
        lag_orders=args.lag_orders,
        cache_mb=_megabytes(args.cache_size),
    )
    return plan, args


def targets(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its growth from the first size to the last and its verdict
    (None: not measured at both)."""
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
    target = f"rebuild time grows at most linearly ({span}: {orders_growth:.0f}x the orders)"
    ends = [first["rebuild"], last["rebuild"]]
    if any(rebuilt and "error" in rebuilt for rebuilt in ends):
        verdicts.append({"target": f"{target}; a rebuild failed", "met": False})
    elif all(ends):
        growth = last["rebuild"]["seconds"] / first["rebuild"]["seconds"]
        verdicts.append({"target": target, "growth": growth, "met": growth <= orders_growth})
    else:
        rebuilt = ", ".join(str(size["size"]) for size in sizes if size["rebuild"]) or "none"
        verdicts.append({"target": f"{target}; rebuilt at: {rebuilt}", "met": None})
    return verdicts


def print_size(result: dict[str, Any]) -> None:
    print(
        f"\n{result['size']} orders ({result['orders']} at the end; "
        f"load average {result['load_average'][0]:.1f})"
    )
    for kind, figures in result["requests"].items():
        errors = f"   errors {figures['errors']}" if figures["errors"] else ""
        print(
            f"  {kind:<32} n={figures['n']:<4} p50 {figures['p50_ms']:8.1f} ms   "
            f"p99 {figures['p99_ms']:8.1f} ms{errors}"
        )
    placing = result.get("place_cpu_ms") or {}
    print(
        f"  settled in {result['settle_seconds']:.1f} s; CPU ms an order placed: "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in placing.items())
    )
    machine = result.get("place_machine")
    if machine:
        print(
            f"  while placing, the host stole {machine['stolen_cpu_seconds']:.2f} s of CPU; "
            f"major page faults {machine['major_faults']}"
        )
    rebuilt = result["rebuild"]
    if rebuilt and "error" in rebuilt:
        print(f"  rebuild: failed after {rebuilt['seconds']:.1f} s: {rebuilt['error']}")
    elif rebuilt:
        print(
            f"  rebuild: {rebuilt['seconds']:.1f} s for {sum(rebuilt['replayed'].values())} "
            f"events ({rebuilt['events_per_s']:.0f} a second)"
        )
    print(
        "  resident MB: "
        + ", ".join(f"{name} {mb['resident']:.0f}" for name, mb in result["memory_mb"].items())
    )
    for check, problems in result["checks"].items():
        print(f"  [{'ok' if not problems else 'FAILED'}] {check}")
        for problem in problems[:5]:
            print(f"      {problem}")


async def scale_for(platform: Platform, plan: Plan) -> Scale:
    """The run's fill (its models bound) and measured distributor on a running platform."""
    client: MongoClient[dict[str, Any]] = MongoClient(platform.mongo_url, tz_aware=True)
    shop = platform.shop(client)
    filler = Filler(
        AsyncMongoClient(platform.mongo_url, tz_aware=True),
        platform.prefix,
        shop,
        Timeline.ending_now(lanes=len(shop.customers)),
    )
    await filler.bind()
    setup = platform.setup
    shopper = Shopper(platform.url("order", ""), setup.tokens[0], setup.skus, [])
    base_mb = memory_mb(platform.pids().get("database"))[0]
    return Scale(platform, client, filler, shopper, plan, base_mb)


async def run_sizes(
    platform: Platform, plan: Plan, done: Callable[[list[dict[str, Any]]], object]
) -> list[dict[str, Any]]:
    """Every size in turn; `done` gets the results so far after each."""
    scale = await scale_for(platform, plan)
    results: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=600.0) as http:
        for size in plan.sizes:
            if reason := scale.too_big(size):
                print(f"\nstopped before {size} orders: {reason}")
                break
            print(f"\n== {size} orders ==", flush=True)
            results.append(await scale.size(http, size))
            print_size(results[-1])
            done(results)
    return results


def main() -> int:
    plan, args = _arguments()
    started = time.monotonic()
    arguments = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}

    def save(results: list[dict[str, Any]]) -> dict[str, Any]:
        verdicts = targets(results)
        figures = {
            "arguments": arguments,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": time.monotonic() - started,
            "sizes": results,
            "targets": verdicts,
            "targets_met": bool(verdicts) and all(verdict["met"] for verdict in verdicts),
            "checks_hold": all(
                not problems for size in results for problems in size["checks"].values()
            ),
        }
        write_figures(args.out, figures)
        return figures

    work = Path(tempfile.mkdtemp(prefix="glosleep-scale-"))
    with running_platform(
        work, args.distributors, args.skus, args.cache_size, plan.oplog_entries()
    ) as platform:
        results = asyncio.run(run_sizes(platform, plan, save))
    figures = save(results)
    print("\ntargets")
    for verdict in figures["targets"]:
        growth = verdict.get("growth")
        shown = f" ({growth:.2f}x)" if growth is not None else ""
        label = {True: "met", False: "MISSED", None: "NOT MEASURED"}[verdict["met"]]
        print(f"  [{label}] {verdict['target']}{shown}")
    print(f"checks: {'all hold' if figures['checks_hold'] else 'FAILED (above)'}")
    print(f"scale phase: {figures['seconds']:.0f} s")
    return 0 if figures["targets_met"] and figures["checks_hold"] else 1
