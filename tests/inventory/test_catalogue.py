"""The catalogue: admin edits, staff and services read, filters, search, cursor
pagination, and product events carrying the catalogue entry."""

from __future__ import annotations

import secrets

from apps.kit.problems import problem_type
from tests.inventory.conftest import Inventory
from tests.support.platform import bearer
from tests.support.problems import assert_problem


def test_admin_creates_updates_and_deactivates_products(inventory: Inventory) -> None:
    tag = secrets.token_hex(3).upper()
    skus = [
        inventory.new_product(sku=f"T-{tag}-{n}", name=f"Cloud {tag} pillow {n}", category="pillow")
        for n in range(3)
    ]
    duplicate = inventory.http.post(
        inventory.url("/v1/products"),
        json={
            "sku": skus[0].lower(),
            "name": "again",
            "category": "pillow",
            "unit_price_paise": 1,
            "gst_rate_bps": 1800,
        },
        headers=inventory.admin,
    )
    assert assert_problem(duplicate, 409)["type"] == problem_type("product-exists")

    changed = inventory.http.patch(
        inventory.url(f"/v1/products/{skus[1]}"),
        json={"unit_price_paise": 249_900, "reorder_point": 12, "attributes": {"fill": "fibre"}},
        headers=inventory.admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["unit_price_paise"] == 249_900
    assert changed.json()["attributes"] == {"fill": "fibre"}
    assert_problem(
        inventory.http.patch(
            inventory.url(f"/v1/products/{skus[1]}"), json={"name": None}, headers=inventory.admin
        ),
        422,
    )
    off = inventory.http.post(
        inventory.url(f"/v1/products/{skus[2]}/deactivate"), headers=inventory.admin
    )
    assert off.json()["active"] is False

    sales = inventory.platform.as_role("sales")
    search = inventory.get("/v1/products", sales, q=f"cloud {tag.lower()}", limit=2)
    assert search.status_code == 200
    first = search.json()
    assert [p["sku"] for p in first["items"]] == skus[:2]
    rest = inventory.get("/v1/products", sales, q=tag, limit=2, cursor=first["next_cursor"]).json()
    assert [p["sku"] for p in rest["items"]] == skus[2:]
    assert rest["next_cursor"] is None
    active = inventory.get("/v1/products", sales, q=tag, active="true", category="pillow").json()
    assert [p["sku"] for p in active["items"]] == skus[:2]
    by_sku = inventory.get("/v1/products", sales, q=f"{tag}-1").json()
    assert [p["sku"] for p in by_sku["items"]] == [skus[1]]

    ordering = bearer(inventory.platform.service_token(["catalog:read"]))
    picked = inventory.get("/v1/products", ordering, sku=[skus[2], skus[0]]).json()["items"]
    assert [p["sku"] for p in picked] == [skus[0], skus[2]]
    assert set(picked[0]) >= {
        "sku",
        "name",
        "category",
        "size",
        "attributes",
        "unit_price_paise",
        "gst_rate_bps",
        "reorder_point",
        "reorder_quantity",
        "active",
    }

    events = inventory.wait_for_events(
        lambda e: e["type"].startswith("product.") and e["data"]["sku"] in skus, 5
    )
    assert [e["type"] for e in events] == ["product.created"] * 3 + ["product.updated"] * 2
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[3]["data"]["unit_price_paise"] == 249_900
    assert events[4]["data"] | {"created_at": None, "updated_at": None} == {
        **off.json(),
        "created_at": None,
        "updated_at": None,
    }


def test_only_admin_edits_the_catalogue_and_warehouses(inventory: Inventory) -> None:
    body = {
        "sku": "T-" + secrets.token_hex(4).upper(),
        "name": "Nope",
        "category": "foam",
        "unit_price_paise": 100,
        "gst_rate_bps": 1800,
    }
    platform = inventory.platform
    for headers in (platform.as_role("warehouse"), platform.as_role("sales"), inventory.service):
        assert_problem(
            inventory.http.post(inventory.url("/v1/products"), json=body, headers=headers), 403
        )
        assert_problem(
            inventory.http.post(
                inventory.url("/v1/warehouses"),
                json={"code": "NOPE-1", "name": "n", "address": "a"},
                headers=headers,
            ),
            403,
        )
    assert_problem(
        inventory.get("/v1/products", bearer(platform.service_token(["events:read"]))), 403
    )
    assert_problem(inventory.get(f"/v1/products/{body['sku']}", inventory.admin), 404)
