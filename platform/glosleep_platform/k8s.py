"""Small helpers shared by the Kubernetes components: labels and namespaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

PART_OF = "glosleep"
MANAGED_BY = "pulumi"
# Namespaces whose HTTPRoutes may attach to the shared Gateway.
GATEWAY_ACCESS_LABEL = "glosleep.io/gateway-access"


def app_labels(name: str, component: str = "service") -> dict[str, str]:
    """Recommended labels (app.kubernetes.io/*) for one app."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def selector_labels(name: str) -> dict[str, str]:
    """The stable subset used in selectors (selectors are immutable)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def namespace_labels(namespace: str) -> dict[str, str]:
    """The label Kubernetes puts on every namespace, for selecting it by name."""
    return {"kubernetes.io/metadata.name": namespace}


def namespace(
    resource_name: str,
    name: str,
    pod_security: str,
    opts: pulumi.ResourceOptions,
    gateway_access: bool = False,
) -> k8s.core.v1.Namespace:
    """A namespace with Pod Security Admission enforcing ``pod_security``."""
    labels = {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "pod-security.kubernetes.io/enforce": pod_security,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    if gateway_access:
        labels[GATEWAY_ACCESS_LABEL] = "true"
    return k8s.core.v1.Namespace(
        resource_name, metadata={"name": name, "labels": labels}, opts=opts
    )


def release(
    resource_name: str,
    *,
    chart: str,
    version: str,
    namespace: str,
    opts: pulumi.ResourceOptions,
    name: str | None = None,
    repository: str | None = None,
    values: Mapping[str, Any] | None = None,
    timeout: int = 600,
) -> k8s.helm.v3.Release:
    """A Helm release (docs/adr/0011-helm-release-vs-chart.md): a fixed release name
    (other objects select on it), a pinned chart version, rolled back if it fails."""
    return k8s.helm.v3.Release(
        resource_name,
        name=name or chart.rsplit("/", 1)[-1],
        chart=chart,
        version=version,
        repository_opts={"repo": repository} if repository else None,
        namespace=namespace,
        atomic=True,
        timeout=timeout,
        values=dict(values or {}),
        opts=opts,
    )
