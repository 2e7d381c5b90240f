"""The recovery loop: finishes the inventory calls orders still owe (reserve
for PENDING orders, commit for shipments, release for cancellations) when the
request that started them failed or its process died. One replica at a time
runs it (a lease); running a step twice is harmless, since every call is keyed
by the order id and every status change is guarded by the current status."""

from __future__ import annotations

import logging
from datetime import timedelta

from apps.kit.app import AppKit, BackgroundLoop
from apps.kit.clock import utcnow
from apps.kit.leases import hold_lease
from apps.kit.problems import Conflict
from apps.kit.service_client import UpstreamUnavailable
from apps.order import saga
from apps.order.metrics import PENDING
from apps.order.models import Order, OrderStatus, SagaStep
from apps.order.service import OrderParts

log = logging.getLogger("glosleep.order.recovery")

RECOVERY_ACTOR = "system:recovery"


async def recover_once(parts: OrderParts) -> int:
    """Finish owed steps older than the grace period; answers how many were tried."""
    settings = parts.settings
    PENDING.set(await Order.find({"status": str(OrderStatus.PENDING)}).count())
    lease_seconds = max(2.0, settings.recovery_interval_seconds * 3)
    if not await hold_lease("order-recovery", ttl_seconds=lease_seconds):
        return 0
    cutoff = utcnow() - timedelta(seconds=settings.recovery_grace_seconds)
    owed = (
        await Order.find(
            {"saga": {"$in": [str(step) for step in SagaStep]}, "saga_since": {"$lte": cutoff}}
        )
        .sort("saga_since")
        .limit(settings.recovery_batch)
        .to_list()
    )
    for order in owed:
        try:
            await _finish(parts, order)
        except (UpstreamUnavailable, Conflict) as error:
            log.warning("recovery step failed", extra={"order_id": order.id, "error": str(error)})
    if owed:
        PENDING.set(await Order.find({"status": str(OrderStatus.PENDING)}).count())
    return len(owed)


async def _finish(parts: OrderParts, order: Order) -> None:
    actor = order.saga_actor or RECOVERY_ACTOR
    if order.saga is SagaStep.RESERVE and order.status is OrderStatus.PENDING:
        await saga.reserve(parts, order, actor=RECOVERY_ACTOR)
    elif order.saga is SagaStep.COMMIT and order.status is OrderStatus.CONFIRMED:
        await saga.commit(parts, order, actor=actor)
    elif order.saga is SagaStep.RELEASE:
        await saga.release(parts, order)
    else:
        log.error(
            "an owed step does not fit the order's status; cleared",
            extra={"order_id": order.id, "saga": order.saga, "status": order.status},
        )
        await Order.get_pymongo_collection().update_one(
            {"_id": order.id, "saga": str(order.saga)},
            {"$set": {"saga": None, "saga_since": None}},
        )


def recovery_loop(parts: OrderParts) -> BackgroundLoop:
    async def run(_: AppKit) -> None:
        await recover_once(parts)

    return BackgroundLoop("order-recovery", run, parts.settings.recovery_interval_seconds)
