"""The order service's app."""

from __future__ import annotations

from fastapi import FastAPI

from apps.kit.app import create_app
from apps.kit.outbox import OUTBOX_DOCUMENTS, OUTBOX_RELAY, events_router
from apps.order.models import Distributor, IdempotencyRecord, Order, OrderCounter
from apps.order.recovery import recovery_loop
from apps.order.routes import distributors, orders
from apps.order.service import OrderParts
from apps.order.settings import OrderSettings


def create_order_app(settings: OrderSettings) -> FastAPI:
    parts = OrderParts(settings)
    app = create_app(
        settings,
        title="GloSleep order",
        description="Distributors (customer accounts) and their orders: idempotent placement, "
        "the reservation saga with inventory (PENDING, CONFIRMED or REJECTED, SHIPPED, "
        "DELIVERED, CANCELLED), recovery of unfinished steps, and the order event feed.",
        documents=[Distributor, Order, OrderCounter, IdempotencyRecord, *OUTBOX_DOCUMENTS],
        routers=[distributors.router, orders.router, events_router()],
        loops=[OUTBOX_RELAY, recovery_loop(parts)],
    )
    parts.bind(app.state.kit)
    app.state.order = parts
    return app
