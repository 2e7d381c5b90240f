"""The EKS control plane and its managed node groups (pulumi-eks components), with the
AWS resources around them: KMS key, log group, IAM roles, launch templates, access
entries and the EKS-managed add-ons (pulumi-aws, so the tests and the policy pack see
every setting). See docs/adr/0014-eks-with-pulumi-eks-components.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from glosleep_platform import iam
from glosleep_platform.eks_versions import ADDON_VERSIONS, SUPPORT_TYPE
from glosleep_platform.kms import kms_key
from glosleep_platform.network import Network
from glosleep_platform.settings import EksSettings, NodeGroupSettings

CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# Reads every object, Secrets included: `pulumi preview --refresh` (drift) must.
READ_ONLY_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
ADDON_CONFIGURATION = {
    # The VPC CNI enforces NetworkPolicies only when asked to (its network policy agent).
    "vpc-cni": json.dumps({"enableNetworkPolicy": "true"}),
}


class EksCluster(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: EksSettings,
        kubernetes_version: str,
        network: Network,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("glosleep:platform:EksCluster", name, None, opts)
        self._tags = tags
        self._prefix = name
        child = pulumi.ResourceOptions(parent=self)
        self.secrets_key = kms_key(
            f"{name}-secrets", f"Envelope encryption of Kubernetes Secrets in {name}", tags, self
        )
        # Created here (not by EKS) so it has a retention period.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{name}/cluster",
            retention_in_days=settings.log_retention_days,
            tags=self._tagged("control-plane"),
            opts=child,
        )
        cluster_role = iam.role(
            f"{name}-cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], tags, self
        )
        self.cluster = eks.Cluster(
            name,
            name=name,
            version=kubernetes_version,
            service_role=cluster_role,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=settings.endpoint_public_access,
            public_access_cidrs=(
                settings.public_access_cidrs if settings.endpoint_public_access else None
            ),
            authentication_mode=eks.AuthenticationMode.API,
            encryption_config_key_arn=self.secrets_key.arn,
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            # Pod Identity, not IRSA: no OIDC provider.
            create_oidc_provider=False,
            # Nodes come from the managed node groups below.
            skip_default_node_group=True,
            # The add-ons below are EKS-managed aws.eks.Addon resources: neither EKS
            # (unmanaged copies) nor the component (its own vpc-cni, kube-proxy and
            # coredns add-ons) may install a second copy.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            # Standard support only (eks_versions.py): no paid extended support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=SUPPORT_TYPE),
            tags=tags,
            cluster_tags=self._tagged("cluster"),
            # A replacement (new subnets: vpcCidr, availabilityZones) reuses the fixed
            # name, so the old cluster must go first.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[log_group], delete_before_replace=True
            ),
        )
        # The configured name, resolved only once the cluster exists, so everything
        # that names the cluster waits for it (the component's own outputs are opaque
        # to the offline tests).
        self.name: pulumi.Output[str] = self.cluster.urn.apply(lambda _: name)
        self._kubernetes_version = kubernetes_version
        self._addon_versions = ADDON_VERSIONS[kubernetes_version]
        # The deploy role created the cluster and holds its admin entry (EKS bootstraps
        # the creator); everyone else is granted here.
        self._access(name, "admin", settings.admin_role_arns, CLUSTER_ADMIN_POLICY)
        self._access(name, "read-only", settings.read_only_role_arns, READ_ONLY_POLICY)

        early = self._addons(
            name,
            [
                ("vpc-cni", "kube-system", "aws-node", ["AmazonEKS_CNI_Policy"]),
                ("kube-proxy", None, None, []),
                ("eks-pod-identity-agent", None, None, []),
            ],
            [self.cluster],
        )
        node_groups = self._node_groups(
            name, settings.node_groups, settings.node_ami_type, network, early
        )
        late = self._addons(
            name,
            [
                ("coredns", None, None, []),
                (
                    "aws-ebs-csi-driver",
                    "kube-system",
                    "ebs-csi-controller-sa",
                    ["service-role/AmazonEBSCSIDriverPolicy"],
                ),
                ("metrics-server", None, None, []),
            ],
            node_groups,
        )
        # pulumi-eks's kubeconfig gets tokens from `aws eks get-token`; it holds no
        # credential itself, but it is kept secret like any cluster access detail.
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(self.cluster.kubeconfig_json)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_groups),
        )
        # Workloads need nodes, cluster DNS and (for volumes) the EBS CSI driver; the
        # add-ons that run as pods come after the nodes (ordering rules, tests/platform).
        self.ready: list[pulumi.Resource] = [*node_groups, *late]
        self.register_outputs({"name": self.name})

    def _tagged(self, resource: str) -> dict[str, str]:
        return {**self._tags, "Name": f"{self._prefix}-{resource}"}

    def _access(self, name: str, role: str, role_arns: list[str], policy_arn: str) -> None:
        for index, arn in enumerate(role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-{role}-{index}",
                cluster_name=self.name,
                principal_arn=arn,
                tags=self._tagged(f"{role}-{index}"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-{role}-{index}",
                cluster_name=self.name,
                principal_arn=arn,
                policy_arn=policy_arn,
                access_scope={"type": "cluster"},
                # The association names the entry's principal: it needs the entry first.
                opts=pulumi.ResourceOptions(parent=entry, depends_on=[entry]),
            )

    def _addons(
        self,
        name: str,
        addons: Sequence[tuple[str, str | None, str | None, list[str]]],
        after: Sequence[pulumi.Resource],
    ) -> list[pulumi.Resource]:
        """EKS-managed add-ons; those that call AWS get a Pod Identity role of their own."""
        created: list[pulumi.Resource] = []
        for addon, namespace, service_account, policies in addons:
            associations = None
            if service_account is not None and namespace is not None:
                addon_role = iam.pod_identity_role(
                    f"{name}-{addon}",
                    self.name,
                    namespace,
                    service_account,
                    self._tags,
                    self,
                    managed_policies=policies,
                    associate=False,
                )
                associations = [
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=addon_role.role.arn, service_account=service_account
                    )
                ]
            created.append(
                aws.eks.Addon(
                    f"{name}-{addon}",
                    cluster_name=self.name,
                    addon_name=addon,
                    addon_version=self._addon_versions[addon],
                    configuration_values=ADDON_CONFIGURATION.get(addon),
                    pod_identity_associations=associations,
                    resolve_conflicts_on_create="OVERWRITE",
                    resolve_conflicts_on_update="PRESERVE",
                    tags=self._tagged(addon),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
                )
            )
        return created

    def _launch_template(self, name: str, group: NodeGroupSettings) -> aws.ec2.LaunchTemplate:
        return aws.ec2.LaunchTemplate(
            f"{name}-{group.name}",
            # IMDSv2 only, one hop: pods cannot borrow the node's role.
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": group.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=[
                {"resource_type": kind, "tags": self._tagged(group.name)}
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=self._tagged(group.name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _node_groups(
        self,
        name: str,
        groups: list[NodeGroupSettings],
        ami_type: str,
        network: Network,
        after: Sequence[pulumi.Resource],
    ) -> list[pulumi.Resource]:
        node_role = iam.role(f"{name}-nodes", "ec2.amazonaws.com", NODE_POLICIES, self._tags, self)
        created: list[pulumi.Resource] = []
        for group in groups:
            template = self._launch_template(name, group)
            created.append(
                eks.ManagedNodeGroup(
                    f"{name}-{group.name}",
                    cluster=self.cluster,
                    node_role=node_role,
                    subnet_ids=network.private_subnet_ids,
                    ami_type=ami_type,
                    # Nodes follow the control plane's version (kubernetesVersion).
                    version=self._kubernetes_version,
                    capacity_type=group.capacity_type,
                    instance_types=group.instance_types,
                    scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                        min_size=group.min_size,
                        desired_size=group.desired_size,
                        max_size=group.max_size,
                    ),
                    # The cluster autoscaler or an operator may change the count.
                    ignore_scaling_changes=True,
                    launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                        id=template.id, version=template.latest_version.apply(str)
                    ),
                    labels={"glosleep.io/node-group": group.name},
                    tags=self._tagged(group.name),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
                )
            )
        return created
