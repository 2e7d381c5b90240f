"""Polling with a deadline: what tests use instead of fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | Literal[False] | None], *, timeout: float = 20.0, every: float = 0.1
) -> T:
    """Poll until `check()` answers something truthy and answer it; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(every)
