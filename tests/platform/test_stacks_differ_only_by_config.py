"""kind and eks run the same workloads; they differ only where their config says."""

from __future__ import annotations

import copy
from typing import Any

from glosleep_platform.offline import OfflineRun

# Objects only one stack has, and why.
ONLY_KIND = {("HTTPRoute", "grafana")}  # monitoring.exposeGrafana: true
ONLY_EKS = {
    ("StorageClass", "gp3"),  # EBS CSI volumes
    ("HTTPRoute", "https-redirect"),  # eks.certificateArn: port 80 only redirects
}


def objects(run: OfflineRun) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for o in run.kubernetes_objects():
        name = o["metadata"]["name"]
        if o["kind"] in ("ConfigMap", "Secret") and o["metadata"].get("namespace") == "glosleep":
            name = name.rsplit("-", 1)[0]  # auto-named: drop the random suffix
        found[(o["kind"], name)] = o
    return found


def _deployment(o: dict[str, Any]) -> None:
    spec = o["spec"]
    spec["replicas"] = "<services.minReplicas>"
    pod = spec["template"]["spec"]
    pod["containers"][0]["image"] = "<registry>"
    for ref in pod["containers"][0]["envFrom"]:
        for value in ref.values():
            value["name"] = value["name"].rsplit("-", 1)[0]
    for volume in pod["volumes"]:
        if "secret" in volume:
            volume["secret"]["secretName"] = "<auto>"


def _hpa(o: dict[str, Any]) -> None:
    o["spec"]["minReplicas"] = o["spec"]["maxReplicas"] = "<services.*Replicas>"


def _gateway(o: dict[str, Any]) -> None:
    # eks with a certificate adds a TLS-offload listener; hostnames come from config
    o["spec"]["listeners"] = [{**o["spec"]["listeners"][0], "hostname": "<hostname>"}]


def _route(o: dict[str, Any]) -> None:
    o["spec"]["hostnames"] = ["<hostname>"]
    # eks with a certificate: routes on the TLS-offload listener, answers with HSTS
    for parent in o["spec"]["parentRefs"]:
        parent["sectionName"] = "<listener>"
    for rule in o["spec"]["rules"]:
        rule["filters"] = [
            f for f in rule.get("filters", []) if f["type"] != "ResponseHeaderModifier"
        ]


def _client_policy(o: dict[str, Any]) -> None:
    o["spec"].pop("proxyProtocol", None)  # eks: the NLB sends proxy protocol


def _proxy(o: dict[str, Any]) -> None:
    o["spec"]["provider"]["kubernetes"] = "<exposure: NodePort or load balancer>"


def _secret(o: dict[str, Any]) -> None:
    o["stringData"] = sorted(o.get("stringData", {}))  # generated values differ per stack


def _config_map(o: dict[str, Any]) -> None:
    if "FORWARDED_ALLOW_IPS" in o.get("data", {}):
        o["data"]["FORWARDED_ALLOW_IPS"] = "<pod network: kind's pod subnet or eks.vpcCidr>"


def _analytics_env(o: dict[str, Any]) -> None:
    # eks: the export bucket
    for key in ("EXPORT_BUCKET", "EXPORT_PREFIX", "EXPORT_KMS_KEY_ID", "AWS_REGION"):
        o["data"].pop(key, None)


def _analytics_egress(o: dict[str, Any]) -> None:
    o["spec"]["egress"] = o["spec"]["egress"][:1]  # eks: S3 and the pod identity agent


def _monitoring_namespace(o: dict[str, Any]) -> None:
    o["metadata"]["labels"].pop("glosleep.io/gateway-access", None)  # exposeGrafana


BY_KIND = {
    "Deployment": _deployment,
    "HorizontalPodAutoscaler": _hpa,
    "Gateway": _gateway,
    "HTTPRoute": _route,
    "EnvoyProxy": _proxy,
    "ClientTrafficPolicy": _client_policy,
    "Secret": _secret,
    "ConfigMap": _config_map,
}
BY_OBJECT = {
    ("ConfigMap", "analytics-env"): _analytics_env,
    ("NetworkPolicy", "analytics-egress"): _analytics_egress,
    ("Namespace", "monitoring"): _monitoring_namespace,
}


def normalise(kind: str, name: str, o: dict[str, Any]) -> dict[str, Any]:
    """A copy with what config is allowed to change blanked out."""
    o = copy.deepcopy(o)
    for blank in (BY_KIND.get(kind), BY_OBJECT.get((kind, name))):
        if blank is not None:
            blank(o)
    return o


def test_same_objects_except_the_configured_ones(kind_run: OfflineRun, eks_run: OfflineRun) -> None:
    kind, eks = objects(kind_run), objects(eks_run)
    assert set(kind) - set(eks) == ONLY_KIND
    assert set(eks) - set(kind) == ONLY_EKS


def test_shared_objects_differ_only_by_config(kind_run: OfflineRun, eks_run: OfflineRun) -> None:
    kind, eks = objects(kind_run), objects(eks_run)
    different = [
        key
        for key in sorted(set(kind) & set(eks))
        if normalise(*key, kind[key]) != normalise(*key, eks[key])
    ]
    assert different == []


def test_normalising_still_sees_real_differences(kind_run: OfflineRun) -> None:
    kind = objects(kind_run)
    key = ("Deployment", "order")
    changed = copy.deepcopy(kind[key])
    changed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi"
    assert normalise(*key, changed) != normalise(*key, kind[key])


def test_releases_match_except_sizing(kind_run: OfflineRun, eks_run: OfflineRun) -> None:
    def charts(run: OfflineRun) -> dict[str, tuple[str, str]]:
        return {
            r.inputs["name"]: (r.inputs["chart"], r.inputs["version"])
            for r in run.of_type("kubernetes:helm.sh/v3:Release")
        }

    kind, eks = charts(kind_run), charts(eks_run)
    assert set(kind) - set(eks) == {"metrics-server"}  # eks: the metrics-server add-on
    assert set(eks) - set(kind) == {"aws-load-balancer-controller"}
    assert {k: v for k, v in kind.items() if k in eks} == {
        k: v for k, v in eks.items() if k in kind
    }
