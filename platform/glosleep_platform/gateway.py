"""External traffic through the Gateway API, implemented by Envoy Gateway.

One Gateway, one hostname; each service gets an HTTPRoute under its own path
prefix (docs/adr/0013-gateway-api.md). Only the public API (``/v1``), the OpenAPI
document and auth's ``/.well-known`` are routed: ``/metrics``, ``/livez`` and
``/readyz`` stay inside the cluster.

With TLS (a cloud load balancer terminates it, docs/adr/0015-client-address-and-edge-tls.md)
the routes attach only to the TLS-offload listener and carry HSTS; port 80 only
redirects to https. Envoy names the client from the connection it saw (or the load
balancer's proxy protocol header) and drops whatever X-Forwarded-For the client sent.
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
CLIENT_POLICY = "glosleep-clients"
REDIRECT_ROUTE = "https-redirect"
HTTP_PORT = 80
HTTP_LISTENER = "http"
# Listener for traffic whose TLS a cloud load balancer has already terminated.
TLS_OFFLOAD_PORT = 443
TLS_OFFLOAD_LISTENER = "https-offload"
HTTPS_REDIRECT = {"scheme": "https", "statusCode": 301}
# One year; browsers then use https for the hostname without trying port 80.
HSTS = "max-age=31536000; includeSubDomains"
# What a client may write to pose as someone else; Envoy removes these before it
# appends the address it saw itself (apps/kit/forwarded.py reads that last hop).
CLIENT_ADDRESS_HEADERS = ["X-Forwarded-For", "Forwarded", "X-Real-IP"]
# Envoy proxy pods carry this label; NetworkPolicies admit traffic from them.
PROXY_POD_LABELS = {"app.kubernetes.io/name": "envoy"}


@dataclass(frozen=True)
class GatewayExposure:
    """How the Envoy proxies are reached from outside the cluster."""

    service_type: Literal["NodePort", "LoadBalancer"]
    public_url: str
    node_port: int | None = None
    tls_offload: bool = False
    # The load balancer sends a PROXY protocol header with the client's address.
    proxy_protocol: bool = False
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
    # The listener routes attach to, and whether their answers carry HSTS.
    listener: str = HTTP_LISTENER
    hsts: bool = False


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
        listeners: list[dict[str, Any]] = [self._listener(HTTP_LISTENER, HTTP_PORT, hostname)]
        if exposure.tls_offload:
            listeners.append(self._listener(TLS_OFFLOAD_LISTENER, TLS_OFFLOAD_PORT, hostname))
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
        on_gateway = pulumi.ResourceOptions(parent=self, depends_on=[gateway])
        _custom_resource(
            f"{name}-client-policy",
            ("gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy"),
            (CLIENT_POLICY, gateway_namespace, "gateway"),
            self.client_policy_spec(exposure),
            on_gateway,
        )
        self.ref = GatewayRef(
            GATEWAY_NAME,
            gateway_namespace,
            hostname,
            gateway,
            listener=TLS_OFFLOAD_LISTENER if exposure.tls_offload else HTTP_LISTENER,
            hsts=exposure.tls_offload,
        )
        if exposure.tls_offload:
            # Port 80 answers every request with a redirect to https, nothing else.
            redirect = {"type": "RequestRedirect", "requestRedirect": HTTPS_REDIRECT}
            _custom_resource(
                f"{name}-https-redirect",
                ("gateway.networking.k8s.io/v1", "HTTPRoute"),
                (REDIRECT_ROUTE, gateway_namespace, "route"),
                {
                    "parentRefs": [_parent(self.ref, HTTP_LISTENER)],
                    "hostnames": [hostname],
                    "rules": [{"filters": [redirect]}],
                },
                on_gateway,
            )
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
    def client_policy_spec(exposure: GatewayExposure) -> dict[str, Any]:
        """How Envoy learns the client's address: from the connection (or the load
        balancer's PROXY header), never from the client's own X-Forwarded-For.

        ``clientIPDetection`` stays unset on purpose: Envoy then uses the remote address
        with zero trusted hops and appends it to X-Forwarded-For; setting
        ``xForwardedFor`` would switch to reading the client's header instead."""
        spec: dict[str, Any] = {
            "targetRefs": [
                {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}
            ],
            "headers": {"earlyRequestHeaders": {"remove": list(CLIENT_ADDRESS_HEADERS)}},
        }
        if exposure.proxy_protocol:
            spec["proxyProtocol"] = {"optional": False}
        return spec

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
            "parentRefs": [_parent(gateway, gateway.listener)],
            "hostnames": [gateway.hostname],
            "rules": [_rule(rule, backend, port, gateway.hsts) for rule in rules],
        },
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[gateway.depends_on])
        ),
    )


def _custom_resource(
    resource_name: str,
    type_: tuple[str, str],
    name_namespace_component: tuple[str, str, str],
    spec: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    (api_version, kind), (name, namespace, component) = type_, name_namespace_component
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=api_version,
        kind=kind,
        metadata={
            "name": name,
            "namespace": namespace,
            "labels": kube.app_labels(name, component),
        },
        spec=spec,
        opts=opts,
    )


def _parent(gateway: GatewayRef, listener: str) -> dict[str, Any]:
    return {"name": gateway.name, "namespace": gateway.namespace, "sectionName": listener}


def _rule(rule: RouteRule, backend: str, port: int, hsts: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "matches": [{"path": {"type": rule.match, "value": rule.path}}],
        "backendRefs": [{"name": backend, "port": port}],
    }
    filters: list[dict[str, Any]] = []
    if rule.rewrite_to is not None:
        if rule.match == "PathPrefix":
            path = {"type": "ReplacePrefixMatch", "replacePrefixMatch": rule.rewrite_to}
        else:
            path = {"type": "ReplaceFullPath", "replaceFullPath": rule.rewrite_to}
        filters.append({"type": "URLRewrite", "urlRewrite": {"path": path}})
    if hsts:
        filters.append(
            {
                "type": "ResponseHeaderModifier",
                "responseHeaderModifier": {
                    "set": [{"name": "Strict-Transport-Security", "value": HSTS}]
                },
            }
        )
    if filters:
        out["filters"] = filters
    return out
