"""Every service's OpenAPI document fuzzed by schemathesis against the running
service: a fixed seed and a bounded number of cases per operation, the checks
for server errors and for answers that do not match the documented schema, and
real ids for the path parameters (a supplier, a draft purchase order and its
receipt, an order, a distributor, a product, a user) so that the deep operations
get past 404. Stateful sequences follow the links schemathesis infers.

Answers checked: no 5xx and every documented answer conforms to its schema.
Run alone: `pytest tests/fuzz -q` (its report lands in the test's tmp folder)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.procurement.support import (
    create_po,
    create_supplier,
    po_action,
    sku_supply,
    supplier_body,
)
from tests.support.platform import ALL_SCOPES, Platform
from tests.support.shop import Shop

SEED = 20261129
MAX_EXAMPLES = 8
CHECKS = "not_a_server_error,response_schema_conformance"
# Paths left out, and why: rotating the signing key would invalidate the
# fuzzer's own token mid-run; nothing else is left out.
EXCLUDED = {"auth": ["/v1/keys/rotate"]}
# Operations only a service account may call get a second pass with its token.
SERVICE_ONLY = {"inventory": "^/v1/reservations/"}


def _auth_ids(platform: Platform, shop: Shop) -> dict[str, str]:
    return {"user_id": platform.create_user("sales")["id"]}


def _inventory_ids(platform: Platform, shop: Shop) -> dict[str, str]:
    sku = shop.product(stock=50)
    placed = shop.place(shop.as_distributor(shop.distributor()), [(sku, 1)])  # a reservation
    assert placed.status_code == 201, placed.text
    return {
        "sku": sku,
        "code": shop.warehouse,
        "reservation_id": placed.json()["id"],
        "receipt_id": "fz-receipt-1",
        "adjustment_id": "fz-adjustment-1",
        "transfer_id": "fz-transfer-1",
    }


def _order_ids(platform: Platform, shop: Shop) -> dict[str, str]:
    distributor_id = shop.distributor()
    sku = shop.product(stock=50)
    placed = shop.place(shop.as_distributor(distributor_id), [(sku, 1)])
    assert placed.status_code == 201, placed.text
    return {"order_id": placed.json()["id"], "distributor_id": distributor_id}


def _procurement_ids(platform: Platform, shop: Shop) -> dict[str, str]:
    sku = shop.product(stock=0)
    supplier = create_supplier(platform, supplier_body([sku_supply(sku, 10_000)]))
    po = create_po(platform, supplier["id"], [{"item_type": "sku", "item": sku, "quantity": 5}])
    assert po_action(platform, po["id"], "submit").status_code == 200
    receipt = platform.http.post(
        platform.url("procurement", f"/v1/purchase-orders/{po['id']}/receipts"),
        json={"warehouse_code": shop.warehouse, "lines": [{"line_no": 1, "quantity": 1}]},
        headers={**platform.as_role("warehouse"), "Idempotency-Key": "fz-receipt-1"},
    )
    assert receipt.status_code == 201, receipt.text
    return {"supplier_id": supplier["id"], "po_id": po["id"], "receipt_id": receipt.json()["id"]}


def _analytics_ids(platform: Platform, shop: Shop) -> dict[str, str]:
    return {}


TEST_DATA: dict[str, Callable[[Platform, Shop], dict[str, str]]] = {
    "auth": _auth_ids,
    "inventory": _inventory_ids,
    "order": _order_ids,
    "procurement": _procurement_ids,
    "analytics": _analytics_ids,
}


def _config(ids: dict[str, str]) -> str:
    """schemathesis.toml: the seed, the budget, and the real path values."""
    lines = [
        f"seed = {SEED}",
        "",
        "[cache]",  # no state carried from run to run: each run is the same
        "enabled = false",
        "",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "",
        "[phases.stateful]",
        "max-steps = 10",
        "",
        "[parameters]",
    ]
    lines += [f'"path.{name}" = {json.dumps(value)}' for name, value in ids.items()]
    return "\n".join(lines) + "\n"


def _run(
    platform: Platform, service: str, ids: dict[str, str], folder: Path, token: str, only: str
) -> dict[str, Any]:
    config = folder / "schemathesis.toml"
    config.write_text(_config(ids))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        platform.url(service, "/openapi.json"),
        "--checks",
        CHECKS,
        "--phases",
        "fuzzing,stateful",
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(folder),
    ]
    if only:
        command += ["--include-path-regex", only]
    for path in EXCLUDED.get(service, []):
        command += ["--exclude-path", path]
    started = time.monotonic()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=folder
    )
    return {
        "code": result.returncode,
        "output": result.stdout + result.stderr,
        "seconds": time.monotonic() - started,
    }


@pytest.mark.parametrize("service", list(TEST_DATA))
def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    fuzz_platform: Platform, service: str, tmp_path: Path
) -> None:
    shop = Shop(fuzz_platform)
    ids = TEST_DATA[service](fuzz_platform, shop)
    # A user of its own: what the fuzzer does to its session touches no other test.
    admin = fuzz_platform.create_user("admin")
    passes = [(fuzz_platform.login(admin["email"], admin["password"])["access_token"], "")]
    if service in SERVICE_ONLY:  # the operations only service accounts may call
        passes.append((fuzz_platform.service_token(ALL_SCOPES), SERVICE_ONLY[service]))
    for number, (token, only) in enumerate(passes):
        folder = tmp_path / str(number)
        folder.mkdir()
        outcome = _run(fuzz_platform, service, ids, folder, token, only)
        tail = outcome["output"][-6000:]
        print(f"{service} {only}: {outcome['seconds']:.0f} s\n{tail}")  # shown by `pytest -rA`
        assert outcome["code"] == 0, tail
        assert " passed" in outcome["output"], tail
