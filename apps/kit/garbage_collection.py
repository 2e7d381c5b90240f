"""Short garbage-collection pauses, and a measure of them.

CPython's full collection walks every container object the process holds, and
a service holds most of its objects from the moment it is ready: modules, models,
routes, schemas. Each full collection walked them all again (about 100k objects,
30-45 ms during which no request is served) and found nothing to free among them.
Freezing them once start-up is done leaves a full collection only the objects made
since, so it takes a few milliseconds. Frozen objects are still freed when their
last reference goes; only a reference cycle among them is never reclaimed, and the
collection just before the freeze clears every cycle start-up left behind."""

from __future__ import annotations

import gc
import time
from typing import Any

from apps.kit.metrics import gauge, histogram

PAUSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
GC_PAUSE = histogram(
    "gc_pause_seconds",
    "Time the garbage collector held the process, by generation (2 is a full collection).",
    ["generation"],
    buckets=PAUSE_BUCKETS,
)
FROZEN_OBJECTS = gauge(
    "gc_frozen_objects",
    "Objects frozen (at the end of start-up), which no collection walks again.",
)


def freeze_long_lived() -> int:
    """Collect the garbage, then freeze everything left, so that no later
    collection walks it; returns how many objects are frozen in all."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    FROZEN_OBJECTS.set(frozen)
    return frozen


class _PauseTimer:
    def __init__(self) -> None:
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        GC_PAUSE.labels(generation=str(info["generation"])).observe(
            time.perf_counter() - self._started
        )


_TIMER = _PauseTimer()


def time_pauses() -> None:
    """Record every collection's pause in `glosleep_gc_pause_seconds`; once per
    process however often it is called."""
    if _TIMER not in gc.callbacks:
        gc.callbacks.append(_TIMER)
