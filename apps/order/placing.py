"""Placing an order, idempotently by the caller's `Idempotency-Key` (Stripe's
semantics): the key, the request's fingerprint, the new order and its
order.placed event are stored in one transaction once the request is valid and
priced. So a request that fails before that commit (invalid, not priceable,
inventory unreachable, the database failing) leaves nothing behind and its key
stays free: a retry is a fresh attempt, at once. Once committed, the answer is
the order: a retry with the same key and body gets the first answer again, the
order as of its outcome (a concurrent retry waits for it), or the order as it is
now when the first answer was a 202 (PENDING). A failure after the commit
(while reserving) is recorded as that 202: the order waits PENDING for the
recovery loop, and a retry gets it at once. The same key with another body is a
422. Keys are scoped per caller and pruned after 24 hours."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError, PyMongoError

from apps.kit.clock import utcnow
from apps.kit.documents import insert_fast
from apps.kit.idempotency import fingerprint
from apps.kit.ids import new_id
from apps.kit.money import totals
from apps.kit.problems import Forbidden, ProblemError, UnprocessableContent
from apps.kit.security import Principal, distributor_scope
from apps.kit.service_client import UpstreamUnavailable
from apps.order.catalog import price_lines
from apps.order.metrics import ORDERS_PLACED
from apps.order.models import (
    Address,
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    Transition,
)
from apps.order.saga import record_event, reserve
from apps.order.schemas import OrderCreate, OrderOut
from apps.order.service import OrderParts

log = logging.getLogger("glosleep.order.placing")

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


def record_id_for(caller: str, key: str) -> str:
    """Keys are scoped per caller."""
    return hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()


def _fingerprint(distributor_id: str, body: OrderCreate) -> str:
    return fingerprint({**body.model_dump(mode="json"), "distributor_id": distributor_id})


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


async def place_order(
    parts: OrderParts, principal: Principal, body: OrderCreate, key: str
) -> Answer:
    distributor_id = ordering_distributor(principal, body)
    digest = _fingerprint(distributor_id, body)
    record_id = record_id_for(principal.subject, key)
    try:
        order = await _priced_order(parts, principal, body, distributor_id)
    except (ProblemError, UpstreamUnavailable):
        existing = await IdempotencyRecord.get(record_id)
        if existing is None:
            raise  # nothing is stored for a request that fails validation or pricing
        return await _replay(parts, principal, body, existing, digest)
    record = IdempotencyRecord(
        id=record_id, caller=principal.subject, key=key, fingerprint=digest, order_id=order.id
    )
    while True:
        try:
            await _store(parts, order, record)
        except KeyTaken:
            taken = await IdempotencyRecord.get(record_id)
            if taken is not None:
                return await _replay(parts, principal, body, taken, digest)
            # The other request has not committed yet (or it failed and freed
            # the key): look again.
            await asyncio.sleep(POLL_SECONDS)
            continue
        return await _reserve(parts, principal, order, record_id)


class KeyTaken(Exception):
    """Another request stored this Idempotency-Key first."""


async def _priced_order(
    parts: OrderParts,
    principal: Principal,
    body: OrderCreate,
    distributor_id: str,
    order_id: str | None = None,
) -> Order:
    """The new order, PENDING, priced from the catalogue (not stored yet)."""
    distributor = await parts.distributors.active(distributor_id)
    if distributor is None:
        raise UnprocessableContent(
            f"No active distributor {distributor_id}.",
            slug="unknown-distributor",
            errors=[{"path": "body.distributor_id", "message": "no such active distributor"}],
        )
    requested = [(line.sku, line.quantity) for line in body.lines]
    lines = price_lines(requested, await parts.catalog.entries([sku for sku, _ in requested]))
    now = utcnow()
    number = await parts.numbers.next(now.year)
    order = new_order(distributor, lines, number, principal.subject, now, body.reference)
    if order_id is not None:
        order.id = order_id
    return order


class Orderer(Protocol):
    """What an order copies of its distributor."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def shipping_address(self) -> Address: ...


def new_order(
    distributor: Orderer,
    lines: list[OrderLine],
    number: str,
    placed_by: str,
    at: datetime,
    reference: str | None = None,
) -> Order:
    """A new order, PENDING, placed at `at` (not stored yet)."""
    return Order(
        id=new_id("ord", at),
        number=number,
        distributor_id=distributor.id,
        distributor_name=distributor.name,
        region=distributor.region,
        shipping_address=distributor.shipping_address,
        lines=lines,
        **totals(lines).fields(),
        reference=reference,
        placed_by=placed_by,
        placed_at=at,
        updated_at=at,
        saga_since=at,
        history=[Transition(status=OrderStatus.PENDING, at=at, actor=placed_by)],
    )


async def _store(parts: OrderParts, order: Order, record: IdempotencyRecord | None) -> None:
    """Store the order with its order.placed event and, when given, the key's
    record, all or nothing. Raises KeyTaken when the key is stored already, and
    DuplicateKeyError when an order with this id is."""

    async def store(session: AsyncClientSession) -> None:
        if record is not None:
            try:
                await insert_fast(record, session)
            except DuplicateKeyError:
                raise KeyTaken(record.id) from None
        await insert_fast(order, session)
        await record_event(session, order, order.placed_at)

    await parts.kit.database.in_transaction(store)
    ORDERS_PLACED.inc()


async def _reserve(parts: OrderParts, principal: Principal, order: Order, record_id: str) -> Answer:
    """Reserve the stored order's stock. The order is stored and its key taken,
    so a failure here is recorded as a 202 (PENDING; the recovery loop finishes
    the reservation) instead of a 500 that would leave the retry waiting."""
    try:
        outcome = await reserve(parts, order, actor=principal.subject)
    except Exception:
        log.exception("reserving failed after the order was stored", extra={"order_id": order.id})
        outcome = order
    if outcome.status is OrderStatus.PENDING:
        try:
            await IdempotencyRecord.get_pymongo_collection().update_one(
                {"_id": record_id}, {"$set": {"status_code": 202}}
            )
        except PyMongoError as error:  # a retry then waits for the outcome instead
            log.warning("202 not recorded", extra={"order_id": order.id, "error": str(error)})
    return order_answer(outcome)


async def _replay(
    parts: OrderParts,
    principal: Principal,
    body: OrderCreate,
    record: IdempotencyRecord,
    digest: str,
) -> Answer:
    if record.fingerprint != digest:
        raise UnprocessableContent(
            "This Idempotency-Key was used with another request body; use a new key.",
            slug="idempotency-key-reused",
        )
    deadline = time.monotonic() + parts.settings.idempotency_wait_seconds
    while True:
        order = await Order.get(record.order_id)
        late = time.monotonic() > deadline
        if order is None and late:
            # The first request stored its key and died before its order: place
            # the order now, under the id the key names.
            distributor_id = ordering_distributor(principal, body)
            fresh = await _priced_order(parts, principal, body, distributor_id, record.order_id)
            try:
                await _store(parts, fresh, None)
            except DuplicateKeyError:
                continue  # it was stored after all
            return await _reserve(parts, principal, fresh, record.id)
        if order is not None:
            if record.status_code == 202 or late:
                # "PENDING, look again later" (or the first request is gone):
                # the order as it is now.
                return order_answer(order, replayed=True)
            if order.status is not OrderStatus.PENDING:
                return Answer(201, as_answered(order), replayed=True)
        await asyncio.sleep(POLL_SECONDS)  # the first request is still working
        found = await IdempotencyRecord.get(record.id)
        assert found is not None
        record = found


def as_answered(order: Order) -> dict[str, Any]:
    """The 201 answer the order's placing request gave: the order as it was at
    its outcome (lines and amounts never change; the later transitions are
    left out). So the answer need not be stored a second time."""
    index = next(i for i, t in enumerate(order.history) if t.status is not OrderStatus.PENDING)
    outcome = order.history[index]
    then = order.model_copy(
        update={
            "status": outcome.status,
            "history": order.history[: index + 1],
            "saga": None,
            "updated_at": outcome.at,
        }
    )
    return OrderOut.model_validate(then).model_dump(mode="json")
