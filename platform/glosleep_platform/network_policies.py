"""NetworkPolicies for the services' namespace: deny everything, then allow exactly
the flows docs/architecture.md names, plus DNS, Prometheus scrapes, the Gateway's
proxies and MongoDB.

Each function returns a NetworkPolicy ``spec``; ``services.py`` declares them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyEgressRuleArgsDict,
    NetworkPolicyPeerArgsDict,
    NetworkPolicyPortArgsDict,
    NetworkPolicySpecArgsDict,
)

from glosleep_platform import k8s as kube
from glosleep_platform.catalogue import CONTAINER_PORT, ServiceSpec, callers_of
from glosleep_platform.gateway import PROXY_POD_LABELS


@dataclass(frozen=True)
class Peers:
    """The namespaces whose pods the services talk to (or are reached from)."""

    gateway: str
    monitoring: str
    mongodb: str


Spec = NetworkPolicySpecArgsDict
EgressRule = NetworkPolicyEgressRuleArgsDict

PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
MONGODB_POD_LABELS = {"app.kubernetes.io/name": "mongodb"}
MONGODB_PORT = 27017


def _tcp(port: int) -> NetworkPolicyPortArgsDict:
    return {"protocol": "TCP", "port": port}


def _peer(namespace: str, pod_labels: dict[str, str]) -> NetworkPolicyPeerArgsDict:
    return {
        "namespace_selector": {"match_labels": kube.namespace_labels(namespace)},
        "pod_selector": {"match_labels": pod_labels},
    }


def default_deny() -> Spec:
    return {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]}


def allow_dns() -> Spec:
    return {
        "pod_selector": {},
        "policy_types": ["Egress"],
        "egress": [
            {
                "to": [_peer("kube-system", {"k8s-app": "kube-dns"})],
                "ports": [{"protocol": "UDP", "port": 53}, _tcp(53)],
            }
        ],
    }


def allow_mongodb(mongodb_namespace: str) -> Spec:
    return {
        "pod_selector": {"match_labels": {"app.kubernetes.io/part-of": kube.PART_OF}},
        "policy_types": ["Egress"],
        "egress": [
            {"to": [_peer(mongodb_namespace, MONGODB_POD_LABELS)], "ports": [_tcp(MONGODB_PORT)]}
        ],
    }


def service_ingress(spec: ServiceSpec, peers: Peers) -> Spec:
    """Who may reach this service's port: the Gateway, Prometheus, and its callers."""
    sources: list[NetworkPolicyPeerArgsDict] = [
        _peer(peers.gateway, PROXY_POD_LABELS),
        _peer(peers.monitoring, PROMETHEUS_POD_LABELS),
    ]
    sources += [
        {"pod_selector": {"match_labels": kube.selector_labels(caller)}}
        for caller in callers_of(spec.name)
    ]
    return {
        "pod_selector": {"match_labels": kube.selector_labels(spec.name)},
        "policy_types": ["Ingress"],
        "ingress": [{"from_": sources, "ports": [_tcp(CONTAINER_PORT)]}],
    }


def service_egress(spec: ServiceSpec, extra_rules: list[EgressRule]) -> Spec | None:
    """What this service may call in the cluster (and any extra, e.g. S3); None if nothing."""
    rules: list[EgressRule] = []
    if spec.calls:
        rules.append(
            {
                "to": [
                    {"pod_selector": {"match_labels": kube.selector_labels(callee)}}
                    for callee in spec.calls
                ],
                "ports": [_tcp(CONTAINER_PORT)],
            }
        )
    rules.extend(extra_rules)
    if not rules:
        return None
    return {
        "pod_selector": {"match_labels": kube.selector_labels(spec.name)},
        "policy_types": ["Egress"],
        "egress": rules,
    }


def https_to_internet() -> EgressRule:
    """HTTPS to public addresses only (AWS APIs such as S3), never to private ranges."""
    return {
        "to": [
            {
                "ip_block": {
                    "cidr": "0.0.0.0/0",
                    "except_": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
                }
            }
        ],
        "ports": [_tcp(443)],
    }


def pod_identity_agent() -> EgressRule:
    """The EKS Pod Identity agent's credential endpoint on the node's link-local address."""
    return {"to": [{"ip_block": {"cidr": "169.254.170.23/32"}}], "ports": [_tcp(80)]}
