"""The procurement service's business metrics (names in docs/architecture.md)."""

from apps.kit.metrics import counter

PURCHASE_ORDERS = counter(
    "purchase_orders", "Purchase-order events: submitted, received, cancelled.", ["event"]
)
GOODS_RECEIPTS = counter("goods_receipts", "Goods receipts posted to inventory.")
