"""Placing an order is idempotent by Idempotency-Key: retries in sequence and
at the same time make one order and one reservation."""

from __future__ import annotations

import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection

from apps.kit.problems import problem_type
from tests.order.conftest import ORDER_TEST_ENV
from tests.support.problems import assert_problem
from tests.support.shop import Shop


def _orders_with_reference(shop: Shop, reference: str, distributor_id: str) -> list[str]:
    response = shop.http.get(
        shop.url("/v1/orders"),
        params={"distributor_id": distributor_id, "limit": 200},
        headers=shop.admin,
    )
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["items"] if o["reference"] == reference]


def test_sequential_retries_get_the_saved_answer(shop: Shop) -> None:
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=10)
    key = str(uuid.uuid4())
    first = shop.place(me, [(sku, 2)], key=key, reference="retry-seq")
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    for _ in range(3):
        again = shop.place(me, [(sku, 2)], key=key, reference="retry-seq")
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
    assert _orders_with_reference(shop, "retry-seq", distributor_id) == [first.json()["id"]]
    assert shop.level(sku) == {"on_hand": 10, "reserved": 2}

    other_body = shop.place(me, [(sku, 3)], key=key, reference="retry-seq")
    assert assert_problem(other_body, 422)["type"] == problem_type("idempotency-key-reused")
    assert shop.level(sku)["reserved"] == 2

    assert shop.act(first.json()["id"], "ship").json()["status"] == "SHIPPED"
    later = shop.place(me, [(sku, 2)], key=key, reference="retry-seq")
    assert later.status_code == 201
    assert later.json() == first.json()  # the answer as given, not the order as it is now


def test_a_saved_rejection_is_replayed_too(shop: Shop) -> None:
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=1)
    key = str(uuid.uuid4())
    first = shop.place(me, [(sku, 5)], key=key)
    assert first.json()["status"] == "REJECTED"
    shop.receive(sku, 10)
    again = shop.place(me, [(sku, 5)], key=key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert shop.level(sku)["reserved"] == 0


def test_concurrent_retries_make_one_order_and_one_reservation(shop: Shop) -> None:
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=50)
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda _: shop.place(me, [(sku, 3)], key=key, reference="retry-concurrent"),
                range(8),
            )
        )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert {a.json()["status"] for a in answers} == {"CONFIRMED"}
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert len(_orders_with_reference(shop, "retry-concurrent", distributor_id)) == 1
    assert shop.level(sku) == {"on_hand": 50, "reserved": 3}


def test_keys_are_scoped_per_caller_and_required(shop: Shop) -> None:
    sku = shop.product(stock=10)
    first_id, second_id = shop.distributor(), shop.distributor()
    key = "shared-" + secrets.token_hex(4)
    one = shop.place(shop.as_distributor(first_id), [(sku, 1)], key=key)
    two = shop.place(shop.as_distributor(second_id), [(sku, 1)], key=key)
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert shop.level(sku)["reserved"] == 2

    body = {"lines": [{"sku": sku, "quantity": 1}]}
    me = shop.as_distributor(first_id)
    missing = shop.http.post(shop.url("/v1/orders"), json=body, headers=me)
    assert assert_problem(missing, 400)["type"] == problem_type("idempotency-key-required")
    for bad_key in ("k" * 256, "has space", ""):
        response = shop.http.post(
            shop.url("/v1/orders"), json=body, headers={**me, "Idempotency-Key": bad_key}
        )
        assert 400 <= response.status_code < 500
        assert_problem(response, response.status_code)
    longest = shop.place(me, [(sku, 1)], key="k" * 255)
    assert longest.status_code == 201
    assert shop.level(sku)["reserved"] == 3


def test_a_request_that_fails_before_its_order_is_stored_frees_its_key(
    shop: Shop, mongo_url: str
) -> None:
    """Storing the order fails after pricing (here: its number is taken, as a
    stand-in for any failure of the store). Before, the key was stored first, so
    the retry waited IDEMPOTENCY_WAIT_SECONDS for an order that never came. Now
    the key, the order and its event are one transaction: the failed attempt
    leaves nothing behind and the retry is placed at once."""
    distributor_id = shop.distributor()
    me = shop.as_distributor(distributor_id)
    sku = shop.product(stock=10)
    first = shop.place(me, [(sku, 1)], reference="number-taker")
    assert first.status_code == 201, first.text
    year, number = first.json()["number"].rsplit("-", 1)
    blocker_id = "ord_blocker" + secrets.token_hex(8)
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        orders: Collection[dict[str, Any]] = client[shop.platform.stack.database("order")]["orders"]
        stored = orders.find_one({"_id": first.json()["id"]})
        assert stored is not None
        # The next number this order process hands out is taken already.
        taken = f"{year}-{int(number) + 1:06d}"
        orders.insert_one({**stored, "_id": blocker_id, "number": taken})
        try:
            key = str(uuid.uuid4())
            failed = shop.place(me, [(sku, 2)], key=key, reference="fails-first")
            assert failed.status_code == 500, failed.text
            started = time.monotonic()
            retried = shop.place(me, [(sku, 2)], key=key, reference="fails-first")
            waited = time.monotonic() - started
        finally:
            orders.delete_one({"_id": blocker_id})
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert waited < float(ORDER_TEST_ENV["IDEMPOTENCY_WAIT_SECONDS"]), waited
    assert _orders_with_reference(shop, "fails-first", distributor_id) == [retried.json()["id"]]
    assert shop.level(sku) == {"on_hand": 10, "reserved": 1 + 2}
    again = shop.place(me, [(sku, 2)], key=key, reference="fails-first")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == retried.json()
