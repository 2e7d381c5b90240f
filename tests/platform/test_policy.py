"""The policy pack's rules: each on good and bad inputs, then on everything the
program declares for both stacks."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from glosleep_platform.offline import OfflineRun
from glosleep_platform.policy_rules import (
    PUBLIC_INGRESS_TAG,
    RULES,
    TAGGED_COMPONENTS,
    check_encryption,
    check_limits,
    check_non_root,
    check_open_ingress,
    check_plain_http,
    check_public_buckets,
    check_tags,
    violations,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
TAGS = {"project": "glosleep", "stack": "eks", "owner": "platform-team"}


def deployment(
    container: dict[str, Any], pod_context: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "spec": {
            "template": {"spec": {"securityContext": pod_context or {}, "containers": [container]}}
        }
    }


GOOD_CONTAINER: dict[str, Any] = {
    "name": "app",
    "securityContext": {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    container = copy.deepcopy(GOOD_CONTAINER)
    *parents, last = path.split(".")
    target: dict[str, Any] = container
    for part in parents:
        target = target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return container


def test_a_good_deployment_passes() -> None:
    assert check_non_root(DEPLOYMENT, deployment(GOOD_CONTAINER)) == []
    assert check_limits(DEPLOYMENT, deployment(GOOD_CONTAINER)) == []
    # runAsNonRoot may come from the pod instead of the container
    container = with_change("securityContext.runAsNonRoot", None)
    assert check_non_root(DEPLOYMENT, deployment(container, {"runAsNonRoot": True})) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("securityContext.runAsNonRoot", None, "runAsNonRoot must be true"),
        ("securityContext.runAsNonRoot", False, "runAsNonRoot must be true"),
        ("securityContext.allowPrivilegeEscalation", True, "allowPrivilegeEscalation"),
        ("securityContext.readOnlyRootFilesystem", None, "readOnlyRootFilesystem"),
        ("securityContext.capabilities", {"drop": ["NET_RAW"]}, "drop ALL"),
        ("securityContext.privileged", True, "privileged"),
        ("securityContext.runAsUser", 0, "runAsUser must not be 0"),
    ],
)
def test_non_root_catches(path: str, value: Any, expected: str) -> None:
    problems = check_non_root(DEPLOYMENT, deployment(with_change(path, value)))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("resources.limits", "memory limit"),
        ("resources.requests", "cpu request"),
        ("resources", "memory request"),
    ],
)
def test_limits_catches(path: str, expected: str) -> None:
    problems = check_limits(DEPLOYMENT, deployment(with_change(path, None)))
    assert any(expected in p for p in problems), problems


def test_other_kinds_are_not_workloads() -> None:
    assert check_non_root("kubernetes:core/v1:Service", {"spec": {}}) == []
    sts = "kubernetes:apps/v1:StatefulSet"
    assert check_limits(sts, deployment(with_change("resources", None))) != []


def test_tags() -> None:
    assert check_tags("aws:ec2/vpc:Vpc", {"tags": TAGS}) == []
    assert check_tags("aws:ec2/vpc:Vpc", {"tags": {"project": "glosleep"}}) == [
        "missing tags: stack, owner"
    ]
    assert check_tags("aws:ec2/vpc:Vpc", {}) == ["missing tags: project, stack, owner"]
    # pulumi-eks components are tagged through their own inputs
    assert check_tags("eks:index:Cluster", {"tags": TAGS}) == []
    assert check_tags("eks:index:Cluster", {}) == ["missing tags: project, stack, owner"]
    assert check_tags("eks:index:ManagedNodeGroup", {"tags": {"owner": "x"}}) == [
        "missing tags: project, stack"
    ]
    assert check_tags("aws:iam/rolePolicy:RolePolicy", {}) == []
    assert check_tags("kubernetes:core/v1:Namespace", {}) == []


@pytest.mark.parametrize(
    ("resource_type", "good", "bad"),
    [
        ("aws:kms/key:Key", {"enableKeyRotation": True}, {"enableKeyRotation": False}),
        (
            "aws:eks/cluster:Cluster",
            {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:k"}}},
            {},
        ),
        ("eks:index:Cluster", {"encryptionConfigKeyArn": "arn:k"}, {"name": "c"}),
        (
            "eks:index:ManagedNodeGroup",
            {"launchTemplate": {"id": "lt-1", "version": "1"}},
            {"instanceTypes": ["m6i.large"]},
        ),
        (
            "aws:ecr/repository:Repository",
            {"encryptionConfigurations": [{"encryptionType": "KMS"}]},
            {"encryptionConfigurations": [{"encryptionType": "AES256"}]},
        ),
        (
            "aws:ec2/launchTemplate:LaunchTemplate",
            {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]},
            {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {}}]},
        ),
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
            {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        ),
        (
            "kubernetes:storage.k8s.io/v1:StorageClass",
            {"provisioner": "ebs.csi.aws.com", "parameters": {"encrypted": "true"}},
            {"provisioner": "ebs.csi.aws.com", "parameters": {}},
        ),
    ],
)
def test_encryption(resource_type: str, good: dict[str, Any], bad: dict[str, Any]) -> None:
    assert check_encryption(resource_type, good) == []
    assert check_encryption(resource_type, bad) != []


def test_public_buckets() -> None:
    block = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    all_on = dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )
    assert check_public_buckets(block, all_on) == []
    assert check_public_buckets(block, {**all_on, "blockPublicPolicy": False}) == [
        "public access block must set blockPublicPolicy"
    ]
    assert check_public_buckets("aws:s3/bucket:Bucket", {"acl": "public-read"}) != []
    assert check_public_buckets("aws:s3/bucket:Bucket", {"acl": "private"}) == []
    policy = "aws:s3/bucketPolicy:BucketPolicy"
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}
    assert check_public_buckets(policy, {"policy": json.dumps(public)}) == [
        "bucket policy allows anyone"
    ]
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*"}]}
    assert check_public_buckets(policy, {"policy": json.dumps(deny)}) == []


def test_open_ingress() -> None:
    group = "aws:ec2/securityGroup:SecurityGroup"
    open_rule = {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 443}]}
    assert check_open_ingress(group, open_rule) == ["ingress open to the internet"]
    assert check_open_ingress(group, {**open_rule, "tags": {PUBLIC_INGRESS_TAG: "true"}}) == []
    assert check_open_ingress(group, {"ingress": [{"cidrBlocks": ["10.0.0.0/16"]}]}) == []
    rule = "aws:ec2/securityGroupRule:SecurityGroupRule"
    assert check_open_ingress(rule, {"type": "ingress", "ipv6CidrBlocks": ["::/0"]}) != []
    assert check_open_ingress(rule, {"type": "egress", "cidrBlocks": ["0.0.0.0/0"]}) == []
    assert (
        check_open_ingress(
            rule,
            {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"], "description": "Load balancer HTTPS"},
        )
        == []
    )
    vpc_rule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    assert check_open_ingress(vpc_rule, {"cidrIpv4": "0.0.0.0/0"}) != []
    policy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    world = {"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    assert check_open_ingress(policy, world) == ["NetworkPolicy admits the whole internet"]
    egress = {"spec": {"egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    assert check_open_ingress(policy, egress) == []


def test_plain_http_on_a_public_load_balancer() -> None:
    proxy = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"

    def envoy(service: dict[str, Any]) -> dict[str, Any]:
        return {
            "spec": {"provider": {"type": "Kubernetes", "kubernetes": {"envoyService": service}}}
        }

    certificate = {"service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn:aws:acm:x"}
    plain = {"type": "LoadBalancer", "annotations": {"other": "x"}}
    assert check_plain_http(proxy, envoy(plain)) == [
        "the load balancer serves plain HTTP: set eks.certificateArn"
    ]
    assert check_plain_http(proxy, envoy({"type": "LoadBalancer"})) != []
    assert (
        check_plain_http(proxy, envoy({"type": "LoadBalancer", "annotations": certificate})) == []
    )
    assert check_plain_http(proxy, envoy({"type": "NodePort"})) == []  # kind, local only
    service = "kubernetes:core/v1:Service"
    assert check_plain_http(service, {"spec": {"type": "LoadBalancer"}}) != []
    tls = {"metadata": {"annotations": certificate}, "spec": {"type": "LoadBalancer"}}
    assert check_plain_http(service, tls) == []
    assert check_plain_http(service, {"spec": {"type": "ClusterIP"}}) == []


def test_rule_names_are_unique_and_prefixed_in_findings() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert violations("aws:kms/key:Key", {"tags": TAGS}) == [
        "aws-encryption: KMS key rotation must be on"
    ]


def test_the_program_passes_every_rule(stack_run: OfflineRun) -> None:
    # Custom resources, and the pulumi-eks components whose inputs the rules read.
    checked = [r for r in stack_run.resources if r.custom or r.type in TAGGED_COMPONENTS]
    found = [
        f"{r.type} {r.name}: {problem}" for r in checked for problem in violations(r.type, r.inputs)
    ]
    assert found == []
    assert len([r for r in checked if r.type == DEPLOYMENT]) == 5
    if stack_run.stack == "eks":
        assert {r.type for r in checked} >= TAGGED_COMPONENTS
