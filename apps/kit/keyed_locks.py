"""Locks by key within one process: a task holds the locks of a set of keys, taken in
key order (so holders of overlapping sets never wait on each other in a cycle), and a
key's lock is forgotten once nobody holds or waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def __len__(self) -> int:
        """How many keys are held or waited for."""
        return len(self._locks)

    @asynccontextmanager
    async def holding(self, keys: Iterable[str]) -> AsyncIterator[None]:
        ordered = sorted(set(keys))
        for key in ordered:
            self._locks.setdefault(key, asyncio.Lock())
            self._users[key] = self._users.get(key, 0) + 1
        try:
            async with AsyncExitStack() as held:
                for key in ordered:
                    await held.enter_async_context(self._locks[key])
                yield
        finally:
            for key in ordered:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key], self._locks[key]
