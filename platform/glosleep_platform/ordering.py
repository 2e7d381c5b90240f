"""Ordering rules over an offline run's wait graph: what must exist before what.

Each rule reads the declared resources and the engine's wait graph
(:mod:`glosleep_platform.wait_graph`) and returns its violations; an empty list
means the first ``pulumi up`` creates things in an order that works:

- :func:`namespaces`: a namespaced Kubernetes object (or a Helm release) waits for
  whatever creates its namespace, or the namespace is one every cluster has
  (pulumi-kubernetes retries a missing namespace for about 30 s, then fails the update);
- :func:`crds`: a custom resource waits for whatever installs its CRD (a Helm
  chart that ships it, or a CustomResourceDefinition in the program);
- :func:`nodes`: a workload waits for the nodes (the Kind cluster command, the
  EKS node groups);
- :func:`cluster_addons`: a workload waits for the networking add-ons an EKS
  cluster without self-managed add-ons needs (VPC CNI, kube-proxy, CoreDNS);
- :func:`storage`: a workload with volumes waits for its StorageClass and the CSI
  driver behind it (EBS CSI for ``ebs.csi.aws.com``);
- :func:`pod_identities`: a workload running as a service account with an EKS
  Pod Identity association waits for the association and the Pod Identity agent
  (credentials reach a pod only once both exist), and every association has a user;
- :func:`no_cycles`: nothing waits, directly or not, on itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from glosleep_platform.offline import DeclaredResource, OfflineRun

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
EKS_ADDON = "aws:eks/addon:Addon"
POD_IDENTITY_ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
EKS_CLUSTERS = frozenset({"eks:index:Cluster", "aws:eks/cluster:Cluster"})
NODE_GROUPS = frozenset(
    {
        "eks:index:ManagedNodeGroup",
        "eks:index:NodeGroup",
        "eks:index:NodeGroupV2",
        "aws:eks/nodeGroup:NodeGroup",
    }
)
KIND_CLUSTER_COMMAND = re.compile(r"kind create cluster|kind/up\.sh")

# Namespaces every cluster has before the program runs.
PREEXISTING_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# Kinds that run pods (a Helm release runs whatever its chart holds).
WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
)
# API groups served by Kubernetes itself; anything else is a custom resource.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)
# Which charts ship which CRD groups (their chart sources: Envoy Gateway's gateway-helm
# carries the Gateway API CRDs and its own; kube-prometheus-stack the operator's).
CRD_CHARTS: Mapping[str, frozenset[str]] = {
    "gateway.networking.k8s.io": frozenset({"gateway-helm"}),
    "gateway.envoyproxy.io": frozenset({"gateway-helm"}),
    "monitoring.coreos.com": frozenset({"kube-prometheus-stack"}),
}
# EKS add-ons every pod needs when the cluster bootstraps no self-managed ones.
NETWORK_ADDONS = ("vpc-cni", "kube-proxy", "coredns")
POD_IDENTITY_AGENT = "eks-pod-identity-agent"
# CSI provisioner -> the EKS add-on that runs it.
CSI_ADDONS: Mapping[str, str] = {
    "ebs.csi.aws.com": "aws-ebs-csi-driver",
    "efs.csi.aws.com": "aws-efs-csi-driver",
}
# StorageClasses a cluster ships with: kind's local-path provisioner ("standard", default).
PREINSTALLED_STORAGE_CLASSES: Mapping[str, frozenset[str]] = {
    "kind": frozenset({"standard"}),
    "eks": frozenset(),
}
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str  # "type name"
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource}: {self.message}"


def _label(resource: DeclaredResource) -> str:
    return f"{resource.type} {resource.name}"


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def chart_name(release: DeclaredResource) -> str:
    chart = str(release.inputs.get("chart", ""))
    return chart.rstrip("/").rsplit("/", 1)[-1]


def api_group(resource: DeclaredResource) -> str | None:
    """The API group of a Kubernetes object ("" for core), None for anything else."""
    if not resource.is_kubernetes_object:
        return None
    api_version = str(resource.inputs["apiVersion"])
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def is_custom_resource(resource: DeclaredResource) -> bool:
    group = api_group(resource)
    return group is not None and group not in BUILTIN_GROUPS


def is_workload(resource: DeclaredResource) -> bool:
    if resource.type == RELEASE:
        return True
    return resource.is_kubernetes_object and resource.inputs.get("kind") in WORKLOAD_KINDS


def namespace_of(resource: DeclaredResource) -> str | None:
    """The namespace a Helm release or namespaced object lives in (None: cluster-scoped)."""
    if resource.type == RELEASE:
        return str(resource.inputs.get("namespace") or "default")
    if resource.is_kubernetes_object:
        namespace = _get(resource.inputs, "metadata", "namespace")
        return str(namespace) if namespace else None
    return None


def _provider(resource: DeclaredResource) -> str:
    return resource.request.provider_ref.rsplit("::", 1)[0]


def _waits_for_any(
    run: OfflineRun, resource: DeclaredResource, candidates: list[DeclaredResource]
) -> bool:
    return any(run.wait_graph.waits_for(resource.urn, c.urn) for c in candidates)


def namespaces(run: OfflineRun) -> list[Violation]:
    creators: dict[tuple[str, str], list[DeclaredResource]] = {}
    for ns in run.of_type(NAMESPACE):
        creators.setdefault((_provider(ns), str(_get(ns.inputs, "metadata", "name"))), []).append(
            ns
        )
    violations = []
    for resource in run.resources:
        namespace = namespace_of(resource)
        if namespace is None or resource.type == NAMESPACE:
            continue
        if resource.type == RELEASE and resource.inputs.get("createNamespace"):
            continue
        made_by = creators.get((_provider(resource), namespace), [])
        if not made_by:
            if namespace not in PREEXISTING_NAMESPACES:
                violations.append(
                    Violation(
                        "namespaces", _label(resource), f"nothing creates namespace {namespace}"
                    )
                )
        elif not _waits_for_any(run, resource, made_by):
            violations.append(
                Violation(
                    "namespaces",
                    _label(resource),
                    f"does not wait for namespace {namespace} ({made_by[0].name})",
                )
            )
    return violations


def crd_installers(run: OfflineRun, group: str) -> list[DeclaredResource]:
    charts = CRD_CHARTS.get(group, frozenset())
    return [
        r
        for r in run.resources
        if (r.type == RELEASE and chart_name(r) in charts)
        or (r.type == CRD and _get(r.inputs, "spec", "group") == group)
    ]


def crds(run: OfflineRun) -> list[Violation]:
    violations = []
    for resource in run.resources:
        if not is_custom_resource(resource):
            continue
        group = str(api_group(resource))
        installers = crd_installers(run, group)
        if not installers:
            violations.append(
                Violation("crds", _label(resource), f"nothing installs the CRDs of {group}")
            )
        elif not _waits_for_any(run, resource, installers):
            names = ", ".join(i.name for i in installers)
            violations.append(
                Violation("crds", _label(resource), f"does not wait for its CRD ({names})")
            )
    return violations


def node_sources(run: OfflineRun) -> list[DeclaredResource]:
    return [
        r
        for r in run.resources
        if r.type in NODE_GROUPS
        or (
            r.type == "command:local:Command"
            and KIND_CLUSTER_COMMAND.search(str(r.inputs.get("create", ""))) is not None
        )
    ]


def cluster_flavour(run: OfflineRun) -> str:
    if any(r.type == "command:local:Command" for r in node_sources(run)):
        return "kind"
    return "eks"


def _workloads(run: OfflineRun) -> Iterator[DeclaredResource]:
    return (r for r in run.resources if is_workload(r))


def nodes(run: OfflineRun) -> list[Violation]:
    sources = node_sources(run)
    violations = []
    for workload in _workloads(run):
        if not sources:
            violations.append(Violation("nodes", _label(workload), "nothing creates nodes"))
            continue
        for source in sources:
            if not run.wait_graph.waits_for(workload.urn, source.urn):
                violations.append(
                    Violation("nodes", _label(workload), f"does not wait for nodes ({source.name})")
                )
    return violations


def addons(run: OfflineRun, addon_name: str) -> list[DeclaredResource]:
    return [r for r in run.of_type(EKS_ADDON) if r.inputs.get("addonName") == addon_name]


def cluster_addons(run: OfflineRun) -> list[Violation]:
    if not any(r.type in EKS_CLUSTERS for r in run.resources):
        return []
    violations = []
    for addon_name in NETWORK_ADDONS:
        found = addons(run, addon_name)
        if not found:
            violations.append(
                Violation("addons", "eks cluster", f"no {addon_name} add-on is declared")
            )
            continue
        for workload in _workloads(run):
            if not _waits_for_any(run, workload, found):
                violations.append(
                    Violation("addons", _label(workload), f"does not wait for {addon_name}")
                )
    return violations


# Storage class each volume of a workload asks for; None is the cluster's default class.
def _release_claims(release: DeclaredResource) -> list[str | None]:
    values = release.inputs.get("values") or {}
    chart = chart_name(release)
    claims: list[str | None] = []
    if chart == "mongodb" and _get(values, "persistence", "enabled") is not False:
        claims.append(
            _get(values, "persistence", "storageClass") or _get(values, "global", "storageClass")
        )
    if chart == "kube-prometheus-stack":
        for spec_path in (
            ("prometheus", "prometheusSpec", "storageSpec"),
            ("alertmanager", "alertmanagerSpec", "storage"),
        ):
            storage = _get(values, *spec_path)
            if storage:
                claims.append(_get(storage, "volumeClaimTemplate", "spec", "storageClassName"))
        if _get(values, "grafana", "persistence", "enabled"):
            claims.append(_get(values, "grafana", "persistence", "storageClassName"))
    return claims


def volume_claims(resource: DeclaredResource) -> list[str | None]:
    if resource.type == RELEASE:
        return _release_claims(resource)
    kind = resource.inputs.get("kind") if resource.is_kubernetes_object else None
    if kind == "PersistentVolumeClaim":
        return [_get(resource.inputs, "spec", "storageClassName")]
    if kind == "StatefulSet":
        templates = _get(resource.inputs, "spec", "volumeClaimTemplates") or []
        return [_get(t, "spec", "storageClassName") for t in templates]
    return []


def storage(run: OfflineRun) -> list[Violation]:
    classes = {str(_get(c.inputs, "metadata", "name")): c for c in run.of_type(STORAGE_CLASS)}
    defaults = [
        c
        for c in classes.values()
        if _get(c.inputs, "metadata", "annotations", DEFAULT_CLASS_ANNOTATION) == "true"
    ]
    preinstalled = PREINSTALLED_STORAGE_CLASSES[cluster_flavour(run)]
    violations = []
    for resource in run.resources:
        for claim in volume_claims(resource):
            if claim == "":
                continue  # static provisioning: no class involved
            declared = classes.get(claim) if claim else (defaults[0] if defaults else None)
            if declared is None:
                if claim not in preinstalled and not (claim is None and preinstalled):
                    violations.append(
                        Violation(
                            "storage",
                            _label(resource),
                            f"no StorageClass {claim or '(default)'} is declared or preinstalled",
                        )
                    )
                continue
            if not run.wait_graph.waits_for(resource.urn, declared.urn):
                violations.append(
                    Violation(
                        "storage",
                        _label(resource),
                        f"does not wait for StorageClass {declared.name}",
                    )
                )
            addon_name = CSI_ADDONS.get(str(declared.inputs.get("provisioner")))
            if addon_name is None:
                continue
            drivers = addons(run, addon_name)
            if not drivers:
                violations.append(
                    Violation("storage", _label(resource), f"no {addon_name} add-on is declared")
                )
            elif not _waits_for_any(run, resource, drivers):
                violations.append(
                    Violation("storage", _label(resource), f"does not wait for {addon_name}")
                )
    return violations


def service_accounts(resource: DeclaredResource) -> set[tuple[str, str]]:
    """(namespace, service account) pairs a workload's pods run as."""
    namespace = namespace_of(resource)
    if namespace is None:
        return set()
    if resource.type == RELEASE:
        account = _get(resource.inputs, "values", "serviceAccount", "name")
        return {(namespace, str(account))} if account else set()
    if is_workload(resource):
        spec = _get(resource.inputs, "spec")
        kind = resource.inputs.get("kind")
        pod = spec if kind == "Pod" else _get(spec, "template", "spec")
        if kind == "CronJob":
            pod = _get(spec, "jobTemplate", "spec", "template", "spec")
        account = _get(pod, "serviceAccountName") or "default"
        return {(namespace, str(account))}
    return set()


def pod_identities(run: OfflineRun) -> list[Violation]:
    associations = run.of_type(POD_IDENTITY_ASSOCIATION)
    agents = addons(run, POD_IDENTITY_AGENT)
    violations = []
    used: set[str] = set()
    for workload in _workloads(run):
        accounts = service_accounts(workload)
        mine = [
            a
            for a in associations
            if (str(a.inputs.get("namespace")), str(a.inputs.get("serviceAccount"))) in accounts
        ]
        for association in mine:
            used.add(association.urn)
            if not run.wait_graph.waits_for(workload.urn, association.urn):
                violations.append(
                    Violation(
                        "pod-identity",
                        _label(workload),
                        f"does not wait for its pod identity association ({association.name})",
                    )
                )
        if mine and not agents:
            violations.append(
                Violation("pod-identity", _label(workload), f"no {POD_IDENTITY_AGENT} add-on")
            )
        elif mine and not _waits_for_any(run, workload, agents):
            violations.append(
                Violation(
                    "pod-identity", _label(workload), f"does not wait for {POD_IDENTITY_AGENT}"
                )
            )
    for association in associations:
        if association.urn not in used:
            account = (
                f"{association.inputs.get('namespace')}/{association.inputs.get('serviceAccount')}"
            )
            violations.append(
                Violation(
                    "pod-identity",
                    _label(association),
                    f"no workload runs as {account} (a misspelt service account?)",
                )
            )
    return violations


def no_cycles(run: OfflineRun) -> list[Violation]:
    return [
        Violation("cycles", cycle[0], "waits on itself through " + " -> ".join(cycle))
        for cycle in run.wait_graph.cycles()
    ]


RULES: Mapping[str, Callable[[OfflineRun], list[Violation]]] = {
    "namespaces": namespaces,
    "crds": crds,
    "nodes": nodes,
    "addons": cluster_addons,
    "storage": storage,
    "pod-identity": pod_identities,
    "cycles": no_cycles,
}


def check(run: OfflineRun) -> list[Violation]:
    """Every rule's violations for one run."""
    return [violation for rule in RULES.values() for violation in rule(run)]
