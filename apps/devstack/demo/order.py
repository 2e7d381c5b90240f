"""Dev-mode demo data of the order service: the demo distributors (the ids in
apps/kit/demo.py). Demo orders go through the real saga, so they are placed
over HTTP by apps/devstack/seed.py."""

from __future__ import annotations

import logging

from pymongo.errors import DuplicateKeyError

from apps.kit.app import AppKit
from apps.kit.demo import DEMO_DISTRIBUTORS
from apps.order.models import Address, Distributor

log = logging.getLogger("glosleep.order.seed")

_DETAILS = {
    "dst_demo_sleepwell": (
        "29ABCDE1234F1Z5",
        "South",
        Address(
            line1="12 Residency Road", city="Bengaluru", state="Karnataka", postal_code="560025"
        ),
    ),
    "dst_demo_dreamhome": (
        "27ABCDE5678G1Z3",
        "West",
        Address(line1="8 FC Road", city="Pune", state="Maharashtra", postal_code="411004"),
    ),
}


async def demo_distributors(kit: AppKit) -> None:
    if not kit.settings.dev_mode:
        return
    for distributor_id, name in DEMO_DISTRIBUTORS.items():
        gstin, region, address = _DETAILS[distributor_id]
        if await Distributor.get(distributor_id) is not None:
            continue
        try:
            await Distributor(
                id=distributor_id,
                name=name,
                gstin=gstin,
                region=region,
                billing_address=address,
                shipping_address=address,
            ).insert()
        except DuplicateKeyError:
            continue  # another replica made it first
        log.info("demo distributor created", extra={"distributor_id": distributor_id})


# What the kit runs at start in dev mode (apps/kit/app.py, DEMO_PACKAGE).
seed = demo_distributors
