"""A service's whole event feed, as a consumer reads it (scope events:read)."""

from __future__ import annotations

from typing import Any

from tests.support.platform import Platform, bearer


def all_events(platform: Platform, service: str) -> list[dict[str, Any]]:
    headers = bearer(platform.service_token(["events:read"]))
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        response = platform.http.get(
            platform.url(service, "/v1/events"),
            params={"after": after, "limit": 1000},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["events"]
        if len(page["events"]) < 1000:
            return found
        after = page["next_after"]
