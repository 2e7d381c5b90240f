"""Daily sales rollups: per (day, distributor, region), what the sales, top products
and funnel reports need of that day's orders, so a report reads one document per
day and distributor however many orders there were.

A rollup is recomputed from its orders' facts whenever one of them changes, in the
same transaction: it is a function of the facts alone, so duplicate, late and
replayed events leave it exactly as they leave the facts, and a rebuild racing the
live consumers heals on the next event of the day."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from apps.analytics.models import CategoryOrders, OrderFact, SalesDay, SalesLine
from apps.kit.app import AppKit
from apps.kit.database import in_transaction

log = logging.getLogger("glosleep.analytics.sales_days")

Session = AsyncClientSession | None
Bucket = tuple[datetime, str, str]  # (day, distributor_id, region)
ONE_DAY = timedelta(days=1)


_LINE_FIELDS = ("sku", "name", "category", "quantity", "line_subtotal_paise", "line_tax_paise")


@dataclass(frozen=True)
class _DayOrder:
    """What a rollup needs of an order fact."""

    id: str
    distributor_name: str
    stages: dict[str, Any]
    lines: list[dict[str, Any]]

    @classmethod
    def of(cls, fact: dict[str, Any]) -> _DayOrder:
        return cls(fact["_id"], fact["distributor_name"], fact["stages"], fact["lines"])


def is_sale(order: _DayOrder) -> bool:
    """A sale: confirmed (stock reserved) and never cancelled."""
    return "confirmed" in order.stages and "cancelled" not in order.stages


def bucket_of(order: OrderFact) -> Bucket:
    day = datetime.combine(order.placed_at.astimezone(UTC).date(), time.min, UTC)
    return day, order.distributor_id, order.region


def _key(bucket: Bucket) -> str:
    day, distributor_id, region = bucket
    return f"{day.date().isoformat()}|{distributor_id}|{region}"


def summarise(bucket: Bucket, orders: list[_DayOrder]) -> SalesDay:
    """The rollup of one bucket's orders (in id order: the first names the labels)."""
    day, distributor_id, region = bucket
    stages = {"placed": len(orders)}
    lines: dict[tuple[str, str | None], SalesLine] = {}
    categories: dict[str | None, int] = {}
    sales = 0
    for order in orders:
        for stage in order.stages:
            if stage != "placed":
                stages[stage] = stages.get(stage, 0) + 1
        if not is_sale(order):
            continue
        sales += 1
        seen: set[tuple[str, str | None]] = set()
        for line in order.lines:
            sku, category = str(line["sku"]), line.get("category")
            entry = lines.setdefault(
                (sku, category),
                SalesLine(
                    sku=sku,
                    name=str(line.get("name") or sku),
                    category=category,
                    first_order_id=order.id,
                ),
            )
            net, tax = int(line["line_subtotal_paise"]), int(line["line_tax_paise"])
            entry.units += int(line["quantity"])
            entry.net_revenue_paise += net
            entry.tax_paise += tax
            if (sku, category) not in seen:
                seen.add((sku, category))
                entry.orders += 1
        for category in {line.get("category") for line in order.lines}:
            categories[category] = categories.get(category, 0) + 1
    first = orders[0]
    return SalesDay(
        id=_key(bucket),
        day=day,
        distributor_id=distributor_id,
        distributor_name=first.distributor_name,
        first_order_id=first.id,
        region=region,
        orders=sales,
        stages=stages,
        categories=[
            CategoryOrders(category=category, orders=count)
            for category, count in categories.items()
        ],
        lines=list(lines.values()),
    )


# What a rollup reads of each order: raw, not validated (a busy day holds hundreds).
_FIELDS = {
    "distributor_name": 1,
    "region": 1,
    "stages": 1,
    **{f"lines.{name}": 1 for name in _LINE_FIELDS},
}


async def recompute(buckets: Iterable[Bucket], session: Session) -> None:
    """Recompute these buckets' rollups from their orders' facts (none: no rollup).
    The read is a bounded range of the (distributor_id, placed_at) index."""
    rollups = SalesDay.get_pymongo_collection()
    facts = OrderFact.get_pymongo_collection()
    for bucket in set(buckets):
        day, distributor_id, region = bucket
        found = await facts.find(
            {"distributor_id": distributor_id, "placed_at": {"$gte": day, "$lt": day + ONE_DAY}},
            _FIELDS,
            session=session,
        ).to_list()
        orders = sorted(
            (_DayOrder.of(fact) for fact in found if fact["region"] == region),
            key=lambda order: order.id,
        )
        if not orders:
            await rollups.delete_one({"_id": _key(bucket)}, session=session)
            continue
        body = summarise(bucket, orders).model_dump(by_alias=True, mode="python")
        await rollups.replace_one({"_id": body["_id"]}, body, upsert=True, session=session)


# Inside `deferred_rollups`: the days whose rollups wait for the block's end.
_deferred: ContextVar[set[Bucket] | None] = ContextVar("deferred_rollups", default=None)


async def update_rollups(buckets: Iterable[Bucket], session: Session) -> None:
    """The projection's call: recompute now, or at the end of `deferred_rollups`."""
    deferred = _deferred.get()
    if deferred is None:
        await recompute(buckets, session)
    else:
        deferred.update(buckets)


@asynccontextmanager
async def deferred_rollups() -> AsyncIterator[None]:
    """Order events handled in this task within the block recompute their days'
    rollups once, at its end, each day in its own transaction: a rebuild replays
    every event of a day, and recomputing the day for each would read it again and
    again. A live consumer's event meanwhile still recomputes its day; a recompute at
    the end that overlaps it conflicts with it and is retried, so the last one sees
    every fact."""
    deferred: set[Bucket] = set()
    token = _deferred.set(deferred)
    try:
        yield
    finally:
        _deferred.reset(token)
    client = SalesDay.get_pymongo_collection().database.client
    for bucket in sorted(deferred):

        async def one(session: AsyncClientSession, bucket: Bucket = bucket) -> None:
            await recompute([bucket], session)

        await in_transaction(client, one)


async def fill_sales_days(_: AppKit | None = None) -> None:
    """A database from before the rollups were kept gets them from its order facts,
    once (the projection keeps them from then on)."""
    if await SalesDay.find_one() is not None or await OrderFact.find_one() is None:
        return
    buckets = {bucket_of(fact) async for fact in OrderFact.find({})}
    await recompute(buckets, None)
    log.info("sales rollups filled from the order facts", extra={"rollups": len(buckets)})
