"""Every service gets the full set of objects, wired as docs/architecture.md says."""

from __future__ import annotations

import json
import re

import pytest

from glosleep_platform.catalogue import (
    AUTH_SIGNING_KEY_DIR,
    SERVICE_NAMES,
    SERVICES,
    callers_of,
    spec,
)
from glosleep_platform.gateway import REDIRECT_ROUTE
from glosleep_platform.offline import OfflineRun
from glosleep_platform.settings import PlatformSettings
from tests.platform.helpers import container, env_of, k8s_object

PER_SERVICE_KINDS = (
    "Deployment",
    "Service",
    "ServiceAccount",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "ServiceMonitor",
    "HTTPRoute",
)


@pytest.mark.parametrize("kind", PER_SERVICE_KINDS)
def test_every_service_has_its_objects(stack_run: OfflineRun, kind: str) -> None:
    names = sorted(
        o["metadata"]["name"]
        for o in stack_run.kubernetes_objects()
        if o["kind"] == kind
        and o["metadata"].get("namespace") == "glosleep"
        and o["metadata"]["name"] != REDIRECT_ROUTE  # the Gateway's own (eks, port 80)
    )
    assert names == sorted(SERVICE_NAMES)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_pod_shape(stack_run: OfflineRun, stack_settings: PlatformSettings, service: str) -> None:
    deployment = k8s_object(stack_run, "Deployment", service, "glosleep")
    pod = deployment["spec"]["template"]["spec"]
    c = container(stack_run, service)
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/livez"
    assert c["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    }
    context = c["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == service
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
    # Images are pinned by digest.
    assert re.fullmatch(r"[^:@\s]+(:[0-9]+)?/[^:@\s]+@sha256:[0-9a-f]{64}", c["image"]), c["image"]
    scaling = stack_settings.services
    assert pod["terminationGracePeriodSeconds"] == (
        scaling.shutdown_drain_seconds + scaling.shutdown_timeout_seconds + 5
    )
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    # Readiness drops a draining pod (period x failures) before the drain ends.
    probe = c["readinessProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] < scaling.shutdown_drain_seconds
    account = k8s_object(stack_run, "ServiceAccount", service, "glosleep")
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_scaling_and_disruption(
    stack_run: OfflineRun, stack_settings: PlatformSettings, service: str
) -> None:
    hpa = k8s_object(stack_run, "HorizontalPodAutoscaler", service, "glosleep")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert hpa["minReplicas"] == stack_settings.services.min_replicas
    assert hpa["maxReplicas"] == stack_settings.services.max_replicas
    pdb = k8s_object(stack_run, "PodDisruptionBudget", service, "glosleep")["spec"]
    assert pdb["maxUnavailable"] == 1
    selector = k8s_object(stack_run, "Service", service, "glosleep")["spec"]["selector"]
    assert pdb["selector"]["matchLabels"] == selector
    template = k8s_object(stack_run, "Deployment", service, "glosleep")["spec"]["template"]
    assert selector.items() <= template["metadata"]["labels"].items()


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_environment_follows_the_architecture(
    stack_run: OfflineRun, stack_settings: PlatformSettings, service: str
) -> None:
    config, secret = env_of(stack_run, service)
    service_spec = spec(service)
    assert config["MONGO_DATABASE"] == f"glosleep_{service}"
    assert config["JWT_ISSUER"] == "glosleep-auth"
    assert config["JWT_AUDIENCE"] == "glosleep"
    assert config["PORT"] == "8080"
    assert config["SHUTDOWN_DRAIN_SECONDS"] == str(stack_settings.services.shutdown_drain_seconds)
    assert config["SHUTDOWN_TIMEOUT_SECONDS"] == str(
        stack_settings.services.shutdown_timeout_seconds
    )
    assert "DEV_MODE" not in config
    expected_network = "10.244.0.0/16" if stack_settings.stack == "kind" else "10.0.0.0/16"
    assert config["FORWARDED_ALLOW_IPS"] == expected_network
    if service == "auth":
        assert "JWKS_URL" not in config
    else:
        assert config["JWKS_URL"] == (
            "http://auth.glosleep.svc.cluster.local:8080/.well-known/jwks.json"
        )
    urls = {k for k in config if k.endswith("_URL")} - {"JWKS_URL"}
    expected_urls = {
        {"auth": "AUTH_URL", "inventory": "INVENTORY_URL", "order": "ORDER_URL"}.get(c, "")
        or "PROCUREMENT_URL"
        for c in service_spec.calls
    }
    if service_spec.client is None:
        expected_urls.discard("AUTH_URL")
    assert urls == expected_urls
    # Nothing secret in the ConfigMap; credentials only in the Secret.
    assert not any("SECRET" in k or "PASSWORD" in k or k == "MONGO_URL" for k in config)
    assert secret["MONGO_URL"].startswith(f"mongodb://{service}:")
    assert (
        f"/glosleep_{service}?replicaSet=rs0&authSource=glosleep_{service}" in secret["MONGO_URL"]
    )
    if service_spec.client is not None:
        assert config["SERVICE_CLIENT_ID"] == service_spec.client.client_id
        assert secret["SERVICE_CLIENT_SECRET"]


def test_auth_knows_every_service_client(stack_run: OfflineRun) -> None:
    _, auth_secret = env_of(stack_run, "auth")
    clients = {c["client_id"]: c for c in json.loads(auth_secret["AUTH_SERVICE_CLIENTS"])}
    assert {k: v["scopes"] for k, v in clients.items()} == {
        "svc-order": ["catalog:read", "inventory:reserve"],
        "svc-procurement": ["catalog:read", "inventory:receive", "events:read"],
        "svc-analytics": ["catalog:read", "events:read"],
    }
    for service in SERVICES:
        if service.client is None:
            continue
        _, secret = env_of(stack_run, service.name)
        assert secret["SERVICE_CLIENT_SECRET"] == clients[service.client.client_id]["client_secret"]
    secrets = [c["client_secret"] for c in clients.values()]
    assert len(set(secrets)) == len(secrets)


def test_auth_signing_key_is_mounted_as_kid_pem(stack_run: OfflineRun) -> None:
    config, secret = env_of(stack_run, "auth")
    assert config["AUTH_SIGNING_KEY_DIR"] == AUTH_SIGNING_KEY_DIR
    assert config["AUTH_BOOTSTRAP_ADMIN_EMAIL"]
    assert secret["AUTH_BOOTSTRAP_ADMIN_PASSWORD"]
    mount = next(
        m for m in container(stack_run, "auth")["volumeMounts"] if m["name"] == "signing-keys"
    )
    assert mount == {"name": "signing-keys", "mountPath": AUTH_SIGNING_KEY_DIR, "readOnly": True}
    pod = k8s_object(stack_run, "Deployment", "auth", "glosleep")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "signing-keys")
    keys = k8s_object(stack_run, "Secret", volume["secret"]["secretName"])["stringData"]
    ((file_name, pem),) = keys.items()
    assert re.fullmatch(r"es256-[0-9a-f]{16}\.pem", file_name)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    key = stack_run.of_type("tls:index/privateKey:PrivateKey")[0]
    assert key.inputs == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}


def test_each_service_database_user_is_its_own(stack_run: OfflineRun) -> None:
    passwords = {}
    for service in SERVICE_NAMES:
        _, secret = env_of(stack_run, service)
        passwords[service] = secret["MONGO_URL"].split("@")[0].split(":")[2]
    assert len(set(passwords.values())) == len(SERVICE_NAMES)
    mongo = k8s_object(stack_run, "Secret", "mongodb-credentials", "mongodb")["stringData"]
    assert mongo["mongodb-passwords"].split(",") == [passwords[s] for s in SERVICE_NAMES]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_service_monitor_is_picked_up_by_the_release(stack_run: OfflineRun, service: str) -> None:
    monitor = k8s_object(stack_run, "ServiceMonitor", service, "glosleep")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
    ]
    service_object = k8s_object(stack_run, "Service", service, "glosleep")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service_object["metadata"]["labels"].items()
    )
    assert service_object["spec"]["ports"][0]["name"] == "http"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_routes_expose_the_api_under_one_hostname(
    stack_run: OfflineRun, stack_settings: PlatformSettings, service: str
) -> None:
    route = k8s_object(stack_run, "HTTPRoute", service, "glosleep")["spec"]
    prefix = spec(service).route_prefix
    assert route["hostnames"] == [stack_settings.hostname]
    # eks (with its certificate): the TLS-offload listener only; kind: plain HTTP.
    listener = "https-offload" if stack_settings.stack == "eks" else "http"
    assert route["parentRefs"] == [
        {"name": "glosleep", "namespace": "glosleep", "sectionName": listener}
    ]
    rewrites = {
        r["matches"][0]["path"]["value"]: r["filters"][0]["urlRewrite"]["path"]
        for r in route["rules"]
    }
    assert rewrites[f"{prefix}/v1"] == {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/v1"}
    assert rewrites[f"{prefix}/openapi.json"] == {
        "type": "ReplaceFullPath",
        "replaceFullPath": "/openapi.json",
    }
    # Health and metrics endpoints are never routed from outside.
    assert not any(p.endswith(("/metrics", "/livez", "/readyz")) for p in rewrites)
    assert ("/auth/.well-known" in rewrites) == (service == "auth")
    for rule in route["rules"]:
        assert rule["backendRefs"] == [{"name": service, "port": 8080}]


def test_callers_match_the_architecture() -> None:
    assert set(callers_of("inventory")) == {"order", "procurement", "analytics"}
    assert set(callers_of("auth")) == {"inventory", "order", "procurement", "analytics"}
    assert set(callers_of("order")) == {"analytics"}
    assert set(callers_of("procurement")) == {"analytics"}
    assert callers_of("analytics") == ()
