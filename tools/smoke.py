"""Smoke test of a running platform, as its users would: the admin sets up a
warehouse, a product with stock, a distributor and its user; the distributor
orders; the order is confirmed and stock reserved; the warehouse ships and stock
falls; the sale shows in the analytics report.

    python tools/smoke.py --base-url http://localhost:8080         # through the Gateway
    python tools/smoke.py --service-url auth=http://127.0.0.1:8001 \\
        --service-url inventory=... --service-url order=... --service-url analytics=...

The admin's credentials come from SMOKE_EMAIL / SMOKE_PASSWORD (never from
arguments, so they stay out of process listings and CI logs). Everything it creates
has a random suffix, so it can run again on the same platform. Exit 0 when every
step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

# The Gateway's path prefix of each service (platform/glosleep_platform/gateway.py).
GATEWAY_PREFIXES = {
    "auth": "/auth",
    "inventory": "/inventory",
    "order": "/orders",
    "analytics": "/analytics",
}
SERVICES = tuple(GATEWAY_PREFIXES)
ORDERED = 2
RECEIVED = 10


class SmokeFailure(Exception):
    pass


class Platform:
    def __init__(self, urls: dict[str, str], client: httpx.Client) -> None:
        self.urls = urls
        self.client = client

    def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        token: str | None = None,
        expect: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.request(method, self.urls[service] + path, headers=headers, **kwargs)
        if response.status_code not in expect:
            raise SmokeFailure(
                f"{method} {service}{path}: {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None


def wait_until(what: str, check: Callable[[], bool], timeout: float, every: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (httpx.TransportError, SmokeFailure):
            pass
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what}: not within {timeout:g} s")
        time.sleep(every)


def login(platform: Platform, email: str, password: str) -> str:
    body = platform.call(
        "POST", "auth", "/v1/auth/login", json={"email": email, "password": password}
    )
    return str(body["access_token"])


def level(platform: Platform, admin: str, sku: str) -> dict[str, int]:
    items = platform.call("GET", "inventory", "/v1/stock", token=admin, params={"sku": sku})[
        "items"
    ]
    return {key: sum(item[key] for item in items) for key in ("on_hand", "reserved")}


def run(platform: Platform, email: str, password: str, report_timeout: float) -> None:
    suffix = secrets.token_hex(3).upper()
    admin = login(platform, email, password)
    print("login: ok")

    warehouse, sku = f"SMK{suffix}", f"SMK-{suffix}"
    platform.call(
        "POST",
        "inventory",
        "/v1/warehouses",
        token=admin,
        expect=(201,),
        json={"code": warehouse, "name": "Smoke test", "address": "Smoke test, Bengaluru"},
    )
    platform.call(
        "POST",
        "inventory",
        "/v1/products",
        token=admin,
        expect=(201,),
        json={
            "sku": sku,
            "name": f"Smoke mattress {suffix}",
            "category": "mattress",
            "size": "queen",
            "unit_price_paise": 1_999_900,
            "gst_rate_bps": 1800,
        },
    )
    platform.call(
        "PUT",
        "inventory",
        f"/v1/receipts/smoke-{suffix}",
        token=admin,
        expect=(200, 201),
        json={
            "warehouse_code": warehouse,
            "reference": "smoke test",
            "lines": [{"sku": sku, "quantity": RECEIVED, "unit_cost_paise": 1_200_000}],
        },
    )
    print(f"inventory: {sku} with {RECEIVED} units in {warehouse}")

    distributor_id = f"dst_smoke_{suffix.lower()}"
    platform.call(
        "POST",
        "order",
        "/v1/distributors",
        token=admin,
        expect=(201,),
        json={
            "id": distributor_id,
            "name": f"Smoke Distributor {suffix}",
            "gstin": "29ABCDE1234F1Z5",
            "region": "South",
            "billing_address": {
                "line1": "1 Smoke Street",
                "city": "Bengaluru",
                "state": "Karnataka",
                "postal_code": "560001",
            },
        },
    )
    user_password = "smoke-" + secrets.token_urlsafe(16)
    user_email = f"smoke-{suffix.lower()}@smoke.glosleep.test"
    platform.call(
        "POST",
        "auth",
        "/v1/users",
        token=admin,
        expect=(201,),
        json={
            "email": user_email,
            "display_name": "Smoke distributor",
            "roles": ["distributor"],
            "distributor_id": distributor_id,
            "password": user_password,
        },
    )
    distributor = login(platform, user_email, user_password)
    print(f"distributor: {distributor_id} logged in")

    order = platform.call(
        "POST",
        "order",
        "/v1/orders",
        token=distributor,
        expect=(201,),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={"lines": [{"sku": sku, "quantity": ORDERED}]},
    )
    if order["status"] != "CONFIRMED":
        raise SmokeFailure(f"order: {order['status']}, expected CONFIRMED")
    if level(platform, admin, sku) != {"on_hand": RECEIVED, "reserved": ORDERED}:
        raise SmokeFailure(f"stock after the order: {level(platform, admin, sku)}")
    print(f"order: {order['number']} CONFIRMED, {ORDERED} units reserved")

    shipped = platform.call("POST", "order", f"/v1/orders/{order['id']}/ship", token=admin)
    if shipped["status"] != "SHIPPED":
        raise SmokeFailure(f"ship: {shipped['status']}, expected SHIPPED")
    if level(platform, admin, sku) != {"on_hand": RECEIVED - ORDERED, "reserved": 0}:
        raise SmokeFailure(f"stock after shipping: {level(platform, admin, sku)}")
    print("ship: SHIPPED, stock fell")

    def sale_reported() -> bool:
        report = platform.call(
            "GET", "analytics", "/v1/reports/sales", token=admin, params={"sku": sku}
        )
        return sum(int(row["units"]) for row in report["rows"]) == ORDERED

    wait_until("the sale in the analytics report", sale_reported, report_timeout, every=1.0)
    print("report: the sale is in the sales report")


def service_urls(args: argparse.Namespace) -> dict[str, str]:
    if args.base_url:
        base = args.base_url.rstrip("/")
        return {name: base + prefix for name, prefix in GATEWAY_PREFIXES.items()}
    urls = dict(item.split("=", 1) for item in args.service_url)
    missing = [name for name in SERVICES if name not in urls]
    if missing:
        raise SystemExit(f"smoke: --service-url missing for {', '.join(missing)}")
    return {name: urls[name].rstrip("/") for name in SERVICES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="the Gateway's URL")
    where.add_argument(
        "--service-url", action="append", default=[], help="SERVICE=URL, for each service"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="readiness wait, s")
    parser.add_argument("--report-timeout", type=float, default=60.0, help="analytics wait, s")
    args = parser.parse_args(argv)
    email, password = os.environ.get("SMOKE_EMAIL"), os.environ.get("SMOKE_PASSWORD")
    if not email or not password:
        print("smoke: set SMOKE_EMAIL and SMOKE_PASSWORD", file=sys.stderr)
        return 1
    with httpx.Client(timeout=15.0) as client:
        platform = Platform(service_urls(args), client)
        try:
            wait_until(
                "auth's JWKS",
                lambda: client.get(platform.urls["auth"] + "/.well-known/jwks.json").is_success,
                args.timeout,
            )
            run(platform, email, password, args.report_timeout)
        except SmokeFailure as failure:
            print(f"smoke: FAILED: {failure}", file=sys.stderr)
            return 1
    print("smoke: every step passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
