"""Procurement accepts every typed inventory event version it claims
(reorder.ACCEPTS): applied by its own handler to a real database, each updates what
procurement knows of the SKU's stock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient

from apps.kit.event_types import EVENT_TYPES
from apps.procurement.models import StockSignal
from apps.procurement.reorder import ACCEPTS, handle_inventory_event
from tests.support.event_examples import LEVEL, SKU, example_event


@pytest.fixture
async def signals(mongo_url: str, database_prefix: str) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    name = f"{database_prefix}procurement_event_types"
    await init_beanie(database=client[name], document_models=[StockSignal])
    yield
    await client.drop_database(name)
    await client.close()


def test_every_claimed_version_is_a_typed_event() -> None:
    assert {item.key for item in EVENT_TYPES} >= ACCEPTS
    assert ("stock.low", 1) in ACCEPTS


@pytest.mark.parametrize(("name", "version"), sorted(ACCEPTS))
async def test_procurement_applies_each_claimed_version(
    signals: None, name: str, version: int
) -> None:
    await StockSignal.get_pymongo_collection().delete_many({})
    await handle_inventory_event(example_event(name, version, "inventory"), None)
    signal = await StockSignal.get(SKU)
    assert signal is not None, name
    level = signal.levels[LEVEL["warehouse_code"]]
    assert level["available"] == LEVEL["on_hand"] - LEVEL["reserved"] or name == "stock.low"
    if name == "stock.low":
        assert (signal.reorder_point, signal.reorder_quantity) == (5, 20)
