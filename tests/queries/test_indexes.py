"""Every query the services issue uses an index: the services run a workload through
their APIs (and their background loops run meanwhile) with the database profiler on, then
every recorded read is explained against the embedded database (tests/support/queries.py).
A missing index fails here, naming the collection and the filter, rather than a user
once the collection has grown."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.support.platform import Platform
from tests.support.queries import Document, profiled, unindexed_reads
from tests.support.shop import Shop
from tests.support.waiting import wait_for

ORDER_PATH = ("auth", "inventory", "order")


@pytest.fixture
def scratch(client: MongoClient[Document]) -> Iterator[Database[Document]]:
    database = client[f"idx{secrets.token_hex(4)}"]
    database["things"].insert_many([{"owner": n % 5, "at": n} for n in range(20)])
    yield database
    client.drop_database(database.name)


def test_the_check_fails_a_query_without_an_index(scratch: Database[Document]) -> None:
    things = scratch["things"]
    with profiled([scratch]):
        things.find_one({"owner": 3})
        list(things.find({}).sort("at", -1).limit(2))
        things.update_one({"owner": 2}, {"$set": {"seen": True}})
        latest: list[Document] = [{"$sort": {"owner": 1, "at": -1}}, {"$group": {"_id": "$owner"}}]
        list(things.aggregate(latest))
    assert len(unindexed_reads(scratch)) == 4
    things.create_index([("owner", 1)])
    things.create_index([("at", -1)])
    assert unindexed_reads(scratch) == []


def test_only_an_unfiltered_read_of_a_collection_read_whole_is_exempt(
    scratch: Database[Document],
) -> None:
    with profiled([scratch]):
        list(scratch["things"].find({}))
        scratch["things"].find_one({"owner": 1})
    missing = unindexed_reads(scratch, read_whole={"things", "others"})
    where = [f"{scratch.name}.{name}" for name in ("others", "things")]
    assert [line.split(":")[0] for line in missing] == where
    assert "never read whole" in missing[0]
    assert "'owner': 1" in missing[1]


def test_every_query_on_the_order_path_uses_an_index(
    platform: Platform, client: MongoClient[Document]
) -> None:
    """Placing, reading, listing page by page, stock levels, cancelling, shipping and
    delivering, with the outbox relays, reservation expiry and lease loops running."""
    platform.start("inventory", "order")
    shop = Shop(platform)
    skus = [shop.product(100) for _ in range(2)]
    distributor = shop.distributor()
    headers = shop.as_distributor(distributor)
    databases = [client[platform.stack.database(name)] for name in ORDER_PATH]
    with profiled(databases):
        placed = []
        for n in range(5):
            response = shop.place(headers, [(skus[n % 2], 1)], reference=f"IDX-{n}")
            assert response.status_code == 201, response.text
            placed.append(response.json()["id"])
        first = shop.place(headers, [(skus[0], 1)], reference="IDX-again", key="idx-key")
        replay = shop.place(headers, [(skus[0], 1)], reference="IDX-again", key="idx-key")
        assert replay.json()["id"] == first.json()["id"]
        for order_id in placed:

            def confirmed(order_id: str = order_id) -> bool:
                return bool(shop.order(order_id)["status"] == "CONFIRMED")

            wait_for(confirmed)
        shop.order(placed[0])
        cursor = None
        for _ in range(3):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = platform.http.get(shop.url("/v1/orders"), params=params, headers=headers)
            assert response.status_code == 200, response.text
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        platform.http.get(
            shop.url("/v1/orders"),
            params={"distributor_id": distributor, "status": "CONFIRMED"},
            headers=shop.admin,
        ).raise_for_status()
        shop.level(skus[0])
        platform.http.get(
            platform.url("inventory", "/v1/availability"),
            params={"sku": skus},
            headers=shop.admin,
        ).raise_for_status()
        assert shop.reservation(placed[0]).status_code == 200
        assert shop.act(placed[1], "cancel", "sales").status_code == 200
        assert shop.act(placed[2], "ship").status_code == 200
        assert shop.act(placed[2], "deliver").status_code == 200
        assert shop.events(placed[2])
    missing = [read for database in databases for read in unindexed_reads(database)]
    assert missing == [], "queries without an index:\n" + "\n".join(missing)
