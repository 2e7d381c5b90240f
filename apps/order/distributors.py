"""Distributors: the customer accounts orders are placed for."""

from __future__ import annotations

from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404, insert_new
from apps.kit.problems import Conflict
from apps.order.models import Address, Distributor
from apps.order.schemas import DistributorCreate, DistributorUpdate


async def create_distributor(body: DistributorCreate) -> Distributor:
    """A new distributor; without a shipping address it ships to the billing one."""
    billing = Address.model_validate(body.billing_address.model_dump())
    shipping = body.shipping_address or body.billing_address
    distributor = Distributor(
        id=body.id,
        name=body.name,
        gstin=body.gstin,
        region=body.region,
        billing_address=billing,
        shipping_address=Address.model_validate(shipping.model_dump()),
    )
    taken = Conflict(f"Distributor {body.id} exists.", slug="distributor-exists")
    return await insert_new(distributor, taken)


async def distributor_or_404(distributor_id: str) -> Distributor:
    return await get_or_404(Distributor, distributor_id, "distributor")


async def update_distributor(distributor_id: str, body: DistributorUpdate) -> Distributor:
    """Apply the fields the body sets (a null leaves a field as it is)."""
    distributor = await distributor_or_404(distributor_id)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            continue
        is_address = name in ("billing_address", "shipping_address")
        setattr(distributor, name, Address.model_validate(value) if is_address else value)
    distributor.updated_at = utcnow()
    await distributor.save()
    return distributor
