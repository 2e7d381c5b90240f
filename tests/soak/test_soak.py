"""`make soak`: a bounded mixed workload (orders, cancels, shipments, receipts,
purchase orders, reports) for SOAK_SECONDS on a durable embedded database, with a
kill -9 of a random service every SOAK_KILL_EVERY seconds (60 by default), which
is then started again. Clients retry as real ones do (same Idempotency-Key, same
receipt id). At the end: the stock invariants, the movement ledger, the event
feed and analytics' reports agree with what the clients were told, and no
service process grew its memory by more than 10 % after its warm-up. The figures
are printed (run with -s) and written to SOAK_REPORT (default .data/soak.json)."""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.devstack.embedded_db import EmbeddedMongo
from apps.devstack.processes import ServiceProcess
from tests.order.conftest import ORDER_TEST_ENV
from tests.procurement.support import create_supplier, sku_supply, supplier_body, use_fast_loops
from tests.support.platform import Platform, bearer, running_platform
from tests.support.shop import Shop
from tests.support.waiting import until_answered, wait_for

SECONDS = float(os.environ.get("SOAK_SECONDS", "300"))
KILL_EVERY = float(os.environ.get("SOAK_KILL_EVERY", "60"))
WARM_UP = float(os.environ.get("SOAK_WARM_UP", "30"))
REPORT = Path(os.environ.get("SOAK_REPORT", ".data/soak.json"))
SERVICES = ["auth", "inventory", "order", "procurement", "analytics"]
SKUS = 4
STOCK = 5_000


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Memory:
    """RSS of each service process: after its warm-up and at its end."""

    def __init__(self) -> None:
        self.lives: list[dict[str, Any]] = []
        self._current: dict[str, dict[str, Any]] = {}

    def sample(self, name: str, process: ServiceProcess) -> None:
        pid = process.pid
        if pid is None:
            return
        life = self._current.get(name)
        if life is None or life["pid"] != pid:
            life = {"service": name, "pid": pid, "started": time.monotonic()}
            self._current[name] = life
            self.lives.append(life)
        try:
            rss = rss_bytes(pid)
        except (OSError, AssertionError):
            return
        age = time.monotonic() - life["started"]
        if age >= WARM_UP and "warm_rss" not in life:
            life["warm_rss"], life["warm_at"] = rss, age
        life["last_rss"], life["last_at"] = rss, age

    def growth(self, minimum_span: float) -> list[dict[str, Any]]:
        """Lives measured over at least `minimum_span` seconds after warm-up."""
        measured = []
        for life in self.lives:
            if "warm_rss" in life and life["last_at"] - life["warm_at"] >= minimum_span:
                ratio = life["last_rss"] / life["warm_rss"] - 1
                measured.append({**life, "growth": round(ratio, 4)})
        return measured


def _check_stock(
    platform: Platform,
    shop: Shop,
    skus: list[str],
    final: list[dict[str, Any]],
    receipts: Counter[str],
) -> None:
    admin = shop.admin
    # Stock: on_hand = start + received - shipped; reserved = confirmed, not shipped.
    for sku in skus:
        shipped = sum(
            line["quantity"]
            for o in final
            if o["status"] in ("SHIPPED", "DELIVERED")
            for line in o["lines"]
            if line["sku"] == sku
        )
        held = sum(
            line["quantity"]
            for o in final
            if o["status"] == "CONFIRMED"
            for line in o["lines"]
            if line["sku"] == sku
        )
        level = shop.level(sku)
        assert level == {"on_hand": STOCK + receipts[sku] - shipped, "reserved": held}, sku
        # The ledger: its deltas add up to the level.
        ledger = {"on_hand": 0, "reserved": 0}
        cursor = None
        while True:
            params: dict[str, Any] = {"sku": sku, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = platform.http.get(
                platform.url("inventory", "/v1/movements"), params=params, headers=admin
            ).json()
            for entry in page["items"]:
                ledger["on_hand"] += entry["on_hand_delta"]
                ledger["reserved"] += entry["reserved_delta"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert ledger == level, (sku, ledger, level)


@pytest.fixture(scope="module")
def soak_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("soak")
    database = EmbeddedMongo(storage=folder / "db", log=folder / "secantus.log")
    with database as url, running_platform(url, "soak_", folder) as platform:
        use_fast_loops(platform)
        platform.configure("order", ORDER_TEST_ENV)
        platform.start(*SERVICES)
        yield platform


def test_soak(soak_platform: Platform) -> None:
    platform = soak_platform
    shop = Shop(platform)
    skus = [shop.product(stock=STOCK) for _ in range(SKUS)]
    distributors = [shop.distributor() for _ in range(3)]
    supplier = create_supplier(platform, supplier_body([sku_supply(s, 100_000) for s in skus]))
    receiver = bearer(platform.service_token(["inventory:receive"]))
    tokens = {d: shop.as_distributor(d) for d in distributors}
    warehouse_headers = platform.as_role("warehouse")
    sales = platform.as_role("sales")
    buyer = platform.as_role("procurement")
    admin = shop.admin

    stop = threading.Event()
    end = time.monotonic() + SECONDS
    deadline = end + 300
    lock = threading.Lock()
    orders: dict[str, str] = {}  # order id -> distributor
    receipts: Counter[str] = Counter()  # sku -> units acknowledged
    counts: Counter[str] = Counter()
    errors: list[str] = []

    def count(what: str) -> None:
        with lock:
            counts[what] += 1

    def guarded(work: Any) -> Any:
        def run() -> None:
            client = httpx.Client(timeout=15)
            rng = random.Random(secrets.randbits(32))
            try:
                while not stop.is_set():
                    work(client, rng)
            except Exception as error:  # the end checks report it
                errors.append(f"{work.__name__}: {error!r}")
            finally:
                client.close()

        return run

    def ordering(client: httpx.Client, rng: random.Random) -> None:
        distributor = rng.choice(distributors)
        lines = [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(skus, 2)]
        headers = {**tokens[distributor], "Idempotency-Key": str(uuid.uuid4())}
        answer = until_answered(
            client, "POST", shop.url("/v1/orders"), headers, {"lines": lines}, deadline
        )
        assert answer.status_code in (201, 202), answer.text
        with lock:
            orders[answer.json()["id"]] = distributor
        count("orders")
        order_id = answer.json()["id"]
        action = rng.random()
        if action < 0.2:
            until_answered(
                client, "POST", shop.url(f"/v1/orders/{order_id}/cancel"), sales, {}, deadline
            )
            count("cancels")
        elif action < 0.6 and answer.json()["status"] == "CONFIRMED":
            until_answered(
                client,
                "POST",
                shop.url(f"/v1/orders/{order_id}/ship"),
                warehouse_headers,
                None,
                deadline,
            )
            count("shipments")
        time.sleep(0.05)

    def receiving(client: httpx.Client, rng: random.Random) -> None:
        sku = rng.choice(skus)
        body = {
            "warehouse_code": shop.warehouse,
            "reference": "soak",
            "lines": [{"sku": sku, "quantity": 10, "unit_cost_paise": 100_000}],
        }
        url = platform.url("inventory", f"/v1/receipts/soak-{secrets.token_hex(8)}")
        answer = until_answered(client, "PUT", url, receiver, body, deadline)
        assert answer.status_code in (200, 201), answer.text
        with lock:
            receipts[sku] += 10
        count("receipts")
        time.sleep(0.3)

    def purchasing(client: httpx.Client, rng: random.Random) -> None:
        lines = [{"item_type": "sku", "item": rng.choice(skus), "quantity": 5}]
        url = platform.url("procurement", "/v1/purchase-orders")
        body = {"supplier_id": supplier["id"], "lines": lines}
        answer = until_answered(client, "POST", url, buyer, body, deadline)
        assert answer.status_code == 201, answer.text
        count("purchase_orders")
        time.sleep(1.0)

    def reporting(client: httpx.Client, rng: random.Random) -> None:
        report = rng.choice(["sales", "stock", "top-products", "order-funnel"])
        url = platform.url("analytics", f"/v1/reports/{report}")
        answer = until_answered(client, "GET", url, admin, None, deadline)
        assert answer.status_code == 200, answer.text
        count("reports")
        time.sleep(1.0)

    memory = Memory()
    workers = [
        threading.Thread(target=guarded(work))
        for work in (ordering, ordering, receiving, purchasing, reporting)
    ]
    for worker in workers:
        worker.start()
    kills: list[str] = []
    next_kill = time.monotonic() + KILL_EVERY
    while time.monotonic() < end and not errors:
        for name in SERVICES:
            memory.sample(name, platform.stack.process(name))
        if time.monotonic() >= next_kill:
            victim = random.choice(SERVICES)
            platform.stack.process(victim).kill()
            kills.append(victim)
            platform.stack.start([victim])
            next_kill = time.monotonic() + KILL_EVERY
        time.sleep(1.0)
    stop.set()
    for worker in workers:
        worker.join(timeout=320)
    for name in SERVICES:
        memory.sample(name, platform.stack.process(name))
    assert not errors, errors

    # Sagas finish: no order stays PENDING or owes an inventory call.
    def settled() -> list[dict[str, Any]] | None:
        found = [shop.order(order_id) for order_id in orders]
        if any(o["status"] == "PENDING" or o["saga"] is not None for o in found):
            return None
        return found

    final = wait_for(settled, timeout=120, every=1.0)

    _check_stock(platform, shop, skus, final, receipts)

    # The event feed: each order placed once; its last event is its status.
    feed: list[dict[str, Any]] = []
    after = 0
    events_headers = bearer(platform.service_token(["events:read"]))
    while True:
        page = platform.http.get(
            shop.url("/v1/events"), params={"after": after, "limit": 1000}, headers=events_headers
        ).json()
        feed += page["events"]
        if len(page["events"]) < 1000:
            break
        after = page["next_after"]
    seqs = [e["seq"] for e in feed]
    assert len(set(seqs)) == len(seqs)
    placed = Counter(e["data"]["order_id"] for e in feed if e["type"] == "order.placed")
    assert all(placed[order_id] == 1 for order_id in orders), "an order placed twice or never"
    last = {e["data"]["order_id"]: e["data"]["status"] for e in feed}
    assert all(last[o["id"]] == o["status"] for o in final)

    # Reports agree: analytics' units sold per SKU are the confirmed-or-later orders'.
    sold = Counter(
        line["sku"]
        for o in final
        if o["status"] in ("CONFIRMED", "SHIPPED", "DELIVERED")
        for line in o["lines"]
        for _ in range(line["quantity"])
    )

    def reported() -> bool:
        answer = platform.http.get(
            platform.url("analytics", "/v1/reports/sales"),
            params={"group_by": "product"},
            headers=admin,
        ).json()
        units = {row["group"]: row["units"] for row in answer["rows"] if row["group"] in skus}
        return units == {sku: sold[sku] for sku in skus if sold[sku]}

    wait_for(reported, timeout=120, every=1.0)

    lives = memory.growth(minimum_span=min(KILL_EVERY, SECONDS) / 2)
    figures = {
        "seconds": SECONDS,
        "kill_every": KILL_EVERY,
        "kills": kills,
        "counts": dict(counts),
        "orders_by_status": dict(Counter(o["status"] for o in final)),
        "events": len(feed),
        "memory": [
            {k: life[k] for k in ("service", "pid", "warm_rss", "last_rss", "growth")}
            for life in lives
        ],
        "max_growth": max((life["growth"] for life in lives), default=None),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    assert lives, "no process lived long enough after warm-up to measure its memory"
    assert all(life["growth"] < 0.10 for life in lives), figures["memory"]
