"""Helm releases are opaque to the mocks: assert their chart, version and values."""

from __future__ import annotations

from pathlib import Path

from glosleep_platform.offline import OfflineRun
from glosleep_platform.settings import PlatformSettings
from tests.platform.helpers import k8s_object, release

ROOT = Path(__file__).resolve().parents[2]


def test_mongodb_release(stack_run: OfflineRun, stack_settings: PlatformSettings) -> None:
    mongo = release(stack_run, "mongodb").inputs
    settings = stack_settings.mongodb
    assert mongo["chart"] == "oci://registry-1.docker.io/bitnamicharts/mongodb"
    assert mongo["version"] == settings.chart_version
    assert mongo["namespace"] == "mongodb"
    assert mongo["atomic"] is True
    values = mongo["values"]
    assert values["architecture"] == "replicaset"
    assert values["replicaCount"] == settings.replica_count
    assert values["replicaSetName"] == "rs0"
    # Frozen Bitnami images, named explicitly, and the chart told to accept them.
    assert values["image"]["repository"] == "bitnamilegacy/mongodb"
    assert values["image"]["tag"] == "8.0.13-debian-12-r0"
    assert values["volumePermissions"]["image"]["repository"] == "bitnamilegacy/os-shell"
    assert values["global"]["security"]["allowInsecureImages"] is True
    assert values["persistence"] == {
        "enabled": True,
        "storageClass": settings.storage_class,
        "size": settings.storage_size,
        "resourcePolicy": "keep",
    }
    auth = values["auth"]
    assert auth["existingSecret"] == "mongodb-credentials"
    assert "rootPassword" not in auth
    assert "passwords" not in auth
    assert auth["usernames"] == ["auth", "inventory", "order", "procurement", "analytics"]
    assert auth["databases"] == [f"glosleep_{u}" for u in auth["usernames"]]
    secret = k8s_object(stack_run, "Secret", "mongodb-credentials", "mongodb")["stringData"]
    assert set(secret) == {"mongodb-root-password", "mongodb-replica-set-key", "mongodb-passwords"}
    assert values["networkPolicy"]["ingressNSMatchLabels"] == {
        "kubernetes.io/metadata.name": "glosleep"
    }


def test_monitoring_release(stack_run: OfflineRun, stack_settings: PlatformSettings) -> None:
    stack = release(stack_run, "kube-prometheus-stack").inputs
    assert stack["chart"] == "kube-prometheus-stack"
    assert stack["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
    assert stack["version"] == stack_settings.monitoring.chart_version
    values = stack["values"]
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    assert values["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["retention"] == stack_settings.monitoring.prometheus_retention
    server = values["grafana"]["grafana.ini"]["server"]
    if stack_settings.monitoring.expose_grafana:
        assert server == {
            "root_url": stack_run.exports["gatewayUrl"] + "/grafana/",
            "serve_from_sub_path": True,
        }
        assert stack_run.exports["grafanaUrl"] == server["root_url"]
    else:
        assert server == {}
    assert ("storageSpec" in spec) == (
        stack_settings.monitoring.prometheus_storage_size is not None
    )


def test_every_rule_file_and_dashboard_is_shipped(stack_run: OfflineRun) -> None:
    objects = stack_run.kubernetes_objects()
    rules = [o for o in objects if o["kind"] == "PrometheusRule"]
    rule_files = sorted(p.stem for p in (ROOT / "monitoring" / "rules").glob("*.y*ml"))
    assert sorted(o["metadata"]["name"].removeprefix("glosleep-") for o in rules) == rule_files
    for rule in rules:
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert rule["metadata"]["namespace"] == "monitoring"
        assert rule["spec"]["groups"]
    dashboards = [o for o in objects if o["metadata"]["labels"].get("grafana_dashboard") == "1"]
    dashboard_files = sorted(p.name for p in (ROOT / "monitoring" / "dashboards").glob("*.json"))
    assert sorted(name for d in dashboards for name in d["data"]) == dashboard_files


def test_gateway(stack_run: OfflineRun, stack_settings: PlatformSettings) -> None:
    controller = release(stack_run, "envoy-gateway").inputs
    assert controller["chart"] == "oci://docker.io/envoyproxy/gateway-helm"
    assert controller["version"] == stack_settings.charts.envoy_gateway
    gateway_class = k8s_object(stack_run, "GatewayClass", "glosleep")
    assert (
        gateway_class["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    )
    gateway = k8s_object(stack_run, "Gateway", "glosleep", "glosleep")["spec"]
    assert gateway["gatewayClassName"] == "glosleep"
    assert {listener["hostname"] for listener in gateway["listeners"]} == {stack_settings.hostname}
    assert stack_run.exports["gatewayUrl"].split("://")[1].startswith(stack_settings.hostname)
    assert set(stack_run.exports["serviceUrls"]) == {
        "auth",
        "inventory",
        "order",
        "procurement",
        "analytics",
    }


def test_grafana_is_routed_only_when_configured(
    stack_run: OfflineRun, stack_settings: PlatformSettings
) -> None:
    routes = [
        o
        for o in stack_run.kubernetes_objects()
        if o["kind"] == "HTTPRoute" and o["metadata"]["namespace"] == "monitoring"
    ]
    exposed = stack_settings.monitoring.expose_grafana
    assert len(routes) == int(exposed)
    assert stack_run.exports["grafanaUrl"].endswith("/grafana/") == exposed
    namespace = k8s_object(stack_run, "Namespace", "monitoring")
    assert (namespace["metadata"]["labels"].get("glosleep.io/gateway-access") == "true") == exposed


def test_namespaces_enforce_pod_security(stack_run: OfflineRun) -> None:
    levels = {
        name: k8s_object(stack_run, "Namespace", name)["metadata"]["labels"][
            "pod-security.kubernetes.io/enforce"
        ]
        for name in ("glosleep", "mongodb", "monitoring", "envoy-gateway-system")
    }
    assert levels == {
        "glosleep": "restricted",
        "mongodb": "restricted",
        "monitoring": "privileged",  # node-exporter needs host namespaces
        "envoy-gateway-system": "baseline",
    }


def test_every_object_says_what_it_is_part_of(stack_run: OfflineRun) -> None:
    unlabelled = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in stack_run.kubernetes_objects()
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "glosleep"
        or o["metadata"]["labels"].get("app.kubernetes.io/managed-by") != "pulumi"
    ]
    assert unlabelled == []
