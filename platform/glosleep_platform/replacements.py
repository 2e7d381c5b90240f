"""Which input changes replace a resource, for every resource type this program declares,
and how the replacement runs. Data, with the source each row was read from.

Paths are the program's input names (camelCase, as the engine sees them), dotted, with
``*`` for any one segment (a list index or a key); a change at or below a path matches.

Modes: the engine replaces *create-before-delete* unless the provider's diff or the
resource's ``delete_before_replace`` option says *delete-before-replace*.
pulumi-kubernetes asks for delete-before-replace when the object keeps a fixed name in
the same namespace (the new one could not exist beside the old); a renamed or
auto-named object is created first. Every other provider here leaves the default.

Sources (read 2026-11-29):
- pulumi-command ``provider/pkg/provider/common/inputs.go``: ``triggers`` carries
  ``replaceOnChanges``; any other change is an update that runs ``update`` or, without
  one, ``create`` again (no delete); the Python SDK adds ``replace_on_changes=["triggers[*]"]``.
- pulumi-docker-build ``provider/internal/image.go`` ``Diff``: every difference is an
  update (a rebuild and push), never a replacement.
- pulumi-kubernetes ``provider/pkg/provider/diff.go`` (``forceNew``),
  ``provider.go`` (``metadata.name``/``namespace`` replace; delete-before-replace rule)
  and ``helm_release.go`` (``name``/``namespace`` replace, ``DeleteBeforeReplace: false``).
- terraform-provider-aws ``ForceNew`` schema attributes (pulumi-aws is bridged from it):
  ``internal/service/eks/{cluster,node_group,addon,pod_identity_association,access_entry,
  access_policy_association}.go``, ``ecr/repository.go``, ``ecr/lifecycle_policy.go``,
  ``s3/bucket*.go``, ``kms/key.go``, ``iam/role*.go``, ``logs/group.go``, ``ec2/vpc_*.go``.
- terraform-provider-random / -tls: every RandomPassword argument ``RequiresReplace``;
  PrivateKey ``algorithm``, ``ecdsa_curve``, ``rsa_bits`` ``RequiresReplace``.
- pulumi-eks (a component; its children are invisible offline): its inputs map onto the
  children above (``name`` -> Cluster ``name``; subnets -> ``vpcConfig.subnetIds``...).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Mode = Literal["create-before-delete", "delete-before-replace"]
CREATE_FIRST: Mode = "create-before-delete"
DELETE_FIRST: Mode = "delete-before-replace"


@dataclass(frozen=True)
class ReplaceRule:
    paths: tuple[str, ...]
    source: str
    note: str = ""
    # Whether a replaced resource feeding one of the paths replaces this one too (the
    # new value is unknown until then); not for values that stay equivalent.
    cascades: bool = True


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
AWS = "terraform-provider-aws ForceNew"
K8S = "pulumi-kubernetes forceNew (provider/pkg/provider/diff.go)"
K8S_IDENTITY = "pulumi-kubernetes Diff: the object's identity (provider.go)"

NODE_GROUP_PATHS = (
    "clusterName",
    "nodeGroupName",
    "nodeRoleArn",
    "subnetIds",
    "amiType",
    "capacityType",
    "instanceTypes",
    "diskSize",
    "remoteAccess",
    "launchTemplate.id",
)

# type token (fnmatch pattern) -> the input paths whose change replaces it.
REPLACES: Mapping[str, ReplaceRule] = {
    "command:local:Command": ReplaceRule(
        ("triggers",),
        "pulumi-command schema: triggers replaceOnChanges",
        "other inputs: update (create runs again, nothing is deleted)",
    ),
    "docker-build:index:Image": ReplaceRule((), "pulumi-docker-build Image.Diff: updates only"),
    KUBERNETES_PROVIDER: ReplaceRule(
        ("kubeconfig",),
        "pulumi-kubernetes DiffConfig: a kubeconfig for another cluster replaces the provider "
        "and so every object it manages",
        "offline, the kubeconfig changes only when the cluster does; a kubeconfig read "
        "again for the same cluster keeps the provider",
        cascades=False,
    ),
    "random:index/randomPassword:RandomPassword": ReplaceRule(
        (
            "keepers",
            "length",
            "special",
            "upper",
            "lower",
            "numeric",
            "minLower",
            "minUpper",
            "minNumeric",
            "minSpecial",
            "overrideSpecial",
        ),
        "terraform-provider-random: every argument RequiresReplace",
    ),
    "tls:index/privateKey:PrivateKey": ReplaceRule(
        ("algorithm", "ecdsaCurve", "rsaBits"), "terraform-provider-tls: RequiresReplace"
    ),
    "kubernetes:helm.sh/v3:Release": ReplaceRule(
        ("name", "namespace"),
        "pulumi-kubernetes helm_release.go: forceNewFields .name .namespace",
        "create-before-delete (the provider never asks to delete first)",
    ),
    "kubernetes:apps/v1:Deployment": ReplaceRule(("spec.selector",), K8S),
    "kubernetes:apps/v1:DaemonSet": ReplaceRule(("spec.selector",), K8S),
    "kubernetes:apps/v1:StatefulSet": ReplaceRule(
        (
            "spec.podManagementPolicy",
            "spec.revisionHistoryLimit",
            "spec.selector",
            "spec.serviceName",
            "spec.volumeClaimTemplates",
        ),
        K8S,
    ),
    "kubernetes:batch/v1:Job": ReplaceRule(
        ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"), K8S
    ),
    "kubernetes:core/v1:PersistentVolumeClaim": ReplaceRule(
        ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"), K8S
    ),
    "kubernetes:core/v1:Secret": ReplaceRule(
        ("type", "stringData", "data"), K8S, "Secrets are immutable unless enableSecretMutable"
    ),
    "kubernetes:core/v1:ConfigMap": ReplaceRule(
        ("data", "binaryData"), K8S, "ConfigMaps are immutable unless enableConfigMapMutable"
    ),
    "kubernetes:core/v1:Service": ReplaceRule(("spec.clusterIP",), K8S),
    "kubernetes:storage.k8s.io/v1:StorageClass": ReplaceRule(("parameters", "provisioner"), K8S),
    "kubernetes:rbac.authorization.k8s.io/v1:*RoleBinding": ReplaceRule(("roleRef",), K8S),
    # pulumi-eks components (remote): inputs that reach a ForceNew field of a child.
    "eks:index:Cluster": ReplaceRule(
        (
            "name",
            "serviceRole",
            "privateSubnetIds",
            "publicSubnetIds",
            "vpcId",
            "bootstrapSelfManagedAddons",
            "encryptionConfigKeyArn",
            "kubernetesServiceIpAddressRange",
            "ipFamily",
        ),
        AWS + " (eks/cluster.go: name, role_arn, vpc_config.subnet_ids, "
        "bootstrap_self_managed_addons, kubernetes_network_config) via pulumi-eks",
        "version: update in place (UpdateClusterVersion, one minor version at a time)",
    ),
    "aws:eks/cluster:Cluster": ReplaceRule(
        (
            "name",
            "roleArn",
            "vpcConfig.subnetIds",
            "vpcConfig.securityGroupIds",
            "bootstrapSelfManagedAddons",
            "kubernetesNetworkConfig",
        ),
        AWS + " (eks/cluster.go)",
        "version: update in place",
    ),
    "eks:index:ManagedNodeGroup": ReplaceRule(
        ("cluster", "nodeRole", *NODE_GROUP_PATHS),
        AWS + " (eks/node_group.go) via pulumi-eks",
        "scalingConfig, labels, taints, launchTemplate.version: update (rolling)",
    ),
    "aws:eks/nodeGroup:NodeGroup": ReplaceRule(NODE_GROUP_PATHS, AWS + " (eks/node_group.go)"),
    "aws:eks/addon:Addon": ReplaceRule(("clusterName", "addonName"), AWS + " (eks/addon.go)"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ReplaceRule(
        ("clusterName", "namespace", "serviceAccount"),
        AWS + " (eks/pod_identity_association.go)",
        "roleArn: update",
    ),
    "aws:eks/accessEntry:AccessEntry": ReplaceRule(
        ("clusterName", "principalArn", "type"), AWS + " (eks/access_entry.go)"
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ReplaceRule(
        ("clusterName", "principalArn", "policyArn", "accessScope"),
        AWS + " (eks/access_policy_association.go)",
    ),
    "aws:ecr/repository:Repository": ReplaceRule(
        ("name", "encryptionConfigurations"), AWS + " (ecr/repository.go)"
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ReplaceRule(
        ("repository",), AWS + " (ecr/lifecycle_policy.go)"
    ),
    "aws:s3/bucket:Bucket": ReplaceRule(
        ("bucket", "bucketPrefix", "objectLockEnabled"), AWS + " (s3/bucket.go)"
    ),
    "aws:s3/bucket*:Bucket*": ReplaceRule(
        ("bucket", "expectedBucketOwner"), AWS + " (s3/bucket_*.go)"
    ),
    "aws:kms/key:Key": ReplaceRule(
        ("customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"), AWS + " (kms/key.go)"
    ),
    "aws:iam/role:Role": ReplaceRule(("name", "namePrefix", "path"), AWS + " (iam/role.go)"),
    "aws:iam/rolePolicy:RolePolicy": ReplaceRule(
        ("name", "namePrefix", "role"), AWS + " (iam/role_policy.go)"
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ReplaceRule(
        ("role", "policyArn"), AWS + " (iam/role_policy_attachment.go)"
    ),
    "aws:cloudwatch/logGroup:LogGroup": ReplaceRule(
        ("name", "namePrefix", "logGroupClass"), AWS + " (logs/group.go)"
    ),
    "aws:ec2/vpc:Vpc": ReplaceRule(("cidrBlock", "instanceTenancy"), AWS + " (ec2/vpc_.go)"),
    "aws:ec2/subnet:Subnet": ReplaceRule(
        ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"),
        AWS + " (ec2/vpc_subnet.go)",
    ),
    "aws:ec2/eip:Eip": ReplaceRule(("domain", "vpc"), AWS + " (ec2/ec2_eip.go)"),
    "aws:ec2/natGateway:NatGateway": ReplaceRule(
        ("subnetId", "allocationId", "connectivityType"), AWS + " (ec2/vpc_nat_gateway.go)"
    ),
    "aws:ec2/routeTable:RouteTable": ReplaceRule(("vpcId",), AWS + " (ec2/vpc_route_table.go)"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ReplaceRule(
        ("subnetId", "gatewayId"), AWS + " (ec2/vpc_route_table_association.go)"
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ReplaceRule(
        ("vpcId", "serviceName", "vpcEndpointType"), AWS + " (ec2/vpc_endpoint.go)"
    ),
    "aws:ec2/flowLog:FlowLog": ReplaceRule(
        ("vpcId", "subnetId", "trafficType", "logDestination", "logDestinationType", "iamRoleArn"),
        AWS + " (ec2/vpc_flow_log.go)",
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": ReplaceRule(
        ("name", "namePrefix"), AWS + " (ec2/ec2_launch_template.go)"
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ReplaceRule(
        ("vpcId",), AWS + " (ec2/vpc_default_security_group.go)"
    ),
}
# Every Kubernetes object: its identity.
KUBERNETES_IDENTITY = ReplaceRule(("metadata.name", "metadata.namespace"), K8S_IDENTITY)

# Chart values whose change Helm applies as an upgrade the cluster refuses: they land in
# a StatefulSet's volumeClaimTemplates, which Kubernetes does not let change.
HELM_IMMUTABLE_VALUES: Mapping[str, tuple[str, ...]] = {
    "mongodb": ("persistence.storageClass", "persistence.size", "global.storageClass"),
    "kube-prometheus-stack": ("prometheus.prometheusSpec.storageSpec",),
}


def matches(path: str, pattern: str) -> bool:
    """``path`` (dotted) is at or below ``pattern`` (dotted, ``*`` = one segment)."""
    parts, wanted = path.split("."), pattern.split(".")
    if len(parts) < len(wanted):
        return False
    return all(fnmatch.fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=False))


# pulumi-kubernetes DiffConfig: with clusterIdentifier set, a kubeconfig change (even one
# unknown until the update, as a re-read kubeconfig is in a preview) never replaces the
# provider; only a changed identifier does.
PROVIDER_BY_IDENTIFIER = ReplaceRule(
    ("clusterIdentifier",),
    "pulumi-kubernetes provider.go DiffConfig: clusterIdentifier set and unchanged "
    "clears every replacement; a changed one replaces",
)


def rules_for(type_token: str, inputs: Mapping[str, object] | None = None) -> list[ReplaceRule]:
    if type_token == KUBERNETES_PROVIDER and inputs and "clusterIdentifier" in inputs:
        return [PROVIDER_BY_IDENTIFIER]
    rules = [rule for pattern, rule in REPLACES.items() if fnmatch.fnmatchcase(type_token, pattern)]
    if type_token.startswith("kubernetes:") and type_token != HELM_RELEASE:
        rules.append(KUBERNETES_IDENTITY)
    return rules


def replacing_paths(
    type_token: str, changed: list[str], inputs: Mapping[str, object] | None = None
) -> list[tuple[str, ReplaceRule]]:
    """The changed paths that replace a resource of this type, each with its rule."""
    return [
        (path, rule)
        for rule in rules_for(type_token, inputs)
        for path in changed
        if any(matches(path, pattern) for pattern in rule.paths)
    ]


def option_paths(replace_on_changes: tuple[str, ...]) -> tuple[str, ...]:
    """``replace_on_changes`` option paths (``triggers[*]``) as dotted patterns."""
    return tuple(
        p.replace("[*]", ".*").replace("[", ".").replace("]", "") for p in replace_on_changes
    )
