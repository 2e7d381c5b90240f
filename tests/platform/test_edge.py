"""The eks stack's edge: TLS by default (port 80 only redirects, HSTS on the API's
answers), and the client address the services see comes from the Gateway alone."""

from __future__ import annotations

from typing import Any

import pytest

from glosleep_platform.catalogue import SERVICE_NAMES
from glosleep_platform.offline import OfflineRun, run_offline
from glosleep_platform.policy_rules import RULES, violations
from glosleep_platform.settings import ConfigError, PlatformSettings
from tests.platform.helpers import env_of, k8s_object
from tests.support.stack_config import EKS_CERTIFICATE_ARN, eks_overrides

LB = "service.beta.kubernetes.io/aws-load-balancer-"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"


def routes(run: OfflineRun) -> list[dict[str, Any]]:
    return [o for o in run.kubernetes_objects() if o["kind"] == "HTTPRoute"]


def listeners_of(route: dict[str, Any]) -> set[str]:
    return {parent["sectionName"] for parent in route["spec"]["parentRefs"]}


def proxy_service(run: OfflineRun) -> dict[str, Any]:
    spec = k8s_object(run, "EnvoyProxy", "glosleep-proxy")["spec"]
    service: dict[str, Any] = spec["provider"]["kubernetes"]["envoyService"]
    return service


@pytest.fixture(scope="module")
def plain_http_run() -> OfflineRun:
    return run_offline("eks", overrides=eks_overrides(allowPlainHttp=True, certificateArn=None))


def test_eks_without_a_certificate_stops_and_says_what_to_set() -> None:
    # Pulumi.eks.yaml leaves the certificate to each account: without one, no plain-HTTP flag.
    with pytest.raises(ConfigError) as stopped:
        run_offline("eks", overrides=eks_overrides(certificateArn=None))
    message = str(stopped.value)
    assert "glosleep:eks.certificateArn" in message
    assert "pulumi config set --path glosleep:eks.certificateArn arn:aws:acm:" in message
    assert "glosleep:eks.allowPlainHttp" in message


def test_a_certificate_and_the_plain_http_flag_contradict() -> None:
    overrides = eks_overrides(certificateArn=EKS_CERTIFICATE_ARN, allowPlainHttp=True)
    with pytest.raises(ConfigError, match="allowPlainHttp contradicts certificateArn"):
        run_offline("eks", overrides=overrides)


def test_with_a_certificate_the_load_balancer_terminates_tls(eks_run: OfflineRun) -> None:
    annotations = proxy_service(eks_run)["annotations"]
    assert annotations[f"{LB}ssl-cert"] == EKS_CERTIFICATE_ARN
    assert annotations[f"{LB}ssl-ports"] == "443"
    assert annotations[f"{LB}ssl-negotiation-policy"].startswith("ELBSecurityPolicy-TLS13")
    assert eks_run.exports["gatewayUrl"] == "https://api.glosleep.example"
    assert all(url.startswith("https://") for url in eks_run.exports["serviceUrls"].values())


def test_port_80_only_redirects_to_https(eks_run: OfflineRun) -> None:
    gateway = k8s_object(eks_run, "Gateway", "glosleep", "glosleep")["spec"]
    assert {(lis["name"], lis["port"]) for lis in gateway["listeners"]} == {
        ("http", 80),
        ("https-offload", 443),
    }
    on_port_80 = [r for r in routes(eks_run) if "http" in listeners_of(r)]
    assert [r["metadata"]["name"] for r in on_port_80] == ["https-redirect"]
    (rule,) = on_port_80[0]["spec"]["rules"]
    assert "backendRefs" not in rule  # nothing is served, whatever the path
    assert "matches" not in rule  # every path
    assert rule["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    ]
    # Every other route (the services') attaches to the TLS-offload listener only.
    others = [r for r in routes(eks_run) if r["metadata"]["name"] != "https-redirect"]
    assert sorted(r["metadata"]["name"] for r in others) == sorted(SERVICE_NAMES)
    assert all(listeners_of(r) == {"https-offload"} for r in others)


def test_the_apis_answers_carry_hsts(eks_run: OfflineRun) -> None:
    for service in SERVICE_NAMES:
        route = k8s_object(eks_run, "HTTPRoute", service, "glosleep")
        for rule in route["spec"]["rules"]:
            modifiers = [
                f["responseHeaderModifier"]
                for f in rule["filters"]
                if f["type"] == "ResponseHeaderModifier"
            ]
            assert modifiers == [
                {
                    "set": [
                        {
                            "name": "Strict-Transport-Security",
                            "value": "max-age=31536000; includeSubDomains",
                        }
                    ]
                }
            ], (service, rule["matches"])


def test_plain_http_is_allowed_only_by_the_flag_and_the_policy_pack_warns(
    plain_http_run: OfflineRun, eks_run: OfflineRun
) -> None:
    gateway = k8s_object(plain_http_run, "Gateway", "glosleep", "glosleep")["spec"]
    assert [lis["name"] for lis in gateway["listeners"]] == ["http"]
    assert all(listeners_of(r) == {"http"} for r in routes(plain_http_run))
    assert f"{LB}ssl-cert" not in proxy_service(plain_http_run)["annotations"]
    assert plain_http_run.exports["gatewayUrl"] == "http://api.glosleep.example"

    (proxy,) = plain_http_run.of_type(ENVOY_PROXY)
    assert violations(proxy.type, proxy.inputs) == [
        "tls-at-the-edge: the load balancer serves plain HTTP: set eks.certificateArn"
    ]
    (rule,) = [r for r in RULES if r.name == "tls-at-the-edge"]
    assert rule.enforcement == "advisory"
    (tls_proxy,) = eks_run.of_type(ENVOY_PROXY)
    assert violations(tls_proxy.type, tls_proxy.inputs) == []


def test_the_gateway_names_the_client_from_what_it_saw(
    stack_run: OfflineRun, stack_settings: PlatformSettings
) -> None:
    policy = k8s_object(stack_run, "ClientTrafficPolicy", "glosleep-clients", "glosleep")["spec"]
    assert policy["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "glosleep"}
    ]
    # Removed before Envoy appends the address it saw: X-Forwarded-For reaches the
    # services with exactly one entry, the Gateway's, whatever the client wrote.
    assert policy["headers"]["earlyRequestHeaders"] == {
        "remove": ["X-Forwarded-For", "Forwarded", "X-Real-IP"]
    }
    # Left unset on purpose: setting xForwardedFor would make Envoy read the client's
    # header; unset, Envoy uses the connection's address with zero trusted hops.
    assert "clientIPDetection" not in policy
    service = proxy_service(stack_run)
    if stack_settings.stack == "eks":
        # The NLB's own address is all Envoy would see; proxy protocol carries the client's.
        assert service["annotations"][f"{LB}proxy-protocol"] == "*"
        assert policy["proxyProtocol"] == {"optional": False}
    else:
        assert "proxyProtocol" not in policy
        assert "annotations" not in service
    # The services read the client from that one hop, and only from the pod network
    # (NetworkPolicies: only Envoy, Prometheus and calling services reach them).
    for name in SERVICE_NAMES:
        config, _ = env_of(stack_run, name)
        assert config["FORWARDED_ALLOW_IPS"] == stack_settings.pod_network
