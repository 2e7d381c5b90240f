"""KeyedLocks: holders of overlapping key sets take turns, disjoint sets do not wait,
a key listed twice is held once, and a lock is forgotten once nobody needs it (also
when a waiter is cancelled)."""

from __future__ import annotations

import asyncio

import pytest

from apps.kit.keyed_locks import KeyedLocks


async def test_overlapping_sets_take_turns_and_disjoint_sets_do_not_wait() -> None:
    locks = KeyedLocks()
    inside: set[str] = set()
    overlaps: list[tuple[str, str]] = []
    release, two_inside = asyncio.Event(), asyncio.Event()

    async def hold(name: str, keys: list[str]) -> None:
        async with locks.holding(keys):
            overlaps.extend((name, other) for other in inside)
            inside.add(name)
            if len(inside) == 2:
                two_inside.set()
            await release.wait()
            inside.discard(name)

    first = asyncio.create_task(hold("first", ["b", "a"]))
    second = asyncio.create_task(hold("second", ["c", "b"]))
    third = asyncio.create_task(hold("third", ["d"]))
    await two_inside.wait()
    await asyncio.sleep(0)  # "second" has had its turn to run
    # "second" shares b with "first" and waits; "third" shares nothing and is in.
    assert inside == {"first", "third"}
    release.set()
    await asyncio.gather(first, second, third)
    assert ("second", "first") not in overlaps
    assert len(locks) == 0


async def test_a_key_listed_twice_is_held_once() -> None:
    locks = KeyedLocks()
    async with asyncio.timeout(5), locks.holding(["a", "a", "b"]):
        assert len(locks) == 2
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = KeyedLocks()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with locks.holding(["a"]):
            holding.set()
            await release.wait()

    async def wait_for_a() -> None:
        async with locks.holding(["a", "b"]):
            raise AssertionError("never reached: cancelled while waiting")

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiter = asyncio.create_task(wait_for_a())
    await asyncio.sleep(0)  # the waiter runs until it waits for "a"
    assert len(locks) == 2
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await holder
    assert len(locks) == 0
