"""The order service under test: auth, inventory and order processes, with a
short recovery interval so recovery shows within a test's patience."""

from __future__ import annotations

import pytest

from tests.support.platform import Platform
from tests.support.shop import Shop

ORDER_TEST_ENV = {
    "RECOVERY_INTERVAL_SECONDS": "0.3",
    "RECOVERY_GRACE_SECONDS": "1",
    "INVENTORY_TIMEOUT_SECONDS": "2",
    "CATALOG_CACHE_SECONDS": "1",
    "IDEMPOTENCY_WAIT_SECONDS": "3",
}


@pytest.fixture(scope="session")
def order_platform(platform: Platform) -> Platform:
    platform.configure("order", ORDER_TEST_ENV)
    platform.start("inventory", "order")
    return platform


@pytest.fixture(scope="session")
def shop(order_platform: Platform) -> Shop:
    return Shop(order_platform)
