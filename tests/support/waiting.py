"""Polling with a deadline: what tests use instead of fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import httpx

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


def until_answered(
    client: httpx.Client,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any | None,
    deadline: float,
) -> httpx.Response:
    """Send as a client that retries does (same request, same keys), until the
    answer is a 2xx or 4xx: 5xx answers and connection errors are retried; fail
    after `deadline` (a time.monotonic() value)."""
    while True:
        try:
            response = client.request(method, url, json=body, headers=headers)
            if response.status_code < 500:
                return response
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {url}: no 2xx or 4xx answer in time")
        time.sleep(0.2)
