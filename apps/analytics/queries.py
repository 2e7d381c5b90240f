"""The filters of each report: query parameters on its route, and the
`filters` object of an export. Unknown parameters are an error."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from apps.kit.bounds import Day
from apps.kit.pagination import CURSOR_DESCRIPTION, CURSOR_MAX_LENGTH
from apps.kit.schemas import Sku

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
UpperCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=64)
]
PAGE_MAX = 1000


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


class SalesGroup(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    PRODUCT = "product"
    CATEGORY = "category"
    DISTRIBUTOR = "distributor"
    REGION = "region"


class Ranking(StrEnum):
    UNITS = "units"
    REVENUE = "revenue"


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format: Format | None = Field(default=None, description="json (default) or csv")


class DateRange(ReportQuery):
    """`from` and `to` are inclusive UTC dates."""

    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("from must not be after to")
        return self

    def window(self) -> dict[str, datetime]:
        """A MongoDB range on a time field."""
        window = {}
        if self.from_:
            window["$gte"] = datetime.combine(self.from_, time.min, UTC)
        if self.to:
            window["$lt"] = datetime.combine(self.to + timedelta(days=1), time.min, UTC)
        return window


class SalesQuery(DateRange):
    group_by: SalesGroup = SalesGroup.DAY
    distributor_id: Code | None = None
    region: Code | None = None
    category: Code | None = None
    sku: Sku | None = None


class TopProductsQuery(DateRange):
    by: Ranking = Ranking.UNITS
    limit: int = Field(default=10, ge=1, le=100)
    distributor_id: Code | None = None
    region: Code | None = None
    category: Code | None = None


class FunnelQuery(DateRange):
    distributor_id: Code | None = None
    region: Code | None = None


class StockQuery(ReportQuery):
    """Stock is a position at a moment: the end of `as_of` (default: now)."""

    as_of: Day | None = None
    warehouse_code: UpperCode | None = None
    category: Code | None = None
    sku: Sku | None = None

    def cutoff(self) -> datetime | None:
        if self.as_of is None:
            return None
        return datetime.combine(self.as_of + timedelta(days=1), time.min, UTC)


class ProcurementQuery(DateRange):
    """The range applies to the purchase orders' submission time."""

    supplier_id: Code | None = None


class Paged(ReportQuery):
    """A report answered a page at a time, newest first (apps/kit/listing.py)."""

    limit: int = Field(default=100, ge=1, le=PAGE_MAX, description="Rows per page.")
    cursor: str | None = Field(
        default=None, max_length=CURSOR_MAX_LENGTH, description=CURSOR_DESCRIPTION
    )


class PurchaseHistoryQuery(DateRange, Paged):
    distributor_id: Code | None = None
