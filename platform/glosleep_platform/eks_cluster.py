"""The EKS control plane, its managed node groups and managed add-ons.

Built from pulumi-aws resources rather than the pulumi-eks component so every
role, key and setting is declared here, visible to the offline tests and to the
policy pack (docs/adr/0014-eks-from-aws-resources.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from glosleep_platform import iam
from glosleep_platform.kms import kms_key
from glosleep_platform.network import Network
from glosleep_platform.settings import EksSettings, NodeGroupSettings

CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# The MongoDB images (bitnamilegacy/*) are published for amd64 only (ADR 0012).
NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that gets tokens from the AWS CLI; it holds no credential itself."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
            ],
            "current-context": cluster_name,
            "users": [{"name": cluster_name, "user": user}],
        }
    )


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
        vpc_config = aws.eks.ClusterVpcConfigArgs(
            subnet_ids=network.private_subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=settings.endpoint_public_access,
            public_access_cidrs=(
                settings.public_access_cidrs if settings.endpoint_public_access else None
            ),
        )
        self.cluster = aws.eks.Cluster(
            name,
            name=name,
            version=kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=vpc_config,
            encryption_config={
                "provider": {"key_arn": self.secrets_key.arn},
                "resources": ["secrets"],
            },
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": True,
            },
            # Add-ons below are EKS-managed, so EKS must not install its own copies.
            bootstrap_self_managed_addons=False,
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            tags=self._tagged("cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )
        self.name = self.cluster.name
        self._admins(name, settings.admin_role_arns)

        early = self._addons(
            name,
            [
                ("vpc-cni", "kube-system", "aws-node", ["AmazonEKS_CNI_Policy"]),
                ("kube-proxy", None, None, []),
                ("eks-pod-identity-agent", None, None, []),
            ],
            [],
        )
        node_groups = self._node_groups(name, settings.node_groups, network, early)
        self._addons(
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
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.certificate_authority.data,
            ).apply(lambda parts: kubeconfig(parts[0], parts[1], parts[2], settings.region))
        )
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_groups),
        )
        self.ready: list[pulumi.Resource] = list(node_groups)
        self.register_outputs({"name": self.name})

    def _tagged(self, resource: str) -> dict[str, str]:
        return {**self._tags, "Name": f"{self._prefix}-{resource}"}

    def _admins(self, name: str, role_arns: list[str]) -> None:
        for index, arn in enumerate(role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=arn,
                tags=self._tagged(f"admin-{index}"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=arn,
                policy_arn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                access_scope={"type": "cluster"},
                opts=pulumi.ResourceOptions(parent=entry),
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
                    self.cluster.name,
                    namespace,
                    service_account,
                    self._tags,
                    self,
                    managed_policies=policies,
                    associate=False,
                )
                associations = [
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=addon_role.arn, service_account=service_account
                    )
                ]
            created.append(
                aws.eks.Addon(
                    f"{name}-{addon}",
                    cluster_name=self.cluster.name,
                    addon_name=addon,
                    pod_identity_associations=associations,
                    resolve_conflicts_on_create="OVERWRITE",
                    resolve_conflicts_on_update="PRESERVE",
                    tags=self._tagged(addon),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
                )
            )
        return created

    def _node_groups(
        self,
        name: str,
        groups: list[NodeGroupSettings],
        network: Network,
        after: Sequence[pulumi.Resource],
    ) -> list[pulumi.Resource]:
        node_role = iam.role(
            f"{name}-nodes",
            "ec2.amazonaws.com",
            ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"],
            self._tags,
            self,
        )
        created: list[pulumi.Resource] = []
        for group in groups:
            template = aws.ec2.LaunchTemplate(
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
            created.append(
                aws.eks.NodeGroup(
                    f"{name}-{group.name}",
                    cluster_name=self.cluster.name,
                    node_role_arn=node_role.arn,
                    subnet_ids=network.private_subnet_ids,
                    ami_type=NODE_AMI_TYPE,
                    capacity_type=group.capacity_type,
                    instance_types=group.instance_types,
                    scaling_config={
                        "min_size": group.min_size,
                        "desired_size": group.desired_size,
                        "max_size": group.max_size,
                    },
                    update_config={"max_unavailable": 1},
                    launch_template={
                        "id": template.id,
                        "version": template.latest_version.apply(str),
                    },
                    labels={"glosleep.io/node-group": group.name},
                    tags=self._tagged(group.name),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=list(after),
                        # The cluster autoscaler or an operator may change the count.
                        ignore_changes=["scalingConfig.desiredSize"],
                    ),
                )
            )
        return created
