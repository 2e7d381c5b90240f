"""A client generated from each service's OpenAPI (openapi-python-client, as a
consumer would) makes one real authenticated call against the running service, and
reads a refusal as the declared problem."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from apps.kit.problems import problem_type
from tests.support.platform import ADMIN_EMAIL, Platform

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# The generator's own formatting hooks would need ruff on PATH; the code is only imported.
CONFIG = "post_hooks: []\n"


@pytest.fixture(scope="module")
def client_dir(
    specs: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    root = tmp_path_factory.mktemp("clients")
    (root / "config.yaml").write_text(CONFIG)
    for service, spec in specs.items():
        (root / f"{service}.json").write_text(json.dumps(spec))
        generated = subprocess.run(
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(root / f"{service}.json"),
                "--meta",
                "none",
                "--output-path",
                str(root / f"{service}_client"),
                "--config",
                str(root / "config.yaml"),
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
        assert "Warning" not in generated.stdout, generated.stdout
    return root


def generated(client_dir: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> Any:
    monkeypatch.syspath_prepend(str(client_dir))
    return importlib.import_module(module)


def is_page(body: Any) -> bool:
    return isinstance(body.items, list)


# (service, role, operation module, keyword arguments, what the answer must show)
CALLS = [
    ("auth", "admin", "me.me_me", {}, lambda body: body.email == ADMIN_EMAIL),
    ("inventory", "sales", "catalogue.catalogue_list_products", {"limit": 5}, is_page),
    ("order", "sales", "distributors.distributors_list_distributors", {"limit": 5}, is_page),
    ("procurement", "procurement", "suppliers.suppliers_list_suppliers", {"limit": 5}, is_page),
    ("analytics", "analyst", "reports.reports_stock", {}, lambda body: body.report == "stock"),
]


@pytest.mark.parametrize(("service", "role", "operation", "kwargs", "check"), CALLS)
def test_generated_client_makes_an_authenticated_call(
    client_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: Platform,
    service: str,
    role: str,
    operation: str,
    kwargs: dict[str, Any],
    check: Any,
) -> None:
    package = generated(client_dir, monkeypatch, f"{service}_client")
    call = generated(client_dir, monkeypatch, f"{service}_client.api.{operation}")
    client = package.AuthenticatedClient(base_url=platform.url(service), token=platform.token(role))
    with client:
        answer = call.sync_detailed(client=client, **kwargs)
    assert answer.status_code == 200, answer.content
    assert check(answer.parsed), answer.parsed


def test_generated_client_reads_a_refusal_as_the_declared_problem(
    client_dir: Path, monkeypatch: pytest.MonkeyPatch, platform: Platform
) -> None:
    package = generated(client_dir, monkeypatch, "order_client")
    read_order = generated(client_dir, monkeypatch, "order_client.api.orders.orders_read_order")
    problem_model = generated(client_dir, monkeypatch, "order_client.models.problem").Problem
    with package.Client(base_url=platform.url("order")) as anonymous:
        answer = read_order.sync_detailed(order_id="ord_missing", client=anonymous)
    assert answer.status_code == 401
    assert isinstance(answer.parsed, problem_model)
    assert answer.parsed.type_ == problem_type("unauthorized")
    with package.AuthenticatedClient(
        base_url=platform.url("order"), token=platform.token("sales")
    ) as sales:
        missing = read_order.sync_detailed(order_id="ord_missing", client=sales)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, problem_model)
    assert missing.parsed.type_ == problem_type("not-found")
