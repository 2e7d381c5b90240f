"""Analytics accepts every typed event version it claims (projections.ACCEPTS): each
claimed (type, version) exists in apps/kit/event_types.py, and an event built from that
version's model, applied by analytics' own handler to a real database, lands in the
read models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient

from apps.analytics.models import READ_MODELS, LevelVersion, OrderFact, PurchaseOrderFact
from apps.analytics.projections import ACCEPTS, HANDLERS
from apps.kit.event_types import EVENT_TYPES
from tests.support.event_examples import LEVEL, example_event


@pytest.fixture
async def read_models(mongo_url: str, database_prefix: str) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    name = f"{database_prefix}analytics_event_types"
    await init_beanie(database=client[name], document_models=list(READ_MODELS))
    yield
    await client.drop_database(name)
    await client.close()


def test_analytics_claims_every_typed_event_and_only_those() -> None:
    assert {item.key for item in EVENT_TYPES} == ACCEPTS


def source_of(name: str) -> str:
    family = name.split(".", maxsplit=1)[0]
    return {"order": "order", "purchase_order": "procurement"}.get(family, "inventory")


@pytest.mark.parametrize(("name", "version"), sorted(ACCEPTS))
async def test_analytics_applies_each_claimed_version(
    read_models: None, name: str, version: int
) -> None:
    source = source_of(name)
    event = example_event(name, version, source)
    await HANDLERS[source](event, None)
    if source == "order":
        fact = await OrderFact.get(event.data["order_id"])
        assert fact is not None
        assert fact.total_paise == event.data["total_paise"]
    elif source == "procurement":
        po = await PurchaseOrderFact.get(event.data["po_id"])
        assert po is not None
        assert po.number == event.data["number"]
    if "levels" in event.data:
        key = f"{LEVEL['sku']}|{LEVEL['warehouse_code']}|{LEVEL['version']}"
        level = await LevelVersion.get(key)
        assert level is not None
        assert level.on_hand == LEVEL["on_hand"]
