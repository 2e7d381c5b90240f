"""The AWS side of the eks stack: network, cluster, nodes, add-ons, IAM, ECR, S3, tags."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from glosleep_platform.offline import DeclaredResource, OfflineRun, run_offline
from glosleep_platform.policy_rules import UNTAGGABLE_AWS
from glosleep_platform.registry import CACHE_REPOSITORY
from glosleep_platform.settings import load_settings_file, stack_config
from tests.platform.helpers import env_of
from tests.support.stack_config import eks_overrides

SUBNET = "aws:ec2/subnet:Subnet"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CLUSTER = "eks:index:Cluster"
NODE_GROUP = "eks:index:ManagedNodeGroup"


def subnets(run: OfflineRun, kind: str) -> list[DeclaredResource]:
    return [s for s in run.of_type(SUBNET) if s.name.startswith(f"network-{kind}-")]


def test_vpc_spans_three_zones_with_public_and_private_subnets(eks_run: OfflineRun) -> None:
    eks = load_settings_file("eks").require_eks()
    public, private = subnets(eks_run, "public"), subnets(eks_run, "private")
    assert sorted(s.inputs["availabilityZone"] for s in public) == eks.availability_zones
    assert sorted(s.inputs["availabilityZone"] for s in private) == eks.availability_zones
    vpc = ipaddress.IPv4Network(eks.vpc_cidr)
    cidrs = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in public + private]
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])
    assert {c.prefixlen for c in cidrs[:3]} == {24}
    assert {c.prefixlen for c in cidrs[3:]} == {20}
    for subnet in public:
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    for subnet in private:
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_private_subnets_route_through_nat_only(eks_run: OfflineRun) -> None:
    tables = {t.name: t for t in eks_run.of_type("aws:ec2/routeTable:RouteTable")}
    assert tables["network-public"].inputs["routes"][0]["gatewayId"] == "network-igw-id"
    private = [t for name, t in tables.items() if name.startswith("network-private-")]
    assert len(private) == 3
    for table in private:
        (route,) = table.inputs["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0"
        assert "gatewayId" not in route
        assert route["natGatewayId"].startswith("network-nat-")
    # per-az: each private table uses its own zone's NAT gateway
    assert len({t.inputs["routes"][0]["natGatewayId"] for t in private}) == 3
    nat_subnets = {n.inputs["subnetId"] for n in eks_run.of_type("aws:ec2/natGateway:NatGateway")}
    assert nat_subnets == {f"{s.name}-id" for s in subnets(eks_run, "public")}


@pytest.fixture(scope="module")
def single_nat_run() -> OfflineRun:
    changes = {"natGateways": "single", "endpointPublicAccess": False, "publicAccessCidrs": []}
    return run_offline("eks", overrides=eks_overrides(**changes))


def test_nat_mode_and_private_endpoint_follow_config(single_nat_run: OfflineRun) -> None:
    assert len(single_nat_run.of_type("aws:ec2/natGateway:NatGateway")) == 1
    tables = [
        t for t in single_nat_run.of_type("aws:ec2/routeTable:RouteTable") if "private" in t.name
    ]
    assert len({t.inputs["routes"][0]["natGatewayId"] for t in tables}) == 1
    (cluster,) = single_nat_run.of_type(CLUSTER)
    assert cluster.inputs["endpointPublicAccess"] is False
    assert cluster.inputs["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in cluster.inputs


def test_cluster_is_the_pulumi_eks_component(eks_run: OfflineRun) -> None:
    settings = load_settings_file("eks")
    eks = settings.require_eks()
    (cluster,) = eks_run.of_type(CLUSTER)
    inputs = cluster.inputs
    assert inputs["name"] == "glosleep-eks"
    assert inputs["version"] == settings.kubernetes_version
    (key,) = [k for k in eks_run.of_type("aws:kms/key:Key") if k.name.endswith("-secrets")]
    assert inputs["encryptionConfigKeyArn"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    (vpc,) = eks_run.of_type("aws:ec2/vpc:Vpc")
    assert inputs["vpcId"] == f"{vpc.name}-id"
    for tier in ("private", "public"):
        declared = sorted(f"{s.name}-id" for s in subnets(eks_run, tier))
        assert sorted(inputs[f"{tier}SubnetIds"]) == declared  # order carries no meaning
    assert inputs["endpointPrivateAccess"] is True
    assert inputs["endpointPublicAccess"] is True
    assert inputs["publicAccessCidrs"] == eks.public_access_cidrs
    assert inputs["authenticationMode"] == "API"
    assert {"api", "audit", "authenticator"} <= set(inputs["enabledClusterLogTypes"])
    # Pod Identity, no IRSA; nodes only from the managed node groups below.
    assert inputs["createOidcProvider"] is False
    assert inputs["skipDefaultNodeGroup"] is True
    # The add-ons are ours (aws.eks.Addon): neither EKS nor the component installs copies.
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["useDefaultVpcCni"] is True
    assert inputs["kubeProxyAddonOptions"]["enabled"] is False
    assert inputs["corednsAddonOptions"]["enabled"] is False
    assert inputs["tags"] == settings.tags
    assert inputs["clusterTags"] == {**settings.tags, "Name": "glosleep-eks-cluster"}
    # The control-plane role is ours: only the EKS cluster policy.
    assert inputs["serviceRole"].endswith("$aws:iam/role:Role::glosleep-eks-cluster")
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in eks_run.of_type(ATTACHMENT)
        if a.name.startswith("glosleep-eks-cluster-")
    }
    assert attached == {"AmazonEKSClusterPolicy"}
    logs = {g.inputs.get("name") for g in eks_run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert "/aws/eks/glosleep-eks/cluster" in logs


def test_kubernetes_provider_uses_the_components_kubeconfig(eks_run: OfflineRun) -> None:
    (provider,) = [
        p
        for p in eks_run.of_type("pulumi:providers:kubernetes")
        if p.name == "glosleep-eks-provider"
    ]
    assert provider.secret_inputs == {"kubeconfig"}
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    (cluster,) = eks_run.of_type(CLUSTER)
    assert kubeconfig == cluster.outputs["kubeconfig"]


def test_managed_node_groups(eks_run: OfflineRun) -> None:
    groups = eks_run.of_type(NODE_GROUP)
    configured = load_settings_file("eks").require_eks().node_groups
    assert [g.name.rsplit("-", 1)[-1] for g in groups] == [g.name for g in configured]
    templates = {t.name: t for t in eks_run.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {g.name for g in groups}
    for group, settings in zip(groups, configured, strict=True):
        inputs = group.inputs
        assert inputs["cluster"].endswith("$eks:index:Cluster::glosleep-eks")
        assert inputs["nodeRole"].endswith("$aws:iam/role:Role::glosleep-eks-nodes")
        assert sorted(inputs["subnetIds"]) == sorted(
            f"{s.name}-id" for s in subnets(eks_run, "private")
        )
        assert inputs["instanceTypes"] == settings.instance_types
        assert inputs["capacityType"] == settings.capacity_type
        assert inputs["scalingConfig"] == {
            "minSize": settings.min_size,
            "desiredSize": settings.desired_size,
            "maxSize": settings.max_size,
        }
        assert inputs["ignoreScalingChanges"] is True
        assert inputs["labels"] == {"glosleep.io/node-group": settings.name}
        assert inputs["tags"]["Name"] == group.name
        # Our launch template, not one the component would make: IMDSv2, one hop,
        # encrypted gp3 root volumes of the configured size.
        assert inputs["launchTemplate"]["id"] == f"{group.name}-id"
        template = templates[group.name].inputs
        assert template["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        }
        (volume,) = template["blockDeviceMappings"]
        assert volume["ebs"]["encrypted"] == "true"
        assert volume["ebs"]["volumeType"] == "gp3"
        assert volume["ebs"]["volumeSize"] == settings.disk_size_gib


def test_nodes_and_images_follow_the_node_architecture(eks_run: OfflineRun) -> None:
    """eks.nodeArchitecture picks the node AMI type and the platform the images are
    built for; x86_64 (amd64) unless the config says arm64 (Graviton)."""
    defaults = [
        (g.inputs["amiType"], tuple(i.inputs["platforms"]))
        for g in eks_run.of_type(NODE_GROUP)
        for i in eks_run.of_type("docker-build:index:Image")
    ]
    assert set(defaults) == {("AL2023_x86_64_STANDARD", ("linux/amd64",))}
    stack = stack_config("eks")
    groups = json.loads(stack["glosleep:eks"])["nodeGroups"]
    mongodb = json.loads(stack["glosleep:mongodb"])
    arm = run_offline(
        "eks",
        overrides={
            **eks_overrides(
                nodeArchitecture="arm64",
                nodeGroups=[{**group, "instanceTypes": ["m7g.large"]} for group in groups],
            ),
            "glosleep:mongodb": json.dumps(
                {
                    **mongodb,
                    "imageRepository": "example/mongodb-multiarch",
                    "osShellRepository": "example/os-shell-multiarch",
                    "tlsImageRepository": "example/nginx-multiarch",
                }
            ),
        },
    )
    assert {g.inputs["amiType"] for g in arm.of_type(NODE_GROUP)} == {"AL2023_ARM_64_STANDARD"}
    images = arm.of_type("docker-build:index:Image")
    assert images
    assert all(i.inputs["platforms"] == ["linux/arm64"] for i in images)


def test_addons_and_their_identities(eks_run: OfflineRun) -> None:
    addons = {a.inputs["addonName"]: a.inputs for a in eks_run.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
        "metrics-server",
    }
    for name, account in (("aws-ebs-csi-driver", "ebs-csi-controller-sa"), ("vpc-cni", "aws-node")):
        (association,) = addons[name]["podIdentityAssociations"]
        assert association["serviceAccount"] == account
    associations = {
        (a.inputs["namespace"], a.inputs["serviceAccount"])
        for a in eks_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert associations == {
        ("kube-system", "aws-load-balancer-controller"),
        ("glosleep", "analytics"),
    }
    (storage_class,) = [o for o in eks_run.kubernetes_objects() if o["kind"] == "StorageClass"]
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"]["type"] == "gp3"
    assert storage_class["parameters"]["encrypted"] == "true"
    assert storage_class["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    lb = next(
        r for r in eks_run.of_type("kubernetes:helm.sh/v3:Release") if "lb-controller" in r.name
    )
    assert lb.inputs["chart"] == "aws-load-balancer-controller"
    assert lb.inputs["values"]["serviceAccount"]["name"] == "aws-load-balancer-controller"


def _statements(document: str) -> list[dict[str, Any]]:
    statements = json.loads(document)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def test_iam_is_least_privilege(eks_run: OfflineRun) -> None:
    attachments = [
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in eks_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    ]
    assert not {"AdministratorAccess", "PowerUserAccess", "AmazonS3FullAccess"} & set(attachments)
    # The CNI's permissions belong to its pod identity, not to every node.
    node_role = [
        a
        for a in eks_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if "-nodes-" in a.name
    ]
    assert {a.inputs["policyArn"].rsplit("/", 1)[-1] for a in node_role} == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    for policy in eks_run.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in _statements(policy.inputs["policy"]):
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert "*" not in actions, policy.name
            assert not any(a.endswith(":*") for a in actions), policy.name
    writer = next(
        p for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy") if "exports-writer" in p.name
    )
    resources = [s["Resource"] for s in _statements(writer.inputs["policy"])]
    assert all(r != "*" for r in resources)
    for role in eks_run.of_type(ROLE):
        trust = _statements(role.inputs["assumeRolePolicy"])
        assert [s["Principal"] for s in trust] != [{"AWS": "*"}]


def test_ecr_repositories(eks_run: OfflineRun) -> None:
    everything = eks_run.of_type("aws:ecr/repository:Repository")
    repositories = [r for r in everything if r.inputs["name"] != CACHE_REPOSITORY]
    assert sorted(r.inputs["name"] for r in repositories) == [
        "glosleep/analytics",
        "glosleep/auth",
        "glosleep/inventory",
        "glosleep/order",
        "glosleep/procurement",
    ]
    for repository in repositories:
        assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    for repository in everything:
        assert repository.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        # Images are rebuilt from git: destroy deletes repositories with their images.
        assert repository.inputs["forceDelete"] is True
    (cache,) = [r for r in everything if r.inputs["name"] == CACHE_REPOSITORY]
    # A build cache is rewritten by every build; only it may have mutable tags.
    assert cache.inputs["imageTagMutability"] == "MUTABLE"
    policies = eks_run.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(policies) == len(repositories)
    rules = json.loads(policies[0].inputs["policy"])["rules"]
    assert [r["action"]["type"] for r in rules] == ["expire", "expire"]
    images = eks_run.of_type("docker-build:index:Image")
    assert all(i.inputs["push"] is True for i in images)
    assert all(i.inputs["platforms"] == ["linux/amd64"] for i in images)
    # The registry password reaches the build only as a secret.
    assert all(i.secret_inputs == {"registries"} for i in images)
    assert all(i.inputs["buildOnPreview"] is False for i in images)


def test_export_bucket_is_private_and_encrypted(eks_run: OfflineRun) -> None:
    (block,) = eks_run.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block.inputs[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (encryption,) = eks_run.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    default = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    (policy,) = eks_run.of_type("aws:s3/bucketPolicy:BucketPolicy")
    deny = _statements(policy.inputs["policy"])[0]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    config, _ = env_of(eks_run, "analytics")
    (bucket,) = eks_run.of_type("aws:s3/bucket:Bucket")
    assert config["EXPORT_BUCKET"] == bucket.outputs["bucket"]
    assert config["AWS_REGION"] == "ap-south-1"


def test_every_taggable_aws_resource_names_project_stack_and_owner(eks_run: OfflineRun) -> None:
    aws_resources = [r for r in eks_run.resources if r.type.startswith("aws:")]
    assert aws_resources
    untagged = [
        f"{r.type} {r.name}"
        for r in aws_resources
        if r.type not in UNTAGGABLE_AWS
        and not {"project", "stack", "owner"} <= set(r.inputs.get("tags") or {})
    ]
    assert untagged == []
    assert all(r.inputs["tags"]["stack"] == "eks" for r in aws_resources if "tags" in r.inputs)


def test_outputs(eks_run: OfflineRun) -> None:
    exports = eks_run.exports
    assert exports["clusterName"] == "glosleep-eks"
    assert set(exports["imageDigests"]) == {
        "auth",
        "inventory",
        "order",
        "procurement",
        "analytics",
    }
    assert all(d.startswith("sha256:") for d in exports["imageDigests"].values())
    kubeconfig = json.loads(exports["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "aws"
    assert "kubeconfig" in eks_run.secret_exports
