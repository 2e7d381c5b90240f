"""Reports computed from the read models. Each answers a `Report` (rows of
flat values, in a stable order) that renders as JSON or CSV."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from beanie.odm.queries.find import FindMany
from pydantic import BaseModel, Field

from apps.analytics.latest import first_of_each
from apps.analytics.levels import positions
from apps.analytics.models import (
    Level,
    OrderFact,
    ProductFact,
    PurchaseOrderFact,
    ReceiptCost,
    SalesDay,
    SalesLine,
    SalesTotals,
    SalesWholeDay,
)
from apps.analytics.queries import (
    DateRange,
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
from apps.kit.csv_cells import csv_text
from apps.kit.listing import keyset_page

FUNNEL_STAGES = ("placed", "confirmed", "rejected", "cancelled", "shipped", "delivered")
SECONDS_PER_DAY = 86_400


class Report(BaseModel):
    report: str
    filters: dict[str, Any]
    columns: list[str]
    rows: list[dict[str, Any]]
    # A paged report's next page; null on its last page and in the other reports.
    next_cursor: str | None = None

    def csv(self) -> str:
        return csv_text(self.columns, self.rows)


def _report(
    name: str,
    query: ReportQuery,
    columns: list[str],
    rows: list[dict[str, Any]],
    next_cursor: str | None = None,
) -> Report:
    # The cursor is where a page starts, not what the report shows.
    filters = query.model_dump(
        mode="json", by_alias=True, exclude={"format", "cursor"}, exclude_none=True
    )
    return Report(report=name, filters=filters, columns=columns, rows=rows, next_cursor=next_cursor)


def _match(
    query: DateRange, dated_by: str, distributor_id: str | None, region: str | None
) -> dict[str, Any]:
    # Equalities first: the embedded database (SecantusDB) serves a filter with two
    # ranges (a window and a page's _id) from its first field that leads an index;
    # MongoDB's planner ignores the order.
    match: dict[str, Any] = {}
    if distributor_id:
        match["distributor_id"] = distributor_id
    if region:
        match["region"] = region
    if window := query.window():
        match[dated_by] = window
    return match


SALES_COLUMNS = [
    "group",
    "label",
    "orders",
    "units",
    "net_revenue_paise",
    "tax_paise",
    "gross_revenue_paise",
]


# Groups whose rows need each distributor's rollups even over the whole business.
_BY_DISTRIBUTOR = frozenset({SalesGroup.DISTRIBUTOR, SalesGroup.REGION})


def _rollups(
    distributor_id: str | None, region: str | None, group: SalesGroup | None
) -> type[SalesDay]:
    """The whole days, unless a distributor or region is asked for or the rows are by
    distributor or region."""
    if distributor_id is None and region is None and group not in _BY_DISTRIBUTOR:
        return SalesWholeDay
    return SalesDay


def _days(
    query: DateRange,
    distributor_id: str | None,
    region: str | None,
    group: SalesGroup | None = None,
) -> FindMany[SalesDay]:
    model = _rollups(distributor_id, region, group)
    return model.find(_match(query, "day", distributor_id, region)).sort("day")


async def _sales_days(
    query: DateRange, distributor_id: str | None, region: str | None, group: SalesGroup
) -> list[SalesDay]:
    return await _days(query, distributor_id, region, group).to_list()


def _period(day: datetime, group: SalesGroup) -> str:
    if group is SalesGroup.DAY:
        return day.date().isoformat()
    if group is SalesGroup.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


class _SalesRows:
    """Rows by group; each labelled as the first order (by id) in it names it."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.labelled_by: dict[str, str] = {}

    def add(self, key: str, label: str, first_order_id: str, orders: int) -> dict[str, Any]:
        row = self.rows.setdefault(
            key,
            {
                "group": key,
                "label": label,
                "orders": 0,
                "units": 0,
                "net_revenue_paise": 0,
                "tax_paise": 0,
                "gross_revenue_paise": 0,
            },
        )
        if first_order_id < self.labelled_by.get(key, "\uffff"):
            self.labelled_by[key], row["label"] = first_order_id, label
        row["orders"] += orders
        return row

    def add_lines(
        self, key: str, label: str, first_order_id: str, orders: int, lines: list[SalesLine]
    ) -> None:
        row = self.add(key, label, first_order_id, orders)
        for line in lines:
            _count(row, line)

    def add_totals(
        self, key: str, label: str, first_order_id: str, orders: int, totals: SalesTotals
    ) -> None:
        _count(self.add(key, label, first_order_id, orders), totals)

    def sorted(self) -> list[dict[str, Any]]:
        return [self.rows[key] for key in sorted(self.rows)]


def _count(row: dict[str, Any], sums: SalesLine | SalesTotals) -> None:
    row["units"] += sums.units
    row["net_revenue_paise"] += sums.net_revenue_paise
    row["tax_paise"] += sums.tax_paise
    row["gross_revenue_paise"] += sums.net_revenue_paise + sums.tax_paise


def _category_key(category: str | None) -> str:
    return category or "uncategorised"


def _orders_of(day: SalesDay, lines: list[SalesLine], category: str | None, sku: str | None) -> int:
    """The sales of the day with a line the filters keep (one line per SKU in an order)."""
    if sku is not None:
        return sum(line.orders for line in lines)
    if category is not None:
        return sum(c.orders for c in day.categories if c.category == category)
    return day.orders


class _DaySums(BaseModel):
    """What the sales report reads of a day's rollup when it needs none of its lines."""

    id: str = Field(alias="_id")
    day: datetime
    distributor_id: str
    distributor_name: str
    first_order_id: str
    region: str
    orders: int
    totals: SalesTotals | None = None


# Groups of whole days: without a category or SKU filter, their rows are the days' sums.
_WHOLE_DAY_GROUPS = frozenset(
    {SalesGroup.DAY, SalesGroup.WEEK, SalesGroup.MONTH, SalesGroup.DISTRIBUTOR, SalesGroup.REGION}
)


def _day_group(day: SalesDay | _DaySums, group: SalesGroup) -> tuple[str, str]:
    """The key and label of a group of whole days (a period, a distributor, a region)."""
    if group is SalesGroup.DISTRIBUTOR:
        return day.distributor_id, day.distributor_name
    if group is SalesGroup.REGION:
        return day.region, day.region
    period = _period(day.day, group)
    return period, period


def _add_by_category(
    rows: _SalesRows, day: SalesDay, lines: list[SalesLine], category: str | None, sku: str | None
) -> None:
    """An order counts once per category: from the day's counts, unless one SKU is
    asked for (then its lines are its orders)."""
    for line in lines:
        key = _category_key(line.category)
        rows.add_lines(key, key, line.first_order_id, line.orders if sku else 0, [line])
    if sku is None:
        for counted in day.categories:
            if category is None or counted.category == category:
                key = _category_key(counted.category)
                rows.add(key, key, day.first_order_id, counted.orders)


async def _sales_rows(
    query: DateRange,
    group: SalesGroup,
    *,
    distributor_id: str | None,
    region: str | None,
    category: str | None,
    sku: str | None,
) -> list[dict[str, Any]]:
    if category is None and sku is None and group in _WHOLE_DAY_GROUPS:
        return await _sales_rows_of_sums(query, group, distributor_id, region)
    rows = _SalesRows()
    for day in await _sales_days(query, distributor_id, region, group):
        lines = [
            line
            for line in day.lines
            if (category is None or line.category == category) and (sku is None or line.sku == sku)
        ]
        if not lines:
            continue
        if group is SalesGroup.PRODUCT:
            for line in lines:
                rows.add_lines(line.sku, line.name, line.first_order_id, line.orders, [line])
        elif group is SalesGroup.CATEGORY:
            _add_by_category(rows, day, lines, category, sku)
        else:
            key, label = _day_group(day, group)
            rows.add_lines(
                key, label, day.first_order_id, _orders_of(day, lines, category, sku), lines
            )
    return rows.sorted()


async def _sales_rows_of_sums(
    query: DateRange, group: SalesGroup, distributor_id: str | None, region: str | None
) -> list[dict[str, Any]]:
    """The rows from the days' sums: the cost follows the days read, not the SKUs
    sold on them."""
    days = await _days(query, distributor_id, region, group).project(_DaySums).to_list()
    unsummed = [day.id for day in days if day.totals is None]
    model = _rollups(distributor_id, region, group)
    summed_now = {
        day.id: SalesTotals.of(day.lines)
        for day in (await model.find({"_id": {"$in": unsummed}}).to_list() if unsummed else [])
    }
    rows = _SalesRows()
    for day in days:
        if not day.orders:
            continue  # no sale that day, so no line either
        key, label = _day_group(day, group)
        totals = day.totals or summed_now[day.id]
        rows.add_totals(key, label, day.first_order_id, day.orders, totals)
    return rows.sorted()


async def sales_report(query: SalesQuery) -> Report:
    rows = await _sales_rows(
        query,
        query.group_by,
        distributor_id=query.distributor_id,
        region=query.region,
        category=query.category,
        sku=query.sku,
    )
    return _report("sales", query, SALES_COLUMNS, rows)


async def top_products_report(query: TopProductsQuery) -> Report:
    rows = await _sales_rows(
        query,
        SalesGroup.PRODUCT,
        distributor_id=query.distributor_id,
        region=query.region,
        category=query.category,
        sku=None,
    )
    measure = "units" if query.by is Ranking.UNITS else "net_revenue_paise"
    rows.sort(key=lambda row: (-row[measure], row["group"]))
    ranked = [{"rank": n, **row} for n, row in enumerate(rows[: query.limit], start=1)]
    return _report("top-products", query, ["rank", *SALES_COLUMNS], ranked)


class _DayStages(BaseModel):
    """What the funnel reads of a day's rollup: its stages, not its lines (a line per
    SKU sold that day, which would make the funnel as costly as the sales report)."""

    stages: dict[str, int]


async def funnel_report(query: FunnelQuery) -> Report:
    days = await _days(query, query.distributor_id, query.region).project(_DayStages).to_list()
    reached = {stage: sum(day.stages.get(stage, 0) for day in days) for stage in FUNNEL_STAGES}
    placed = reached["placed"]
    rows = [
        {
            "stage": stage,
            "orders": reached[stage],
            "rate": round(reached[stage] / placed, 4) if placed else 0.0,
        }
        for stage in FUNNEL_STAGES
    ]
    return _report("order-funnel", query, ["stage", "orders", "rate"], rows)


async def _positions(query: StockQuery) -> list[Level]:
    match: dict[str, Any] = {}
    if query.warehouse_code:
        match["warehouse_code"] = query.warehouse_code
    if query.sku:
        match["sku"] = query.sku
    return await positions(match, query.cutoff())


async def _costs(query: StockQuery) -> dict[str, int]:
    """The latest unit cost of each SKU at the cutoff (ties: the higher receipt id)."""
    match: dict[str, Any] = {}
    if cutoff := query.cutoff():
        match["at"] = {"$lt": cutoff}
    if query.sku:
        match["sku"] = query.sku
    latest = [("at", -1), ("_id", -1)]
    rows = await first_of_each(ReceiptCost, ["sku"], latest, ["unit_cost_paise"], match)
    return {row["sku"]: int(row["unit_cost_paise"]) for row in rows}


async def _products(levels: list[Level]) -> dict[str, ProductFact]:
    """The products of these levels' SKUs."""
    skus = sorted({level.sku for level in levels})
    return {p.id: p for p in await ProductFact.find({"_id": {"$in": skus}}).to_list()}


def _in_category(products: dict[str, ProductFact], sku: str, category: str | None) -> bool:
    return category is None or (sku in products and products[sku].category == category)


async def stock_report(query: StockQuery) -> Report:
    levels = await _positions(query)
    products, costs = await _products(levels), await _costs(query)
    rows: dict[str, dict[str, Any]] = {}
    for level in levels:
        if not _in_category(products, level.sku, query.category):
            continue
        row = rows.setdefault(
            level.warehouse_code,
            {
                "warehouse_code": level.warehouse_code,
                "skus": 0,
                "on_hand": 0,
                "reserved": 0,
                "available": 0,
                "stock_value_paise": 0,
                "retail_value_paise": 0,
            },
        )
        price = products[level.sku].unit_price_paise if level.sku in products else None
        row["skus"] += 1
        row["on_hand"] += level.on_hand
        row["reserved"] += level.reserved
        row["available"] += level.on_hand - level.reserved
        row["stock_value_paise"] += level.on_hand * costs.get(level.sku, 0)
        row["retail_value_paise"] += level.on_hand * (price or 0)
    columns = [
        "warehouse_code",
        "skus",
        "on_hand",
        "reserved",
        "available",
        "stock_value_paise",
        "retail_value_paise",
    ]
    return _report("stock", query, columns, [rows[key] for key in sorted(rows)])


async def low_stock_report(query: StockQuery) -> Report:
    levels = await _positions(query)
    products = await _products(levels)
    rows = []
    for level in levels:
        product = products.get(level.sku)
        if product is None or product.reorder_point is None:
            continue
        if not _in_category(products, level.sku, query.category):
            continue
        available = level.on_hand - level.reserved
        if available > product.reorder_point:
            continue
        rows.append(
            {
                "sku": level.sku,
                "name": product.name,
                "category": product.category,
                "warehouse_code": level.warehouse_code,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "available": available,
                "reorder_point": product.reorder_point,
                "reorder_quantity": product.reorder_quantity,
            }
        )
    columns = [
        "sku",
        "name",
        "category",
        "warehouse_code",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_quantity",
    ]
    return _report("low-stock", query, columns, rows)


async def _purchase_orders(query: ProcurementQuery) -> list[PurchaseOrderFact]:
    match: dict[str, Any] = {"submitted_at": {"$ne": None, **query.window()}}
    if query.supplier_id:
        match["supplier_id"] = query.supplier_id
    return await PurchaseOrderFact.find(match).sort("_id").to_list()


async def procurement_spend_report(query: ProcurementQuery) -> Report:
    rows: dict[str, dict[str, Any]] = {}
    for po in await _purchase_orders(query):
        row = rows.setdefault(
            po.supplier_id,
            {
                "supplier_id": po.supplier_id,
                "supplier_name": po.supplier_name,
                "purchase_orders": 0,
                "cancelled": 0,
                "ordered_paise": 0,
                "received_value_paise": 0,
            },
        )
        if po.cancelled_at is not None:
            row["cancelled"] += 1
            continue
        row["purchase_orders"] += 1
        row["ordered_paise"] += po.total_paise
        row["received_value_paise"] += sum(int(r["value_paise"]) for r in po.receipts.values())
    columns = [
        "supplier_id",
        "supplier_name",
        "purchase_orders",
        "cancelled",
        "ordered_paise",
        "received_value_paise",
    ]
    return _report("procurement-spend", query, columns, [rows[k] for k in sorted(rows)])


def actual_lead_days(po: PurchaseOrderFact) -> float | None:
    """Days from submission to the receipt that completed the order."""
    done: list[datetime] = [r["at"] for r in po.receipts.values() if r["completes"]]
    if po.submitted_at is None or not done:
        return None
    return float((min(done) - po.submitted_at).total_seconds() / SECONDS_PER_DAY)


async def supplier_lead_time_report(query: ProcurementQuery) -> Report:
    actuals: dict[str, list[float]] = defaultdict(list)
    rows: dict[str, dict[str, Any]] = {}
    latest: dict[str, datetime] = {}
    for po in await _purchase_orders(query):
        if po.cancelled_at is not None or po.submitted_at is None:
            continue
        row = rows.setdefault(
            po.supplier_id,
            {"supplier_id": po.supplier_id, "supplier_name": po.supplier_name, "open": 0},
        )
        if po.submitted_at >= latest.get(po.supplier_id, po.submitted_at):
            latest[po.supplier_id] = po.submitted_at
            row["promised_lead_time_days"] = po.promised_lead_time_days
        actual = actual_lead_days(po)
        if actual is None:
            row["open"] += 1
        else:
            actuals[po.supplier_id].append(actual)
    for supplier_id, row in rows.items():
        days = actuals[supplier_id]
        row["completed"] = len(days)
        row["average_actual_days"] = round(sum(days) / len(days), 2) if days else None
        row["max_actual_days"] = round(max(days), 2) if days else None
        row["on_time"] = sum(1 for d in days if d <= row["promised_lead_time_days"])
        row["late"] = len(days) - row["on_time"]
    columns = [
        "supplier_id",
        "supplier_name",
        "promised_lead_time_days",
        "completed",
        "open",
        "average_actual_days",
        "max_actual_days",
        "on_time",
        "late",
    ]
    return _report("supplier-lead-time", query, columns, [rows[k] for k in sorted(rows)])


async def purchase_history_report(query: PurchaseHistoryQuery) -> Report:
    """One page of the orders, newest first."""
    match = _match(query, "placed_at", query.distributor_id, None)
    orders, next_cursor = await keyset_page(
        OrderFact, match, query.limit, query.cursor, newest_first=True, id_prefix="ord"
    )
    rows = [
        {
            "order_id": order.id,
            "number": order.number,
            "distributor_id": order.distributor_id,
            "status": order.status,
            "placed_at": order.placed_at,
            "units": sum(int(line["quantity"]) for line in order.lines),
            "total_paise": order.total_paise,
        }
        for order in orders
    ]
    columns = [
        "order_id",
        "number",
        "distributor_id",
        "status",
        "placed_at",
        "units",
        "total_paise",
    ]
    return _report("purchase-history", query, columns, rows, next_cursor)


ReportFunction = Callable[[Any], Awaitable[Report]]

# name -> (its filters, the function), for routes and exports alike.
REPORTS: dict[str, tuple[type[ReportQuery], ReportFunction]] = {
    "sales": (SalesQuery, sales_report),
    "top-products": (TopProductsQuery, top_products_report),
    "order-funnel": (FunnelQuery, funnel_report),
    "stock": (StockQuery, stock_report),
    "low-stock": (StockQuery, low_stock_report),
    "procurement-spend": (ProcurementQuery, procurement_spend_report),
    "supplier-lead-time": (ProcurementQuery, supplier_lead_time_report),
    "purchase-history": (PurchaseHistoryQuery, purchase_history_report),
}
