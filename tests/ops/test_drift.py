"""glosleep-ops drift against moto: no drift, and each kind (missing, unexpected, changed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from glosleep_ops import EXIT_CHANGED, EXIT_ERROR, EXIT_OK
from glosleep_ops.cli import main
from glosleep_ops.resources import Resource

REGION = "ap-south-1"


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def role_arn(name: str) -> str:
    # pulumi-eks takes the roles as resources (URNs offline); moto only needs an ARN.
    return f"arn:aws:iam::123456789012:role/{name}"


class Live:
    """Builds in moto what the program declares, the way a clean `pulumi up` would leave it."""

    def __init__(self, resources: list[Resource]) -> None:
        self.resources = resources
        self.ec2: Any = boto3.client("ec2", region_name=REGION)
        self.eks: Any = boto3.client("eks", region_name=REGION)
        self.s3: Any = boto3.client("s3", region_name=REGION)
        self.ecr: Any = boto3.client("ecr", region_name=REGION)
        self.elbv2: Any = boto3.client("elbv2", region_name=REGION)
        self.nat_ids: dict[str, str] = {}
        self.subnet_ids: dict[str, str] = {}
        # The pulumi-eks components as declared: their inputs are what the program says.
        self.cluster = self.of("eks:index:Cluster")[0]
        self.cluster_name = str(self.cluster.inputs["name"])
        self.common = {k: v for k, v in self.cluster.tags.items() if k != "Name"}

    def of(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def build(self) -> None:
        vpc = self.of("aws:ec2/vpc:Vpc")[0]
        vpc_id = self.ec2.create_vpc(
            CidrBlock=vpc.inputs["cidrBlock"],
            TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list(vpc.tags)}],
        )["Vpc"]["VpcId"]
        for subnet in self.of("aws:ec2/subnet:Subnet"):
            self.subnet_ids[subnet.tags["Name"]] = self.ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=subnet.inputs["cidrBlock"],
                AvailabilityZone=subnet.inputs["availabilityZone"],
                TagSpecifications=[{"ResourceType": "subnet", "Tags": tag_list(subnet.tags)}],
            )["Subnet"]["SubnetId"]
        first_subnet = next(iter(self.subnet_ids.values()))
        for nat in self.of("aws:ec2/natGateway:NatGateway"):
            self.nat_ids[nat.tags["Name"]] = self.add_nat(nat.tags, first_subnet)
        cluster = self.cluster
        self.eks.create_cluster(
            name=self.cluster_name,
            version=cluster.inputs["version"],
            roleArn=role_arn(f"{self.cluster_name}-cluster"),
            resourcesVpcConfig={
                "subnetIds": list(self.subnet_ids.values())[:3],
                "endpointPublicAccess": cluster.inputs["endpointPublicAccess"],
            },
            encryptionConfig=[
                {
                    "resources": ["secrets"],
                    "provider": {"keyArn": cluster.inputs["encryptionConfigKeyArn"]},
                }
            ],
            tags={**cluster.tags, **cluster.inputs["clusterTags"]},
        )
        for group in self.of("eks:index:ManagedNodeGroup"):
            self.add_node_group(group.inputs, group.tags)
        for bucket in self.of("aws:s3/bucket:Bucket"):
            name = "glosleep-exports-test"
            self.s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            self.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(bucket.tags)})
            self.s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        for repo in self.of("aws:ecr/repository:Repository"):
            self.ecr.create_repository(
                repositoryName=repo.inputs["name"],
                imageTagMutability=repo.inputs["imageTagMutability"],
                imageScanningConfiguration={
                    "scanOnPush": bool(
                        (repo.inputs.get("imageScanningConfiguration") or {}).get("scanOnPush")
                    )
                },
                tags=tag_list(repo.tags),
            )
        # The Gateway's NLB, made by the load balancer controller with the stack's tags.
        self.add_load_balancer("k8s-envoy-gateway")
        # A node's root volume, encrypted as the launch template asks.
        self.add_volume(encrypted=True)

    def add_nat(self, tags: dict[str, str], subnet_id: str) -> str:
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        return str(
            self.ec2.create_nat_gateway(
                SubnetId=subnet_id,
                AllocationId=allocation,
                TagSpecifications=[{"ResourceType": "natgateway", "Tags": tag_list(tags)}],
            )["NatGateway"]["NatGatewayId"]
        )

    def add_node_group(
        self, inputs: dict[str, Any] | Any, tags: dict[str, str], **override: Any
    ) -> None:
        scaling = dict(inputs["scalingConfig"])
        self.eks.create_nodegroup(
            clusterName=self.cluster_name,
            nodegroupName=override.pop("name", tags["Name"] + "-2f1c"),
            nodeRole=role_arn(f"{self.cluster_name}-nodes"),
            subnets=list(self.subnet_ids.values())[:3],
            instanceTypes=override.pop("instanceTypes", inputs["instanceTypes"]),
            scalingConfig={**scaling, **override.pop("scaling", {})},
            capacityType=inputs["capacityType"],
            tags=tags,
        )

    def add_load_balancer(self, name: str) -> None:
        subnets = list(self.subnet_ids.values())[:2]
        self.elbv2.create_load_balancer(
            Name=name,
            Subnets=subnets,
            Type="network",
            Scheme="internet-facing",
            Tags=tag_list(self.common),
        )

    def add_volume(self, encrypted: bool) -> str:
        return str(
            self.ec2.create_volume(
                AvailabilityZone=f"{REGION}a",
                Size=50,
                VolumeType="gp3",
                Encrypted=encrypted,
                TagSpecifications=[
                    {
                        "ResourceType": "volume",
                        "Tags": tag_list({**self.common, "Name": "glosleep-eks-general"}),
                    }
                ],
            )["VolumeId"]
        )


@pytest.fixture
def live(eks_resources: list[Resource], monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        world = Live(eks_resources)
        world.build()
        yield world


def drift(capsys: pytest.CaptureFixture[str], dump: Path) -> tuple[int, Any]:
    code = main(["drift", "--stack", "eks", "--json", "--resources", str(dump)])
    return code, json.loads(capsys.readouterr().out)


def statuses(body: Any) -> set[tuple[str, str, str]]:
    return {(f["status"], f["kind"], f["key"]) for f in body["findings"]}


def test_no_drift_when_live_matches_the_program(
    live: Live, capsys: pytest.CaptureFixture[str], eks_dump: Path
) -> None:
    code, body = drift(capsys, eks_dump)
    assert body["findings"] == []
    assert code == EXIT_OK
    assert body["tags"] == {k: live.common[k] for k in ("project", "stack", "owner")}
    assert main(["drift", "--stack", "eks", "--resources", str(eks_dump)]) == EXIT_OK
    assert "No drift" in capsys.readouterr().out


def test_a_deleted_nat_gateway_is_missing(
    live: Live, capsys: pytest.CaptureFixture[str], eks_dump: Path
) -> None:
    name, nat_id = next(iter(live.nat_ids.items()))
    live.ec2.delete_nat_gateway(NatGatewayId=nat_id)
    code, body = drift(capsys, eks_dump)
    assert code == EXIT_CHANGED
    assert statuses(body) == {("missing", "nat-gateway", name)}


def test_resources_nobody_declared_are_unexpected(
    live: Live, capsys: pytest.CaptureFixture[str], eks_dump: Path
) -> None:
    subnet = next(iter(live.subnet_ids.values()))
    live.add_nat({**live.common, "Name": "hand-made-nat"}, subnet)
    live.add_load_balancer("hand-made-nlb")
    code, body = drift(capsys, eks_dump)
    assert code == EXIT_CHANGED
    assert statuses(body) == {
        ("unexpected", "nat-gateway", "hand-made-nat"),
        ("unexpected", "load-balancer", "hand-made-nlb"),
    }


def test_changed_instance_types_counts_encryption_and_public_access(
    live: Live, capsys: pytest.CaptureFixture[str], eks_dump: Path
) -> None:
    group = live.of("eks:index:ManagedNodeGroup")[0]
    cluster_name = live.cluster_name
    for name in live.eks.list_nodegroups(clusterName=cluster_name)["nodegroups"]:
        live.eks.delete_nodegroup(clusterName=cluster_name, nodegroupName=name)
    live.add_node_group(
        group.inputs,
        group.tags,
        name="replaced",
        instanceTypes=["t3.large"],
        scaling={"maxSize": 9},
    )
    private_subnet = next(k for k in live.subnet_ids if "private" in k)
    live.ec2.modify_subnet_attribute(
        SubnetId=live.subnet_ids[private_subnet], MapPublicIpOnLaunch={"Value": True}
    )
    volume = live.add_volume(encrypted=False)
    live.s3.delete_public_access_block(Bucket="glosleep-exports-test")

    code, body = drift(capsys, eks_dump)
    assert code == EXIT_CHANGED
    changed = {(f["kind"], f["attribute"]): (f["declared"], f["live"]) for f in body["findings"]}
    assert changed[("node-group", "instanceTypes")] == (["m6i.large"], ["t3.large"])
    assert changed[("node-group", "maxSize")] == (6, 9)
    assert changed[("subnet", "mapPublicIpOnLaunch")] == (False, True)
    assert changed[("ebs-volume", "encrypted")] == (True, False)
    assert changed[("s3-bucket", "publicAccessBlocked")] == (True, False)
    assert {f["status"] for f in body["findings"]} == {"changed"}
    assert any(volume in f["key"] for f in body["findings"])
    # The text report names each one too.
    assert main(["drift", "--stack", "eks", "--resources", str(eks_dump)]) == EXIT_CHANGED
    text = capsys.readouterr().out
    assert "instanceTypes" in text
    assert "t3.large" in text


def test_no_credentials_is_an_error_not_a_clean_report(
    capsys: pytest.CaptureFixture[str],
    eks_dump: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(["drift", "--stack", "eks", "--resources", str(eks_dump)])
    assert code == EXIT_ERROR
    assert "cannot list live resources" in capsys.readouterr().err
