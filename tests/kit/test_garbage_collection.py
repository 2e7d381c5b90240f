"""Full collections walk only what a service made after start-up, and every
collection's pause is measured."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from apps.kit.garbage_collection import freeze_long_lived, time_pauses


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def garbage_cycle() -> weakref.ref[Node]:
    """A reference cycle nothing else holds: only a collection frees it."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_a_full_collection_after_start_up_walks_only_what_was_made_since() -> None:
    left_by_start_up = garbage_cycle()
    held_since_start_up = [Node() for _ in range(10_000)]

    frozen = freeze_long_lived()

    assert left_by_start_up() is None, "start-up's garbage was frozen instead of freed"
    walked = {id(thing) for thing in gc.get_objects()}
    assert not any(id(node) in walked for node in held_since_start_up)
    assert frozen > len(held_since_start_up)
    assert len(walked) < frozen / 10

    made_later = garbage_cycle()
    gc.collect()
    assert made_later() is None, "garbage made after the freeze is still collected"


def test_each_collection_is_timed_once_by_generation() -> None:
    def full_collections() -> float:
        return (
            REGISTRY.get_sample_value("glosleep_gc_pause_seconds_count", {"generation": "2"}) or 0.0
        )

    time_pauses()
    time_pauses()
    # No automatic collection (another thread's allocations) between the two readings.
    gc.disable()
    try:
        before = full_collections()
        gc.collect()
        after = full_collections()
    finally:
        gc.enable()
    assert after == before + 1
    assert (
        REGISTRY.get_sample_value("glosleep_gc_pause_seconds_sum", {"generation": "2"}) or 0
    ) > 0
