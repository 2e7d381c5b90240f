"""An order after it is placed: who may read it, listing, and the transitions people
drive (cancel before shipping, ship, deliver), each a guarded saga transition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
from apps.kit.listing import keyset_page
from apps.kit.problems import Conflict, Forbidden, NotFound
from apps.kit.security import Principal, distributor_scope, ensure_owner
from apps.order import saga
from apps.order.metrics import ORDERS
from apps.order.models import Order, OrderStatus, SagaStep
from apps.order.service import OrderParts


async def order_page(
    principal: Principal,
    status: OrderStatus | None,
    distributor_id: str | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Order], str | None]:
    """Newest first; a distributor sees only its own orders (403 for another's)."""
    own = distributor_scope(principal)
    if own is not None and distributor_id not in (None, own):
        raise Forbidden("A distributor sees only its own orders.")
    query: dict[str, Any] = {}
    if own or distributor_id:
        query["distributor_id"] = own or distributor_id
    if status is not None:
        query["status"] = str(status)
    for bound, operator in ((placed_from, "$gte"), (placed_to, "$lt")):
        if bound is not None:
            query.setdefault("placed_at", {})[operator] = bound
    return await keyset_page(Order, query, limit, cursor, newest_first=True, id_prefix="ord")


async def readable_order(order_id: str, principal: Principal) -> Order:
    """The order, or a 404 also when it is another distributor's."""
    order = await get_or_404(Order, order_id, "order")
    try:
        ensure_owner(principal, order.distributor_id)
    except Forbidden:
        raise NotFound(f"No order {order_id}.") from None
    return order


async def cancel(
    parts: OrderParts, order_id: str, principal: Principal, reason: str | None
) -> Order:
    """PENDING or CONFIRMED, not being shipped: CANCELLED, and its stock released."""
    order = await readable_order(order_id, principal)
    if order.status not in (OrderStatus.PENDING, OrderStatus.CONFIRMED):
        raise saga.illegal(order, "cancelled")
    if order.saga is SagaStep.COMMIT:
        raise Conflict(f"Order {order.number} is being shipped.", slug="illegal-transition")
    cancelled = await saga.transition(
        parts,
        order.id,
        expect={
            "status": {"$in": [str(OrderStatus.PENDING), str(OrderStatus.CONFIRMED)]},
            "saga": {"$in": [None, str(SagaStep.RESERVE)]},
        },
        status=OrderStatus.CANCELLED,
        actor=principal.subject,
        note=reason,
        fields={"saga": str(SagaStep.RELEASE), "saga_since": utcnow()},
    )
    if cancelled is None:
        raise saga.illegal(await readable_order(order_id, principal), "cancelled")
    ORDERS.labels("cancelled").inc()
    return await saga.release(parts, cancelled)


async def ship(parts: OrderParts, order_id: str, principal: Principal) -> Order:
    """CONFIRMED: commit the reserved stock at inventory, then SHIPPED."""
    order = await readable_order(order_id, principal)
    if order.status is not OrderStatus.CONFIRMED:
        raise saga.illegal(order, "shipped")
    claimed = await saga.claim(
        order.id,
        {"status": str(OrderStatus.CONFIRMED), "saga": {"$in": [None, str(SagaStep.COMMIT)]}},
        SagaStep.COMMIT,
        principal.subject,
    )
    if claimed is None:
        raise saga.illegal(await readable_order(order.id, principal), "shipped")
    return await saga.commit(parts, claimed, actor=principal.subject)


async def deliver(parts: OrderParts, order_id: str, principal: Principal) -> Order:
    """SHIPPED: DELIVERED."""
    order = await readable_order(order_id, principal)
    delivered = await saga.transition(
        parts,
        order.id,
        expect={"status": str(OrderStatus.SHIPPED)},
        status=OrderStatus.DELIVERED,
        actor=principal.subject,
    )
    if delivered is None:
        raise saga.illegal(await readable_order(order_id, principal), "delivered")
    ORDERS.labels("delivered").inc()
    return delivered
