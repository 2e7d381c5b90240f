"""Distributors: the customer accounts orders are placed for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict
from apps.kit.security import ensure_owner
from apps.order import distributors
from apps.order.access import Manager, Reader, Staff
from apps.order.models import Distributor
from apps.order.schemas import DistributorCreate, DistributorOut, DistributorUpdate, Region

router = APIRouter(prefix="/v1/distributors", tags=["distributors"])
DistributorPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "",
    response_model=DistributorOut,
    status_code=201,
    responses=problems(Conflict("Distributor dst_sleepwell exists.", slug="distributor-exists")),
    summary="Create a distributor",
)
async def create_distributor(body: DistributorCreate, _: Manager) -> Distributor:
    return await distributors.create_distributor(body)


@router.get("", response_model=Page[DistributorOut], summary="List distributors")
async def list_distributors(
    _: Staff,
    region: Annotated[Region | None, Query()] = None,
    active: bool | None = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[DistributorOut]:
    query: dict[str, Any] = {}
    if region:
        query["region"] = region
    if active is not None:
        query["active"] = active
    found, next_cursor = await keyset_page(Distributor, query, limit, cursor)
    return Page[DistributorOut](
        items=[DistributorOut.model_validate(d) for d in found], next_cursor=next_cursor
    )


@router.get("/{distributor_id}", response_model=DistributorOut, summary="Read a distributor")
async def read_distributor(distributor_id: DistributorPath, principal: Reader) -> Distributor:
    ensure_owner(principal, distributor_id)
    return await distributors.distributor_or_404(distributor_id)


@router.patch("/{distributor_id}", response_model=DistributorOut, summary="Update a distributor")
async def update_distributor(
    distributor_id: DistributorPath, body: DistributorUpdate, _: Manager
) -> Distributor:
    return await distributors.update_distributor(distributor_id, body)
