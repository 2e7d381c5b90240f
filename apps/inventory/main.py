"""The inventory service's app."""

from __future__ import annotations

from fastapi import FastAPI

from apps.inventory.models import (
    Movement,
    Operation,
    Product,
    Reservation,
    StockLevel,
    Warehouse,
)
from apps.inventory.reservations import expire_once
from apps.inventory.routes import catalogue, reservations, stock, warehouses
from apps.inventory.settings import InventorySettings
from apps.kit.app import BackgroundLoop, create_app
from apps.kit.outbox import OUTBOX_DOCUMENTS, OUTBOX_RELAY, events_router


def create_inventory_app(settings: InventorySettings) -> FastAPI:
    return create_app(
        settings,
        title="GloSleep inventory",
        description="Catalogue, warehouses, stock levels, reservations that never oversell, "
        "goods receipts, adjustments, transfers, the movement ledger and the event feed.",
        documents=[
            Product,
            Warehouse,
            StockLevel,
            Movement,
            Reservation,
            Operation,
            *OUTBOX_DOCUMENTS,
        ],
        routers=[
            catalogue.router,
            warehouses.router,
            stock.router,
            reservations.router,
            events_router(),
        ],
        loops=[
            OUTBOX_RELAY,
            BackgroundLoop(
                "reservation-expiry",
                expire_once,
                interval_seconds=settings.reservation_expiry_interval_seconds,
            ),
        ],
    )
