"""The platform's policy rules as plain functions over (resource type, properties).

``platform/policy`` wraps them in a pulumi-policy pack for ``pulumi preview
--policy-pack``; the tests run them on good and bad inputs and on everything the
program declares offline. Properties are the engine's view: camelCase names.
Stdlib only, so the pack's own environment needs nothing but pulumi-policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Props = Mapping[str, Any]

REQUIRED_TAGS = ("project", "stack", "owner")
# Set on an AWS security group (rule) that fronts a public load balancer: the one
# place 0.0.0.0/0 ingress is allowed.
PUBLIC_INGRESS_TAG = "glosleep.io/public-load-balancer"
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
WORKLOAD_TYPES = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
# AWS types that take tags but whose tags live elsewhere or that AWS does not tag.
UNTAGGABLE_AWS = {
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:ec2/route:Route",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
}


# pulumi-eks components: tagged and checked on their own inputs (their children are
# aws:* resources the rules check in a real preview).
EKS_CLUSTER = "eks:index:Cluster"
EKS_NODE_GROUP = "eks:index:ManagedNodeGroup"
TAGGED_COMPONENTS = {EKS_CLUSTER, EKS_NODE_GROUP}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[str, Props], list[str]]
    # advisory: reported, the update goes ahead (a deliberate, documented choice).
    enforcement: Literal["mandatory", "advisory"] = "mandatory"


def _dig(props: Props, path: tuple[str, ...]) -> Any:
    current: Any = props
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _tags(props: Props) -> Mapping[str, Any]:
    tags = props.get("tags")
    return tags if isinstance(tags, Mapping) else {}


def _pod_spec(resource_type: str, props: Props) -> Mapping[str, Any] | None:
    path = WORKLOAD_TYPES.get(resource_type)
    if path is None:
        return None
    spec = _dig(props, path)
    return spec if isinstance(spec, Mapping) else {}


def _containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        for container in pod.get(key) or []:
            if isinstance(container, Mapping):
                yield container


def check_non_root(resource_type: str, props: Props) -> list[str]:
    pod = _pod_spec(resource_type, props)
    if pod is None:
        return []
    problems = []
    pod_context = pod.get("securityContext") or {}
    for container in _containers(pod):
        context = container.get("securityContext") or {}
        name = container.get("name", "?")

        def setting(key: str, c: Mapping[str, Any] = context) -> Any:
            return c.get(key, pod_context.get(key))

        if setting("runAsNonRoot") is not True:
            problems.append(f"container {name}: runAsNonRoot must be true")
        if setting("runAsUser") == 0:
            problems.append(f"container {name}: runAsUser must not be 0")
        if context.get("privileged") is True:
            problems.append(f"container {name}: must not be privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"container {name}: allowPrivilegeEscalation must be false")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"container {name}: readOnlyRootFilesystem must be true")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            problems.append(f"container {name}: capabilities must drop ALL")
    return problems


def check_limits(resource_type: str, props: Props) -> list[str]:
    pod = _pod_spec(resource_type, props)
    if pod is None:
        return []
    problems = []
    for container in _containers(pod):
        resources = container.get("resources") or {}
        name = container.get("name", "?")
        for key in ("cpu", "memory"):
            if key not in (resources.get("requests") or {}):
                problems.append(f"container {name}: needs a {key} request")
        if "memory" not in (resources.get("limits") or {}):
            problems.append(f"container {name}: needs a memory limit")
    return problems


def check_tags(resource_type: str, props: Props) -> list[str]:
    aws = resource_type.startswith("aws:") and resource_type not in UNTAGGABLE_AWS
    if not aws and resource_type not in TAGGED_COMPONENTS:
        return []
    tags = _tags(props)
    missing = [tag for tag in REQUIRED_TAGS if not tags.get(tag)]
    return [f"missing tags: {', '.join(missing)}"] if missing else []


def check_encryption(resource_type: str, props: Props) -> list[str]:
    match resource_type:
        case "aws:kms/key:Key":
            return [] if props.get("enableKeyRotation") else ["KMS key rotation must be on"]
        case "aws:eks/cluster:Cluster":
            configs = props.get("encryptionConfig") or {}
            resources = configs.get("resources") or [] if isinstance(configs, Mapping) else []
            key = _dig(props, ("encryptionConfig", "provider", "keyArn"))
            ok = "secrets" in resources and bool(key)
            return [] if ok else ["EKS secrets must be envelope-encrypted with a KMS key"]
        case "eks:index:Cluster":
            ok = bool(props.get("encryptionConfigKeyArn"))
            return [] if ok else ["EKS secrets must be envelope-encrypted with a KMS key"]
        case "eks:index:ManagedNodeGroup":
            # Root volumes are encrypted by the launch template the rule above checks.
            ok = bool(_dig(props, ("launchTemplate", "id")))
            return [] if ok else ["node group root volumes need an encrypting launch template"]
        case "aws:ecr/repository:Repository":
            configs = props.get("encryptionConfigurations") or []
            ok = any(c.get("encryptionType") == "KMS" for c in configs)
            return [] if ok else ["ECR repository must be encrypted with KMS"]
        case "aws:ec2/launchTemplate:LaunchTemplate":
            return [
                f"volume {m.get('deviceName')} must be encrypted"
                for m in props.get("blockDeviceMappings") or []
                if str((m.get("ebs") or {}).get("encrypted")).lower() != "true"
            ]
        case _ if resource_type == BUCKET_ENCRYPTION:
            algorithms = [
                _dig(rule, ("applyServerSideEncryptionByDefault", "sseAlgorithm"))
                for rule in props.get("rules") or []
            ]
            ok = bool(algorithms) and all(a in ("aws:kms", "aws:kms:dsse") for a in algorithms)
            return [] if ok else ["bucket encryption must use KMS"]
        case "kubernetes:storage.k8s.io/v1:StorageClass":
            if props.get("provisioner") != "ebs.csi.aws.com":
                return []
            encrypted = (props.get("parameters") or {}).get("encrypted")
            return [] if encrypted == "true" else ["EBS volumes must be encrypted"]
    return []


def _public_statement(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, Mapping) and principal.get("AWS") in ("*", ["*"])
    )
    return statement.get("Effect") == "Allow" and everyone and not statement.get("Condition")


def check_public_buckets(resource_type: str, props: Props) -> list[str]:
    match resource_type:
        case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
            flags = (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
            off = [flag for flag in flags if props.get(flag) is not True]
            return [f"public access block must set {', '.join(off)}"] if off else []
        case "aws:s3/bucket:Bucket" | "aws:s3/bucketAcl:BucketAcl":
            acl = props.get("acl")
            public = acl in ("public-read", "public-read-write", "authenticated-read")
            return [f"bucket ACL {acl} is public"] if public else []
        case "aws:s3/bucketPolicy:BucketPolicy":
            policy = props.get("policy")
            document = json.loads(policy) if isinstance(policy, str) else policy or {}
            statements = document.get("Statement") or []
            if isinstance(statements, Mapping):
                statements = [statements]
            if any(_public_statement(s) for s in statements):
                return ["bucket policy allows anyone"]
    return []


def _open_cidrs(values: Any) -> bool:
    if isinstance(values, str):
        return values in OPEN_CIDRS
    return any(value in OPEN_CIDRS for value in values or [])


def check_open_ingress(resource_type: str, props: Props) -> list[str]:
    """No 0.0.0.0/0 ingress, except on what is tagged as a public load balancer."""
    load_balancer = _tags(props).get(PUBLIC_INGRESS_TAG) == "true"
    match resource_type:
        case "aws:ec2/securityGroup:SecurityGroup":
            open_rules = [
                rule
                for rule in props.get("ingress") or []
                if _open_cidrs(rule.get("cidrBlocks")) or _open_cidrs(rule.get("ipv6CidrBlocks"))
            ]
            return ["ingress open to the internet"] if open_rules and not load_balancer else []
        case "aws:ec2/securityGroupRule:SecurityGroupRule":
            is_open = props.get("type") == "ingress" and (
                _open_cidrs(props.get("cidrBlocks")) or _open_cidrs(props.get("ipv6CidrBlocks"))
            )
            description = str(props.get("description") or "").lower()
            allowed = "load balancer" in description
            return ["ingress open to the internet"] if is_open and not allowed else []
        case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            is_open = _open_cidrs(props.get("cidrIpv4")) or _open_cidrs(props.get("cidrIpv6"))
            return ["ingress open to the internet"] if is_open and not load_balancer else []
        case "kubernetes:networking.k8s.io/v1:NetworkPolicy":
            peers = [
                peer
                for rule in _dig(props, ("spec", "ingress")) or []
                for peer in rule.get("from") or []
            ]
            if any(_open_cidrs(_dig(peer, ("ipBlock", "cidr"))) for peer in peers):
                return ["NetworkPolicy admits the whole internet"]
    return []


ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
LB_CERTIFICATE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"


def check_plain_http(resource_type: str, props: Props) -> list[str]:
    """A public load balancer without a TLS certificate (eks.allowPlainHttp)."""
    match resource_type:
        case "kubernetes:core/v1:Service":
            service_type = _dig(props, ("spec", "type"))
            annotations = _dig(props, ("metadata", "annotations"))
        case _ if resource_type == ENVOY_PROXY:
            service = _dig(props, ("spec", "provider", "kubernetes", "envoyService"))
            service_type = _dig(service or {}, ("type",))
            annotations = _dig(service or {}, ("annotations",))
        case _:
            return []
    if service_type != "LoadBalancer":
        return []
    if isinstance(annotations, Mapping) and annotations.get(LB_CERTIFICATE_ANNOTATION):
        return []
    return ["the load balancer serves plain HTTP: set eks.certificateArn"]


ENCRYPTION_RULE = "Keys rotate; secrets, images, volumes and buckets are encrypted"
RULES: tuple[Rule, ...] = (
    Rule("k8s-non-root", "Containers run as non-root, read-only, unprivileged", check_non_root),
    Rule("k8s-resource-limits", "Containers have requests and a memory limit", check_limits),
    Rule("aws-required-tags", "AWS resources carry project, stack and owner tags", check_tags),
    Rule("aws-encryption", ENCRYPTION_RULE, check_encryption),
    Rule("aws-no-public-buckets", "No bucket is public", check_public_buckets),
    Rule("no-open-ingress", "No 0.0.0.0/0 ingress except the load balancer", check_open_ingress),
    Rule(
        "tls-at-the-edge",
        "Public load balancers terminate TLS (plain HTTP only on throw-away stacks)",
        check_plain_http,
        enforcement="advisory",
    ),
)


def violations(resource_type: str, props: Props) -> list[str]:
    """Every rule's findings for one resource, prefixed with the rule's name."""
    return [
        f"{rule.name}: {problem}" for rule in RULES for problem in rule.check(resource_type, props)
    ]
