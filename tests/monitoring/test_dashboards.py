"""The Grafana dashboards: current with their generator, valid Grafana JSON in the
shape the sidecar provisions, and every query naming only metrics that exist."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx

from apps.devstack.processes import REPO_ROOT
from tests.monitoring.conftest import Monitored
from tests.monitoring.promql import (
    contract_metrics,
    dashboard_queries,
    dashboards,
    metric_names,
    panels,
    recorded_names,
)

# Series no GloSleep service exposes, with where they come from.
PROMETHEUS_OWN = {
    "up": "written by Prometheus for every scrape target",
    "ALERTS": "written by Prometheus for every pending or firing alert",
}
KUBERNETES_ONLY = {
    "container_memory_working_set_bytes": "cAdvisor, scraped from the kubelet by "
    "kube-prometheus-stack; the memory-near-limit panels and alert",
    "kube_pod_container_resource_limits": "kube-state-metrics: the container's memory limit",
    "kube_pod_container_status_restarts_total": "kube-state-metrics: container restarts "
    "(crash loops)",
}
EXPECTED = {"overview", "business", "slo", "auth", "inventory", "order", "procurement", "analytics"}


def test_dashboards_are_current_with_their_generator() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_dashboards_are_grafana_json_with_a_prometheus_datasource_variable() -> None:
    boards = dashboards()
    assert set(boards) == EXPECTED
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    for name, board in boards.items():
        assert isinstance(board["schemaVersion"], int), name
        assert board["schemaVersion"] >= 36, name
        assert board["title"].startswith("GloSleep / "), name
        assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]), name
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["DS_PROMETHEUS"]["type"] == "datasource", name
        assert variables["DS_PROMETHEUS"]["query"] == "prometheus", name
        ids = [panel["id"] for panel in panels(board)]
        assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
        data_panels = [panel for panel in panels(board) if panel["type"] != "row"]
        assert data_panels, name
        for panel in data_panels:
            where = f"{name} / {panel['title']}"
            assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, where
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, where
            assert grid["h"] > 0, where
            assert panel["targets"], where
            for target in panel["targets"]:
                assert target["expr"].strip(), where
                assert target["refId"], where
                assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", where


def test_each_service_dashboard_shows_red_and_saturation() -> None:
    boards = dashboards()
    for service in ("auth", "inventory", "order", "procurement", "analytics"):
        exprs = " ".join(t["expr"] for p in panels(boards[service]) for t in p.get("targets", []))
        for needed in (
            "job_handler_method_status:http_requests:rate5m",  # rate
            "job:http_requests_errors:ratio_rate5m",  # errors
            "http_request_duration_seconds",  # duration
            "http_requests_inprogress",  # saturation
            "process_cpu_seconds_total",
            "container_memory_working_set_bytes",
        ):
            assert needed in exprs, f"{service} dashboard lacks {needed}"
        assert f'job="{service}"' in exprs


def _exposed(url: str) -> set[str]:
    """Metric family names a service declares and the sample names it writes."""
    text = httpx.get(url + "/metrics", timeout=10.0).text
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "counter":
                names.add(name.removesuffix("_total") + "_total")
            if kind == "histogram":
                names |= {name + "_bucket", name + "_sum", name + "_count"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_every_contract_metric_is_exposed_by_its_service(monitored: Monitored) -> None:
    contract = contract_metrics()
    for service in monitored.services:
        exposed = _exposed(monitored.platform.url(service))
        assert {"http_requests_total", "http_request_duration_seconds_bucket"} <= exposed
        assert {"glosleep_database_up", "process_resident_memory_bytes"} <= exposed
        missing = sorted(contract.get(service, set()) - exposed)
        assert missing == [], f"{service} does not expose {missing} (docs/architecture.md)"


def test_every_dashboard_query_names_only_metrics_that_exist(monitored: Monitored) -> None:
    exists = set(PROMETHEUS_OWN) | set(KUBERNETES_ONLY) | recorded_names()
    for service in monitored.services:
        exists |= _exposed(monitored.platform.url(service))
    # A service not in this checkout yet: the names its contract promises.
    for service, names in contract_metrics().items():
        if service not in monitored.services:
            exists |= names | {name + "_bucket" for name in names}
    unknown = {
        (board, title, name)
        for board, title, expr in dashboard_queries()
        for name in metric_names(expr)
        if name not in exists
    }
    assert sorted(unknown) == []
