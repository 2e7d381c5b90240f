"""The scale phase's timeline: the first orders of any run cover the same days as
all of them, each distributor's too, so growing from 1k to 100k orders makes the
days busier, not more."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from bench.scale.fill import HISTORY, Timeline

LANES = 20  # distributors, as `make bench-scale` makes them


def _days(timeline: Timeline, moments: list[datetime]) -> Counter[int]:
    return Counter(int((at - timeline.start) / (HISTORY / 6)) for at in moments)


@pytest.mark.parametrize("first", [1_000, 10_000])
def test_the_first_orders_of_a_run_cover_every_day_evenly(first: int) -> None:
    timeline = Timeline.ending_now(LANES)
    moments = [timeline.at(k) for k in range(first)]
    assert all(timeline.start <= at < timeline.start + HISTORY for at in moments)
    days = _days(timeline, moments)
    assert sorted(days) == list(range(6))
    assert max(days.values()) - min(days.values()) <= first // 100


def test_each_distributors_orders_cover_every_day_evenly() -> None:
    timeline = Timeline.ending_now(LANES)
    for lane in range(LANES):
        days = _days(timeline, [timeline.at(k) for k in range(1_000) if timeline.lane(k) == lane])
        assert sorted(days) == list(range(6)), (lane, days)
        assert max(days.values()) - min(days.values()) <= 3, (lane, days)  # of 8 a day


def test_every_order_has_its_own_moment() -> None:
    timeline = Timeline.ending_now(LANES)
    assert len({timeline.at(k) for k in range(100_000)}) == 100_000
