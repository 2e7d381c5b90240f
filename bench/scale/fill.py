"""Filling the databases with orders as if the services had taken them: each
order CONFIRMED with its history, idempotency record (the last 24 hours only:
older ones are pruned), `order.placed` and `order.confirmed` events, the
reservation with its ledger entries and `reservation.created` event, the stock
levels it moved; and what the consumers would have made of those events:
analytics' order facts, level versions and dedupe records, procurement's dedupe
records and stock signals, every consumer's cursor past them.

The documents are the services' own models (Beanie documents priced by the
order service's `price_lines`, event payloads from its `snapshot`, ...), encoded
the way Beanie inserts them, and bulk-inserted with the driver: placing 100k
orders over HTTP would take an hour on two cores. Run it only while the
platform is idle (bench.scale.platform.wait_until_idle): it moves the stock
levels of its warehouse from the versions they have when it starts."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import bson
from beanie import Document, init_beanie
from beanie.odm.utils.dump import get_dict
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from apps.analytics.levels import raise_current
from apps.analytics.models import READ_MODELS, LevelVersion, OrderFact
from apps.analytics.projections import ORDER_RANK, parse_time
from apps.analytics.sales_days import Bucket, bucket_of, recompute
from apps.inventory.models import (
    Allocation,
    Movement,
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    level_id,
)
from apps.inventory.stock import snapshot as level_snapshot
from apps.kit.clock import utcnow
from apps.kit.consumer import CONSUMER_DOCUMENTS, ConsumerCursor, ProcessedEvent
from apps.kit.events import Event
from apps.kit.idempotency import fingerprint
from apps.kit.ids import new_id
from apps.kit.outbox import OUTBOX_DOCUMENTS, OutboxCounter, OutboxEvent, OutboxPage, pages_of
from apps.order.catalog import price_lines
from apps.order.inventory_client import CatalogEntry
from apps.order.models import (
    Address,
    IdempotencyRecord,
    Order,
    OrderCounter,
    OrderStatus,
    Transition,
)
from apps.order.placing import _fingerprint, new_order, record_id_for
from apps.order.saga import snapshot as order_snapshot
from apps.order.schemas import OrderCreate
from apps.order.service import OrderNumbers
from apps.procurement.models import StockSignal
from apps.procurement.reorder import handle_inventory_event
from bench.baseline import order_lines, traceparent

# Orders are spread over the last six days: inside the reservations' seven-day
# lifetime, so no filled reservation expires (and releases stock) during a run.
HISTORY = timedelta(days=6)
IDEMPOTENCY_WINDOW = timedelta(hours=23)  # keys are pruned after 24 hours
RESERVED_AFTER = timedelta(milliseconds=150)
CONFIRMED_AFTER = timedelta(milliseconds=300)
CONSUMED_AFTER = timedelta(seconds=1)
CHUNK = 2_000
CURSOR_POLL_SECONDS = 0.05
Stored = dict[str, Any]


@dataclass(frozen=True)
class Customer:
    """A distributor (`id` is the distributor's; what an order copies of it) and
    the user who places its orders."""

    id: str
    name: str
    region: str
    shipping_address: Address
    user_id: str


@dataclass(frozen=True)
class Shop:
    """What the fill takes from the running platform."""

    customers: list[Customer]
    catalog: dict[str, CatalogEntry]
    warehouse: str
    order_actor: str  # the order service's client id: the reservations' actor
    reservation_ttl: timedelta


@dataclass(frozen=True)
class Timeline:
    """Where order k of a run is placed in the HISTORY that ends about now. Orders go
    round robin over `lanes` distributors; a distributor's m-th order is placed at the
    fraction of the span that m's bits read backwards give (the van der Corput
    sequence), each lane's sequence shifted round the span by a multiple of the
    golden ratio's fraction (the lanes spread evenly, and no two orders meet).

    The first n orders of a run cover the whole span evenly whatever n, and so do
    each distributor's: a larger size means busier days, not more of them, and a
    report over the days is measured over the same days at every size. (Spreading k
    itself would not do: every fourth k falls in the first quarter of the span, and
    with 20 lanes those are whole distributors.)"""

    start: datetime
    span: timedelta
    lanes: int

    @classmethod
    def ending_now(cls, lanes: int) -> Timeline:
        now = utcnow().replace(microsecond=0)
        return cls(now - HISTORY, HISTORY, max(1, lanes))

    def lane(self, k: int) -> int:
        return k % self.lanes

    def at(self, k: int) -> datetime:
        nth, lane = divmod(k, self.lanes)
        moment = self.start + self.span * ((_spread(nth) + lane * _GOLDEN) % 1.0)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


_GOLDEN = (5**0.5 - 1) / 2


def _spread(k: int) -> float:
    """k's binary digits mirrored about the point: 1 -> 0.5, 2 -> 0.25, 3 -> 0.75."""
    fraction, weight = 0.0, 0.5
    while k:
        fraction += weight * (k & 1)
        k >>= 1
        weight /= 2
    return fraction


def encoded(document: Document, *, check: bool = False) -> Stored:
    """The document as Beanie's insert stores it, thirty times faster than Beanie's
    own encoder (`get_dict`) for these models: `check` compares the two."""
    stored: Stored = document.model_dump(by_alias=True, exclude={"revision_id"})
    if check:
        beanie = get_dict(document, to_db=True, keep_nulls=document.get_settings().keep_nulls)
        if bson.encode(stored) != bson.encode(beanie):
            raise AssertionError(f"{type(document).__name__} encodes unlike Beanie: {stored}")
    return stored


@dataclass
class Batch:
    """Encoded documents by (database, collection), in insertion order."""

    documents: dict[tuple[str, str], list[Stored]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, database: str, document: Document, *, upserted: bool = False) -> Stored:
        """`upserted`: stored as an upsert with `$setOnInsert` stores it (analytics'
        `_insert_once`): `_id` first, then the fields in name order, as the database
        applies update operators."""
        key = (database, document.get_pymongo_collection().name)
        stored = encoded(document, check=key not in self.documents)
        if upserted:
            stored = {"_id": stored.pop("_id"), **dict(sorted(stored.items()))}
        self.documents[key].append(stored)
        return stored

    def count(self) -> int:
        return sum(len(found) for found in self.documents.values())


@dataclass
class FillReport:
    orders: int
    documents: int
    seconds: float
    order_ids: list[str]


def _events_of(stored: Sequence[Stored]) -> Iterator[Event]:
    for document in stored:
        yield Event.model_validate({**document, "id": document["_id"]})


class Filler:
    """Adds orders to the platform's databases, oldest first, continuing the
    timeline and every counter from where the last fill (or the services) left them."""

    def __init__(
        self, client: AsyncMongoClient[Stored], prefix: str, shop: Shop, timeline: Timeline
    ) -> None:
        self._client = client
        self._prefix = prefix
        self.shop = shop
        self.timeline = timeline
        self.filled = 0
        self.quantities: dict[str, int] = {}
        self._rng = random.Random(16)  # noqa: S311 - a repeatable order mix, not a secret

    def db(self, service: str) -> AsyncDatabase[Stored]:
        return self._client[self._prefix + service]

    async def bind(self) -> None:
        """Beanie's models bound to the services' databases (they exist: no indexes made)."""
        bound: list[tuple[str, list[type[Document]]]] = [
            ("analytics", [*READ_MODELS, *CONSUMER_DOCUMENTS]),
            ("procurement", [StockSignal]),
            ("inventory", [Movement, Reservation]),
            ("order", [Order, IdempotencyRecord, OrderCounter, *OUTBOX_DOCUMENTS]),
        ]
        for service, models in bound:
            await init_beanie(database=self.db(service), document_models=models, skip_indexes=True)

    async def _take_seqs(self, service: str, count: int) -> int:
        """The first of `count` sequence numbers taken from the service's outbox
        counter, as its relay takes them."""
        counters = OutboxCounter.get_pymongo_collection().name
        counter = await self.db(service)[counters].find_one_and_update(
            {"_id": "outbox"},
            {"$inc": {"value": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None  # upserted
        return int(counter["value"]) - count + 1

    async def _advance_cursor(self, service: str, source: str, first: int, last: int) -> None:
        """Move the consumer's cursor from just before the filled events to their
        last (before they exist, so no consumer reads them), once it has consumed
        everything before them: events numbered before the fill's are not skipped."""
        cursors = self.db(service)[ConsumerCursor.get_pymongo_collection().name]
        while True:
            cursor = await cursors.find_one({"_id": source})
            after = int(cursor["after"]) if cursor else 0
            if after > first - 1:
                raise RuntimeError(f"{service} consumed {source} events past {first - 1}")
            if after == first - 1:
                try:
                    moved = await cursors.update_one(
                        {"_id": source, "after": after},
                        {"$set": {"after": last, "updated_at": utcnow()}},
                        upsert=cursor is None,
                    )
                except DuplicateKeyError:
                    continue  # the consumer made its cursor meanwhile
                if moved.matched_count or moved.upserted_id is not None:
                    return
            await asyncio.sleep(CURSOR_POLL_SECONDS)

    async def fill(self, count: int) -> FillReport:
        started = time.perf_counter()
        levels = {
            level["_id"]: level
            async for level in self.db("inventory")["stock_levels"].find(
                {"warehouse_code": self.shop.warehouse}
            )
        }
        versions = {key: level["version"] for key, level in levels.items()}
        order_seq = await self._take_seqs("order", 2 * count)
        inventory_seq = await self._take_seqs("inventory", count)
        for service, source, first, events in (
            ("analytics", "order", order_seq, 2 * count),
            ("analytics", "inventory", inventory_seq, count),
            ("procurement", "inventory", inventory_seq, count),
        ):
            await self._advance_cursor(service, source, first, first + events - 1)
        numbers = OrderNumbers(block=count)
        order_ids: list[str] = []
        days: set[Bucket] = set()
        documents = 0
        for first in range(0, count, CHUNK):
            batch = Batch()
            for n in range(first, min(count, first + CHUNK)):
                order_id = await self._order(
                    batch, self.filled + n, numbers, levels, (order_seq + 2 * n, inventory_seq + n)
                )
                order_ids.append(order_id)
            facts = batch.documents["analytics", OrderFact.get_pymongo_collection().name]
            days |= {bucket_of(OrderFact.model_validate(fact)) for fact in facts}
            documents += await self._insert(batch)
        await self._store_levels(levels, versions)
        await recompute(days, None)  # the filled days' sales rollups, as analytics makes them
        self.filled += count
        return FillReport(count, documents, time.perf_counter() - started, order_ids)

    async def _order(
        self,
        batch: Batch,
        k: int,
        numbers: OrderNumbers,
        levels: dict[str, Stored],
        seqs: tuple[int, int],
    ) -> str:
        """Order k of the timeline and everything it leaves behind, added to the
        batch; `seqs` are the sequence numbers of its first order and inventory events."""
        order_seq, inventory_seq = seqs
        customer = self.shop.customers[self.timeline.lane(k)]
        requested = order_lines(self._rng, sorted(self.shop.catalog))
        placed_at = self.timeline.at(k)
        lines = price_lines(requested, self.shop.catalog)
        number = await numbers.next(placed_at.year)
        order = new_order(customer, lines, number, customer.user_id, placed_at)
        trace = traceparent()
        if placed_at > utcnow() - IDEMPOTENCY_WINDOW:
            key = str(uuid.uuid4())
            body = OrderCreate.model_validate(
                {"lines": [{"sku": sku, "quantity": n} for sku, n in requested]}
            )
            batch.add(
                "order",
                IdempotencyRecord(
                    id=record_id_for(customer.user_id, key),
                    caller=customer.user_id,
                    key=key,
                    fingerprint=_fingerprint(customer.id, body),
                    order_id=order.id,
                    created_at=placed_at,
                ),
            )
        placed = self._event("order.placed", order_snapshot(order, placed_at), placed_at, trace)
        reserved_at = placed_at + RESERVED_AFTER
        event = self._reserve(batch, order.id, requested, levels, reserved_at, trace)
        confirmed_at = placed_at + CONFIRMED_AFTER
        order_id = order.id
        order = order.model_copy(
            update={
                "status": OrderStatus.CONFIRMED,
                "updated_at": confirmed_at,
                "saga": None,
                "saga_since": None,
                "history": [
                    *order.history,
                    Transition(
                        status=OrderStatus.CONFIRMED, at=confirmed_at, actor=customer.user_id
                    ),
                ],
            }
        )
        batch.add("order", order)
        confirmed = self._event(
            "order.confirmed", order_snapshot(order, confirmed_at), confirmed_at, trace
        )
        # Published: numbered as the relay numbers them when it pages them.
        stored = [batch.add("order", placed), batch.add("order", confirmed)]
        stored[0]["seq"], stored[1]["seq"] = order_seq, order_seq + 1
        inventory_stored = batch.add("inventory", event)
        inventory_stored["seq"] = inventory_seq
        self._consumed(batch, stored, inventory_stored)
        for sku, quantity in requested:
            self.quantities[sku] = self.quantities.get(sku, 0) + quantity
        return order_id

    @staticmethod
    def _event(event_type: str, data: Stored, at: datetime, trace: str) -> OutboxEvent:
        return OutboxEvent(
            id=new_id("evt", at),
            type=event_type,
            source="order" if event_type.startswith("order.") else "inventory",
            occurred_at=at,
            data=data,
            traceparent=trace,
        )

    def _reserve(
        self,
        batch: Batch,
        order_id: str,
        requested: list[tuple[str, int]],
        levels: dict[str, Stored],
        at: datetime,
        trace: str,
    ) -> OutboxEvent:
        """The reservation (one warehouse: all from it), its ledger entries, the
        levels after it and its event; as inventory's `reserve` writes them."""
        warehouse = self.shop.warehouse
        wanted = sorted(requested)
        lines = [
            ReservationLine(
                sku=sku,
                quantity=quantity,
                allocations=[Allocation(warehouse_code=warehouse, quantity=quantity)],
            )
            for sku, quantity in wanted
        ]
        reservation = Reservation(
            id=order_id,
            status=ReservationStatus.RESERVED,
            fingerprint=fingerprint(wanted),
            lines=lines,
            expires_at=at + self.shop.reservation_ttl,
            actor=self.shop.order_actor,
            created_at=at,
            updated_at=at,
        )
        batch.add("inventory", reservation)
        changed: dict[str, Stored] = {}
        for sku, quantity in wanted:
            level = levels[level_id(sku, warehouse)]
            level["reserved"] += quantity
            level["version"] += 1
            level["updated_at"] = at
            batch.add(
                "inventory",
                Movement(
                    id=new_id("mov", at),
                    sku=sku,
                    warehouse_code=warehouse,
                    kind=MovementKind.RESERVE,
                    on_hand_delta=0,
                    reserved_delta=quantity,
                    on_hand=level["on_hand"],
                    reserved=level["reserved"],
                    version=level["version"],
                    actor=self.shop.order_actor,
                    reference=order_id,
                    at=at,
                ),
            )
            changed[level["_id"]] = level_snapshot(level)
        return self._event(
            "reservation.created",
            {
                "reservation_id": order_id,
                "status": reservation.status.value,
                "lines": [line.model_dump() for line in lines],
                "expires_at": reservation.expires_at,
                "levels": list(changed.values()),
            },
            at,
            trace,
        )

    @staticmethod
    def _consumed(batch: Batch, order_events: list[Stored], inventory_event: Stored) -> None:
        """What analytics' and procurement's consumers make of the order's events."""
        events = list(_events_of(order_events))
        confirmed = events[-1].data
        at = {event.type: parse_time(event.data["at"], event.occurred_at) for event in events}
        batch.add(
            "analytics",
            OrderFact(
                id=confirmed["order_id"],
                number=confirmed["number"],
                distributor_id=confirmed["distributor_id"],
                distributor_name=confirmed["distributor_name"],
                region=confirmed["region"],
                lines=confirmed["lines"],
                subtotal_paise=confirmed["subtotal_paise"],
                tax_paise=confirmed["tax_paise"],
                total_paise=confirmed["total_paise"],
                placed_at=parse_time(confirmed["placed_at"], at["order.confirmed"]),
                status=confirmed["status"],
                status_at=at["order.confirmed"],
                status_rank=ORDER_RANK["confirmed"],
                stages={
                    event_type.removeprefix("order."): moment for event_type, moment in at.items()
                },
            ),
        )
        (stock,) = _events_of([inventory_event])
        for level in stock.data["levels"]:
            batch.add(
                "analytics",
                LevelVersion(
                    id=f"{level['sku']}|{level['warehouse_code']}|{level['version']}",
                    sku=level["sku"],
                    warehouse_code=level["warehouse_code"],
                    version=level["version"],
                    on_hand=level["on_hand"],
                    reserved=level["reserved"],
                    at=parse_time(stock.occurred_at, stock.occurred_at),
                ),
                upserted=True,
            )
        for service, event in [("analytics", e) for e in [*events, stock]] + [
            ("procurement", stock)
        ]:
            batch.add(
                service,
                ProcessedEvent(
                    id=event.id,
                    source=event.source,
                    type=event.type,
                    processed_at=event.occurred_at + CONSUMED_AFTER,
                ),
            )

    async def _insert(self, batch: Batch) -> int:
        """Everything but the events first, then the events, in pages as the relay
        publishes them: a consumer that somehow read its cursor before the fill
        moved it finds its dedupe records."""
        outbox = OutboxEvent.get_pymongo_collection().name
        keys = sorted(batch.documents, key=lambda key: key[1] == outbox)
        for service, collection in keys:
            found = batch.documents[service, collection]
            if collection == outbox:
                page_collection = OutboxPage.get_pymongo_collection().name
                await self.db(service)[page_collection].insert_many(pages_of(found), ordered=False)
            else:
                await self.db(service)[collection].insert_many(found, ordered=False)
        return batch.count()

    async def _store_levels(self, levels: dict[str, Stored], versions: dict[str, int]) -> None:
        """The levels after every filled reservation (guarded by the version they
        had when the fill started); procurement's signals of them and analytics'
        current levels, written by their own handlers."""
        collection = self.db("inventory")["stock_levels"]
        for key, level in levels.items():
            if level["version"] == versions[key]:
                continue
            result = await collection.update_one(
                {"_id": key, "version": versions[key]},
                {
                    "$set": {
                        "reserved": level["reserved"],
                        "version": level["version"],
                        "updated_at": level["updated_at"],
                    }
                },
            )
            assert result.matched_count == 1, f"{key} changed while filling"
        signal = Event(
            id="fill",
            seq=0,
            type="reservation.created",
            source="inventory",
            occurred_at=utcnow(),
            data={"levels": [level_snapshot(level) for level in levels.values()]},
        )
        await handle_inventory_event(signal, None)
        for key, level in levels.items():
            if level["version"] == versions[key]:
                continue
            last = f"{level['sku']}|{level['warehouse_code']}|{level['version']}"
            version = await LevelVersion.get(last)
            assert version is not None, f"{last} was not filled"
            await raise_current(version, None)
