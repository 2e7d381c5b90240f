"""The services insert their hot documents without Beanie's encoder
(`apps.kit.documents.insert_fast`): what is stored must be what Beanie stores."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from beanie import init_beanie
from beanie.odm.utils.dump import get_dict
from pymongo import AsyncMongoClient, MongoClient
from pymongo.collection import Collection

from apps.inventory.models import (
    Allocation,
    Movement,
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    ShortLine,
)
from apps.kit.clock import utcnow
from apps.kit.consumer import ProcessedEvent
from apps.kit.documents import (
    KeyedDocument,
    insert_fast,
    insert_many_fast,
    set_unless_newer,
    stored_form,
)
from apps.kit.outbox import OutboxEvent
from apps.order.models import (
    Address,
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    SagaStep,
    Transition,
)
from tests.support.queries import profiled

MODELS: list[type[KeyedDocument]] = [
    OutboxEvent,
    ProcessedEvent,
    Order,
    IdempotencyRecord,
    Reservation,
    Movement,
]


def examples() -> list[KeyedDocument]:
    now = utcnow()
    address = Address(line1="1 Mall Road", city="Pune", state="MH", postal_code="411001")
    line = OrderLine(
        sku="MAT-1",
        name="Mattress",
        category="mattress",
        quantity=2,
        unit_price_paise=1_000_00,
        gst_rate_bps=1800,
        line_subtotal_paise=2_000_00,
        line_tax_paise=360_00,
        line_total_paise=2_360_00,
    )
    return [
        OutboxEvent(
            type="reservation.created",
            source="inventory",
            data={"lines": [{"sku": "MAT-1", "quantity": 2}], "expires_at": now, "note": None},
            traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        OutboxEvent(type="order.placed", source="order", data={}, seq=7),
        ProcessedEvent(id="evt_1", source="order", type="order.placed"),
        Order(
            number="SO-2026-000001",
            distributor_id="dst_x",
            distributor_name="X Beds",
            region="west",
            shipping_address=address,
            lines=[line],
            subtotal_paise=2_000_00,
            tax_paise=360_00,
            total_paise=2_360_00,
            placed_by="usr_1",
            saga=SagaStep.RESERVE,
            history=[Transition(status=OrderStatus.PENDING, at=now, actor="usr_1")],
        ),
        IdempotencyRecord(
            id="abc", caller="usr_1", key="k", fingerprint="f", order_id="ord_1", status_code=None
        ),
        Reservation(
            id="ord_1",
            status=ReservationStatus.RESERVED,
            fingerprint="f",
            lines=[
                ReservationLine(
                    sku="MAT-1",
                    quantity=2,
                    allocations=[Allocation(warehouse_code="PUN", quantity=2)],
                )
            ],
            short_lines=[ShortLine(sku="MAT-2", requested=3, available=1)],
            expires_at=now + timedelta(minutes=15),
            actor="svc:order",
        ),
        Movement(
            sku="MAT-1",
            warehouse_code="PUN",
            kind=MovementKind.RESERVE,
            on_hand_delta=0,
            reserved_delta=2,
            on_hand=10,
            reserved=2,
            version=3,
            actor="svc:order",
            reference="ord_1",
        ),
    ]


@pytest.fixture
async def database(mongo_url: str) -> AsyncIterator[None]:
    name = f"docs{secrets.token_hex(4)}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    await init_beanie(database=client[name], document_models=MODELS)
    yield
    await client.drop_database(name)
    await client.close()


@pytest.mark.usefixtures("database")
async def test_stored_form_is_what_beanie_stores() -> None:
    for document in examples():
        beanie_form = get_dict(document, to_db=True, keep_nulls=True)
        assert stored_form(document) == beanie_form, type(document).__name__


@pytest.mark.usefixtures("database")
async def test_fast_inserts_store_what_beanie_inserts_store() -> None:
    for document in examples():
        collection = type(document).get_pymongo_collection()
        stored = []
        for fast in (True, False):  # one at a time: unique keys (seq, number) repeat
            if isinstance(document, Movement):
                await (insert_many_fast([document]) if fast else Movement.insert_many([document]))
            else:
                await (insert_fast(document) if fast else document.insert())
            stored.append(await collection.find_one_and_delete({"_id": document.id}))
        assert stored[0] == stored[1], type(document).__name__
        assert stored[0] is not None


async def test_a_newer_value_is_set_once_and_an_older_one_never_replaces_it(
    mongo_url: str,
) -> None:
    """`set_unless_newer`, as the current levels and stock signals use it: one write
    when the document exists, an insert when it does not, nothing over a newer one."""
    name = f"newer{secrets.token_hex(4)}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    levels = client[name]["levels"]

    async def keep(version: int) -> None:
        not_newer = {"version": {"$not": {"$gte": version}}}
        await set_unless_newer(levels, "MAT-1@WH", not_newer, {"version": version}, None)

    try:
        sync: MongoClient[dict[str, Any]]
        with MongoClient(mongo_url) as sync, profiled([sync[name]]):
            await keep(2)  # none yet: inserted
            await keep(5)  # older stored: one write
            await keep(3)  # newer stored: left as it is
            profile: Collection[dict[str, Any]] = sync[name]["system.profile"]
            writes = [
                entry["command"]["updates"][0]["u"] for entry in profile.find({"op": "update"})
            ]
        assert await levels.find_one({"_id": "MAT-1@WH"}) == {"_id": "MAT-1@WH", "version": 5}
        assert [next(iter(update)) for update in writes] == [
            "$set",  # 2: matched nothing
            "$setOnInsert",  # 2: inserted
            "$set",  # 5: replaced 2
            "$set",  # 3: matched nothing
            "$setOnInsert",  # 3: a newer one exists, nothing changes
        ]
    finally:
        await client.drop_database(name)
        await client.close()
