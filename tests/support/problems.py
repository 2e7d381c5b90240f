"""Assertions about RFC 9457 problem answers."""

from __future__ import annotations

from typing import Any

import httpx


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    return body


def assert_client_error(response: httpx.Response) -> dict[str, Any]:
    """A 4xx problem, never a 500 or a stack trace."""
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    return assert_problem(response, response.status_code)
