"""Orders: placing (idempotent), reading, listing, and the transitions people
drive (cancel, ship, deliver)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from apps.kit.bounds import Instant
from apps.kit.money import TOTAL_TOO_LARGE
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import BadRequest, Conflict, UnprocessableContent
from apps.order import lifecycle
from apps.order.access import Placer, Reader, Warehouse
from apps.order.models import Order, OrderStatus
from apps.order.placing import Answer, place_order
from apps.order.schemas import CancelRequest, DistributorId, OrderCreate, OrderOut
from apps.order.service import Parts

router = APIRouter(prefix="/v1/orders", tags=["orders"])
OrderPath = Annotated[str, Path(min_length=1, max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-made unique key (a UUID); a retry with the same key and body "
        "gets the same answer. Pruned after 24 hours.",
    ),
]
ORDER_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"model": OrderOut, "description": "Placed: CONFIRMED or REJECTED."},
    202: {"model": OrderOut, "description": "Placed and PENDING: inventory did not answer yet."},
}

ILLEGAL = Conflict(
    "Order SO-2026-17 is SHIPPED; it cannot be cancelled.", slug="illegal-transition"
)


def _answer(answer: Answer) -> JSONResponse:
    headers = {"Location": f"/v1/orders/{answer.body['id']}"}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.post(
    "",
    response_model=OrderOut,
    status_code=201,
    responses=ORDER_ANSWERS
    | problems(
        BadRequest(
            "An Idempotency-Key header is required to place an order.",
            slug="idempotency-key-required",
        ),
        UnprocessableContent(
            "This Idempotency-Key was used with another request body; use a new key.",
            slug="idempotency-key-reused",
        ),
        TOTAL_TOO_LARGE,
        UnprocessableContent("No active distributor dst_sleepwell.", slug="unknown-distributor"),
        UnprocessableContent(
            "Some lines name products that cannot be ordered.",
            slug="unknown-sku",
            errors=[{"path": "body.lines[0].sku", "message": "unknown or inactive product"}],
        ),
    ),
    summary="Place an order (Idempotency-Key required)",
)
async def create_order(
    body: OrderCreate, principal: Placer, parts: Parts, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    if idempotency_key is None:
        raise BadRequest(
            "An Idempotency-Key header is required to place an order.",
            slug="idempotency-key-required",
        )
    return _answer(await place_order(parts, principal, body, idempotency_key))


@router.get("", response_model=Page[OrderOut], summary="List orders, newest first")
async def list_orders(
    principal: Reader,
    status: OrderStatus | None = None,
    distributor_id: Annotated[DistributorId | None, Query()] = None,
    placed_from: Annotated[Instant | None, Query(description="Inclusive.")] = None,
    placed_to: Annotated[Instant | None, Query(description="Exclusive.")] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[OrderOut]:
    found, next_cursor = await lifecycle.order_page(
        principal, status, distributor_id, placed_from, placed_to, limit, cursor
    )
    return Page[OrderOut](
        items=[OrderOut.model_validate(order) for order in found], next_cursor=next_cursor
    )


@router.get("/{order_id}", response_model=OrderOut, summary="Read an order")
async def read_order(order_id: OrderPath, principal: Reader) -> Order:
    return await lifecycle.readable_order(order_id, principal)


@router.post(
    "/{order_id}/cancel",
    response_model=OrderOut,
    responses=problems(ILLEGAL),
    summary="Cancel before shipping",
)
async def cancel_order(
    order_id: OrderPath, principal: Placer, parts: Parts, body: CancelRequest | None = None
) -> Order:
    return await lifecycle.cancel(parts, order_id, principal, body.reason if body else None)


@router.post(
    "/{order_id}/ship",
    response_model=OrderOut,
    responses=problems(
        ILLEGAL,
        Conflict(
            "Inventory refused to ship order SO-2026-17: reservation expired", slug="commit-refused"
        ),
    ),
    summary="Ship (commit the stock)",
)
async def ship_order(order_id: OrderPath, principal: Warehouse, parts: Parts) -> Order:
    return await lifecycle.ship(parts, order_id, principal)


@router.post(
    "/{order_id}/deliver",
    response_model=OrderOut,
    responses=problems(ILLEGAL),
    summary="Record delivery",
)
async def deliver_order(order_id: OrderPath, principal: Warehouse, parts: Parts) -> Order:
    return await lifecycle.deliver(parts, order_id, principal)
