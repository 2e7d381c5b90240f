"""The order benchmark: the real stack (auth, inventory, order as processes on
the embedded database), orders placed over HTTP by concurrent clients, and in
the same run the baseline (the same database work per order, directly with the
driver). Prints confirmed orders per second, latency percentiles, errors,
resident memory per service, the platform/baseline ratio, p99 at half the peak
rate, and checks the stock invariants afterwards."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient
from pymongo.database import Database

from apps.devstack.embedded_db import EmbeddedMongo
from apps.devstack.seed import example_distributor
from apps.devstack.stack import LocalStack, StackConfig
from bench.baseline import order_lines, run_baseline

SERVICES = ["auth", "inventory", "order"]
# The figures of the last run, and the plots bench/report.py draws from them.
FIGURES = Path("docs/bench/results.json")
STOCK_PER_SKU = 1_000_000
# The targets of issue 16: throughput at least 0.7 of the baseline's, platform CPU per
# confirmed order at most 1.4 times the baseline's, p99 below 100 ms at half the peak.
TARGET_RATIO = 0.7
TARGET_CPU_RATIO = 1.4
TARGET_P99_MS = 100.0
TARGET_RSS_MB = 100.0


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN without values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    confirmed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    quantities: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def absorb(self, other: Results) -> None:
        self.latencies_ms += other.latencies_ms
        self.confirmed += other.confirmed
        self.elapsed += other.elapsed
        for what, n in other.errors.items():
            self.errors[what] = self.errors.get(what, 0) + n
        for sku, n in other.quantities.items():
            self.quantities[sku] = self.quantities.get(sku, 0) + n

    @property
    def rate(self) -> float:
        return self.confirmed / self.elapsed if self.elapsed else 0.0


class Setup:
    """Products with stock, distributors and their users, over the real APIs."""

    def __init__(self, stack: LocalStack, admin_email: str, admin_password: str, skus: int):
        self.stack = stack
        self.http = httpx.Client(timeout=30.0)
        self._admin_login = (admin_email, admin_password)
        self._logins: list[tuple[str, str]] = []  # the distributor users'
        self.admin = self._login(*self._admin_login)
        self.skus = [f"BENCH-{n:03d}" for n in range(skus)]
        self.tokens: list[dict[str, str]] = []

    def _login(self, email: str, password: str) -> dict[str, str]:
        login = self._ok(
            self.http.post(
                self.stack.url("auth") + "/v1/auth/login",
                json={"email": email, "password": password},
            )
        )
        return {"Authorization": f"Bearer {login['access_token']}"}

    def login_again(self) -> None:
        """Fresh tokens for the admin and every distributor user (they live 15 minutes)."""
        self.admin = self._login(*self._admin_login)
        self.tokens = [self._login(email, password) for email, password in self._logins]

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
        body: dict[str, Any] = response.json()
        return body

    def catalogue(self) -> None:
        inventory = self.stack.url("inventory")
        self._ok(
            self.http.post(
                inventory + "/v1/warehouses",
                json={"code": "BENCH-WH", "name": "Bench", "address": "Hosur"},
                headers=self.admin,
            )
        )
        for sku in self.skus:
            self._ok(
                self.http.post(
                    inventory + "/v1/products",
                    json={
                        "sku": sku,
                        "name": f"Bench mattress {sku}",
                        "category": "mattress",
                        "unit_price_paise": 1_899_900,
                        "gst_rate_bps": 1800,
                    },
                    headers=self.admin,
                )
            )
        self._ok(
            self.http.put(
                inventory + "/v1/receipts/bench-opening",
                json={
                    "warehouse_code": "BENCH-WH",
                    "reference": "bench opening stock",
                    "lines": [
                        {"sku": sku, "quantity": STOCK_PER_SKU, "unit_cost_paise": 1_000_000}
                        for sku in self.skus
                    ],
                },
                headers=self.admin,
            )
        )

    def distributors(self, count: int) -> None:
        for n in range(count):
            distributor_id = f"dst_bench_{n:02d}"
            self._ok(
                self.http.post(
                    self.stack.url("order") + "/v1/distributors",
                    json=example_distributor(distributor_id, f"Bench Distributor {n}"),
                    headers=self.admin,
                )
            )
            password = "pw-" + secrets.token_urlsafe(12)  # never holds the email's local part
            email = f"bench-{n}@bench.glosleep.test"
            self._ok(
                self.http.post(
                    self.stack.url("auth") + "/v1/users",
                    json={
                        "email": email,
                        "display_name": f"Bench {n}",
                        "roles": ["distributor"],
                        "distributor_id": distributor_id,
                        "password": password,
                    },
                    headers=self.admin,
                )
            )
            self._logins.append((email, password))
            self.tokens.append(self._login(email, password))


async def _place(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    lines: list[tuple[str, int]],
    results: Results,
    scheduled: float | None = None,
) -> None:
    started = scheduled if scheduled is not None else time.perf_counter()
    body = {"lines": [{"sku": sku, "quantity": n} for sku, n in lines]}
    try:
        response = await http.post(
            url, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
        )
    except httpx.HTTPError as error:
        results.error(type(error).__name__)
        return
    results.latencies_ms.append((time.perf_counter() - started) * 1000)
    if response.status_code != 201:
        results.error(f"HTTP {response.status_code}")
        return
    status = response.json()["status"]
    if status != "CONFIRMED":
        results.error(status)
        return
    results.confirmed += 1
    for sku, n in lines:
        results.quantities[sku] = results.quantities.get(sku, 0) + n


async def closed_loop(
    url: str, tokens: list[dict[str, str]], skus: list[str], clients: int, seconds: float
) -> Results:
    """`clients` workers, each placing its next order as soon as the last is answered."""
    results = Results()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as http:
        deadline = time.monotonic() + seconds

        async def worker(n: int) -> None:
            rng = random.Random(n)  # noqa: S311 - a repeatable load mix, not a secret
            while time.monotonic() < deadline:
                await _place(http, url, tokens[n % len(tokens)], order_lines(rng, skus), results)

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        results.elapsed = time.monotonic() - started
    return results


async def on_schedule(
    count: int, rate: float, send: Callable[[int, float], Coroutine[Any, Any, None]]
) -> float:
    """Starts `send(n, scheduled)` for each n below `count`, `rate` a second,
    whatever the earlier ones' speed (the caller times each from `scheduled`: no
    coordinated omission); answers the seconds until the last has finished."""
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for n in range(count):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(n, scheduled)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def open_loop(
    url: str, tokens: list[dict[str, str]], skus: list[str], rate: float, seconds: float
) -> Results:
    """Orders arriving at a fixed rate whatever the answers' speed; latency is
    measured from each order's scheduled time (no coordinated omission)."""
    results = Results()
    rng = random.Random(7)  # noqa: S311 - a repeatable load mix, not a secret
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as http:

        def place(n: int, scheduled: float) -> Coroutine[Any, Any, None]:
            lines = order_lines(rng, skus)
            return _place(http, url, tokens[n % len(tokens)], lines, results, scheduled)

        results.elapsed = await on_schedule(max(1, int(rate * seconds)), rate, place)
    return results


# Fields of /proc/<pid>/stat counted from its third, the state after the command name.
MAJFLT, UTIME, STIME = 9, 11, 12
# Field of /proc/stat's first line: cpu user nice system idle iowait irq softirq steal ...
STEAL = 8


def process_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


class CpuTally:
    """CPU time (user + system) each process spent while measured, and this one's."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self._pids = {name: pid for name, pid in pids.items() if pid is not None}
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        now = {}
        for name, pid in self._pids.items():
            fields = process_stat(pid)
            now[name] = (int(fields[UTIME]) + int(fields[STIME])) / ticks
        own = os.times()
        now["client"] = own.user + own.system
        return now

    @contextmanager
    def measure(self) -> Iterator[None]:
        before = self._now()
        yield
        for name, value in self._now().items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value - before[name]

    def breakdown(self, orders: int) -> dict[str, float]:
        """CPU ms per order by process."""
        if not orders:
            return {}
        return {name: round(spent * 1000 / orders, 2) for name, spent in self.seconds.items()}

    def ms_per_order(self, orders: int) -> float:
        return sum(self.seconds.values()) * 1000 / orders if orders else float("nan")

    def per_order(self, orders: int) -> str:
        if not orders:
            return "-"
        parts = {name: spent * 1000 / orders for name, spent in self.seconds.items() if spent}
        shown = ", ".join(f"{name} {ms:.1f}" for name, ms in parts.items())
        return f"{sum(parts.values()):.1f} ({shown})"


def host_stolen_seconds(proc_stat: str) -> float:
    """CPU seconds the host has taken from this virtual machine since boot, all CPUs
    together, from the text of /proc/stat."""
    return int(proc_stat.split("\n", 1)[0].split()[STEAL]) / os.sysconf("SC_CLK_TCK")


class MachineTally:
    """What the machine itself took from a measured window: CPU time its host stole
    from this virtual machine (all CPUs), and the major page faults of the measured
    processes (pages read back from disk after the kernel dropped them). Either
    stops a process however little work it has, so a stall with neither is the
    platform's own."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self._pids = [pid for pid in pids.values() if pid is not None]
        self.figures = {"stolen_cpu_seconds": 0.0, "major_faults": 0}

    def _now(self) -> tuple[float, int]:
        faults = sum(int(process_stat(pid)[MAJFLT]) for pid in self._pids)
        return host_stolen_seconds(Path("/proc/stat").read_text()), faults

    @contextmanager
    def measure(self) -> Iterator[None]:
        stolen, faults = self._now()
        yield
        stolen_after, faults_after = self._now()
        self.figures["stolen_cpu_seconds"] += round(stolen_after - stolen, 2)
        self.figures["major_faults"] += faults_after - faults


def memory_mb(pid: int | None) -> tuple[float, float]:
    """(resident now, peak resident) in MB from /proc/<pid>/status."""
    if pid is None:
        return float("nan"), float("nan")
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def check_invariants(mongo_url: str, prefix: str, placed: dict[str, int]) -> list[str]:
    """0 <= reserved <= on_hand; the ledger sums to each level; reserved stock
    equals what the confirmed orders (and the clients' 201 answers) asked for;
    one reservation per confirmed order."""
    problems = []
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        inventory: Database[dict[str, Any]] = client[prefix + "inventory"]
        order: Database[dict[str, Any]] = client[prefix + "order"]
        ledger = {
            row["_id"]: row
            for row in inventory["movements"].aggregate(
                [
                    {
                        "$group": {
                            "_id": {"$concat": ["$sku", "@", "$warehouse_code"]},
                            "on_hand": {"$sum": "$on_hand_delta"},
                            "reserved": {"$sum": "$reserved_delta"},
                        }
                    }
                ]
            )
        }
        reserved_by_sku: dict[str, int] = {}
        for level in inventory["stock_levels"].find():
            if not 0 <= level["reserved"] <= level["on_hand"]:
                problems.append(f"{level['_id']}: reserved {level['reserved']} out of range")
            sums = ledger.get(level["_id"], {"on_hand": 0, "reserved": 0})
            if (sums["on_hand"], sums["reserved"]) != (level["on_hand"], level["reserved"]):
                problems.append(f"{level['_id']}: ledger {sums} differs from the level")
            reserved_by_sku[level["sku"]] = reserved_by_sku.get(level["sku"], 0) + level["reserved"]
        ordered: dict[str, int] = {}
        confirmed = 0
        for found in order["orders"].find({"status": "CONFIRMED"}, {"lines": 1}):
            confirmed += 1
            for line in found["lines"]:
                ordered[line["sku"]] = ordered.get(line["sku"], 0) + line["quantity"]
        if ordered != {s: n for s, n in reserved_by_sku.items() if n}:
            problems.append("reserved stock differs from the confirmed orders' quantities")
        if ordered != placed:
            problems.append("confirmed orders differ from the clients' 201 CONFIRMED answers")
        reservations = inventory["reservations"].count_documents({"status": "reserved"})
        if reservations != confirmed:
            problems.append(f"{reservations} reservations for {confirmed} confirmed orders")
        if order["orders"].count_documents({"status": {"$ne": "CONFIRMED"}}):
            problems.append("orders other than CONFIRMED exist")
    return problems


def _report(name: str, results: Results) -> None:
    print(
        f"  {name}: {results.confirmed} confirmed in {results.elapsed:.1f} s = "
        f"{results.rate:.1f} orders/s; latency p50 {results.percentile(50):.0f} ms, "
        f"p95 {results.percentile(95):.0f} ms, p99 {results.percentile(99):.0f} ms; "
        f"errors {sum(results.errors.values())} {results.errors or ''}"
    )


def summary(
    peak: Results,
    half: Results,
    baseline: tuple[int, float],
    memory: dict[str, tuple[float, float]],
    problems: list[str],
    errors: int,
    cpu_ratio: float,
) -> bool:
    """Print the results and the targets; answers whether every target is met."""
    base_done, base_elapsed = baseline
    base_rate = base_done / base_elapsed if base_elapsed else 0.0
    ratio = peak.rate / base_rate if base_rate else 0.0
    print("\nresults")
    _report("peak (closed loop)", peak)
    _report("half peak (open loop)", half)
    print(f"  baseline: {base_done} orders in {base_elapsed:.1f} s = {base_rate:.1f} orders/s")
    print(f"  ratio platform / baseline: {ratio:.2f}")
    print(f"  CPU per order, platform / baseline: {cpu_ratio:.2f}")
    for name, (rss, hwm) in memory.items():
        print(f"  {name:<10} resident {rss:.0f} MB (peak {hwm:.0f} MB)")
    print(f"  stock invariants: {'hold' if not problems else '; '.join(problems)}")
    verdicts = {
        f"ratio >= {TARGET_RATIO}": ratio >= TARGET_RATIO,
        f"CPU per order <= {TARGET_CPU_RATIO}x the baseline's": cpu_ratio <= TARGET_CPU_RATIO,
        f"p99 at half peak < {TARGET_P99_MS:.0f} ms": half.percentile(99) < TARGET_P99_MS,
        "zero errors": errors == 0,
        f"every service < {TARGET_RSS_MB:.0f} MB resident": all(
            hwm < TARGET_RSS_MB for _, hwm in memory.values()
        ),
        "stock invariants hold": not problems,
    }
    print("\ntargets")
    for name, met in verdicts.items():
        print(f"  [{'met' if met else 'MISSED'}] {name}")
    return all(verdicts.values())


@contextmanager
def profiling(folder: Path | None, pids: dict[str, int | None], seconds: float) -> Iterator[None]:
    """py-spy on each service process and the database while the block runs (nothing
    when no folder)."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    recorders = [
        subprocess.Popen(  # noqa: S603 - our own tool and pids
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(folder / f"{name}.folded"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
        if pid is not None
    ]
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.wait(timeout=seconds + 30)
    print(f"profiles (collapsed stacks): {folder}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients at peak")
    parser.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        help="length of each phase (platform, baseline, half)",
    )
    parser.add_argument("--skus", type=int, default=20, help="products ordered from")
    parser.add_argument("--distributors", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=3, help="platform and baseline alternate this many times"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=FIGURES,
        help="where the run's figures go as JSON (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record each service with py-spy during the first platform round into this "
        "folder (<service>.folded: collapsed stacks, for flame graphs)",
    )
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    work = Path(tempfile.mkdtemp(prefix="glosleep-bench-"))
    prefix = "bench_"
    admin_email, admin_password = "admin@bench.glosleep.test", "bench-" + secrets.token_hex(12)
    database = EmbeddedMongo(storage=None, log=work / "database.log")
    with database as mongo_url:
        stack = LocalStack(
            StackConfig(
                mongo_url=mongo_url,
                database_prefix=prefix,
                log_dir=work,
                admin_email=admin_email,
                admin_password=admin_password,
            )
        )
        try:
            print(f"starting {', '.join(SERVICES)} on the embedded database (logs: {work}) ...")
            stack.start(SERVICES)
            setup = Setup(stack, admin_email, admin_password, args.skus)
            setup.catalogue()
            setup.distributors(args.distributors)
            url = stack.url("order") + "/v1/orders"

            print(f"warm-up ({args.clients} clients, 3 s) ...")
            warm = asyncio.run(closed_loop(url, setup.tokens, setup.skus, args.clients, 3.0))
            # Platform and baseline alternate in rounds, so that load from
            # anything else on the machine falls on both alike.
            peak, base_done, base_elapsed = Results(), 0, 0.0
            rounds: list[dict[str, float]] = []
            pids = {name: stack.process(name).pid for name in SERVICES}
            pids["database"] = database.pid
            cpu = {"platform": CpuTally(pids), "baseline": CpuTally(pids)}
            chunk = args.seconds / args.rounds
            for round_no in range(1, args.rounds + 1):
                print(f"round {round_no}/{args.rounds}: platform, {args.clients} clients ...")
                profiles = args.profile if round_no == 1 else None
                with cpu["platform"].measure(), profiling(profiles, pids, chunk):
                    part = asyncio.run(
                        closed_loop(url, setup.tokens, setup.skus, args.clients, chunk)
                    )
                peak.absorb(part)
                print(f"round {round_no}/{args.rounds}: baseline, {args.clients} workers ...")
                with cpu["baseline"].measure():
                    done, elapsed = asyncio.run(
                        run_baseline(
                            mongo_url, prefix + "baseline", setup.skus, args.clients, chunk
                        )
                    )
                base_done, base_elapsed = base_done + done, base_elapsed + elapsed
                rounds.append(
                    {
                        "round": round_no,
                        "platform_orders_per_s": part.rate,
                        "platform_p50_ms": part.percentile(50),
                        "platform_p99_ms": part.percentile(99),
                        "baseline_orders_per_s": done / elapsed if elapsed else 0.0,
                    }
                )
            print("CPU per order (ms):")
            print("  platform " + cpu["platform"].per_order(peak.confirmed))
            print("  baseline " + cpu["baseline"].per_order(base_done))
            cpu_ratio = cpu["platform"].ms_per_order(peak.confirmed) / cpu["baseline"].ms_per_order(
                base_done
            )
            print(f"half the peak rate: {peak.rate / 2:.1f} orders/s, {args.seconds:.0f} s ...")
            half = asyncio.run(
                open_loop(url, setup.tokens, setup.skus, peak.rate / 2, args.seconds)
            )
            memory = {name: memory_mb(stack.process(name).pid) for name in SERVICES}

            placed: dict[str, int] = {}
            for run in (warm, peak, half):
                for sku, n in run.quantities.items():
                    placed[sku] = placed.get(sku, 0) + n
            problems = check_invariants(mongo_url, prefix, placed)
        finally:
            stack.stop()

    errors = sum(sum(r.errors.values()) for r in (warm, peak, half))
    met = summary(peak, half, (base_done, base_elapsed), memory, problems, errors, cpu_ratio)
    figures = {
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "rounds": rounds,
        "peak": {"orders_per_s": peak.rate, "latencies_ms": peak.latencies_ms},
        "half": {"orders_per_s": half.rate, "latencies_ms": half.latencies_ms},
        "baseline_orders_per_s": base_done / base_elapsed if base_elapsed else 0.0,
        "cpu_ms_per_order": {
            "platform": cpu["platform"].breakdown(peak.confirmed),
            "baseline": cpu["baseline"].breakdown(base_done),
        },
        "cpu_ratio": cpu_ratio,
        "memory_mb": {name: {"resident": rss, "peak": hwm} for name, (rss, hwm) in memory.items()},
        "errors": errors,
        "targets_met": met,
    }
    write_figures(args.out, figures)
    return 0 if met else 1


def write_figures(path: Path, figures: dict[str, Any]) -> None:
    """The run's figures as JSON (bench/report.py draws them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"figures: {path} (plots: make bench-report)")
