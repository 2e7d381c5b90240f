"""The edges of every number and date a client may send (docs/architecture.md,
"Bounds"). Each input type here carries its documented maximum, so every sum the
services compute from valid input fits a signed 64-bit integer (BSON's `long`)
and every date stays inside the calendar after time-zone and day arithmetic:
input outside them is a 422 problem, never a 500.

The arithmetic behind the money bounds: a line is at most
MAX_UNIT_PAISE x MAX_QUANTITY = 10^16 paise, with GST (at most 28 %) 1.28 x 10^16;
MAX_LINES such lines come to 2.56 x 10^18 < 2^63 - 1 (9.22 x 10^18). A stored
total is then held to MAX_TOTAL_PAISE (10^13 paise, INR 1,000 crore), so reports
may add up more than 900,000 of the largest orders before a sum could overflow."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from apps.kit.problems import UnprocessableContent

MAX_INT64 = 2**63 - 1

MAX_UNIT_PAISE = 10**10
"""A unit price or cost: INR 10 crore."""
MAX_QUANTITY = 1_000_000
"""Units on one line of an order, reservation, receipt or purchase order."""
MAX_LINES = 200
"""Lines in one request (a service may allow fewer)."""
MAX_GST_BPS = 2_800
"""GST in basis points (28 %)."""
MAX_TOTAL_PAISE = 10**13
"""The total of one order or purchase order: INR 1,000 crore."""

assert MAX_LINES * MAX_UNIT_PAISE * MAX_QUANTITY * (10_000 + MAX_GST_BPS) // 10_000 < MAX_INT64

# The first and last instants a client may name: one day inside the calendar's
# ends, so converting any time zone to UTC and adding or taking a day still fits.
MIN_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
MAX_INSTANT = datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC)
MIN_DAY = MIN_INSTANT.date()
MAX_DAY = MAX_INSTANT.date()

Paise = Annotated[
    int,
    Field(ge=0, le=MAX_UNIT_PAISE, description="A unit amount in paise (1/100 INR)."),
]
Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY)]
GstRate = Annotated[
    int, Field(ge=0, le=MAX_GST_BPS, description="GST in basis points (1800 = 18 %).")
]
Seq = Annotated[
    int, Field(ge=0, le=MAX_INT64, description="An event sequence number (signed 64-bit).")
]


def _within_calendar(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a time zone (for example 2026-04-01T00:00:00Z)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the supported range") from None
    if not MIN_INSTANT <= utc <= MAX_INSTANT:
        raise ValueError(
            f"must lie between {MIN_INSTANT.isoformat()} and {MAX_INSTANT.isoformat()}"
        )
    return utc


def _day_within_calendar(value: date) -> date:
    if not MIN_DAY <= value <= MAX_DAY:
        raise ValueError(f"must lie between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}")
    return value


Instant = Annotated[datetime, AfterValidator(_within_calendar)]
"""A moment with a time zone, answered in UTC, between MIN_INSTANT and MAX_INSTANT."""
Day = Annotated[date, AfterValidator(_day_within_calendar)]
"""A calendar date between MIN_DAY and MAX_DAY."""


def check_total(total_paise: int, path: str = "body.lines") -> int:
    """`total_paise` if it is within MAX_TOTAL_PAISE; otherwise a 422 problem."""
    if total_paise > MAX_TOTAL_PAISE:
        raise UnprocessableContent(
            f"The total of {total_paise} paise is above the maximum of {MAX_TOTAL_PAISE}.",
            slug="total-too-large",
            errors=[{"path": path, "message": f"total above {MAX_TOTAL_PAISE} paise"}],
        )
    return total_paise
