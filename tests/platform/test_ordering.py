"""Ordering rules (glosleep_platform.ordering) on both stacks, and for each rule a small
program that breaks it on purpose, next to the same program done right."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pulumi_command as command
import pulumi_kubernetes as k8s
import pytest

from glosleep_platform import ordering
from glosleep_platform.offline import OfflineRun, run_offline

Program = Callable[[bool], None]


@pytest.mark.parametrize("rule", sorted(ordering.RULES))
def test_the_stack_keeps_the_rule(stack_run: OfflineRun, rule: str) -> None:
    assert [str(v) for v in ordering.RULES[rule](stack_run)] == []


def _after(correct: bool, *needed: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(depends_on=list(needed) if correct else [])


def _release(
    name: str, chart: str, namespace: str, opts: pulumi.ResourceOptions, **values: object
) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name, chart=chart, version="1.0.0", namespace=namespace, values=values, opts=opts
    )


def _custom_resource(
    name: str, api_version: str, kind: str, opts: pulumi.ResourceOptions | None = None
) -> None:
    k8s.apiextensions.CustomResource(
        name,
        api_version=api_version,
        kind=kind,
        metadata={"name": name, "namespace": "default"},
        spec={},
        opts=opts,
    )


def namespace_program(correct: bool) -> None:
    ns = k8s.core.v1.Namespace("apps", metadata={"name": "apps"})
    k8s.core.v1.ConfigMap(
        "settings", metadata={"name": "settings", "namespace": "apps"}, opts=_after(correct, ns)
    )
    _release("db", "oci://example/mongodb", "apps", _after(correct, ns))
    # kube-system exists in every cluster: nothing needs to create it.
    k8s.core.v1.ConfigMap("system", metadata={"name": "system", "namespace": "kube-system"})


def crd_program(correct: bool) -> None:
    stack = _release("prometheus", "kube-prometheus-stack", "kube-system", pulumi.ResourceOptions())
    _custom_resource(
        "monitor", "monitoring.coreos.com/v1", "ServiceMonitor", _after(correct, stack)
    )


def nodes_program(correct: bool) -> None:
    cluster = command.local.Command("cluster", create="kind create cluster --name test")
    kubeconfig = command.local.Command("kubeconfig", create="kind get kubeconfig --name test")
    provider = k8s.Provider("kind", kubeconfig=kubeconfig.stdout, opts=_after(correct, cluster))
    k8s.apps.v1.Deployment(
        "app",
        metadata={"name": "app", "namespace": "default"},
        spec={"selector": {}, "template": {"spec": {"containers": []}}},
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _eks_cluster() -> aws.eks.Cluster:
    return aws.eks.Cluster(
        "cluster",
        role_arn="arn:aws:iam::123456789012:role/cluster",
        vpc_config={"subnet_ids": ["subnet-1"]},
    )


def _addon(cluster: aws.eks.Cluster, name: str) -> aws.eks.Addon:
    return aws.eks.Addon(name, cluster_name=cluster.name, addon_name=name)


def addons_program(correct: bool) -> None:
    cluster = _eks_cluster()
    network = [_addon(cluster, name) for name in ("vpc-cni", "kube-proxy")]
    coredns = _addon(cluster, "coredns")
    needed = [*network, coredns] if correct else network
    _release("app", "app", "default", pulumi.ResourceOptions(depends_on=needed))


def storage_program(correct: bool) -> None:
    cluster = _eks_cluster()
    driver = _addon(cluster, "aws-ebs-csi-driver")
    gp3 = k8s.storage.v1.StorageClass(
        "gp3", metadata={"name": "gp3"}, provisioner="ebs.csi.aws.com"
    )
    # Waits for the class, but only the correct program waits for the driver behind it.
    _release(
        "mongodb",
        "oci://registry-1.docker.io/bitnamicharts/mongodb",
        "default",
        pulumi.ResourceOptions(depends_on=[gp3, driver] if correct else [gp3]),
        persistence={"enabled": True, "storageClass": "gp3"},
    )


def pod_identity_program(correct: bool) -> None:
    cluster = _eks_cluster()
    agent = _addon(cluster, "eks-pod-identity-agent")
    role = aws.iam.Role("controller", assume_role_policy="{}")
    association = aws.eks.PodIdentityAssociation(
        "controller",
        cluster_name=cluster.name,
        namespace="kube-system",
        service_account="controller",
        role_arn=role.arn,
        opts=pulumi.ResourceOptions(parent=role),
    )
    # Waiting for the role is not enough: credentials come from the association.
    _release(
        "controller",
        "controller",
        "kube-system",
        pulumi.ResourceOptions(depends_on=[association, agent] if correct else [role, agent]),
        serviceAccount={"name": "controller"},
    )


BROKEN: dict[str, tuple[Program, list[str]]] = {
    "namespaces": (
        namespace_program,
        [
            "kubernetes:core/v1:ConfigMap settings: does not wait for namespace apps (apps)",
            "kubernetes:helm.sh/v3:Release db: does not wait for namespace apps (apps)",
        ],
    ),
    "crds": (
        crd_program,
        [
            "kubernetes:monitoring.coreos.com/v1:ServiceMonitor monitor: "
            "does not wait for its CRD (prometheus)"
        ],
    ),
    "nodes": (
        nodes_program,
        ["kubernetes:apps/v1:Deployment app: does not wait for nodes (cluster)"],
    ),
    "addons": (addons_program, ["kubernetes:helm.sh/v3:Release app: does not wait for coredns"]),
    "storage": (
        storage_program,
        ["kubernetes:helm.sh/v3:Release mongodb: does not wait for aws-ebs-csi-driver"],
    ),
    "pod-identity": (
        pod_identity_program,
        [
            "kubernetes:helm.sh/v3:Release controller: "
            "does not wait for its pod identity association (controller)"
        ],
    ),
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_a_program_broken_on_purpose_fails_the_rule(rule: str) -> None:
    program, expected = BROKEN[rule]
    broken = run_offline("kind", program=lambda: program(False))
    # Registration order varies between runs (the SDK registers from several threads).
    found = [f"{v.resource}: {v.message}" for v in ordering.RULES[rule](broken)]
    assert sorted(found) == sorted(expected)
    fixed = run_offline("kind", program=lambda: program(True))
    assert [str(v) for v in ordering.RULES[rule](fixed)] == []


def test_every_rule_has_a_broken_program() -> None:
    # "cycles" is proven in test_wait_graph (the SDK itself refuses a direct cycle).
    assert set(BROKEN) | {"cycles"} == set(ordering.RULES)


def test_missing_prerequisites_are_violations_too() -> None:
    def bare() -> None:
        k8s.core.v1.ConfigMap("lost", metadata={"name": "lost", "namespace": "nowhere"})
        _custom_resource("route", "gateway.networking.k8s.io/v1", "HTTPRoute")
        _release("app", "app", "default", pulumi.ResourceOptions())
        _eks_cluster()
        aws.eks.PodIdentityAssociation(
            "unused",
            cluster_name="c",
            namespace="default",
            service_account="nobody",
            role_arn="arn:aws:iam::123456789012:role/x",
        )

    run = run_offline("kind", program=bare)
    found = {str(v) for v in ordering.check(run)}
    assert (
        "[namespaces] kubernetes:core/v1:ConfigMap lost: nothing creates namespace nowhere" in found
    )
    assert (
        "[crds] kubernetes:gateway.networking.k8s.io/v1:HTTPRoute route: "
        "nothing installs the CRDs of gateway.networking.k8s.io"
    ) in found
    assert "[nodes] kubernetes:helm.sh/v3:Release app: nothing creates nodes" in found
    assert "[addons] eks cluster: no coredns add-on is declared" in found
    assert (
        "[pod-identity] aws:eks/podIdentityAssociation:PodIdentityAssociation unused: "
        "no workload runs as default/nobody (a misspelt service account?)"
    ) in found
