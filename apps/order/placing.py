"""Placing an order, idempotently by the caller's `Idempotency-Key` (Stripe's
semantics): the key, the request's fingerprint and the new order are stored in
one transaction once the request is valid and priced; the response is saved
with the order's outcome. A retry with the same key and body gets the saved
response (a concurrent one waits for it); the same key with another body is a
422. Keys are scoped per caller and pruned after 24 hours."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.kit.clock import utcnow
from apps.kit.problems import Forbidden, UnprocessableContent
from apps.kit.security import Principal, distributor_scope
from apps.order.catalog import price_lines
from apps.order.metrics import ORDERS_PLACED
from apps.order.models import (
    Distributor,
    IdempotencyRecord,
    Order,
    OrderCounter,
    OrderStatus,
    Transition,
)
from apps.order.saga import record_event, reserve
from apps.order.schemas import OrderCreate, OrderOut
from apps.order.service import OrderParts

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def order_answer(order: Order, *, replayed: bool = False) -> Answer:
    """201 once the order has its outcome; 202 while it waits PENDING."""
    code = 202 if order.status is OrderStatus.PENDING else 201
    return Answer(code, OrderOut.model_validate(order).model_dump(mode="json"), replayed)


class _KeyTaken(Exception):
    pass


def _record_id(caller: str, key: str) -> str:
    return hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()


def _fingerprint(distributor_id: str, body: OrderCreate) -> str:
    canonical = {**body.model_dump(mode="json"), "distributor_id": distributor_id}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def ordering_distributor(principal: Principal, body: OrderCreate) -> str:
    own = distributor_scope(principal)
    if own is not None:
        if body.distributor_id not in (None, own):
            raise Forbidden("A distributor places orders only for itself.")
        return own
    if body.distributor_id is None:
        raise UnprocessableContent(
            "Staff name the distributor the order is for.",
            errors=[{"path": "body.distributor_id", "message": "required for staff"}],
        )
    return body.distributor_id


async def next_number(year: int) -> str:
    """SO-<year>-<n>, from an atomic counter per year (a failed placement may
    leave a gap; numbers are unique and increasing)."""
    counter = await OrderCounter.get_pymongo_collection().find_one_and_update(
        {"_id": f"SO-{year}"},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert counter is not None  # upserted
    return f"SO-{year}-{int(counter['value']):06d}"


async def place_order(
    parts: OrderParts, principal: Principal, body: OrderCreate, key: str
) -> Answer:
    distributor_id = ordering_distributor(principal, body)
    fingerprint = _fingerprint(distributor_id, body)
    record_id = _record_id(principal.subject, key)
    existing = await IdempotencyRecord.get(record_id)
    if existing is not None:
        return await _replay(parts, existing, fingerprint)

    distributor = await Distributor.get(distributor_id)
    if distributor is None or not distributor.active:
        raise UnprocessableContent(
            f"No active distributor {distributor_id}.",
            slug="unknown-distributor",
            errors=[{"path": "body.distributor_id", "message": "no such active distributor"}],
        )
    requested = [(line.sku, line.quantity) for line in body.lines]
    lines = price_lines(requested, await parts.catalog.entries([sku for sku, _ in requested]))
    now = utcnow()
    subtotal = sum(line.line_subtotal_paise for line in lines)
    tax = sum(line.line_tax_paise for line in lines)
    order = Order(
        number=await next_number(now.year),
        distributor_id=distributor.id,
        distributor_name=distributor.name,
        region=distributor.region,
        shipping_address=distributor.shipping_address,
        lines=lines,
        subtotal_paise=subtotal,
        tax_paise=tax,
        total_paise=subtotal + tax,
        reference=body.reference,
        placed_by=principal.subject,
        placed_at=now,
        updated_at=now,
        saga_since=now,
        history=[Transition(status=OrderStatus.PENDING, at=now, actor=principal.subject)],
    )
    record = IdempotencyRecord(
        id=record_id, caller=principal.subject, key=key, fingerprint=fingerprint, order_id=order.id
    )

    async def store(session: AsyncClientSession) -> None:
        try:
            await record.insert(session=session)
        except DuplicateKeyError:
            raise _KeyTaken from None
        await order.insert(session=session)
        await record_event(session, order, now)

    try:
        await parts.kit.database.in_transaction(store)
    except _KeyTaken:
        taken = await IdempotencyRecord.get(record_id)
        assert taken is not None, "a taken key has its record"
        return await _replay(parts, taken, fingerprint)
    ORDERS_PLACED.inc()

    async def save_answer(session: AsyncClientSession | None, outcome: Order) -> None:
        answer = order_answer(outcome)
        await IdempotencyRecord.get_pymongo_collection().update_one(
            {"_id": record_id},
            {"$set": {"status_code": answer.status_code, "response": answer.body}},
            session=session,
        )

    outcome = await reserve(parts, order, actor=principal.subject, also=save_answer)
    if outcome.status is OrderStatus.PENDING:
        await save_answer(None, outcome)
    return order_answer(outcome)


async def _replay(parts: OrderParts, record: IdempotencyRecord, fingerprint: str) -> Answer:
    if record.fingerprint != fingerprint:
        raise UnprocessableContent(
            "This Idempotency-Key was used with another request body; use a new key.",
            slug="idempotency-key-reused",
        )
    deadline = time.monotonic() + parts.settings.idempotency_wait_seconds
    while True:
        if record.response is not None and record.status_code not in (None, 202):
            assert record.status_code is not None
            return Answer(record.status_code, record.response, replayed=True)
        # A 202 said "PENDING, look again later", so a replay answers with the
        # order as it is now; so too once the order has its outcome while the
        # first request is gone (its process died) or has yet to save its answer.
        order = await Order.get(record.order_id)
        assert order is not None, "the order is stored with its key"
        if (
            record.status_code == 202
            or order.status is not OrderStatus.PENDING
            or time.monotonic() > deadline
        ):
            return order_answer(order, replayed=True)
        await asyncio.sleep(POLL_SECONDS)
        found = await IdempotencyRecord.get(record.id)
        assert found is not None
        record = found
