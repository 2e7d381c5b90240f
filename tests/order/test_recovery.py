"""Recovery: orders placed while inventory is down wait PENDING and confirm once
it is back; an order process killed mid-saga leaves nothing stuck and nothing
reserved twice."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from pymongo import MongoClient
from pymongo.collection import Collection

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from apps.kit.problems import problem_type
from tests.order.conftest import ORDER_TEST_ENV
from tests.support.platform import Platform
from tests.support.problems import assert_problem
from tests.support.shop import Shop
from tests.support.waiting import wait_for


@contextmanager
def inventory_stopped(platform: Platform) -> Iterator[None]:
    platform.stack.process("inventory").stop()
    try:
        yield
    finally:
        platform.start("inventory")


@contextmanager
def inventory_frozen(platform: Platform) -> Iterator[None]:
    """SIGSTOP: connections are accepted by the kernel but nothing answers."""
    pid = platform.stack.process("inventory").pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _status(shop: Shop, order_id: str) -> str:
    status: str = shop.order(order_id)["status"]
    return status


def _wait_status(shop: Shop, order_id: str, status: str) -> None:
    wait_for(lambda: _status(shop, order_id) == status)


def test_orders_wait_pending_while_inventory_is_down(shop: Shop) -> None:
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=20)
    confirmed = shop.place(me, [(sku, 1)]).json()  # prices are known from now on
    assert confirmed["status"] == "CONFIRMED"

    keys = [str(uuid.uuid4()) for _ in range(3)]
    with inventory_stopped(shop.platform):
        answers = [shop.place(me, [(sku, 2)], key=key) for key in keys]
        assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
        pending = [a.json() for a in answers]
        assert {o["status"] for o in pending} == {"PENDING"}
        assert {o["saga"] for o in pending} == {"reserve"}
        assert answers[0].headers["location"] == f"/v1/orders/{pending[0]['id']}"
        replay = shop.place(me, [(sku, 2)], key=keys[0])
        assert replay.status_code == 202
        assert replay.json()["id"] == pending[0]["id"]

        cancelled = shop.act(pending[2]["id"], "cancel", headers=me)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "CANCELLED"
        assert cancelled.json()["saga"] == "release"  # owed until inventory is back
        shipped = assert_problem(shop.act(confirmed["id"], "ship"), 503)
        assert shipped["type"] == problem_type("dependency-unavailable")
        assert shop.order(confirmed["id"])["saga"] == "commit"  # owed: the recovery ships it

    for order in pending[:2]:
        _wait_status(shop, order["id"], "CONFIRMED")
    wait_for(lambda: shop.order(pending[2]["id"])["saga"] is None)
    assert _status(shop, pending[2]["id"]) == "CANCELLED"
    _wait_status(shop, confirmed["id"], "SHIPPED")
    assert shop.order(confirmed["id"])["history"][-1]["actor"] != "system:recovery"
    assert shop.level(sku) == {"on_hand": 19, "reserved": 2 + 2}
    recovered = shop.order(pending[0]["id"])
    assert recovered["history"][-1]["actor"] == "system:recovery"
    assert shop.reservation(pending[2]["id"]).json()["status"] == "released"
    again = shop.place(me, [(sku, 2)], key=keys[0])
    assert again.status_code == 201
    assert again.json()["status"] == "CONFIRMED"

    def pending_gauge() -> bool:
        metrics = shop.http.get(shop.url("/metrics")).text
        return "glosleep_orders_pending 0.0" in metrics

    wait_for(pending_gauge)


def test_kill_9_mid_saga_leaves_nothing_stuck_or_reserved_twice(shop: Shop) -> None:
    platform = shop.platform
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=40)
    log_dir = platform.stack.config.log_dir
    doomed = ServiceProcess(
        "order-crash",
        free_port(),
        {**platform.stack.env_for("order"), **ORDER_TEST_ENV, "CATALOG_CACHE_SECONDS": "120"},
        log_path=log_dir / "order-crash.log" if log_dir else None,
        module="apps.order",
    )
    doomed.start()
    try:
        doomed.wait_ready()
        primed = httpx.post(
            doomed.url + "/v1/orders",
            json={"lines": [{"sku": sku, "quantity": 1}]},
            headers={**me, "Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        )
        assert primed.json()["status"] == "CONFIRMED", primed.text
        keys = [str(uuid.uuid4()) for _ in range(4)]

        def place(key: str) -> int:
            try:
                return httpx.post(
                    doomed.url + "/v1/orders",
                    json={"lines": [{"sku": sku, "quantity": 3}], "reference": "crash"},
                    headers={**me, "Idempotency-Key": key},
                    timeout=30,
                ).status_code
            except httpx.HTTPError:
                return 0  # the process died under the request

        def stored() -> list[dict[str, object]]:
            listed = shop.http.get(
                shop.url("/v1/orders"),
                params={"distributor_id": distributor_id, "status": "PENDING"},
                headers=shop.admin,
            ).json()["items"]
            return listed if len(listed) == len(keys) else []

        with inventory_frozen(platform), ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(place, key) for key in keys]
            pending = wait_for(stored, timeout=10)
            doomed.kill()
            assert {f.result() for f in futures} == {0}
        doomed.start()
        doomed.wait_ready()

        for order in pending:
            _wait_status(shop, str(order["id"]), "CONFIRMED")
        assert shop.level(sku) == {"on_hand": 40, "reserved": 1 + 4 * 3}
        retried = [shop.place(me, [(sku, 3)], key=key, reference="crash") for key in keys]
        assert {r.json()["id"] for r in retried} == {o["id"] for o in pending}
        assert {r.json()["status"] for r in retried} == {"CONFIRMED"}
        assert shop.level(sku) == {"on_hand": 40, "reserved": 1 + 4 * 3}
    finally:
        doomed.stop()


def test_a_key_whose_order_was_lost_is_completed_by_the_retry(shop: Shop, mongo_url: str) -> None:
    """The crash window between storing the key and storing the order: the
    retry waits for the first request, then places the order under the id the
    key names, so inventory sees the same reservation id (reserved once)."""
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=10)
    key = str(uuid.uuid4())
    first = shop.place(me, [(sku, 4)], key=key).json()
    assert shop.level(sku)["reserved"] == 4
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        orders: Collection[dict[str, Any]] = client[shop.platform.stack.database("order")]["orders"]
        assert orders.delete_one({"_id": first["id"]}).deleted_count == 1

    retried = shop.place(me, [(sku, 4)], key=key)
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] == first["id"]
    assert retried.json()["status"] == "CONFIRMED"
    assert retried.json()["number"] != first["number"]  # a new number: the old one is gone
    assert shop.level(sku) == {"on_hand": 10, "reserved": 4}
