"""The procurement service's settings (on top of what every service reads)."""

from __future__ import annotations

from pydantic import Field

from apps.kit.settings import ServiceSettings


class ProcurementSettings(ServiceSettings):
    service_name: str = "procurement"
    mongo_database: str = "glosleep_procurement"

    # Inventory: goods receipts are posted there; its event feed tells of low stock.
    inventory_url: str = Field(min_length=1)

    # A purchase order whose total (with tax) is above this needs an admin's approval.
    approval_threshold_paise: int = Field(default=50_000_000, ge=0, le=10**13)

    # How often the stock-low consumer polls inventory's feed, and how often the
    # recovery loop posts receipts a crash or an outage left unposted.
    consumer_interval_seconds: float = Field(default=1.0, gt=0, le=300)
    receipt_recovery_interval_seconds: float = Field(default=5.0, gt=0, le=3_600)
    # A receipt younger than this is left to the request that created it.
    receipt_recovery_grace_seconds: float = Field(default=10.0, ge=0, le=3_600)
