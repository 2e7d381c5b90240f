"""Prices and GST for order lines, from inventory's catalogue at order time.

Entries are reused for a few seconds (CATALOG_CACHE_SECONDS) so that a burst of
orders does not ask inventory for the same products again and again; when
inventory cannot be reached, an entry up to CATALOG_STALE_SECONDS old still
prices the order, which then waits PENDING until inventory is back."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from apps.kit.money import price_line
from apps.kit.problems import UnprocessableContent
from apps.kit.service_client import UpstreamError, UpstreamUnavailable
from apps.order.inventory_client import CatalogEntry, InventoryClient
from apps.order.models import OrderLine

log = logging.getLogger("glosleep.order.catalog")


class CatalogCache:
    def __init__(
        self, inventory: InventoryClient, *, fresh_seconds: float, stale_seconds: float
    ) -> None:
        self._inventory = inventory
        self._fresh = fresh_seconds
        self._stale = max(stale_seconds, fresh_seconds)
        self._entries: dict[str, tuple[CatalogEntry, float]] = {}

    async def entries(self, skus: Sequence[str]) -> dict[str, CatalogEntry]:
        now = time.monotonic()
        wanted = list(dict.fromkeys(skus))
        missing = [
            sku
            for sku in wanted
            if sku not in self._entries or now - self._entries[sku][1] > self._fresh
        ]
        if missing:
            try:
                fetched = await self._inventory.catalog(missing)
            except (UpstreamUnavailable, UpstreamError) as error:
                usable = all(
                    sku in self._entries and now - self._entries[sku][1] <= self._stale
                    for sku in missing
                )
                if not usable:
                    raise UpstreamUnavailable("inventory", str(error)) from error
                log.warning("pricing from cached catalogue entries", extra={"error": str(error)})
            else:
                for sku in missing:
                    self._entries.pop(sku, None)
                for sku, entry in fetched.items():
                    self._entries[sku] = (entry, now)
        return {sku: self._entries[sku][0] for sku in wanted if sku in self._entries}


def price_lines(
    requested: Sequence[tuple[str, int]], catalog: dict[str, CatalogEntry]
) -> list[OrderLine]:
    """Order lines with amounts in paise; GST rounded half up per line."""
    unknown = [sku for sku, _ in requested if sku not in catalog]
    inactive = [sku for sku, _ in requested if sku in catalog and not catalog[sku].active]
    if unknown or inactive:
        errors = [
            {"path": f"body.lines[{index}].sku", "message": f"unknown SKU {sku}"}
            for index, (sku, _) in enumerate(requested)
            if sku in unknown
        ] + [
            {"path": f"body.lines[{index}].sku", "message": f"SKU {sku} is not sold any more"}
            for index, (sku, _) in enumerate(requested)
            if sku in inactive
        ]
        raise UnprocessableContent(
            "Some lines name products that cannot be ordered.", slug="unknown-sku", errors=errors
        )
    lines = []
    for sku, quantity in requested:
        entry = catalog[sku]
        amounts = price_line(entry.unit_price_paise, quantity, entry.gst_rate_bps)
        lines.append(
            OrderLine(
                sku=sku,
                name=entry.name,
                category=entry.category,
                quantity=quantity,
                unit_price_paise=entry.unit_price_paise,
                gst_rate_bps=entry.gst_rate_bps,
                line_subtotal_paise=amounts.line_subtotal_paise,
                line_tax_paise=amounts.line_tax_paise,
                line_total_paise=amounts.line_total_paise,
            )
        )
    return lines
