"""Daily sales rollups: per (day, distributor, region), what the sales, top products
and funnel reports need of that day's orders, so a report reads one document per
day and distributor however many orders there were; and per day, the same over every
distributor (the whole day), so a report over the whole business reads one a day.

A rollup is the sum of its orders' contributions. When an order's fact changes, the
event's transaction takes the fact's old contribution out of its rollup and puts the
new one in: the cost of an event does not grow with the orders of its day, and since
the change is computed from the fact before and after it, duplicate, late and replayed
events leave the rollup exactly as they leave the facts. Labels (names) come from the
order with the lowest id; when the order a label came from leaves, the day is
recomputed from its facts, as a rebuild and a database without rollups do. A whole day
changes the same way, and is recomputed from its distributors' rollups (one per
distributor who ordered that day, never the day's orders)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from apps.analytics.models import (
    CategoryOrders,
    OrderFact,
    SalesDay,
    SalesLine,
    SalesTotals,
    SalesWholeDay,
)
from apps.kit.app import AppKit
from apps.kit.database import in_transaction

log = logging.getLogger("glosleep.analytics.sales_days")

Session = AsyncClientSession | None
Bucket = tuple[datetime, str, str]  # (day, distributor_id, region); ("", "") the whole day
ONE_DAY = timedelta(days=1)


def whole_day(bucket: Bucket) -> Bucket:
    return bucket[0], "", ""


def _is_whole_day(bucket: Bucket) -> bool:
    return not bucket[1]


def _model(bucket: Bucket) -> type[SalesDay]:
    return SalesWholeDay if _is_whole_day(bucket) else SalesDay


def _in_order(buckets: Iterable[Bucket]) -> list[Bucket]:
    """Distributors' rollups before whole days: a whole day may be recomputed from them."""
    return sorted(set(buckets), key=lambda bucket: (_is_whole_day(bucket), bucket))


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


@dataclass(frozen=True)
class OrderInRollup:
    """An order fact as its day's rollup sees it: a copy, so that it can be taken
    before the fact changes."""

    bucket: Bucket
    order: _DayOrder


def order_in_rollup(fact: OrderFact) -> OrderInRollup:
    lines = [{name: line.get(name) for name in _LINE_FIELDS} for line in fact.lines]
    order = _DayOrder(fact.id, fact.distributor_name, dict(fact.stages), lines)
    return OrderInRollup(bucket_of(fact), order)


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
    rollup = _model(bucket)(
        id=_key(bucket),
        day=day,
        distributor_id=distributor_id,
        distributor_name="" if _is_whole_day(bucket) else first.distributor_name,
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
    return _finished(rollup)


# Lists in a fixed order, so that a rollup kept by changes and one recomputed are equal.
def _category_order(category: str | None) -> tuple[bool, str]:
    return category is not None, category or ""


def _line_order(key: tuple[str, str | None]) -> tuple[str, bool, str]:
    return key[0], *_category_order(key[1])


class _Recompute(Exception):
    """The rollup cannot be kept by the change alone: a label came from the order
    whose contribution leaves it, or the rollup does not hold that contribution."""


# `_add` and `_remove` change the rollup they are given (read for this change alone, and
# dropped when the change raises `_Recompute`).
def _add(rollup: SalesDay | None, part: SalesDay) -> SalesDay:
    """The rollup with one order's contribution (`summarise` of it alone) added."""
    if rollup is None:
        return part
    total = rollup
    if part.first_order_id < total.first_order_id:
        total.first_order_id, total.distributor_name = part.first_order_id, part.distributor_name
    total.orders += part.orders
    for stage, count in part.stages.items():
        total.stages[stage] = total.stages.get(stage, 0) + count
    categories = {entry.category: entry for entry in total.categories}
    for entry in part.categories:
        if entry.category in categories:
            categories[entry.category].orders += entry.orders
        else:
            categories[entry.category] = entry
    lines = {(line.sku, line.category): line for line in total.lines}
    for line in part.lines:
        found = lines.get((line.sku, line.category))
        if found is None:
            lines[(line.sku, line.category)] = line
            continue
        found.orders += line.orders
        found.units += line.units
        found.net_revenue_paise += line.net_revenue_paise
        found.tax_paise += line.tax_paise
        if line.first_order_id < found.first_order_id:
            found.first_order_id, found.name = line.first_order_id, line.name
    total.categories = list(categories.values())
    total.lines = list(lines.values())
    return _finished(total)


def _remove(rollup: SalesDay, part: SalesDay) -> SalesDay | None:
    """The rollup without one order's contribution; None when no order is left."""
    order_id = part.first_order_id
    if rollup.first_order_id == order_id and rollup.stages.get("placed", 0) > 1:
        raise _Recompute
    total = rollup
    total.orders -= part.orders
    categories = {entry.category: entry for entry in total.categories}
    lines = {(line.sku, line.category): line for line in total.lines}
    try:
        for stage, count in part.stages.items():
            total.stages[stage] -= count
        for entry in part.categories:
            categories[entry.category].orders -= entry.orders
        for line in part.lines:
            found = lines[(line.sku, line.category)]
            found.orders -= line.orders
            found.units -= line.units
            found.net_revenue_paise -= line.net_revenue_paise
            found.tax_paise -= line.tax_paise
            if found.first_order_id == order_id and found.orders:
                raise _Recompute
    except KeyError:
        raise _Recompute from None
    counts = [total.orders, *total.stages.values(), *(e.orders for e in categories.values())]
    if min(counts) < 0 or min((line.orders for line in lines.values()), default=0) < 0:
        raise _Recompute
    if not total.stages["placed"]:
        return None
    total.stages = {stage: count for stage, count in total.stages.items() if count}
    total.categories = [entry for entry in categories.values() if entry.orders]
    total.lines = [line for line in lines.values() if line.orders]
    return _finished(total)


def _finished(rollup: SalesDay) -> SalesDay:
    """Stages, categories and lines in one fixed order, and the totals of the lines,
    so that a rollup kept by changes and the same rollup recomputed are the same
    document."""
    rollup.stages = {
        stage: rollup.stages[stage]
        for stage in sorted(rollup.stages, key=lambda stage: (stage != "placed", stage))
    }
    rollup.categories = sorted(rollup.categories, key=lambda e: _category_order(e.category))
    rollup.lines = sorted(rollup.lines, key=lambda line: _line_order((line.sku, line.category)))
    rollup.totals = SalesTotals.of(rollup.lines)
    return rollup


# What a rollup reads of each order: raw, not validated (a busy day holds hundreds).
_FIELDS = {
    "distributor_name": 1,
    "region": 1,
    "stages": 1,
    **{f"lines.{name}": 1 for name in _LINE_FIELDS},
}


async def recompute(buckets: Iterable[Bucket], session: Session) -> None:
    """Recompute these buckets' rollups from their orders' facts (none: no rollup),
    then the whole days they fall on."""
    chosen = {bucket for bucket in buckets if not _is_whole_day(bucket)}
    for bucket in _in_order(chosen | {whole_day(bucket) for bucket in chosen}):
        await _recompute(bucket, session)


async def _recompute(bucket: Bucket, session: Session) -> None:
    if _is_whole_day(bucket):
        await _recompute_whole_day(bucket, session)
    else:
        await _recompute_from_facts(bucket, session)


async def _store(bucket: Bucket, rollup: SalesDay | None, session: Session) -> None:
    rollups = _model(bucket).get_pymongo_collection()
    if rollup is None:
        await rollups.delete_one({"_id": _key(bucket)}, session=session)
        return
    body = rollup.model_dump(by_alias=True, mode="python")
    await rollups.replace_one({"_id": body["_id"]}, body, upsert=True, session=session)


async def _recompute_from_facts(bucket: Bucket, session: Session) -> None:
    """The read is a bounded range of the (distributor_id, placed_at) index."""
    day, distributor_id, region = bucket
    found = await (
        OrderFact.get_pymongo_collection()
        .find(
            {"distributor_id": distributor_id, "placed_at": {"$gte": day, "$lt": day + ONE_DAY}},
            _FIELDS,
            session=session,
        )
        .to_list()
    )
    orders = sorted(
        (_DayOrder.of(fact) for fact in found if fact["region"] == region),
        key=lambda order: order.id,
    )
    await _store(bucket, summarise(bucket, orders) if orders else None, session)


async def _recompute_whole_day(bucket: Bucket, session: Session) -> None:
    """The sum of the day's distributors' rollups (the `day` index)."""
    found = SalesDay.get_pymongo_collection().find({"day": bucket[0]}, session=session)
    total: SalesDay | None = None
    whole = {"_id": _key(bucket), "distributor_id": "", "region": "", "distributor_name": ""}
    async for stored in found:
        total = _add(total, SalesWholeDay.model_validate({**stored, **whole}))
    await _store(bucket, None if total is None else _finished(total), session)


# Inside `deferred_rollups`: the days whose rollups wait for the block's end.
_deferred: ContextVar[set[Bucket] | None] = ContextVar("deferred_rollups", default=None)


async def update_rollups(
    before: OrderInRollup | None, after: OrderInRollup, session: Session
) -> None:
    """The projection's call, once the fact is saved: the order's contribution moves
    from what it was to what it is now, or its days wait for `deferred_rollups`."""
    if before == after:
        return  # an event that changed nothing the rollup holds (a duplicate)
    deferred = _deferred.get()
    if deferred is not None:
        deferred.update({after.bucket} | ({before.bucket} if before else set()))
        return
    left = {before.bucket, whole_day(before.bucket)} if before else set()
    entered = {after.bucket, whole_day(after.bucket)}
    for bucket in _in_order(left | entered):
        model = _model(bucket)
        stored = await model.get_pymongo_collection().find_one(
            {"_id": _key(bucket)}, session=session
        )
        rollup = None if stored is None else model.model_validate(stored)
        try:
            if before is not None and bucket in left:
                if rollup is None:
                    raise _Recompute
                rollup = _remove(rollup, summarise(bucket, [before.order]))
            if bucket in entered:
                rollup = _add(rollup, summarise(bucket, [after.order]))
        except _Recompute:
            await _recompute(bucket, session)
            continue
        await _store(bucket, rollup, session)


@asynccontextmanager
async def deferred_rollups() -> AsyncIterator[None]:
    """Order events handled in this task within the block recompute their days'
    rollups once, at its end, each day in its own transaction: a rebuild empties the
    rollups and replays every event of a day, and recomputing the day for each would
    read it again and again. A live consumer's event meanwhile still changes its day's
    rollup; it and a recompute at the end write the same rollup, so they conflict and
    one is retried on a snapshot that holds the other's facts."""
    deferred: set[Bucket] = set()
    token = _deferred.set(deferred)
    try:
        yield
    finally:
        _deferred.reset(token)
    client = SalesDay.get_pymongo_collection().database.client
    for bucket in _in_order(deferred | {whole_day(bucket) for bucket in deferred}):

        async def one(session: AsyncClientSession, bucket: Bucket = bucket) -> None:
            await _recompute(bucket, session)

        await in_transaction(client, one)


async def fill_sales_days(_: AppKit | None = None) -> None:
    """A database from before the rollups were kept gets them from its order facts,
    and one from before the whole days were kept gets those from its rollups, once
    (the projection keeps them from then on)."""
    if await SalesDay.find_one() is None:
        if await OrderFact.find_one() is None:
            return
        buckets = {bucket_of(fact) async for fact in OrderFact.find({})}
        await recompute(buckets, None)
        log.info("sales rollups filled from the order facts", extra={"rollups": len(buckets)})
    elif await SalesWholeDay.find_one() is None:
        days = await SalesDay.get_pymongo_collection().distinct("day")
        for day in days:
            await _recompute_whole_day((day, "", ""), None)  # the whole day's bucket
        log.info("whole-day sales rollups filled from the rollups", extra={"days": len(days)})
