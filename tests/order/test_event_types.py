"""The order service emits every order.* event in the shape its type declares
(apps/kit/event_types.py): each event of the real feed validates against its model."""

from __future__ import annotations

from typing import Any

from apps.kit.event_types import ORDER_STAGES, validate
from apps.kit.events import Event
from tests.support.feeds import all_events
from tests.support.shop import Shop
from tests.support.waiting import wait_for


def test_every_order_event_fits_its_type(shop: Shop) -> None:
    distributor = shop.distributor()
    me = shop.as_distributor(distributor)
    sku = shop.product(5)
    shipped = shop.place(me, [(sku, 1)]).json()
    cancelled = shop.place(me, [(sku, 1)]).json()
    rejected = shop.place(me, [(sku, 50)]).json()
    assert (shipped["status"], cancelled["status"], rejected["status"]) == (
        "CONFIRMED",
        "CONFIRMED",
        "REJECTED",
    )
    assert shop.act(shipped["id"], "ship").status_code == 200
    assert shop.act(shipped["id"], "deliver").status_code == 200
    assert shop.act(cancelled["id"], "cancel", headers=me).status_code == 200
    ours = {shipped["id"], cancelled["id"], rejected["id"]}

    def published() -> list[dict[str, Any]] | None:
        events = [
            e for e in all_events(shop.platform, "order") if e["data"].get("order_id") in ours
        ]
        return events if len(events) == 9 else None  # 4 + 3 + 2 transitions

    events = wait_for(published)
    assert {e["type"] for e in events} == {f"order.{stage}" for stage in ORDER_STAGES}
    for event in all_events(shop.platform, "order"):  # this test's and every earlier one's
        validate(Event.model_validate(event))
