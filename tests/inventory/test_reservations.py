"""Reservations as the order service uses them: all or nothing, keyed by the
order id, with commit, release, tombstones and the events they publish."""

from __future__ import annotations

import secrets

from apps.kit.problems import problem_type
from tests.inventory.conftest import Inventory
from tests.support.platform import bearer
from tests.support.problems import assert_problem


def _id() -> str:
    return "ord_" + secrets.token_hex(8)


def test_reserve_allocates_largest_stock_first_and_replays(inventory: Inventory) -> None:
    small, large = inventory.new_warehouse(), inventory.new_warehouse()
    sku, other = inventory.new_product(), inventory.new_product()
    inventory.receive(small, {sku: 3, other: 2})
    inventory.receive(large, {sku: 5})

    reservation_id = _id()
    first = inventory.reserve(reservation_id, {sku: 7, other: 2})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["id"] == reservation_id
    assert body["status"] == "reserved"
    assert body["expires_at"]
    lines = {line["sku"]: line for line in body["lines"]}
    assert lines[sku]["allocations"] == [
        {"warehouse_code": large, "quantity": 5},
        {"warehouse_code": small, "quantity": 2},
    ]
    assert lines[other]["allocations"] == [{"warehouse_code": small, "quantity": 2}]
    assert inventory.available(sku) == 1
    assert inventory.levels(sku)[large]["reserved"] == 5

    replay = inventory.reserve(reservation_id, {other: 2, sku: 7})
    assert replay.status_code == 200
    assert replay.json()["lines"] == body["lines"]
    assert inventory.available(sku) == 1  # nothing reserved twice

    mismatch = inventory.reserve(reservation_id, {sku: 6, other: 2})
    assert assert_problem(mismatch, 409)["type"] == problem_type("reservation-mismatch")

    read = inventory.get(f"/v1/reservations/{reservation_id}", inventory.platform.as_role("sales"))
    assert read.status_code == 200
    assert read.json()["status"] == "reserved"
    inventory.assert_invariants([sku, other])


def test_short_stock_rejects_every_line_and_the_rejection_is_remembered(
    inventory: Inventory,
) -> None:
    code = inventory.new_warehouse()
    plenty, scarce = inventory.new_product(), inventory.new_product()
    inventory.receive(code, {plenty: 10, scarce: 2})

    reservation_id = _id()
    rejected = inventory.reserve(reservation_id, {plenty: 4, scarce: 3})
    problem = assert_problem(rejected, 409)
    assert problem["type"] == problem_type("insufficient-stock")
    assert problem["short_lines"] == [{"sku": scarce, "requested": 3, "available": 2}]
    assert inventory.available(plenty) == 10  # all or nothing

    inventory.receive(code, {scarce: 5})
    again = assert_problem(inventory.reserve(reservation_id, {plenty: 4, scarce: 3}), 409)
    assert again["short_lines"] == problem["short_lines"]
    assert inventory.available(scarce) == 7

    unknown = assert_problem(inventory.reserve(_id(), {"T-NO-SUCH-SKU": 1}), 409)
    assert unknown["short_lines"] == [{"sku": "T-NO-SUCH-SKU", "requested": 1, "available": 0}]


def test_commit_ships_and_release_returns_stock_idempotently(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(code, {sku: 10})

    shipped, cancelled = _id(), _id()
    assert inventory.reserve(shipped, {sku: 4}).status_code == 201
    assert inventory.reserve(cancelled, {sku: 3}).status_code == 201
    assert inventory.levels(sku)[code] | {"updated_at": None, "version": None} == {
        "sku": sku,
        "warehouse_code": code,
        "on_hand": 10,
        "reserved": 7,
        "available": 3,
        "updated_at": None,
        "version": None,
    }

    for _ in range(2):
        committed = inventory.act(shipped, "commit")
        assert committed.status_code == 200, committed.text
        assert committed.json()["status"] == "committed"
    for _ in range(2):
        released = inventory.act(cancelled, "release")
        assert released.status_code == 200, released.text
        assert released.json()["status"] == "released"
    level = inventory.levels(sku)[code]
    assert (level["on_hand"], level["reserved"]) == (6, 0)

    assert_problem(inventory.act(shipped, "release"), 409)
    closed = assert_problem(inventory.act(cancelled, "commit"), 409)
    assert closed["type"] == problem_type("reservation-closed")
    assert assert_problem(inventory.reserve(cancelled, {sku: 3}), 409)["type"] == problem_type(
        "reservation-closed"
    )
    assert_problem(inventory.act(_id(), "commit"), 404)

    kinds = [
        (m["kind"], m["on_hand_delta"], m["reserved_delta"])
        for m in inventory.get("/v1/movements", inventory.admin, sku=sku).json()["items"]
    ]
    assert kinds == [
        ("receipt", 10, 0),
        ("reserve", 0, 4),
        ("reserve", 0, 3),
        ("commit", -4, -4),
        ("release", 0, -3),
    ]
    inventory.assert_invariants([sku])

    events = inventory.wait_for_events(
        lambda e: e["data"].get("reservation_id") in (shipped, cancelled), 4
    )
    assert [e["type"] for e in events] == [
        "reservation.created",
        "reservation.created",
        "reservation.committed",
        "reservation.released",
    ]
    committed_levels = events[2]["data"]["levels"]
    assert committed_levels == [
        {"sku": sku, "warehouse_code": code, "on_hand": 6, "reserved": 3, "version": 4}
    ]


def test_release_of_an_unknown_id_leaves_a_tombstone(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(code, {sku: 5})
    late = _id()
    released = inventory.act(late, "release")
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    refused = assert_problem(inventory.reserve(late, {sku: 1}), 409)
    assert refused["type"] == problem_type("reservation-closed")
    assert inventory.available(sku) == 5


def test_only_services_with_the_reserve_scope_reserve(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(code, {sku: 5})
    body = {"lines": [{"sku": sku, "quantity": 1}]}
    url = inventory.url(f"/v1/reservations/{_id()}")
    platform = inventory.platform
    for headers in (
        inventory.admin,
        platform.as_role("sales"),
        platform.as_role("warehouse"),
        platform.as_role("distributor", distributor_id="dst_demo_sleepwell"),
        bearer(platform.service_token(["catalog:read", "inventory:receive"])),
    ):
        assert_problem(inventory.http.put(url, json=body, headers=headers), 403)
        assert_problem(inventory.http.post(url + "/release", headers=headers), 403)
    assert_problem(inventory.http.put(url, json=body), 401)
    assert_problem(
        inventory.http.get(
            url, headers=platform.as_role("distributor", distributor_id="dst_demo_sleepwell")
        ),
        403,
    )
    ordering = bearer(platform.service_token(["catalog:read", "inventory:reserve"]))
    assert inventory.http.put(url, json=body, headers=ordering).status_code == 201
    assert inventory.available(sku) == 4


def test_business_metrics_count_outcomes(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product(reorder_point=1)

    def scrape() -> dict[str, float]:
        values = {}
        for line in inventory.http.get(inventory.url("/metrics")).text.splitlines():
            if line.startswith("glosleep_") and not line.startswith("glosleep_outbox"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    before = scrape()
    inventory.receive(code, {sku: 2})
    reservation_id = _id()
    assert inventory.reserve(reservation_id, {sku: 1}).status_code == 201  # crosses to 1
    assert inventory.reserve(reservation_id, {sku: 1}).status_code == 200
    assert_problem(inventory.reserve(_id(), {sku: 5, "T-NOPE-1": 1}), 409)
    after = scrape()

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew('glosleep_reservations_total{outcome="reserved"}') == 1
    assert grew('glosleep_reservations_total{outcome="replayed"}') == 1
    assert grew('glosleep_reservations_total{outcome="rejected"}') == 1
    assert grew("glosleep_reservation_short_lines_total") == 2
    assert grew("glosleep_stock_low_events_total") == 1
    assert grew("glosleep_stock_receipts_total") == 1
    assert "glosleep_outbox_backlog" in inventory.http.get(inventory.url("/metrics")).text
