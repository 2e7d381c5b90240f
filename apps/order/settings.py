"""The order service's settings (on top of what every service reads)."""

from __future__ import annotations

from pydantic import Field

from apps.kit.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    service_name: str = "order"
    mongo_database: str = "glosleep_order"

    inventory_url: str = Field(min_length=1)
    # One call to inventory (reserve, commit, release, catalogue) may take this long.
    inventory_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    # Catalogue entries (price, GST) are fetched at order time and reused for
    # this long; when inventory cannot be reached, an entry up to
    # CATALOG_STALE_SECONDS old still prices the order (it then waits PENDING).
    catalog_cache_seconds: float = Field(default=10.0, ge=0, le=3_600)
    catalog_stale_seconds: float = Field(default=3_600.0, ge=0, le=86_400)

    # Active distributors are reused this long (a deactivation takes this long).
    distributor_cache_seconds: float = Field(default=5.0, ge=0, le=600)
    # Order numbers are taken from the yearly counter this many at a time.
    order_number_block: int = Field(default=20, ge=1, le=1_000)

    # The recovery loop: every interval, one replica (by lease) finishes the
    # inventory calls (reserve, commit, release) owed for at least grace seconds.
    recovery_interval_seconds: float = Field(default=5.0, gt=0, le=3_600)
    recovery_grace_seconds: float = Field(default=15.0, ge=0, le=3_600)
    recovery_batch: int = Field(default=100, ge=1, le=10_000)

    # A duplicate request waits this long for the first one to answer.
    idempotency_wait_seconds: float = Field(default=15.0, gt=0, le=120)
    # Sent with each reservation; None lets inventory apply its own default.
    reservation_ttl_seconds: int | None = Field(default=None, ge=60, le=90 * 86_400)
