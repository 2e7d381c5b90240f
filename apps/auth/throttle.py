"""Throttling of secret guessing: passwords at login and at password change, and
client secrets at the token endpoint (ADR 0005).

Attempts are counted under two keys, in the database so every replica sees the
same counts:

- the secret's owner together with the caller's address (``pair:<who>|<address>``):
  after ``limit`` failures that pair waits, and each further lockout doubles the
  wait (exponential backoff, capped). Failures from other addresses never lock the
  owner out of their own address;
- the caller's address across every account (``address:<address>``): a client
  spraying one password over many accounts is slowed the same way.

An attempt is *admitted* before the secret is checked, by one atomic, guarded
increment per key (``failures < limit`` and not blocked; an upsert that collides
with a blocked key is a refusal), so concurrent attempts cannot overshoot the
limit: of 20 simultaneous wrong passwords exactly ``limit`` are checked. A
success gives the attempt back: it clears the pair and refunds the address."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from apps.auth.models import LoginFailures
from apps.kit.clock import utcnow


@dataclass(frozen=True)
class Rule:
    """`limit` failures, then a wait of `first_block_seconds`, doubled on every
    further lockout up to `max_block_seconds`."""

    limit: int
    first_block_seconds: int
    max_block_seconds: int

    def block_seconds(self, lockouts: int) -> int:
        return min(self.max_block_seconds, self.first_block_seconds << min(lockouts, 30))


@dataclass(frozen=True)
class Limits:
    # Counts of failures are forgotten this long after the last attempt or block.
    window_seconds: int
    per_pair: Rule
    per_address: Rule


@dataclass(frozen=True)
class Attempt:
    """An admitted attempt: report its outcome with `succeeded` or `failed`."""

    keys: tuple[tuple[str, Rule], ...]


class Throttled(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("throttled")
        self.retry_after_seconds = retry_after_seconds


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    if moment is None:
        return 1
    return max(1, math.ceil((moment - now).total_seconds()))


class Throttle:
    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._window = timedelta(seconds=limits.window_seconds)

    @staticmethod
    def _collection() -> AsyncCollection[dict[str, Any]]:
        return LoginFailures.get_pymongo_collection()

    def _keys(self, kind: str, who: str, address: str) -> tuple[tuple[str, Rule], ...]:
        return (
            (f"pair:{kind}:{who}|{address}", self._limits.per_pair),
            (f"address:{address}", self._limits.per_address),
        )

    async def admit(self, kind: str, who: str, address: str) -> Attempt:
        """Count an attempt by `who` (an email or a client id) from `address`, or
        raise :class:`Throttled` with the seconds to wait."""
        keys = self._keys(kind, who, address)
        taken: list[str] = []
        for key, rule in keys:
            wait = await self._take(key, rule)
            if wait is not None:
                for earlier in taken:
                    await self._give_back(earlier)
                raise Throttled(wait)
            taken.append(key)
        return Attempt(keys)

    async def _take(self, key: str, rule: Rule) -> int | None:
        now = utcnow()
        collection = self._collection()
        # A count whose window has passed is forgotten (the TTL index also removes
        # it, but only once a minute).
        await collection.delete_one({"_id": key, "expires_at": {"$lte": now}})
        try:
            await collection.find_one_and_update(
                {
                    "_id": key,
                    "failures": {"$lt": rule.limit},
                    "blocked_until": {"$not": {"$gt": now}},
                },
                {
                    "$inc": {"failures": 1},
                    "$max": {"expires_at": now + self._window},
                    "$setOnInsert": {"window_started_at": now, "lockouts": 0},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            # The key exists but its guard refused: blocked, or at the limit with
            # attempts still being checked.
            entry = await collection.find_one({"_id": key})
            if entry is None:  # expired in between: try once more on the next request
                return 1
            blocked_until = entry.get("blocked_until")
            if blocked_until is not None and blocked_until > now:
                return _seconds_until(blocked_until, now)
            return _seconds_until(entry.get("expires_at"), now)
        return None

    async def _give_back(self, key: str) -> None:
        await self._collection().update_one(
            {"_id": key, "failures": {"$gt": 0}}, {"$inc": {"failures": -1}}
        )

    async def succeeded(self, attempt: Attempt) -> None:
        """The secret was right: the pair starts afresh, the address gets its
        attempt back (so a client's own good logins never slow it down)."""
        (pair, _), *others = attempt.keys
        await self._collection().delete_one({"_id": pair})
        for key, _ in others:
            await self._give_back(key)

    async def failed(self, attempt: Attempt) -> None:
        """The secret was wrong: the attempt stays counted; a key that reached
        its limit is blocked for its next backoff step."""
        for key, rule in attempt.keys:
            await self._block_if_full(key, rule)

    async def _block_if_full(self, key: str, rule: Rule) -> None:
        collection = self._collection()
        entry = await collection.find_one({"_id": key, "failures": {"$gte": rule.limit}})
        if entry is None:
            return
        now = utcnow()
        lockouts = int(entry.get("lockouts", 0))
        blocked_until = now + timedelta(seconds=rule.block_seconds(lockouts))
        # Guarded on the lockout count: of concurrent failures, one blocks.
        await collection.update_one(
            {"_id": key, "lockouts": lockouts, "failures": {"$gte": rule.limit}},
            {
                "$set": {"failures": 0, "blocked_until": blocked_until},
                "$inc": {"lockouts": 1},
                "$max": {"expires_at": blocked_until + self._window},
            },
        )
