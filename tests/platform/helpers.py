"""Small lookups over an offline run shared by the platform tests."""

from __future__ import annotations

from typing import Any

from glosleep_platform.offline import DeclaredResource, OfflineRun, run_offline

STACKS = ("kind", "eks")
_RUNS: dict[str, OfflineRun] = {}


def offline(stack: str) -> OfflineRun:
    """The program's run for ``stack``, once per test session."""
    if stack not in _RUNS:
        _RUNS[stack] = run_offline(stack)
    return _RUNS[stack]


RELEASE = "kubernetes:helm.sh/v3:Release"


def k8s_object(
    run: OfflineRun, kind: str, name: str, namespace: str | None = None
) -> dict[str, Any]:
    matches = [
        o
        for o in run.kubernetes_objects()
        if o["kind"] == kind
        and o["metadata"]["name"] == name
        and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]
    assert len(matches) == 1, f"{len(matches)} {kind} objects named {name}"
    return matches[0]


def container(run: OfflineRun, service: str) -> dict[str, Any]:
    deployment = k8s_object(run, "Deployment", service)
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(run: OfflineRun, service: str) -> tuple[dict[str, str], dict[str, str]]:
    """The service's ConfigMap data and Secret stringData, found through its envFrom."""
    refs = container(run, service)["envFrom"]
    config = k8s_object(run, "ConfigMap", refs[0]["configMapRef"]["name"])
    secret = k8s_object(run, "Secret", refs[1]["secretRef"]["name"])
    return config["data"], secret["stringData"]


def release(run: OfflineRun, release_name: str) -> DeclaredResource:
    matches = [r for r in run.of_type(RELEASE) if r.inputs.get("name") == release_name]
    assert len(matches) == 1, f"{len(matches)} releases named {release_name}"
    return matches[0]
