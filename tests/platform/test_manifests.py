"""Every Kubernetes object the program would create, written out as YAML and
validated: built-in kinds against the cluster version's schemas in strict mode,
custom resources against their CRD schemas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from glosleep_platform.manifests import SCHEMA_DIR, validate_manifest, write_manifests
from glosleep_platform.offline import OfflineRun
from glosleep_platform.settings import PlatformSettings

CUSTOM_KINDS = {
    "ServiceMonitor",
    "PrometheusRule",
    "HTTPRoute",
    "Gateway",
    "GatewayClass",
    "EnvoyProxy",
    "ClientTrafficPolicy",
}


@pytest.fixture(scope="session")
def written(stack_run: OfflineRun, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp(f"manifests-{stack_run.stack}")
    return write_manifests(stack_run.kubernetes_objects(), directory)


def test_every_object_is_written_once(stack_run: OfflineRun, written: list[Path]) -> None:
    assert len(written) == len(stack_run.kubernetes_objects())
    assert len({p.name for p in written}) == len(written)


def test_every_object_is_valid_for_the_cluster_version(
    written: list[Path], stack_settings: PlatformSettings
) -> None:
    problems = [
        problem
        for path in written
        for problem in validate_manifest(
            yaml.safe_load(path.read_text()), stack_settings.kubernetes_version
        )
    ]
    assert problems == []


def test_custom_resources_are_checked_against_their_schemas(stack_run: OfflineRun) -> None:
    kinds = {o["kind"] for o in stack_run.kubernetes_objects()}
    assert kinds >= CUSTOM_KINDS
    schemas = {p.name.split("-")[0] for p in SCHEMA_DIR.glob("*.json")}
    assert {k.lower() for k in CUSTOM_KINDS} == schemas


def _first(run: OfflineRun, kind: str) -> dict[str, Any]:
    """The auth service's object of that kind, or the only one there is."""
    candidates = [o for o in run.kubernetes_objects() if o["kind"] == kind]
    named = [o for o in candidates if o["metadata"]["name"] == "auth"]
    return copy.deepcopy((named or candidates)[0])


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    obj: Any = target
    for part in parents:
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


BROKEN = [
    ("Deployment", "spec/template/spec/containers/0/securityContext/runAsRoot", True),
    ("Deployment", "spec/replicas", "two"),
    ("Service", "spec/ports/0/port", "eighty"),
    ("NetworkPolicy", "spec/policyTypes", "Ingress"),
    ("HorizontalPodAutoscaler", "spec/metrics/0/resource/target/type", 5),
    ("HTTPRoute", "spec/rules/0/matches/0/path/type", "Prefix"),
    ("HTTPRoute", "spec/rules/0/filters/0/urlRewrite/path/replacePrefix", "/v1"),
    ("HTTPRoute", "spec/hostnames/0", "Not_A_Host"),
    ("Gateway", "spec/listeners/0/port", 0),
    ("Gateway", "spec/listeners/0/allowedRoutes/namespaces/from", "Everywhere"),
    ("GatewayClass", "spec/controllerName", "no-slash"),
    ("ServiceMonitor", "spec/endpoints/0/interval", "30 seconds"),
    ("ServiceMonitor", "spec/endpoint", []),
    ("PrometheusRule", "spec/groups/0/rules/0/expr", ""),
    ("PrometheusRule", "spec/groups/0/rules/0/alerts", "x"),
    ("EnvoyProxy", "spec/provider/kubernetes/envoyService/type", "Ingress"),
]


@pytest.mark.parametrize(("kind", "path", "value"), BROKEN)
def test_a_broken_object_is_rejected(
    kind_run: OfflineRun, kind: str, path: str, value: Any
) -> None:
    obj = _first(kind_run, kind)
    assert validate_manifest(obj, "1.34") == []
    _set(obj, path, value)
    assert validate_manifest(obj, "1.34") != []


def test_an_unknown_custom_kind_is_an_error() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    assert validate_manifest(obj, "1.34") == ["Widget/w: no CRD schema for example.com/v1 Widget"]
