"""The pod and the objects around it, as plain specs (no Pulumi resources here)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgsDict
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscalerSpecArgsDict
from pulumi_kubernetes.core.v1 import (
    ContainerArgsDict,
    PodTemplateSpecArgsDict,
    ProbeArgsDict,
    ResourceRequirementsArgsDict,
    SecurityContextArgsDict,
    ServiceSpecArgsDict,
    VolumeArgsDict,
    VolumeMountArgsDict,
)
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgsDict

from glosleep_platform import k8s as kube
from glosleep_platform.catalogue import CONTAINER_PORT, PORT_NAME
from glosleep_platform.settings import ServiceScaling

RUN_AS = 10001
# Requests and limits: the benchmark target in docs/benchmarks.md is < 150 MB RSS
# per service, so 256Mi leaves headroom for spikes without hiding a leak. The CPU
# limit is generous on purpose: it only stops a runaway loop, it must not throttle.
RESOURCES: ResourceRequirementsArgsDict = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "256Mi"},
}
# Slack after the app's own drain + timeout before the kubelet sends SIGKILL.
GRACE_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class SecretMount:
    """A Secret mounted read-only as files (auth's signing keys)."""

    volume: str
    secret_name: pulumi.Input[str]
    mount_path: str


def grace_period(scaling: ServiceScaling) -> int:
    return scaling.shutdown_drain_seconds + scaling.shutdown_timeout_seconds + GRACE_MARGIN_SECONDS


def _probe(path: str, period: int, failures: int) -> ProbeArgsDict:
    return {
        "http_get": {"path": path, "port": PORT_NAME},
        "period_seconds": period,
        "timeout_seconds": 2,
        "failure_threshold": failures,
    }


def container_security_context() -> SecurityContextArgsDict:
    return {
        "run_as_non_root": True,
        "run_as_user": RUN_AS,
        "run_as_group": RUN_AS,
        "allow_privilege_escalation": False,
        "privileged": False,
        "read_only_root_filesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def pod_template(
    name: str,
    image: pulumi.Input[str],
    config_map: pulumi.Input[str],
    secret: pulumi.Input[str],
    scaling: ServiceScaling,
    mounts: list[SecretMount],
) -> PodTemplateSpecArgsDict:
    volumes: list[VolumeArgsDict] = [{"name": "tmp", "empty_dir": {"size_limit": "64Mi"}}]
    volume_mounts: list[VolumeMountArgsDict] = [{"name": "tmp", "mount_path": "/tmp"}]  # noqa: S108 - an emptyDir
    for mount in mounts:
        volumes.append(
            {
                "name": mount.volume,
                "secret": {"secret_name": mount.secret_name, "default_mode": 0o440},
            }
        )
        volume_mounts.append(
            {"name": mount.volume, "mount_path": mount.mount_path, "read_only": True}
        )
    container: ContainerArgsDict = {
        "name": name,
        "image": image,
        # Images are referenced by digest, so a pull can never change what runs.
        "image_pull_policy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "container_port": CONTAINER_PORT, "protocol": "TCP"}],
        "env_from": [{"config_map_ref": {"name": config_map}}, {"secret_ref": {"name": secret}}],
        "resources": RESOURCES,
        "startup_probe": _probe("/livez", 2, 30),
        "liveness_probe": _probe("/livez", 10, 3),
        # Two failed checks 3 s apart take a draining pod out of the endpoints
        # well inside SHUTDOWN_DRAIN_SECONDS.
        "readiness_probe": _probe("/readyz", 3, 2),
        "security_context": container_security_context(),
        "volume_mounts": volume_mounts,
    }
    selector = kube.selector_labels(name)
    return {
        "metadata": {"labels": kube.app_labels(name)},
        "spec": {
            "service_account_name": name,
            "automount_service_account_token": False,
            "enable_service_links": False,
            "termination_grace_period_seconds": grace_period(scaling),
            "security_context": {
                "run_as_non_root": True,
                "run_as_user": RUN_AS,
                "run_as_group": RUN_AS,
                "fs_group": RUN_AS,
                "seccomp_profile": {"type": "RuntimeDefault"},
            },
            "topology_spread_constraints": [
                {
                    "max_skew": 1,
                    "topology_key": key,
                    "when_unsatisfiable": "ScheduleAnyway",
                    "label_selector": {"match_labels": selector},
                }
                for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
            ],
            "containers": [container],
            "volumes": volumes,
        },
    }


def deployment_spec(
    name: str, scaling: ServiceScaling, template: PodTemplateSpecArgsDict
) -> DeploymentSpecArgsDict:
    return {
        # The HPA owns the replica count after creation; this is the starting point.
        "replicas": scaling.min_replicas,
        "revision_history_limit": 5,
        "selector": {"match_labels": kube.selector_labels(name)},
        # Surge first, never drop below the current count while rolling.
        "strategy": {
            "type": "RollingUpdate",
            "rolling_update": {"max_surge": 1, "max_unavailable": 0},
        },
        "min_ready_seconds": 5,
        "progress_deadline_seconds": 600,
        "template": template,
    }


def service_spec(name: str) -> ServiceSpecArgsDict:
    return {
        "type": "ClusterIP",
        "selector": kube.selector_labels(name),
        "ports": [
            {"name": PORT_NAME, "port": CONTAINER_PORT, "target_port": PORT_NAME, "protocol": "TCP"}
        ],
    }


def pdb_spec(name: str) -> PodDisruptionBudgetSpecArgsDict:
    # maxUnavailable (not minAvailable) so a one-replica stack can still drain nodes.
    return {
        "max_unavailable": 1,
        "selector": {"match_labels": kube.selector_labels(name)},
        "unhealthy_pod_eviction_policy": "AlwaysAllow",
    }


def hpa_spec(name: str, scaling: ServiceScaling) -> HorizontalPodAutoscalerSpecArgsDict:
    return {
        "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": name},
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "average_utilization": scaling.cpu_utilization_percent,
                    },
                },
            }
        ],
        "behavior": {"scale_down": {"stabilization_window_seconds": 300}},
    }


def service_monitor_spec(name: str, namespace: str) -> dict[str, object]:
    # A custom resource: its spec goes to the API server as written (camelCase).
    return {
        "selector": {"matchLabels": kube.selector_labels(name)},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [
            {"port": PORT_NAME, "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
        ],
    }
