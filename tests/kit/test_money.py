"""The kit's money arithmetic at its boundaries. The reference is Python's decimal
module with ROUND_HALF_UP (a different implementation of the same rule); the cases
are chosen so banker's rounding (ROUND_HALF_EVEN) and truncation give other answers."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest

from apps.kit.bounds import MAX_GST_BPS, MAX_QUANTITY, MAX_TOTAL_PAISE, MAX_UNIT_PAISE
from apps.kit.money import (
    LineAmounts,
    price_line,
    round_half_up,
    share,
    totals,
)
from apps.kit.problems import UnprocessableContent


def decimal_share(amount_paise: int, rate_bps: int, rounding: str) -> int:
    exact = Decimal(amount_paise) * Decimal(rate_bps) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=rounding))


# (amount in paise, rate in bps): the exact tax is 0.5, 1.5, 2.5 ... paise, or a hair
# either side of a half.
HALVES = [
    (25, 200),  # 0.5 -> 1 (banker's 0, truncation 0)
    (75, 200),  # 1.5 -> 2 (banker's 2, truncation 1)
    (125, 200),  # 2.5 -> 3 (banker's 2, truncation 2)
    (25, 1800),  # 4.5 -> 5 (banker's 4): 18 % GST of 25 paise
    (10, 500),  # 0.5 -> 1: 5 % GST of 10 paise
    (2775, 1800),  # 499.5 -> 500 (banker's 500, truncation 499)
    (2_083_325, 1200),  # 249,999.0 exact
    (1_000_001, 1250),  # 125,000.125 -> 125,000
    (1_000_003, 1250),  # 125,000.375 -> 125,000
    (1_000_005, 1250),  # 125,000.625 -> 125,001
]


@pytest.mark.parametrize(("amount", "rate"), HALVES)
def test_share_rounds_half_up_at_the_paisa(amount: int, rate: int) -> None:
    assert share(amount, rate) == decimal_share(amount, rate, ROUND_HALF_UP)


def test_cases_tell_half_up_from_bankers_rounding_and_truncation() -> None:
    ours = [share(amount, rate) for amount, rate in HALVES]
    bankers = [decimal_share(amount, rate, ROUND_HALF_EVEN) for amount, rate in HALVES]
    truncated = [decimal_share(amount, rate, ROUND_DOWN) for amount, rate in HALVES]
    assert ours[:5] == [1, 2, 3, 5, 1]
    assert sum(a != b for a, b in zip(ours, bankers, strict=True)) >= 3
    assert sum(a != b for a, b in zip(ours, truncated, strict=True)) >= 5


@pytest.mark.parametrize(("amount", "rate"), HALVES)
def test_negative_adjustments_mirror_positive_ones(amount: int, rate: int) -> None:
    # -0.5 paise is -1, not 0: a credit note cancels its invoice's tax exactly.
    assert share(-amount, rate) == -share(amount, rate)
    assert share(-amount, rate) == decimal_share(-amount, rate, ROUND_HALF_UP)


def test_round_half_up_of_quotients() -> None:
    assert [round_half_up(n, 10) for n in (14, 15, 16, -14, -15, -16, 0)] == [
        1,
        2,
        2,
        -1,
        -2,
        -2,
        0,
    ]
    assert round_half_up(10**40 + 5, 10) == 10**39 + 1  # no float anywhere
    with pytest.raises(ValueError, match="positive"):
        round_half_up(1, 0)


def test_rates_outside_zero_to_one_hundred_percent_are_refused() -> None:
    assert share(12_345, 0) == 0
    assert share(12_345, 10_000) == 12_345
    for rate in (-1, 10_001):
        with pytest.raises(ValueError, match="bps"):
            share(100, rate)


def test_the_largest_allowed_line_is_exact() -> None:
    # The largest unit price, quantity and GST slab a request may carry (apps.kit.bounds).
    line = price_line(MAX_UNIT_PAISE, MAX_QUANTITY, MAX_GST_BPS)
    exact = Decimal(MAX_UNIT_PAISE * MAX_QUANTITY) * MAX_GST_BPS / 10_000
    assert line.line_subtotal_paise == MAX_UNIT_PAISE * MAX_QUANTITY
    assert line.line_tax_paise == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # One paisa under a half at the top of the range still rounds down, one at it up.
    assert share(MAX_UNIT_PAISE * MAX_QUANTITY - 1, 2) == MAX_UNIT_PAISE * MAX_QUANTITY // 5000
    assert share(-(MAX_UNIT_PAISE * MAX_QUANTITY), MAX_GST_BPS) == -line.line_tax_paise


def test_a_total_above_the_bound_is_a_422_problem() -> None:
    at_limit = totals([LineAmounts(MAX_TOTAL_PAISE, 0)])
    assert at_limit.total_paise == MAX_TOTAL_PAISE
    with pytest.raises(UnprocessableContent) as refused:
        totals([LineAmounts(MAX_TOTAL_PAISE - 1, 1), LineAmounts(0, 1)])
    assert refused.value.slug == "total-too-large"


def test_totals_add_lines_rounded_one_by_one() -> None:
    lines = [price_line(25, 1, 200), price_line(25, 1, 200), price_line(1_249_900, 3, 1800)]
    assert [line.line_tax_paise for line in lines] == [1, 1, 674_946]
    summed = totals(lines)
    # Rounding the sum instead would give 674,947 (0.5 + 0.5 + 674,946): per line is the rule.
    assert summed.tax_paise == 674_948
    assert summed.subtotal_paise == 25 + 25 + 3_749_700
    assert summed.total_paise == summed.subtotal_paise + summed.tax_paise
    assert summed.fields() == {
        "subtotal_paise": summed.subtotal_paise,
        "tax_paise": summed.tax_paise,
        "total_paise": summed.total_paise,
    }
