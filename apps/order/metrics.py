"""The order service's business metrics (names in docs/architecture.md)."""

from apps.kit.metrics import counter, gauge, histogram

ORDERS_PLACED = counter("orders_placed", "Orders created (each Idempotency-Key once).")
ORDERS = counter(
    "orders",
    "Orders reaching an outcome: confirmed|rejected|shipped|delivered|cancelled.",
    ["outcome"],
)
ORDER_VALUE = counter("order_value_paise", "Total value (with GST) of confirmed orders, in paise.")
SAGA_STEP = histogram(
    "saga_step_duration_seconds",
    "Duration of each call to inventory in the order saga.",
    ["step"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PENDING = gauge("orders_pending", "Orders waiting PENDING for their reservation.")
