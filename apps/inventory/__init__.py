"""The inventory service: catalogue, warehouses, stock levels, reservations,
goods receipts, adjustments, transfers and the movement ledger."""
