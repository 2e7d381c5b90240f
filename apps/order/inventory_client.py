"""Inventory's API as the order service uses it (docs/architecture.md,
"Inventory's API for other services"): the catalogue, and reserve / commit /
release keyed by the order id. Every call is idempotent, so the kit's client
may retry it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apps.kit.problems import problem_slug
from apps.kit.service_client import ServiceClient, UpstreamError, UpstreamUnavailable
from apps.order.metrics import SAGA_STEP


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    name: str
    category: str
    unit_price_paise: int
    gst_rate_bps: int
    active: bool


@dataclass(frozen=True)
class Reserved:
    """The reservation exists (new or replayed)."""


@dataclass(frozen=True)
class Refused:
    """Inventory refused the reservation for good: short lines, a closed or
    mismatched reservation, or lines it does not accept."""

    slug: str
    detail: str
    short_lines: list[dict[str, Any]]


class InventoryClient:
    def __init__(self, client: ServiceClient, *, ttl_seconds: int | None = None) -> None:
        self._client = client
        self._ttl_seconds = ttl_seconds

    async def catalog(self, skus: Sequence[str]) -> dict[str, CatalogEntry]:
        started = time.perf_counter()
        try:
            body = await self._client.request("GET", "/v1/products", params={"sku": list(skus)})
        finally:
            SAGA_STEP.labels("catalog").observe(time.perf_counter() - started)
        items = body.get("items", []) if isinstance(body, dict) else body
        entries = {}
        for item in items:
            entry = CatalogEntry(
                sku=str(item["sku"]),
                name=str(item.get("name", item["sku"])),
                category=str(item.get("category", "")),
                unit_price_paise=int(item["unit_price_paise"]),
                gst_rate_bps=int(item["gst_rate_bps"]),
                active=bool(item.get("active", True)),
            )
            entries[entry.sku] = entry
        return entries

    async def reserve(self, reservation_id: str, lines: list[dict[str, Any]]) -> Reserved | Refused:
        """Raises UpstreamUnavailable (or UpstreamError for answers that may
        change on retry) when the outcome is not known yet."""
        body: dict[str, Any] = {"lines": lines}
        if self._ttl_seconds is not None:
            body["ttl_seconds"] = self._ttl_seconds
        started = time.perf_counter()
        try:
            await self._client.request(
                "PUT", f"/v1/reservations/{reservation_id}", json=body, idempotent=True
            )
        except UpstreamError as error:
            if error.status in (400, 409, 422):
                return Refused(
                    slug=problem_slug(str(error.problem.get("type", ""))) or "refused",
                    detail=str(error.problem.get("detail") or error.problem.get("title") or ""),
                    short_lines=list(error.problem.get("short_lines") or []),
                )
            raise
        finally:
            SAGA_STEP.labels("reserve").observe(time.perf_counter() - started)
        return Reserved()

    async def commit(self, reservation_id: str) -> None:
        await self._step("commit", reservation_id)

    async def release(self, reservation_id: str) -> None:
        await self._step("release", reservation_id)

    async def _step(self, step: str, reservation_id: str) -> None:
        started = time.perf_counter()
        try:
            await self._client.request(
                "POST", f"/v1/reservations/{reservation_id}/{step}", idempotent=True
            )
        finally:
            SAGA_STEP.labels(step).observe(time.perf_counter() - started)


__all__ = [
    "CatalogEntry",
    "InventoryClient",
    "Refused",
    "Reserved",
    "UpstreamError",
    "UpstreamUnavailable",
]
