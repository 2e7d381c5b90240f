"""A lease is held by one holder at a time, renewed only once a third of its ttl
has passed, and taken over once it has expired."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient

from apps.kit.clock import utcnow
from apps.kit.leases import Lease, hold_lease

TTL = 15.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clock(mongo_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Clock]:
    name = f"lease{secrets.token_hex(4)}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    await init_beanie(database=client[name], document_models=[Lease])
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)
    yield fake
    await client.drop_database(name)
    await client.close()


async def expires_at() -> Any:
    found = await Lease.get_pymongo_collection().find_one({"_id": "work"})
    assert found is not None
    return found["expires_at"]


async def test_one_holder_renewing_every_third_of_the_ttl(clock: Clock) -> None:
    assert await hold_lease("work", TTL, holder="a")
    taken = await expires_at()
    assert not await hold_lease("work", TTL, holder="b")

    clock.now += TTL / 3 - 1
    assert await hold_lease("work", TTL, holder="a")
    assert await expires_at() == taken  # not written again yet

    clock.now += 2
    assert await hold_lease("work", TTL, holder="a")
    assert await expires_at() > taken
    assert not await hold_lease("work", TTL, holder="b")


async def test_an_expired_lease_is_taken_over(clock: Clock) -> None:
    assert await hold_lease("work", TTL, holder="a")
    # a stops renewing (stalled or gone) until its lease has expired.
    await Lease.get_pymongo_collection().update_one(
        {"_id": "work"}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )
    clock.now += TTL
    assert await hold_lease("work", TTL, holder="b")
    assert not await hold_lease("work", TTL, holder="a")
    clock.now += TTL / 3 + 1
    assert await hold_lease("work", TTL, holder="b")
    assert not await hold_lease("work", TTL, holder="a")
