"""The order saga: guarded status transitions (each with its history entry and
its event, in one transaction) and the inventory calls between them.

Every inventory call an order still owes is named in `order.saga`; the step is
finished by the request that started it or, if that one failed or its process
died, by the recovery loop. All calls are keyed by the order id, so repeating
one never reserves, commits or releases twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.kit.clock import utcnow
from apps.kit.outbox import record
from apps.kit.problems import Conflict
from apps.kit.service_client import UpstreamError, UpstreamUnavailable
from apps.order.inventory_client import Refused
from apps.order.metrics import ORDER_VALUE, ORDERS
from apps.order.models import Order, OrderStatus, SagaStep, ShortLine, Transition
from apps.order.service import OrderParts

log = logging.getLogger("glosleep.order.saga")

SOURCE = "order"

EVENT_FOR = {
    OrderStatus.PENDING: "order.placed",
    OrderStatus.CONFIRMED: "order.confirmed",
    OrderStatus.REJECTED: "order.rejected",
    OrderStatus.SHIPPED: "order.shipped",
    OrderStatus.DELIVERED: "order.delivered",
    OrderStatus.CANCELLED: "order.cancelled",
}


def snapshot(order: Order, at: datetime) -> dict[str, Any]:
    """The event payload: the whole order (docs/architecture.md, "Event payloads")."""
    data: dict[str, Any] = {
        "order_id": order.id,
        "number": order.number,
        "status": str(order.status),
        "distributor_id": order.distributor_id,
        "distributor_name": order.distributor_name,
        "region": order.region,
        "lines": [
            line.model_dump(mode="json", exclude={"line_total_paise"}) for line in order.lines
        ],
        "subtotal_paise": order.subtotal_paise,
        "tax_paise": order.tax_paise,
        "total_paise": order.total_paise,
        "placed_at": order.placed_at.isoformat(),
        "at": at.isoformat(),
    }
    if order.status is OrderStatus.REJECTED:
        data["short_lines"] = [line.model_dump(mode="json") for line in order.short_lines]
    return data


async def record_event(session: AsyncClientSession | None, order: Order, at: datetime) -> None:
    await record(session, SOURCE, EVENT_FOR[order.status], snapshot(order, at))


def _from_document(document: dict[str, Any]) -> Order:
    document["id"] = document.pop("_id")
    order: Order = Order.model_validate(document)
    return order


async def transition(
    parts: OrderParts,
    order_id: str,
    *,
    expect: dict[str, Any],
    status: OrderStatus,
    actor: str,
    note: str | None = None,
    fields: dict[str, Any] | None = None,
) -> Order | None:
    """Move the order to `status` if it still matches `expect`; answers None
    when another transition won. The history entry and the event are written
    in the same transaction.

    An update then a read by id (the transaction reads its own write), not
    findAndModify: the embedded database serves both by point lookup, while its
    findAndModify scans the whole orders collection (10 ms at 1,000 orders)."""
    now = utcnow()
    entry = Transition(status=status, at=now, actor=actor, note=note)
    orders = Order.get_pymongo_collection()

    async def work(session: AsyncClientSession) -> Order | None:
        updated = await orders.update_one(
            {"_id": order_id, **expect},
            {
                "$set": {**(fields or {}), "status": str(status), "updated_at": now},
                "$push": {"history": entry.model_dump()},
            },
            session=session,
        )
        if updated.matched_count == 0:
            return None
        document = await orders.find_one({"_id": order_id}, session=session)
        assert document is not None, "updated in this transaction"
        order = _from_document(document)
        await record_event(session, order, now)
        return order

    updated: Order | None = await parts.kit.database.in_transaction(work)
    return updated


def _may_change(error: UpstreamError) -> bool:
    """An answer that a later retry may not repeat (our credentials, overload)."""
    return error.status >= 500 or error.status in (401, 403, 408, 429)


def illegal(order: Order, action: str) -> Conflict:
    return Conflict(
        f"Order {order.number} is {order.status}; it cannot be {action}.",
        slug="illegal-transition",
        order_status=str(order.status),
    )


async def _current(order_id: str) -> Order:
    order = await Order.get(order_id)
    assert order is not None, "orders are never deleted"
    return order


async def reserve(parts: OrderParts, order: Order, *, actor: str) -> Order:
    """Ask inventory to reserve the order's lines; CONFIRMED or REJECTED, or
    still PENDING when the outcome is not known yet (the recovery loop retries)."""
    lines = [{"sku": line.sku, "quantity": line.quantity} for line in order.lines]
    try:
        outcome = await parts.inventory.reserve(order.id, lines)
    except (UpstreamUnavailable, UpstreamError) as error:
        log.warning("reservation not made yet", extra={"order_id": order.id, "error": str(error)})
        return order
    cleared = {"saga": None, "saga_since": None}
    expect = {"status": str(OrderStatus.PENDING)}
    if isinstance(outcome, Refused):
        short = [ShortLine.model_validate(line).model_dump() for line in outcome.short_lines]
        updated = await transition(
            parts,
            order.id,
            expect=expect,
            status=OrderStatus.REJECTED,
            actor=actor,
            note=outcome.detail or outcome.slug,
            fields={**cleared, "short_lines": short, "rejection_reason": outcome.slug},
        )
        if updated is not None:
            ORDERS.labels("rejected").inc()
    else:
        updated = await transition(
            parts,
            order.id,
            expect=expect,
            status=OrderStatus.CONFIRMED,
            actor=actor,
            fields=cleared,
        )
        if updated is not None:
            ORDERS.labels("confirmed").inc()
            ORDER_VALUE.inc(updated.total_paise)
    return updated or await _current(order.id)


async def claim(order_id: str, expect: dict[str, Any], step: SagaStep, actor: str) -> Order | None:
    """Mark an inventory call as owed (without a status change)."""
    document = await Order.get_pymongo_collection().find_one_and_update(
        {"_id": order_id, **expect},
        {"$set": {"saga": str(step), "saga_since": utcnow(), "saga_actor": actor}},
        return_document=ReturnDocument.AFTER,
    )
    return None if document is None else _from_document(document)


async def commit(parts: OrderParts, order: Order, *, actor: str) -> Order:
    """Goods shipped: commit the reservation, then SHIPPED. Raises
    UpstreamUnavailable when inventory cannot be reached (the step stays owed)."""
    try:
        await parts.inventory.commit(order.id)
    except UpstreamError as error:
        if _may_change(error):
            raise UpstreamUnavailable("inventory", str(error)) from error
        await Order.get_pymongo_collection().update_one(
            {"_id": order.id, "saga": str(SagaStep.COMMIT)},
            {"$set": {"saga": None, "saga_since": None}},
        )
        raise Conflict(
            f"Inventory refused to ship order {order.number}: "
            + str(error.problem.get("detail") or error.problem.get("title") or error.status),
            slug="commit-refused",
        ) from error
    updated = await transition(
        parts,
        order.id,
        expect={"status": str(OrderStatus.CONFIRMED), "saga": str(SagaStep.COMMIT)},
        status=OrderStatus.SHIPPED,
        actor=actor,
        fields={"saga": None, "saga_since": None, "saga_actor": None},
    )
    if updated is not None:
        ORDERS.labels("shipped").inc()
    return updated or await _current(order.id)


async def release(parts: OrderParts, order: Order) -> Order:
    """Cancelled: give the reserved stock back (or leave a tombstone so that a
    late reservation with this id is refused). Stays owed while inventory is down."""
    try:
        await parts.inventory.release(order.id)
    except UpstreamError as error:
        if _may_change(error):
            log.warning("release not done yet", extra={"order_id": order.id, "error": str(error)})
            return order
        log.error("inventory refused a release", extra={"order_id": order.id, "error": str(error)})
    except UpstreamUnavailable as error:
        log.warning("release not done yet", extra={"order_id": order.id, "error": str(error)})
        return order
    document = await Order.get_pymongo_collection().find_one_and_update(
        {"_id": order.id, "saga": str(SagaStep.RELEASE)},
        {"$set": {"saga": None, "saga_since": None}},
        return_document=ReturnDocument.AFTER,
    )
    return order if document is None else _from_document(document)
