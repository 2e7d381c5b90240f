"""The order service: distributors (customer accounts), orders, the reservation
saga with inventory, idempotent order placement and recovery."""
