"""The order service's parts, built once per process and shared by the routes
and the recovery loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apps.kit.app import AppKit
from apps.order.catalog import CatalogCache
from apps.order.inventory_client import InventoryClient
from apps.order.settings import OrderSettings


class OrderParts:
    def __init__(self, settings: OrderSettings) -> None:
        self.settings = settings
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


def _parts(request: Request) -> OrderParts:
    parts: OrderParts = request.app.state.order
    return parts


Parts = Annotated[OrderParts, Depends(_parts)]
