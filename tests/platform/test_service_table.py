"""One table of the services (glosleep_platform.catalogue): the local platform reads
it, and every other place that names the services is checked against it: compose.yaml,
the compose Prometheus, the dashboards and docs/architecture.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from apps.devstack.stack import LocalStack, StackConfig
from glosleep_platform.catalogue import CONTAINER_PORT, SERVICE_NAMES, SERVICES, URL_VARIABLES

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services: dict[str, Any] = document["services"]
    return services


def test_devstack_runs_the_table() -> None:
    stack = LocalStack(StackConfig(mongo_url="mongodb://127.0.0.1:1", database_prefix="x_"))
    for spec in SERVICES:
        env = stack.env_for(spec.name)
        assert env["MONGO_DATABASE"] == "x_" + spec.name
        assert env.get("SERVICE_CLIENT_ID") == (spec.client.client_id if spec.client else None)
        for called in spec.calls:
            assert env[URL_VARIABLES[called]] == stack.url(called), (spec.name, called)
    clients = json.loads(stack.env_for("auth")["AUTH_SERVICE_CLIENTS"])
    assert {c["client_id"]: tuple(c["scopes"]) for c in clients} == {
        spec.client.client_id: spec.client.scopes for spec in SERVICES if spec.client
    }


def test_compose_runs_each_service_as_the_table_says() -> None:
    services = compose()
    assert set(SERVICE_NAMES) <= set(services)
    for spec in SERVICES:
        service = services[spec.name]
        env = service["environment"]
        assert service["build"]["args"]["SERVICE"] == spec.name
        assert service["ports"] == [f"127.0.0.1:{spec.dev_port}:{CONTAINER_PORT}"], spec.name
        assert env["MONGO_DATABASE"] == spec.database
        assert env.get("SERVICE_CLIENT_ID") == (spec.client.client_id if spec.client else None)
        for called in spec.calls:
            assert env[URL_VARIABLES[called]] == f"http://{called}:{CONTAINER_PORT}"
    # Auth's accounts: the placeholders of the secrets aside, the table's clients and scopes.
    listed = re.sub(
        r'"\$\{[^}]*\}"', '"x"', compose()["auth"]["environment"]["AUTH_SERVICE_CLIENTS"]
    )
    assert {c["client_id"]: tuple(c["scopes"]) for c in json.loads(listed)} == {
        spec.client.client_id: spec.client.scopes for spec in SERVICES if spec.client
    }


def test_compose_prometheus_scrapes_each_service_of_the_table() -> None:
    config = yaml.safe_load((ROOT / "monitoring" / "compose" / "prometheus.yml").read_text())
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert jobs == {name: [f"{name}:{CONTAINER_PORT}"] for name in SERVICE_NAMES}


def test_each_service_of_the_table_has_its_dashboard_on_its_job() -> None:
    for name in SERVICE_NAMES:
        board = (ROOT / "monitoring" / "dashboards" / f"{name}.json").read_text()
        assert f'job=\\"{name}\\"' in board, name
    overview = (ROOT / "monitoring" / "dashboards" / "overview.json").read_text()
    assert "|".join(SERVICE_NAMES) in overview


def test_architecture_doc_lists_the_table() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    rows = {
        cells[0]: cells
        for line in text.splitlines()
        if line.startswith("| ")
        for cells in [[cell.strip().strip("`") for cell in line.strip("|").split("|")]]
    }
    for spec in SERVICES:
        row = rows[spec.name]
        assert row[1:5] == [spec.package, str(spec.dev_port), str(CONTAINER_PORT), spec.database]
        if spec.client is not None:
            account = rows[spec.client.client_id]
            assert account[1].split() == list(spec.client.scopes), spec.name
