"""The inventory service's settings (on top of what every service reads)."""

from __future__ import annotations

from pydantic import Field

from apps.kit.settings import ServiceSettings

MAX_RESERVATION_TTL_SECONDS = 30 * 86_400


class InventorySettings(ServiceSettings):
    service_name: str = "inventory"
    mongo_database: str = "glosleep_inventory"

    # A confirmed order waits for shipping, so a reservation lives a week unless
    # the caller asks for another TTL.
    reservation_ttl_seconds: int = Field(default=7 * 86_400, ge=1, le=MAX_RESERVATION_TTL_SECONDS)
    # How often one replica (by lease) releases reservations past their expiry.
    reservation_expiry_interval_seconds: float = Field(default=5.0, gt=0, le=3_600)
