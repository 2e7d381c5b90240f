"""Reservations for orders (service accounts with scope inventory:reserve)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from apps.inventory import reservations
from apps.inventory.access import ReservationReader, Reserver
from apps.inventory.models import Reservation
from apps.inventory.schemas import KEY_PATTERN, ReservationOut, ReservationRequest
from apps.kit.app import Kit
from apps.kit.documents import get_or_404
from apps.kit.openapi import problems
from apps.kit.problems import Conflict

router = APIRouter(prefix="/v1/reservations", tags=["reservations"])

ReservationId = Annotated[str, Path(pattern=KEY_PATTERN, description="The caller's id (order id).")]


def _out(reservation: Reservation) -> ReservationOut:
    return ReservationOut.model_validate(reservation)


@router.put(
    "/{reservation_id}",
    response_model=ReservationOut,
    status_code=201,
    responses={
        200: {"description": "A replay of the same lines"},
        **problems(
            Conflict(
                "Not enough stock for every line; nothing was reserved.",
                slug="insufficient-stock",
                short_lines=[{"sku": "MAT-ORTHO-Q", "requested": 10, "available": 4}],
            ),
            Conflict("Reservation ord_1 exists with other lines.", slug="reservation-mismatch"),
            Conflict("Reservation ord_1 is released; use a new id.", slug="reservation-closed"),
        ),
    },
    summary="Reserve every line or nothing",
)
async def reserve(
    reservation_id: ReservationId,
    body: ReservationRequest,
    principal: Reserver,
    kit: Kit,
    response: Response,
) -> ReservationOut:
    reservation, created = await reservations.reserve(kit, reservation_id, body, principal.subject)
    response.status_code = 201 if created else 200
    return _out(reservation)


@router.post(
    "/{reservation_id}/commit",
    response_model=ReservationOut,
    responses=problems(
        Conflict("Reservation ord_1 is expired; use a new id.", slug="reservation-closed"),
        Conflict("Reservation ord_1 was rejected; nothing to commit.", slug="reservation-rejected"),
    ),
    summary="Goods shipped: commit",
)
async def commit(reservation_id: ReservationId, principal: Reserver, kit: Kit) -> ReservationOut:
    return _out(await reservations.commit(kit, reservation_id, principal.subject))


@router.post(
    "/{reservation_id}/release",
    response_model=ReservationOut,
    responses=problems(
        Conflict(
            "Reservation ord_1 was committed (goods shipped); it cannot be released.",
            slug="reservation-committed",
        )
    ),
    summary="Order cancelled: release",
)
async def release(reservation_id: ReservationId, principal: Reserver, kit: Kit) -> ReservationOut:
    return _out(await reservations.release(kit, reservation_id, principal.subject))


@router.get("/{reservation_id}", response_model=ReservationOut, summary="Read a reservation")
async def read(reservation_id: ReservationId, _: ReservationReader) -> ReservationOut:
    return _out(await get_or_404(Reservation, reservation_id, "reservation"))
