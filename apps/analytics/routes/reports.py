"""The reports, as JSON or CSV (`?format=csv`, or `Accept: text/csv`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from apps.analytics.access import HistoryReader, Reader
from apps.analytics.queries import (
    Format,
    FunnelQuery,
    ProcurementQuery,
    PurchaseHistoryQuery,
    ReportQuery,
    SalesQuery,
    StockQuery,
    TopProductsQuery,
)
from apps.analytics.reports import (
    Report,
    funnel_report,
    low_stock_report,
    procurement_spend_report,
    purchase_history_report,
    sales_report,
    stock_report,
    supplier_lead_time_report,
    top_products_report,
)
from apps.kit.security import distributor_scope

router = APIRouter(prefix="/v1/reports", tags=["reports"])

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
PAGED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        **RESPONSES[200],
        "headers": {
            "Link": {
                "description": 'The next page, `<?...&cursor=...>; rel="next"` (RFC 8288); '
                "absent on the last page.",
                "schema": {"type": "string"},
            }
        },
    }
}


def wants_csv(query: ReportQuery, request: Request) -> bool:
    if query.format is not None:
        return query.format is Format.CSV
    return "text/csv" in request.headers.get("accept", "")


def next_link(report: Report, request: Request) -> dict[str, str]:
    """RFC 8288 `Link` to the next page: this request's query with the cursor replaced,
    relative to the URL the client asked for (the gateway adds a path prefix)."""
    if report.next_cursor is None:
        return {}
    query = request.url.include_query_params(cursor=report.next_cursor).query
    return {"Link": f'<?{query}>; rel="next"'}


def render(report: Report, query: ReportQuery, request: Request) -> Response:
    headers = next_link(report, request)
    if wants_csv(query, request):
        headers["Content-Disposition"] = f'attachment; filename="{report.report}.csv"'
        return Response(report.csv(), media_type=CSV_MEDIA_TYPE, headers=headers)
    return JSONResponse(report.model_dump(mode="json"), headers=headers)


@router.get(
    "/sales", response_model=Report, responses=RESPONSES, summary="Sales by period or dimension"
)
async def sales(_: Reader, query: Annotated[SalesQuery, Query()], request: Request) -> Response:
    """Confirmed, not cancelled orders (by the day they were placed, UTC):
    orders, units, net revenue, GST and gross revenue."""
    return render(await sales_report(query), query, request)


@router.get("/top-products", response_model=Report, responses=RESPONSES, summary="Best sellers")
async def top_products(
    _: Reader, query: Annotated[TopProductsQuery, Query()], request: Request
) -> Response:
    return render(await top_products_report(query), query, request)


@router.get("/order-funnel", response_model=Report, responses=RESPONSES, summary="Order funnel")
async def order_funnel(
    _: Reader, query: Annotated[FunnelQuery, Query()], request: Request
) -> Response:
    """Of the orders placed in the range: how many reached each stage, and the
    share of placed orders that did."""
    return render(await funnel_report(query), query, request)


@router.get("/stock", response_model=Report, responses=RESPONSES, summary="Stock by warehouse")
async def stock(_: Reader, query: Annotated[StockQuery, Query()], request: Request) -> Response:
    """Position and value at cost (latest receipt cost) and at list price."""
    return render(await stock_report(query), query, request)


@router.get("/low-stock", response_model=Report, responses=RESPONSES, summary="Low stock")
async def low_stock(_: Reader, query: Annotated[StockQuery, Query()], request: Request) -> Response:
    """Levels whose available quantity is at or below the reorder point."""
    return render(await low_stock_report(query), query, request)


@router.get(
    "/procurement-spend", response_model=Report, responses=RESPONSES, summary="Spend by supplier"
)
async def procurement_spend(
    _: Reader, query: Annotated[ProcurementQuery, Query()], request: Request
) -> Response:
    return render(await procurement_spend_report(query), query, request)


@router.get(
    "/supplier-lead-time",
    response_model=Report,
    responses=RESPONSES,
    summary="Lead time promised versus actual",
)
async def supplier_lead_time(
    _: Reader, query: Annotated[ProcurementQuery, Query()], request: Request
) -> Response:
    return render(await supplier_lead_time_report(query), query, request)


@router.get(
    "/purchase-history",
    response_model=Report,
    responses=PAGED_RESPONSES,
    summary="A distributor's orders, a page at a time",
)
async def purchase_history(
    principal: HistoryReader, query: Annotated[PurchaseHistoryQuery, Query()], request: Request
) -> Response:
    """Newest first, `limit` orders a page; the next page is `next_cursor` (and the
    `Link` header). A distributor sees only its own orders, whatever distributor_id
    it asks for."""
    own = distributor_scope(principal)
    if own is not None:
        query = query.model_copy(update={"distributor_id": own})
    return render(await purchase_history_report(query), query, request)
