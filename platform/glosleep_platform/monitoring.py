"""kube-prometheus-stack as a Helm release, plus the repo's alert rules and dashboards.

Rules (``monitoring/rules/*.yaml``) become PrometheusRule objects labelled for the
release; dashboards (``monitoring/dashboards/*.json``) become ConfigMaps that
Grafana's sidecar loads. The files are written elsewhere; this only ships them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from glosleep_platform import k8s as kube
from glosleep_platform.credentials import Credentials
from glosleep_platform.settings import MonitoringSettings

CHART = "kube-prometheus-stack"
REPOSITORY = "https://prometheus-community.github.io/helm-charts"
RELEASE_NAME = "kube-prometheus-stack"
# Prometheus selects ServiceMonitors and PrometheusRules carrying this label.
RELEASE_LABEL = {"release": RELEASE_NAME}
GRAFANA_SECRET = "grafana-admin"  # noqa: S105 - a Secret object name
GRAFANA_SERVICE = f"{RELEASE_NAME}-grafana"
GRAFANA_PATH = "/grafana"
DASHBOARD_FOLDER = "GloSleep"


def grafana_url(public_url: str) -> str:
    return f"{public_url}{GRAFANA_PATH}/"


@dataclass(frozen=True)
class RuleFile:
    name: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class DashboardFile:
    name: str
    file_name: str
    text: str


def _object_name(stem: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-")
    return cleaned[:63].rstrip("-") or "unnamed"


def load_rule_files(directory: Path) -> list[RuleFile]:
    """Every rule group file; each may be a bare ``groups:`` document or a PrometheusRule."""
    rules: list[RuleFile] = []
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    for path in paths:
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            if not document:
                continue
            if not isinstance(document, dict):
                raise ValueError(f"{path}: expected a mapping, got {type(document).__name__}")
            spec = document.get("spec") if document.get("kind") == "PrometheusRule" else document
            if not isinstance(spec, dict) or not isinstance(spec.get("groups"), list):
                raise ValueError(f"{path}: document {index} has no rule 'groups' list")
            suffix = f"-{index}" if index else ""
            rules.append(RuleFile(name=_object_name(path.stem) + suffix, spec=spec))
    return rules


def load_dashboard_files(directory: Path) -> list[DashboardFile]:
    dashboards = []
    for path in sorted(directory.glob("*.json")):
        text = path.read_text()
        json.loads(text)  # fail at preview on a broken dashboard, not in Grafana
        dashboards.append(DashboardFile(_object_name(path.stem), path.name, text))
    return dashboards


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Alertmanager and Grafana, with GloSleep's rules and dashboards."""

    def __init__(
        self,
        name: str,
        settings: MonitoringSettings,
        credentials: Credentials,
        content_dir: Path,
        public_url: str,
        opts: pulumi.ResourceOptions,
        namespace: str = "monitoring",
    ) -> None:
        super().__init__("glosleep:platform:Monitoring", name, None, opts)
        self.namespace = namespace
        # node-exporter needs host namespaces, so this namespace cannot be restricted.
        ns = kube.namespace(
            f"{name}-namespace",
            namespace,
            "privileged",
            pulumi.ResourceOptions(parent=self),
            gateway_access=settings.expose_grafana,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        admin = k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={
                "name": GRAFANA_SECRET,
                "namespace": namespace,
                "labels": kube.app_labels("grafana", "monitoring"),
            },
            type="Opaque",
            string_data={
                "admin-user": "admin",
                "admin-password": credentials.grafana_admin_password,
            },
            opts=in_ns,
        )
        self.release = kube.release(
            f"{name}-release",
            name=RELEASE_NAME,
            chart=CHART,
            version=settings.chart_version,
            repository=REPOSITORY,
            namespace=namespace,
            timeout=900,
            values=self.values(settings, public_url),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, admin]),
        )
        after_release = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        for rule in load_rule_files(content_dir / "rules"):
            k8s.apiextensions.CustomResource(
                f"{name}-rule-{rule.name}",
                api_version="monitoring.coreos.com/v1",
                kind="PrometheusRule",
                metadata={
                    "name": f"glosleep-{rule.name}",
                    "namespace": namespace,
                    "labels": {**kube.app_labels(rule.name, "alerting"), **RELEASE_LABEL},
                },
                spec=rule.spec,
                opts=after_release,
            )
        for dashboard in load_dashboard_files(content_dir / "dashboards"):
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{dashboard.name}",
                metadata={
                    "name": f"dashboard-{dashboard.name}",
                    "namespace": namespace,
                    "labels": {
                        **kube.app_labels(dashboard.name, "dashboard"),
                        "grafana_dashboard": "1",
                    },
                    "annotations": {"grafana_folder": DASHBOARD_FOLDER},
                },
                data={dashboard.file_name: dashboard.text},
                opts=in_ns,
            )
        self.register_outputs({})

    @staticmethod
    def values(settings: MonitoringSettings, public_url: str) -> dict[str, object]:
        """``public_url``: the Gateway's base URL, where Grafana lives under /grafana/."""
        prometheus_spec: dict[str, object] = {
            "retention": settings.prometheus_retention,
            "resources": {
                "requests": {"cpu": "200m", "memory": "1Gi"},
                "limits": {"memory": "2Gi"},
            },
        }
        if settings.prometheus_storage_size is not None:
            prometheus_spec["storageSpec"] = {
                "volumeClaimTemplate": {
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": settings.prometheus_storage_size}},
                    }
                }
            }
        grafana_server: dict[str, object] = {}
        if settings.expose_grafana:
            grafana_server = {
                "root_url": grafana_url(public_url),
                "serve_from_sub_path": True,
            }
        return {
            "prometheus": {"prometheusSpec": prometheus_spec},
            "grafana": {
                "admin": {
                    "existingSecret": GRAFANA_SECRET,
                    "userKey": "admin-user",
                    "passwordKey": "admin-password",
                },
                "grafana.ini": {"server": grafana_server},
                "sidecar": {
                    "dashboards": {
                        "enabled": True,
                        "label": "grafana_dashboard",
                        "labelValue": "1",
                        "folderAnnotation": "grafana_folder",
                        "provider": {"foldersFromFilesStructure": True},
                    }
                },
            },
        }
