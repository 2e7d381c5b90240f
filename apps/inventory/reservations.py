"""Reservations for orders: all or nothing in one transaction, keyed by the
caller's id; commit, release and expiry are guarded status transitions, so each
happens once however many requests or replicas race for it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.inventory.metrics import EXPIRED, RESERVATIONS, SHORT_LINES
from apps.inventory.models import (
    Allocation,
    MovementKind,
    Product,
    Reservation,
    ReservationLine,
    ReservationStatus,
    ShortLine,
    StockLevel,
    Warehouse,
    level_id,
)
from apps.inventory.schemas import ReservationRequest
from apps.inventory.settings import InventorySettings
from apps.inventory.stock import ReadLevelChange, StockChange
from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404, insert_fast
from apps.kit.idempotency import fingerprint
from apps.kit.keyed_locks import KeyedLocks
from apps.kit.leases import hold_lease
from apps.kit.problems import Conflict, ServiceUnavailable

MAX_ATTEMPTS = 20
EXPIRY_BATCH = 200
EXPIRY_ACTOR = "system:expiry"


class _Raced(Exception):
    """A level changed between reading it and reserving from it: plan again."""


def _closed(reservation: Reservation) -> Conflict:
    return Conflict(
        f"Reservation {reservation.id} is {reservation.status.value}; use a new id.",
        slug="reservation-closed",
        reservation_status=reservation.status.value,
    )


def _insufficient(reservation: Reservation) -> Conflict:
    return Conflict(
        "Not enough stock for every line; nothing was reserved.",
        slug="insufficient-stock",
        reservation_id=reservation.id,
        short_lines=[line.model_dump() for line in reservation.short_lines],
    )


def _replay(existing: Reservation, digest: str) -> Reservation:
    if existing.status in (ReservationStatus.RELEASED, ReservationStatus.EXPIRED):
        raise _closed(existing)
    if existing.fingerprint != digest:
        raise Conflict(
            f"Reservation {existing.id} exists with other lines.", slug="reservation-mismatch"
        )
    RESERVATIONS.labels("replayed").inc()
    if existing.status is ReservationStatus.REJECTED:
        raise _insufficient(existing)
    return existing


def _allocate(levels: list[dict[str, Any]], quantity: int) -> list[Allocation]:
    """Largest available first (fewest splits), ties by warehouse code: ADR 0020."""
    ordered = sorted(levels, key=lambda lv: (-(lv["on_hand"] - lv["reserved"]), lv["_id"]))
    allocations, remaining = [], quantity
    for level in ordered:
        take = min(remaining, level["on_hand"] - level["reserved"])
        if take > 0:
            allocations.append(Allocation(warehouse_code=level["warehouse_code"], quantity=take))
            remaining -= take
    return allocations


def reservable_pipeline(skus: list[str]) -> list[dict[str, Any]]:
    """The SKUs' levels in active warehouses, each with its product: one query."""
    return [
        {"$match": {"sku": {"$in": skus}}},
        {
            "$lookup": {
                "from": Warehouse.Settings.name,
                "localField": "warehouse_code",
                "foreignField": "_id",
                "as": "warehouse",
            }
        },
        {"$match": {"warehouse.active": True}},
        {
            "$lookup": {
                "from": Product.Settings.name,
                "localField": "sku",
                "foreignField": "_id",
                "as": "product",
            }
        },
        {"$project": {"warehouse": 0}},
    ]


async def _reservable(
    session: AsyncClientSession, skus: list[str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Product | None]]:
    """Levels in active warehouses by SKU, and the products of those SKUs
    (a SKU without such levels has nothing to reserve, whatever its product)."""
    cursor = await StockLevel.get_pymongo_collection().aggregate(
        reservable_pipeline(skus), session=session
    )
    levels: dict[str, list[dict[str, Any]]] = {sku: [] for sku in skus}
    products: dict[str, Product | None] = {}
    async for level in cursor:
        found = level.pop("product")
        products[level["sku"]] = Product.model_validate(found[0]) if found else None
        levels[level["sku"]].append(level)
    return levels, products


async def reserve(
    kit: AppKit, reservation_id: str, body: ReservationRequest, actor: str
) -> tuple[Reservation, bool]:
    """Answers (reservation, created); raises the 409s of the contract.

    A replay is found by the reservation's insert (its id is the key), not by
    a read before it: the insert fails with a duplicate key, the transaction
    writes nothing, and the stored reservation answers."""
    settings = kit.settings
    assert isinstance(settings, InventorySettings)
    wanted = sorted((line.sku, line.quantity) for line in body.lines)
    digest = fingerprint(wanted)
    ttl = body.ttl_seconds or settings.reservation_ttl_seconds

    async def transaction(session: AsyncClientSession) -> tuple[Reservation, StockChange]:
        change = StockChange(session, actor, reservation_id)
        levels, products = await _reservable(session, [sku for sku, _ in wanted])
        change.know_products(products)
        lines, short = [], []
        for sku, quantity in wanted:
            product = products.get(sku)
            total = sum(max(0, lv["on_hand"] - lv["reserved"]) for lv in levels[sku])
            if product is None or not product.active:
                total = 0
            if total < quantity:
                short.append(ShortLine(sku=sku, requested=quantity, available=total))
            lines.append(
                ReservationLine(
                    sku=sku, quantity=quantity, allocations=_allocate(levels[sku], quantity)
                )
            )
        reservation = Reservation(
            id=reservation_id,
            status=ReservationStatus.REJECTED if short else ReservationStatus.RESERVED,
            fingerprint=digest,
            lines=lines,
            short_lines=short,
            expires_at=None if short else utcnow() + timedelta(seconds=ttl),
            actor=actor,
        )
        if short:
            for line in reservation.lines:
                line.allocations = []
            await insert_fast(reservation, session)  # DuplicateKeyError: a replay
            return reservation, change
        # The levels first: a level another reservation changed since the read
        # fails here, before anything else is written, and the sooner after the
        # read the write comes, the fewer of them collide.
        by_id = {lv["_id"]: lv for sku_levels in levels.values() for lv in sku_levels}
        changes = [
            ReadLevelChange(
                by_id[level_id(line.sku, allocation.warehouse_code)],
                MovementKind.RESERVE,
                reserved_delta=allocation.quantity,
            )
            for line in lines
            for allocation in line.allocations
        ]
        if not await change.apply_read(changes):
            raise _Raced
        await insert_fast(reservation, session)  # DuplicateKeyError: a replay
        await change.emit(
            "reservation.created",
            {
                "reservation_id": reservation_id,
                "status": reservation.status.value,
                "lines": [line.model_dump() for line in lines],
                "expires_at": reservation.expires_at,
            },
        )
        return reservation, change

    async with _LEVELS_IN_USE.holding(sku for sku, _ in wanted):
        return await _reserve_attempts(kit, transaction, reservation_id, digest)


# Reservations of one SKU in this process take turns: at once, each read the same
# level versions and all but one then conflicted on the level write, and ran again
# (three attempts an order at 16 concurrent orders on 20 SKUs). Other replicas still
# race, and the version guard and the retries below keep that correct.
_LEVELS_IN_USE = KeyedLocks()


async def _reserve_attempts(
    kit: AppKit,
    transaction: Callable[[AsyncClientSession], Awaitable[tuple[Reservation, StockChange]]],
    reservation_id: str,
    digest: str,
) -> tuple[Reservation, bool]:
    for attempt in range(MAX_ATTEMPTS):
        try:
            reservation, change = await kit.database.in_transaction(transaction)
        except DuplicateKeyError:
            existing = await Reservation.get(reservation_id)
            assert existing is not None
            return _replay(existing, digest), False
        except _Raced:
            await asyncio.sleep(0.005 * (attempt + 1))
            continue
        change.committed()
        if reservation.status is ReservationStatus.REJECTED:
            RESERVATIONS.labels("rejected").inc()
            SHORT_LINES.inc(len(reservation.short_lines))
            raise _insufficient(reservation)
        RESERVATIONS.labels("reserved").inc()
        return reservation, True
    raise ServiceUnavailable(
        "Stock kept changing while reserving; retry.", headers={"Retry-After": "1"}
    )


_CLOSING = {
    ReservationStatus.COMMITTED: (MovementKind.COMMIT, "reservation.committed"),
    ReservationStatus.RELEASED: (MovementKind.RELEASE, "reservation.released"),
    ReservationStatus.EXPIRED: (MovementKind.EXPIRE, "reservation.expired"),
}


async def _close(
    kit: AppKit, reservation_id: str, target: ReservationStatus, actor: str
) -> Reservation | None:
    """reserved -> target, once: the status guard lets exactly one caller through;
    the others get None."""
    kind, event_type = _CLOSING[target]

    async def transaction(session: AsyncClientSession) -> tuple[Reservation, StockChange] | None:
        found = await Reservation.get_pymongo_collection().find_one_and_update(
            {"_id": reservation_id, "status": ReservationStatus.RESERVED.value},
            {"$set": {"status": target.value, "updated_at": utcnow()}},
            session=session,
            return_document=ReturnDocument.AFTER,
        )
        if found is None:
            return None
        reservation = Reservation.model_validate(found)
        change = StockChange(session, actor, reservation_id)
        for line in reservation.lines:
            for allocation in line.allocations:
                quantity = allocation.quantity
                done = await change.apply(
                    line.sku,
                    allocation.warehouse_code,
                    kind,
                    on_hand_delta=-quantity if target is ReservationStatus.COMMITTED else 0,
                    reserved_delta=-quantity,
                )
                if done is None:
                    raise RuntimeError(f"level {line.sku}@{allocation.warehouse_code} lost stock")
        await change.emit(
            event_type,
            {
                "reservation_id": reservation_id,
                "status": target.value,
                "lines": [line.model_dump() for line in reservation.lines],
            },
        )
        return reservation, change

    outcome = await kit.database.in_transaction(transaction)
    if outcome is None:
        return None
    outcome[1].committed()
    return outcome[0]


async def _existing(reservation_id: str) -> Reservation:
    return await get_or_404(Reservation, reservation_id, "reservation")


async def commit(kit: AppKit, reservation_id: str, actor: str) -> Reservation:
    closed = await _close(kit, reservation_id, ReservationStatus.COMMITTED, actor)
    if closed is not None:
        return closed
    existing = await _existing(reservation_id)
    if existing.status is ReservationStatus.COMMITTED:
        return existing
    if existing.status is ReservationStatus.REJECTED:
        raise Conflict(
            f"Reservation {reservation_id} was rejected; nothing to commit.",
            slug="reservation-rejected",
        )
    raise _closed(existing)


async def release(kit: AppKit, reservation_id: str, actor: str) -> Reservation:
    for _ in range(3):
        closed = await _close(kit, reservation_id, ReservationStatus.RELEASED, actor)
        if closed is not None:
            return closed
        existing = await Reservation.get(reservation_id)
        if existing is None:
            tombstone = Reservation(
                id=reservation_id,
                status=ReservationStatus.RELEASED,
                fingerprint="",
                lines=[],
                tombstone=True,
                actor=actor,
            )
            try:
                await tombstone.insert()
            except DuplicateKeyError:
                continue  # a reserve or another release came first: look again
            return tombstone
        if existing.status is ReservationStatus.COMMITTED:
            raise Conflict(
                f"Reservation {reservation_id} was committed (goods shipped); "
                "it cannot be released.",
                slug="reservation-committed",
            )
        if existing.status is not ReservationStatus.RESERVED:
            return existing  # released, expired or rejected: nothing is held
    raise ServiceUnavailable("The reservation kept changing; retry.", headers={"Retry-After": "1"})


async def expire_once(kit: AppKit) -> None:
    """Release reservations past their expiry (one replica at a time, and each
    reservation once, by its status guard)."""
    settings = kit.settings
    assert isinstance(settings, InventorySettings)
    lease_seconds = max(30.0, 3 * settings.reservation_expiry_interval_seconds)
    if not await hold_lease("reservation-expiry", ttl_seconds=lease_seconds):
        return
    due = (
        await Reservation.get_pymongo_collection()
        .find(
            {"status": ReservationStatus.RESERVED.value, "expires_at": {"$lt": utcnow()}},
            {"_id": 1},
        )
        .sort("expires_at", 1)
        .limit(EXPIRY_BATCH)
        .to_list()
    )
    for item in due:
        if await _close(kit, item["_id"], ReservationStatus.EXPIRED, EXPIRY_ACTOR) is not None:
            EXPIRED.inc()
