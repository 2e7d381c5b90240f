"""NetworkPolicies admit exactly the flows docs/architecture.md names, plus DNS,
Prometheus, the Gateway and MongoDB, and nothing else."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

from glosleep_platform.catalogue import CONTAINER_PORT, SERVICE_NAMES, SERVICES
from glosleep_platform.offline import OfflineRun

NAMESPACE = "glosleep"
Pod = tuple[str, dict[str, str]]  # (namespace, labels)


def policies(run: OfflineRun) -> list[dict[str, Any]]:
    return [
        o["spec"]
        for o in run.kubernetes_objects()
        if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == NAMESPACE
    ]


def labels(service: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/part-of": "glosleep",
        "app.kubernetes.io/component": "service",
    }


def selects(selector: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    assert "matchExpressions" not in selector, "the evaluator only knows matchLabels"
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return wanted.items() <= pod_labels.items()


def peer_matches(peer: dict[str, Any], pod: Pod) -> bool:
    namespace, pod_labels = pod
    if "ipBlock" in peer:
        return False
    namespace_ok = (
        selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace})
        if "namespaceSelector" in peer
        else namespace == NAMESPACE
    )
    return namespace_ok and selects(peer.get("podSelector", {}), pod_labels)


def port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(
        p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports
    )


def allowed(run: OfflineRun, source: Pod, target: Pod, port: int, protocol: str = "TCP") -> bool:
    """Kubernetes semantics for traffic between two pods, with default deny in place."""
    specs = policies(run)

    def direction_ok(pod: Pod, kind: str, key: str, peer: Pod) -> bool:
        if pod[0] != NAMESPACE:
            return True  # other namespaces' policies are not this program's
        chosen = [
            s for s in specs if kind in s["policyTypes"] and selects(s["podSelector"], pod[1])
        ]
        assert chosen, f"no {kind} policy selects {pod}: default deny missing"
        return any(
            port_matches(rule, port, protocol)
            and any(peer_matches(p, peer) for p in rule.get(key, []))
            for s in chosen
            for rule in s.get(kind.lower(), [])
        )

    return direction_ok(source, "Egress", "to", target) and direction_ok(
        target, "Ingress", "from", source
    )


def service_pod(name: str) -> Pod:
    return (NAMESPACE, labels(name))


def test_service_to_service_flows_are_exactly_the_architecture(stack_run: OfflineRun) -> None:
    expected = {(s.name, callee) for s in SERVICES for callee in s.calls}
    actual = {
        (a, b)
        for a, b in product(SERVICE_NAMES, SERVICE_NAMES)
        if a != b and allowed(stack_run, service_pod(a), service_pod(b), CONTAINER_PORT)
    }
    assert actual == expected


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_platform_flows(stack_run: OfflineRun, service: str) -> None:
    pod = service_pod(service)
    gateway = ("envoy-gateway-system", {"app.kubernetes.io/name": "envoy"})
    prometheus = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
    mongodb = ("mongodb", {"app.kubernetes.io/name": "mongodb"})
    dns = ("kube-system", {"k8s-app": "kube-dns"})
    stranger = ("default", {"app": "curl"})
    assert allowed(stack_run, gateway, pod, CONTAINER_PORT)
    assert allowed(stack_run, prometheus, pod, CONTAINER_PORT)
    assert allowed(stack_run, pod, mongodb, 27017)
    assert allowed(stack_run, pod, dns, 53, "UDP")
    assert allowed(stack_run, pod, dns, 53, "TCP")
    assert not allowed(stack_run, stranger, pod, CONTAINER_PORT)
    assert not allowed(stack_run, gateway, pod, 9090)
    assert not allowed(stack_run, pod, ("default", {"app": "anything"}), 443)
    assert not allowed(stack_run, pod, mongodb, 27018)


def test_default_deny_covers_the_namespace(stack_run: OfflineRun) -> None:
    deny = [s for s in policies(stack_run) if s["podSelector"] == {} and "ingress" not in s]
    assert any(set(s["policyTypes"]) == {"Ingress", "Egress"} and "egress" not in s for s in deny)


def test_only_analytics_on_eks_reaches_outside(kind_run: OfflineRun, eks_run: OfflineRun) -> None:
    def ip_blocks(run: OfflineRun) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for spec in policies(run):
            for rule in spec.get("egress", []):
                for peer in rule.get("to", []):
                    if "ipBlock" in peer:
                        owner = (
                            spec["podSelector"]
                            .get("matchLabels", {})
                            .get("app.kubernetes.io/name", "*")
                        )
                        found.setdefault(owner, []).append(peer["ipBlock"])
        return found

    assert ip_blocks(kind_run) == {}
    blocks = ip_blocks(eks_run)
    assert set(blocks) == {"analytics"}
    internet = next(b for b in blocks["analytics"] if b["cidr"] == "0.0.0.0/0")
    assert set(internet["except"]) == {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
