"""The proofs under concurrency: racing reservations never confirm more than
is on hand, retried calls change stock once, and afterwards every level keeps
0 <= reserved <= on_hand with the ledger summing to it."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx

from tests.inventory.conftest import Inventory

# A call: method, URL and JSON body (None for none).
Call = tuple[str, str, dict[str, Any] | None]


async def _gather(calls: Sequence[Call], headers: dict[str, str]) -> list[httpx.Response]:
    """Send every call at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(calls))
    async with httpx.AsyncClient(timeout=120.0, limits=limits, headers=headers) as client:
        return await asyncio.gather(
            *(client.request(method, url, json=body) for method, url, body in calls)
        )


def _race(inventory: Inventory, calls: Sequence[Call]) -> list[httpx.Response]:
    return asyncio.run(_gather(calls, inventory.service))


def test_racing_reservations_never_oversell(inventory: Inventory) -> None:
    first, second = inventory.new_warehouse(), inventory.new_warehouse()
    split, single, other = (inventory.new_product() for _ in range(3))
    inventory.receive(first, {split: 4, single: 5})
    inventory.receive(second, {split: 3, other: 2})
    on_hand = {split: 7, single: 5, other: 2}

    chooser = random.Random(7)
    wanted: dict[str, dict[str, int]] = {}
    for _ in range(30):
        skus = chooser.sample(sorted(on_hand), chooser.randint(1, 3))
        wanted["ord_" + secrets.token_hex(8)] = {s: chooser.randint(1, 2) for s in skus}
    calls: list[Call] = [
        (
            "PUT",
            inventory.url(f"/v1/reservations/{rid}"),
            {"lines": [{"sku": s, "quantity": q} for s, q in lines.items()]},
        )
        for rid, lines in wanted.items()
    ]
    # Warehouse staff count stock down at the same time: on_hand falls, but
    # never below what is reserved.
    adjustments = [
        (
            "PUT",
            inventory.url(f"/v1/adjustments/adj-{secrets.token_hex(6)}"),
            {"warehouse_code": first, "sku": single, "delta": -1, "reason": "damage"},
        )
        for _ in range(3)
    ]

    async def both() -> tuple[list[httpx.Response], list[httpx.Response]]:
        racing = await asyncio.gather(
            _gather(calls, inventory.service), _gather(adjustments, inventory.warehouse)
        )
        return racing[0], racing[1]

    responses, adjusted = asyncio.run(both())
    assert {r.status_code for r in adjusted} <= {201, 409}
    on_hand[single] -= sum(r.status_code == 201 for r in adjusted)

    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    confirmed = [r.json() for r in responses if r.status_code == 201]
    assert confirmed, "some reservations must succeed"
    assert len(confirmed) < len(calls), "the stock is scarce: some must be refused"
    reserved: Counter[str] = Counter()
    for body in confirmed:
        for line in body["lines"]:
            assert sum(a["quantity"] for a in line["allocations"]) == line["quantity"]
            reserved[line["sku"]] += line["quantity"]
    for sku, quantity in reserved.items():
        assert quantity <= on_hand[sku]
        levels = inventory.levels(sku)
        assert sum(level["reserved"] for level in levels.values()) == quantity
        assert inventory.available(sku) == on_hand[sku] - quantity
    for response in responses:
        if response.status_code == 409:
            short = response.json()["short_lines"]
            assert short
            assert all(line["requested"] > line["available"] for line in short)
    inventory.assert_invariants(sorted(on_hand))

    # Then ship half and cancel the rest, all at once and each twice.
    ids = [body["id"] for body in confirmed]
    closing = [
        ("POST", inventory.url(f"/v1/reservations/{rid}/{action}"), None)
        for index, rid in enumerate(ids)
        for action in (["commit"] if index % 2 else ["release"]) * 2
    ]
    assert {r.status_code for r in _race(inventory, closing)} == {200}
    shipped: Counter[str] = Counter()
    for index, body in enumerate(confirmed):
        if index % 2:
            for line in body["lines"]:
                shipped[line["sku"]] += line["quantity"]
    for sku, quantity in on_hand.items():
        final = inventory.levels(sku).values()
        assert sum(level["reserved"] for level in final) == 0
        assert sum(level["on_hand"] for level in final) == quantity - shipped[sku]
    inventory.assert_invariants(sorted(on_hand))


def test_concurrent_retries_reserve_and_receive_once(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    sku = inventory.new_product()
    inventory.receive(code, {sku: 10})
    reservation_id = "ord_" + secrets.token_hex(8)
    receipt_id = "rcpt-" + secrets.token_hex(6)
    reserve = (
        "PUT",
        inventory.url(f"/v1/reservations/{reservation_id}"),
        {"lines": [{"sku": sku, "quantity": 4}]},
    )
    receive = (
        "PUT",
        inventory.url(f"/v1/receipts/{receipt_id}"),
        {
            "warehouse_code": code,
            "reference": "PO-2002",
            "lines": [{"sku": sku, "quantity": 6, "unit_cost_paise": 500_000}],
        },
    )
    responses = _race(inventory, [reserve] * 6 + [receive] * 6)
    reserves, receipts = responses[:6], responses[6:]
    assert sorted(r.status_code for r in reserves) == [200] * 5 + [201]
    assert sorted(r.status_code for r in receipts) == [200] * 5 + [201]
    assert len({str(r.json()["lines"]) for r in reserves}) == 1
    level = inventory.levels(sku)[code]
    assert (level["on_hand"], level["reserved"]) == (16, 4)

    for action in ("commit", "release"):
        target = reservation_id if action == "commit" else "ord_" + secrets.token_hex(8)
        if action == "release":
            inventory.reserve(target, {sku: 2})
        repeated = _race(
            inventory,
            [("POST", inventory.url(f"/v1/reservations/{target}/{action}"), None)] * 6,
        )
        assert [r.status_code for r in repeated] == [200] * 6
    level = inventory.levels(sku)[code]
    assert (level["on_hand"], level["reserved"]) == (12, 0)
    ledger = inventory.db.movements.count_documents({"sku": sku, "kind": {"$ne": "receipt"}})
    assert ledger == 4  # reserve, commit, reserve, release: once each
    inventory.assert_invariants([sku])


def _transaction_retries(inventory: Inventory) -> float:
    metrics = inventory.http.get(inventory.url("/metrics")).text
    for line in metrics.splitlines():
        if line.startswith("glosleep_transaction_retries_total "):
            return float(line.rpartition(" ")[2])
    raise AssertionError("no glosleep_transaction_retries_total in /metrics")


def test_reservations_of_one_sku_take_turns_instead_of_conflicting(inventory: Inventory) -> None:
    code = inventory.new_warehouse()
    busy, other = inventory.new_product(), inventory.new_product()
    inventory.receive(code, {busy: 1000, other: 1000})
    before = _transaction_retries(inventory)
    calls: list[Call] = [
        (
            "PUT",
            inventory.url(f"/v1/reservations/ord_{secrets.token_hex(8)}"),
            {"lines": [{"sku": busy, "quantity": 1}] + ([{"sku": other, "quantity": 2}] * (n % 2))},
        )
        for n in range(16)
    ]
    responses = _race(inventory, calls)
    assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses]
    # At once, each would read the same level versions and all but one would then
    # conflict on the level write and run its transaction again.
    assert _transaction_retries(inventory) == before
    level = inventory.levels(busy)[code]
    assert (level["on_hand"], level["reserved"]) == (1000, 16)
