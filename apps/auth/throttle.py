"""Login throttling per account and per client address (fixed windows kept in
the database, so every replica sees the same counts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from apps.auth.models import LoginFailures
from apps.kit.clock import utcnow


@dataclass(frozen=True)
class Limits:
    window_seconds: int
    per_account: int
    per_address: int


class LoginThrottle:
    def __init__(self, limits: Limits) -> None:
        self._limits = limits

    def _keys(self, email: str, address: str) -> list[tuple[str, int]]:
        return [
            (f"account:{email}", self._limits.per_account),
            (f"address:{address}", self._limits.per_address),
        ]

    async def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None when allowed now."""
        now = utcnow()
        waits = []
        for key, limit in self._keys(email, address):
            entry = await LoginFailures.get(key)
            if entry is None or entry.failures < limit:
                continue
            ends = entry.window_started_at + timedelta(seconds=self._limits.window_seconds)
            if ends > now:
                waits.append(math.ceil((ends - now).total_seconds()))
        return max(waits) if waits else None

    async def record_failure(self, email: str, address: str) -> None:
        now = utcnow()
        window = timedelta(seconds=self._limits.window_seconds)
        collection = LoginFailures.get_pymongo_collection()
        for key, _ in self._keys(email, address):
            counted = await collection.update_one(
                {"_id": key, "window_started_at": {"$gt": now - window}},
                {"$inc": {"failures": 1}},
            )
            if counted.matched_count:
                continue
            fresh = {"failures": 1, "window_started_at": now, "expires_at": now + window}
            try:
                # Replace an ended window, or start the first one.
                await collection.replace_one(
                    {"_id": key, "window_started_at": {"$lte": now - window}}, fresh, upsert=True
                )
            except DuplicateKeyError:
                # Another replica started the window a moment ago: count on in it.
                await collection.update_one({"_id": key}, {"$inc": {"failures": 1}})

    async def record_success(self, email: str) -> None:
        await LoginFailures.get_pymongo_collection().delete_one({"_id": f"account:{email}"})
