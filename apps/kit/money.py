"""Money arithmetic, the one copy every service uses: amounts are integer paise
(1 INR = 100 paise), rates are integer basis points (1800 = 18 %), and a share of an
amount is rounded half up (a tie goes away from zero, so -2.5 paise is -3) at the
paisa, once per line. No floats, no Decimal contexts: exact integer arithmetic."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Protocol

from apps.kit.bounds import MAX_TOTAL_PAISE, check_total
from apps.kit.problems import UnprocessableContent

BASIS_POINTS = 10_000
# GST slabs top out at 28 %; a rate above 100 % is a mistake, not a tax.
MAX_RATE_BPS = BASIS_POINTS


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, ties away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def share(amount_paise: int, rate_bps: int) -> int:
    """`rate_bps` of `amount_paise` (GST, a discount), rounded half up to the paisa.
    A negative amount (a credit or a downward adjustment) gives the mirror image of
    the positive one, so a correction cancels the original exactly."""
    if not 0 <= rate_bps <= MAX_RATE_BPS:
        raise ValueError(f"rate {rate_bps} bps is outside 0..{MAX_RATE_BPS}")
    return round_half_up(amount_paise * rate_bps, BASIS_POINTS)


@dataclass(frozen=True)
class LineAmounts:
    line_subtotal_paise: int
    line_tax_paise: int

    @property
    def line_total_paise(self) -> int:
        return self.line_subtotal_paise + self.line_tax_paise


def price_line(unit_paise: int, quantity: int, gst_rate_bps: int) -> LineAmounts:
    """A document line: unit price times quantity, and its GST rounded half up."""
    subtotal = unit_paise * quantity
    return LineAmounts(subtotal, share(subtotal, gst_rate_bps))


# How `totals` refuses a document above the bound (the OpenAPI example of the
# operations that price orders and purchase orders).
TOTAL_TOO_LARGE = UnprocessableContent(
    f"The total of {MAX_TOTAL_PAISE + 1} paise is above the maximum of {MAX_TOTAL_PAISE}.",
    slug="total-too-large",
    errors=[{"path": "body.lines", "message": f"total above {MAX_TOTAL_PAISE} paise"}],
)


class PricedLine(Protocol):
    """A stored document line (an order line, a purchase-order line)."""

    @property
    def line_subtotal_paise(self) -> int: ...

    @property
    def line_tax_paise(self) -> int: ...


@dataclass(frozen=True)
class Totals:
    subtotal_paise: int
    tax_paise: int
    total_paise: int

    def fields(self) -> dict[str, int]:
        """As a document's `subtotal_paise`, `tax_paise`, `total_paise`."""
        return asdict(self)


def totals(lines: Iterable[PricedLine]) -> Totals:
    """A document's totals: the sums of its lines (tax is rounded per line, never again);
    a total above the kit's bound (apps.kit.bounds.MAX_TOTAL_PAISE) is a 422 problem."""
    subtotal = tax = 0
    for line in lines:
        subtotal += line.line_subtotal_paise
        tax += line.line_tax_paise
    return Totals(subtotal, tax, check_total(subtotal + tax))
