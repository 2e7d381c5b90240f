"""The inventory service's business metrics (names in docs/architecture.md)."""

from apps.kit.metrics import counter

RESERVATIONS = counter(
    "reservations", "Reservation requests by outcome (reserved, rejected, replayed).", ["outcome"]
)
SHORT_LINES = counter("reservation_short_lines", "Reservation lines refused for short stock.")
EXPIRED = counter("reservations_expired", "Reservations released because their TTL passed.")
STOCK_LOW = counter(
    "stock_low_events", "Times a level's available stock fell to or below its reorder point."
)
RECEIPTS = counter("stock_receipts", "Goods receipts applied (replays not counted).")
