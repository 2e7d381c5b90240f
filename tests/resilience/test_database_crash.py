"""The database may crash: kill -9 the embedded database (SecantusDB) in the
middle of a burst of orders and receipts, start it again on the same storage and
port, and nothing acknowledged is lost, nothing is doubled, and nobody restarts
the services: they answer not-ready while it is down and recover by themselves.

Clients behave as real ones do: an answer other than 2xx or 4xx is retried with
the same Idempotency-Key (orders) or the same receipt id, until it succeeds."""

from __future__ import annotations

import os
import secrets
import signal
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
from tests.order.conftest import ORDER_TEST_ENV
from tests.support.platform import ADMIN_EMAIL, Platform, bearer, running_platform
from tests.support.shop import Shop
from tests.support.waiting import until_answered, wait_for

ORDERS_PER_CLIENT = 12
CLIENTS = 3
RECEIPTS = 12
STOCK = 10_000


class Crashable:
    """The embedded database on a storage folder, killed and restarted in place."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = EmbeddedMongo(storage=folder / "db", log=folder / "secantus.log")
        self.url = self.server.start()

    def kill(self) -> None:
        self.server.kill()

    def restart(self) -> None:
        self.server = EmbeddedMongo(
            storage=self.folder / "db", port=self.server.port, log=self.folder / "secantus.log"
        )
        self.server.start()


@pytest.fixture(scope="module")
def crashable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crashable]:
    database = Crashable(tmp_path_factory.mktemp("crash"))
    yield database
    database.server.stop()


@pytest.fixture(scope="module")
def crash_platform(
    crashable: Crashable, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    with running_platform(crashable.url, "crash_", tmp_path_factory.mktemp("logs")) as platform:
        platform.configure("order", ORDER_TEST_ENV)
        platform.start("inventory", "order")
        yield platform


def _ready(platform: Platform, service: str) -> bool:
    try:
        return httpx.get(platform.url(service, "/readyz"), timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_kill_9_of_the_database_loses_no_acknowledged_write(
    crashable: Crashable, crash_platform: Platform
) -> None:
    platform = crash_platform
    shop = Shop(platform)
    sku = shop.product(stock=STOCK)
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    receiver = bearer(platform.service_token(["inventory:receive"]))
    placed: list[dict[str, Any]] = []
    received: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 180

    def orders() -> None:
        client = httpx.Client(timeout=10)
        for _ in range(ORDERS_PER_CLIENT):
            key = str(uuid.uuid4())
            body = {"lines": [{"sku": sku, "quantity": 1}]}
            headers = {**me, "Idempotency-Key": key}
            answer = until_answered(client, "POST", shop.url("/v1/orders"), headers, body, deadline)
            assert answer.status_code in (201, 202), answer.text
            with lock:
                placed.append(answer.json())
            time.sleep(0.1)

    def receipts() -> None:
        client = httpx.Client(timeout=10)
        for _ in range(RECEIPTS):
            receipt_id = "rcp-crash-" + secrets.token_hex(6)
            body = {
                "warehouse_code": shop.warehouse,
                "reference": "crash test",
                "lines": [{"sku": sku, "quantity": 5, "unit_cost_paise": 100}],
            }
            url = platform.url("inventory", f"/v1/receipts/{receipt_id}")
            answer = until_answered(client, "PUT", url, receiver, body, deadline)
            assert answer.status_code in (200, 201), answer.text
            with lock:
                received.append((receipt_id, body))
            time.sleep(0.1)

    workers = [threading.Thread(target=orders) for _ in range(CLIENTS)]
    workers.append(threading.Thread(target=receipts))
    for worker in workers:
        worker.start()
    wait_for(lambda: len(placed) >= 3 and len(received) >= 2, timeout=60)
    crashable.kill()
    # While it is down, the services say so (and stay up).
    wait_for(lambda: not _ready(platform, "order") and not _ready(platform, "inventory"))
    assert platform.stack.process("order").running()
    assert platform.stack.process("inventory").running()
    time.sleep(1.0)  # the outage lasts a while: the burst keeps sending into it
    crashable.restart()
    wait_for(lambda: _ready(platform, "order") and _ready(platform, "inventory"), timeout=60)
    for worker in workers:
        worker.join(timeout=200)
    assert len(placed) == ORDERS_PER_CLIENT * CLIENTS
    assert len(received) == RECEIPTS

    # Every acknowledged order is there, once, and its saga finishes.
    ids = [order["id"] for order in placed]
    assert len(set(ids)) == len(ids)
    finished = wait_for(
        lambda: (
            all(o["status"] == "CONFIRMED" for o in (shop.order(i) for i in ids))
            and [shop.order(i) for i in ids]
        ),
        timeout=60,
    )
    assert len(finished) == len(ids)
    listed = platform.http.get(
        shop.url("/v1/orders"),
        params={"distributor_id": distributor_id, "limit": 200},
        headers=shop.admin,
    ).json()["items"]
    assert sorted(o["id"] for o in listed) == sorted(ids)  # no order the client did not get

    # Every acknowledged receipt is there, once: sent again, it is a replay (200),
    # not a new receipt (201); and stock adds up.
    for receipt_id, body in received:
        again = platform.http.put(
            platform.url("inventory", f"/v1/receipts/{receipt_id}"), json=body, headers=receiver
        )
        assert again.status_code == 200, (receipt_id, again.status_code, again.text)
    assert shop.level(sku) == {"on_hand": STOCK + 5 * RECEIPTS, "reserved": len(ids)}

    # The event feed: each order placed once and confirmed once, no seq twice.
    events = [e for i in ids for e in shop.events(i)]
    kinds = Counter((e["data"]["order_id"], e["type"]) for e in events)
    assert all(kinds[(i, "order.placed")] == 1 for i in ids), kinds
    assert all(kinds[(i, "order.confirmed")] == 1 for i in ids), kinds
    seqs = [e["seq"] for e in events]
    assert len(set(seqs)) == len(seqs)


STALL_SECONDS = 16.0  # a heartbeat (every 10 s) times out within it at 5 s, not at 20 s


def test_a_database_that_stalls_delays_writes_and_fails_none(
    crashable: Crashable, crash_platform: Platform
) -> None:
    """A database that stops answering for a while (a long pause of its process, a
    stalled disk) delays the writes in flight; none is cut off, retried behind its
    own back, and answered 500 (a duplicate key on a fresh refresh token, seen under
    load while the heartbeat timed out after 5 s)."""
    platform = crash_platform
    shop = Shop(platform)
    sku = shop.product(stock=100)
    me = shop.as_distributor(shop.distributor())
    answers: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def call(kind: str, method: str, url: str, **options: Any) -> None:
        answer = httpx.request(method, url, timeout=60, **options)
        with lock:
            answers.append((kind, answer.status_code, answer.text))

    login = {"email": ADMIN_EMAIL, "password": platform.admin_password}
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("login", "POST", platform.url("auth", "/v1/auth/login"), {"json": login}),
        *(
            (
                "order",
                "POST",
                shop.url("/v1/orders"),
                {
                    "json": {"lines": [{"sku": sku, "quantity": 1}]},
                    "headers": {**me, "Idempotency-Key": str(uuid.uuid4())},
                },
            )
            for _ in range(3)
        ),
    ]
    workers = [
        threading.Thread(target=call, args=(kind, method, url), kwargs=options)
        for kind, method, url, options in calls
    ]
    pid = crashable.server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        for worker in workers:
            worker.start()
        # The stall itself: its length is what is tested, not a wait for something.
        time.sleep(STALL_SECONDS)
    finally:
        os.kill(pid, signal.SIGCONT)
    for worker in workers:
        worker.join(timeout=120)
    assert sorted((kind, status) for kind, status, _ in answers) == [
        ("login", 200),
        *[("order", 201)] * 3,
    ], answers
