"""External traffic through the Gateway API, implemented by Envoy Gateway.

One Gateway, one hostname; each service gets an HTTPRoute under its own path
prefix (docs/adr/0013-gateway-api.md). Only the public API (``/v1``), the OpenAPI
document and auth's ``/.well-known`` are routed: ``/metrics``, ``/livez`` and
``/readyz`` stay inside the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from glosleep_platform import k8s as kube

CHART = "oci://docker.io/envoyproxy/gateway-helm"
RELEASE_NAME = "envoy-gateway"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
GATEWAY_CLASS = "glosleep"
GATEWAY_NAME = "glosleep"
PROXY_CONFIG = "glosleep-proxy"
HTTP_PORT = 80
# Listener for traffic whose TLS a cloud load balancer has already terminated.
TLS_OFFLOAD_PORT = 443
# Envoy proxy pods carry this label; NetworkPolicies admit traffic from them.
PROXY_POD_LABELS = {"app.kubernetes.io/name": "envoy"}


@dataclass(frozen=True)
class GatewayExposure:
    """How the Envoy proxies are reached from outside the cluster."""

    service_type: Literal["NodePort", "LoadBalancer"]
    public_url: str
    node_port: int | None = None
    tls_offload: bool = False
    proxy_replicas: int = 1
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteRule:
    path: str
    match: Literal["PathPrefix", "Exact"]
    rewrite_to: str | None = None


@dataclass(frozen=True)
class GatewayRef:
    name: str
    namespace: str
    hostname: str
    depends_on: pulumi.Resource


class Gateway(pulumi.ComponentResource):
    """Envoy Gateway (controller and CRDs), its proxy settings, the GatewayClass and Gateway."""

    def __init__(
        self,
        name: str,
        hostname: str,
        exposure: GatewayExposure,
        chart_version: str,
        gateway_namespace: str,
        gateway_namespace_ready: pulumi.Resource,
        opts: pulumi.ResourceOptions,
        namespace: str = "envoy-gateway-system",
    ) -> None:
        super().__init__("glosleep:platform:Gateway", name, None, opts)
        self.namespace = namespace
        ns = kube.namespace(
            f"{name}-namespace", namespace, "baseline", pulumi.ResourceOptions(parent=self)
        )
        release = kube.release(
            f"{name}-release",
            name=RELEASE_NAME,
            chart=CHART,
            version=chart_version,
            namespace=namespace,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns]),
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[release])
        k8s.apiextensions.CustomResource(
            f"{name}-proxy-config",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="EnvoyProxy",
            metadata={
                "name": PROXY_CONFIG,
                "namespace": namespace,
                "labels": kube.app_labels(PROXY_CONFIG, "gateway"),
            },
            spec=self.proxy_spec(exposure),
            opts=after,
        )
        gateway_class = k8s.apiextensions.CustomResource(
            f"{name}-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata={"name": GATEWAY_CLASS, "labels": kube.app_labels(GATEWAY_CLASS, "gateway")},
            spec={
                "controllerName": CONTROLLER_NAME,
                "parametersRef": {
                    "group": "gateway.envoyproxy.io",
                    "kind": "EnvoyProxy",
                    "name": PROXY_CONFIG,
                    "namespace": namespace,
                },
            },
            opts=after,
        )
        listeners: list[dict[str, Any]] = [self._listener("http", HTTP_PORT, hostname)]
        if exposure.tls_offload:
            listeners.append(self._listener("https-offload", TLS_OFFLOAD_PORT, hostname))
        gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version="gateway.networking.k8s.io/v1",
            kind="Gateway",
            metadata={
                "name": GATEWAY_NAME,
                "namespace": gateway_namespace,
                "labels": kube.app_labels(GATEWAY_NAME, "gateway"),
            },
            spec={"gatewayClassName": GATEWAY_CLASS, "listeners": listeners},
            # Its namespace is made outside this component (the services live there).
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[gateway_class, gateway_namespace_ready]
            ),
        )
        self.ref = GatewayRef(GATEWAY_NAME, gateway_namespace, hostname, gateway)
        self.url = exposure.public_url
        self.register_outputs({"url": self.url})

    @staticmethod
    def _listener(name: str, port: int, hostname: str) -> dict[str, Any]:
        return {
            "name": name,
            "protocol": "HTTP",
            "port": port,
            "hostname": hostname,
            "allowedRoutes": {
                "namespaces": {
                    "from": "Selector",
                    "selector": {"matchLabels": {kube.GATEWAY_ACCESS_LABEL: "true"}},
                }
            },
        }

    @staticmethod
    def proxy_spec(exposure: GatewayExposure) -> dict[str, Any]:
        service: dict[str, Any] = {"type": exposure.service_type}
        if exposure.annotations:
            service["annotations"] = dict(exposure.annotations)
        if exposure.node_port is not None:
            # A fixed NodePort, so kind's extraPortMappings can reach it.
            service["patch"] = {
                "type": "StrategicMerge",
                "value": {"spec": {"ports": [{"port": HTTP_PORT, "nodePort": exposure.node_port}]}},
            }
        kubernetes: dict[str, Any] = {
            "envoyDeployment": {
                "replicas": exposure.proxy_replicas,
                "container": {
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"memory": "512Mi"},
                    }
                },
            },
            "envoyService": service,
        }
        if exposure.proxy_replicas > 1:
            kubernetes["envoyPDB"] = {"minAvailable": 1}
        return {"provider": {"type": "Kubernetes", "kubernetes": kubernetes}}


def http_route(
    resource_name: str,
    *,
    name: str,
    namespace: str,
    gateway: GatewayRef,
    backend: str,
    port: int,
    rules: list[RouteRule],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """One HTTPRoute on the shared Gateway and hostname, all rules to one backend Service."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version="gateway.networking.k8s.io/v1",
        kind="HTTPRoute",
        metadata={"name": name, "namespace": namespace, "labels": kube.app_labels(name, "route")},
        spec={
            "parentRefs": [{"name": gateway.name, "namespace": gateway.namespace}],
            "hostnames": [gateway.hostname],
            "rules": [_rule(rule, backend, port) for rule in rules],
        },
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[gateway.depends_on])
        ),
    )


def _rule(rule: RouteRule, backend: str, port: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "matches": [{"path": {"type": rule.match, "value": rule.path}}],
        "backendRefs": [{"name": backend, "port": port}],
    }
    if rule.rewrite_to is not None:
        if rule.match == "PathPrefix":
            path = {"type": "ReplacePrefixMatch", "replacePrefixMatch": rule.rewrite_to}
        else:
            path = {"type": "ReplaceFullPath", "replaceFullPath": rule.rewrite_to}
        out["filters"] = [{"type": "URLRewrite", "urlRewrite": {"path": path}}]
    return out
