"""The procurement service's app."""

from __future__ import annotations

from fastapi import FastAPI

from apps.kit.app import BackgroundLoop, create_app
from apps.kit.consumer import CONSUMER_DOCUMENTS, event_consumer
from apps.kit.outbox import OUTBOX_DOCUMENTS, OUTBOX_RELAY, events_router
from apps.procurement.models import (
    GoodsReceipt,
    NumberCounter,
    PurchaseOrder,
    StockSignal,
    Supplier,
)
from apps.procurement.receiving import recover_receipts
from apps.procurement.reorder import handle_inventory_event
from apps.procurement.routes import purchase_orders, receipts, suggestions, suppliers
from apps.procurement.settings import ProcurementSettings


def create_procurement_app(settings: ProcurementSettings) -> FastAPI:
    documents = [Supplier, PurchaseOrder, NumberCounter, GoodsReceipt, StockSignal]
    for document in [*OUTBOX_DOCUMENTS, *CONSUMER_DOCUMENTS]:
        if document not in documents:
            documents.append(document)
    return create_app(
        settings,
        title="GloSleep procurement",
        description="Suppliers, purchase orders and their approval, goods receipt posted to "
        "inventory, and reorder suggestions from inventory's low-stock events.",
        documents=documents,
        routers=[
            suppliers.router,
            purchase_orders.router,
            receipts.router,
            suggestions.router,
            events_router(),
        ],
        loops=[
            OUTBOX_RELAY,
            event_consumer(
                "inventory",
                settings.inventory_url,
                handle_inventory_event,
                interval=settings.consumer_interval_seconds,
            ),
            BackgroundLoop(
                "receipt-recovery",
                recover_receipts,
                interval_seconds=settings.receipt_recovery_interval_seconds,
            ),
        ],
    )
