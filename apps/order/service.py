"""The order service's parts, built once per process and shared by the routes
and the recovery loop."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import Depends, Request
from pymongo import ReturnDocument

from apps.kit.app import AppKit
from apps.order.catalog import CatalogCache
from apps.order.inventory_client import InventoryClient
from apps.order.models import Distributor, OrderCounter
from apps.order.settings import OrderSettings


class OrderParts:
    def __init__(self, settings: OrderSettings) -> None:
        self.settings = settings
        self.distributors = DistributorCache(settings.distributor_cache_seconds)
        self.numbers = OrderNumbers(settings.order_number_block)
        self._kit: AppKit | None = None
        self._inventory: InventoryClient | None = None
        self._catalog: CatalogCache | None = None

    def bind(self, kit: AppKit) -> None:
        self._kit = kit
        self._inventory = InventoryClient(
            kit.client(
                "inventory",
                self.settings.inventory_url,
                timeout_seconds=self.settings.inventory_timeout_seconds,
            ),
            ttl_seconds=self.settings.reservation_ttl_seconds,
        )
        self._catalog = CatalogCache(
            self._inventory,
            fresh_seconds=self.settings.catalog_cache_seconds,
            stale_seconds=self.settings.catalog_stale_seconds,
        )

    @property
    def kit(self) -> AppKit:
        assert self._kit is not None, "OrderParts.bind(kit) runs at start"
        return self._kit

    @property
    def inventory(self) -> InventoryClient:
        assert self._inventory is not None, "OrderParts.bind(kit) runs at start"
        return self._inventory

    @property
    def catalog(self) -> CatalogCache:
        assert self._catalog is not None, "OrderParts.bind(kit) runs at start"
        return self._catalog


class DistributorCache:
    """Active distributors, reused for a few seconds: every order reads its
    distributor, and a deactivation takes effect within DISTRIBUTOR_CACHE_SECONDS."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._found: dict[str, tuple[Distributor, float]] = {}

    async def active(self, distributor_id: str) -> Distributor | None:
        now = time.monotonic()
        cached = self._found.get(distributor_id)
        if cached is not None and now - cached[1] <= self._seconds:
            return cached[0]
        distributor = await Distributor.get(distributor_id)
        if distributor is None or not distributor.active:
            self._found.pop(distributor_id, None)
            return None
        self._found[distributor_id] = (distributor, now)
        return distributor


class OrderNumbers:
    """SO-<year>-<n> from an atomic counter per year, taken `block` numbers at a
    time: unique and increasing within a process; a restart (or another
    replica) leaves a gap of at most one block."""

    def __init__(self, block: int) -> None:
        self._block = block
        self._next: dict[int, tuple[int, int]] = {}  # year -> (next, last) of the block
        self._lock = asyncio.Lock()

    async def next(self, year: int) -> str:
        async with self._lock:
            following, last = self._next.get(year, (1, 0))
            if following > last:
                counter = await OrderCounter.get_pymongo_collection().find_one_and_update(
                    {"_id": f"SO-{year}"},
                    {"$inc": {"value": self._block}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                assert counter is not None  # upserted
                last = int(counter["value"])
                following = last - self._block + 1
            self._next[year] = (following + 1, last)
        return f"SO-{year}-{following:06d}"


async def _parts(request: Request) -> OrderParts:
    parts: OrderParts = request.app.state.order
    return parts


Parts = Annotated[OrderParts, Depends(_parts)]
