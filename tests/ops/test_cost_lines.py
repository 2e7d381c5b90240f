"""Every line of a cost estimate against a figure derived here, from the price table
file and the stack below: quantities counted from the declared resources by hand,
prices read from the JSON, never from the tool's lines. The stack keeps its database
on a gp2 storage class while the nodes' root volumes are gp3, so a volume priced with
the wrong type shows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glosleep_ops.cost import estimate
from glosleep_ops.prices import load, path_for
from glosleep_ops.resources import Resource

TABLE_PATH = path_for("ap-south-1")


def k8s(kind: str, name: str, **fields: Any) -> Resource:
    return Resource(f"kubernetes:test/v1:{kind}", name, {"kind": kind, **fields})


def storage_class(name: str, volume_type: str, *, default: bool = False) -> Resource:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return k8s(
        "StorageClass",
        name,
        metadata={"name": name, "annotations": annotations},
        provisioner="ebs.csi.aws.com",
        parameters={"type": volume_type},
    )


def helm(name: str, values: dict[str, Any]) -> Resource:
    return Resource("kubernetes:helm.sh/v3:Release", name, {"values": values})


def stack_with_a_gp2_database() -> list[Resource]:
    policy = {"rules": [{"selection": {"countType": "imageCountMoreThan", "countNumber": 4}}]}
    return [
        Resource("eks:index:Cluster", "shop", {}),
        Resource(
            "eks:index:ManagedNodeGroup",
            "general",
            {"instanceTypes": ["m6i.large"], "scalingConfig": {"desiredSize": 2}},
        ),
        Resource(
            "aws:ec2/launchTemplate:LaunchTemplate",
            "general",
            {"blockDeviceMappings": [{"ebs": {"volumeSize": 50, "volumeType": "gp3"}}]},
        ),
        storage_class("gp3", "gp3", default=True),
        storage_class("gp2-db", "gp2"),
        helm(
            "mongodb",
            {
                "replicaCount": 3,
                "persistence": {"enabled": True, "size": "100Gi", "storageClass": "gp2-db"},
            },
        ),
        helm(
            "monitoring",
            {
                "prometheus": {
                    "prometheusSpec": {
                        "replicas": 1,
                        "storageSpec": {
                            "volumeClaimTemplate": {
                                "spec": {"resources": {"requests": {"storage": "30Gi"}}}
                            }
                        },
                    }
                }
            },
        ),
        Resource("aws:ec2/natGateway:NatGateway", "nat-a", {}),
        Resource("aws:ec2/natGateway:NatGateway", "nat-b", {}),
        Resource("aws:ec2/eip:Eip", "eip-a", {}),
        Resource("aws:ec2/eip:Eip", "eip-b", {}),
        k8s("Service", "gateway", spec={"type": "LoadBalancer"}),
        Resource("aws:ecr/repository:Repository", "auth", {}),
        Resource("aws:ecr/repository:Repository", "order", {}),
        Resource("aws:ecr/lifecyclePolicy:LifecyclePolicy", "keep", {"policy": json.dumps(policy)}),
        Resource("aws:kms/key:Key", "secrets", {}),
        Resource("aws:cloudwatch/logGroup:LogGroup", "cluster", {"retentionInDays": 90}),
        Resource("aws:s3/bucketV2:BucketV2", "exports", {}),
    ]


def expected_lines() -> dict[tuple[str, str], float]:
    """Each line's monthly figure in dollars, worked out from the price file."""
    table = json.loads(TABLE_PATH.read_text())
    price, assume, hours = table["prices"], table["assumptions"], table["hours_per_month"]
    gp2, gp3 = price["ebs_gb_month"]["gp2"], price["ebs_gb_month"]["gp3"]
    figures = {
        ("EKS control plane", "shop"): 1 * hours * price["eks_cluster_hour"],
        ("Node groups", "general"): 2 * hours * price["ec2_instance_hour"]["m6i.large"],
        ("EBS volumes", "general root volumes"): 2 * 50 * gp3,  # launch template: gp3
        ("EBS volumes", "mongodb volumes"): 3 * 100 * gp2,  # storage class gp2-db: gp2
        ("EBS volumes", "monitoring prometheus volumes"): 1 * 30 * gp3,  # the default class
        ("NAT gateways", "gateways"): 2 * hours * price["nat_gateway_hour"],
        ("NAT gateways", "data processed"): assume["nat_processed_gb_month"]
        * price["nat_gateway_gb"],
        ("Public IPv4", "Elastic IPs"): 2 * hours * price["public_ipv4_hour"],
        ("Load balancers", "network LBs"): 1 * hours * price["nlb_hour"],
        ("Load balancers", "NLB capacity units"): 1
        * assume["load_balancer_lcu"]
        * hours
        * price["nlb_lcu_hour"],
        ("ECR", "image storage"): 2 * 4 * assume["ecr_image_gb"] * price["ecr_storage_gb_month"],
        ("KMS", "customer managed keys"): 1 * price["kms_key_month"],
        ("CloudWatch Logs", "ingestion"): 1
        * assume["log_ingest_gb_month_per_group"]
        * price["cloudwatch_logs_ingest_gb"],
        # Steady state: 90 days of 5 GB a month kept = 3 months' worth.
        ("CloudWatch Logs", "storage"): assume["log_ingest_gb_month_per_group"]
        * 3
        * price["cloudwatch_logs_storage_gb_month"],
        ("S3", "storage"): 1 * assume["s3_exports_gb"] * price["s3_standard_gb_month"],
        ("Data transfer", "out to the internet"): assume["internet_egress_gb_month"]
        * price["data_transfer_out_gb"],
    }
    return {key: round(value, 2) for key, value in figures.items()}


def test_each_line_matches_the_figure_derived_from_the_price_table() -> None:
    result = estimate("test", stack_with_a_gp2_database(), load(TABLE_PATH))
    got = {(line.component, line.item): line.monthly for line in result.lines}
    assert got == pytest.approx(expected_lines(), abs=0.005)
    assert result.total == pytest.approx(sum(expected_lines().values()), abs=0.02)


def test_a_volume_on_a_gp2_class_is_priced_and_labelled_gp2() -> None:
    result = estimate("test", stack_with_a_gp2_database(), load(TABLE_PATH))
    database = next(line for line in result.lines if line.item == "mongodb volumes")
    assert database.price_key == "ebs_gb_month.gp2"
    assert database.detail == "3 x 100Gi gp2"
    nodes = next(line for line in result.lines if line.item == "general root volumes")
    assert nodes.price_key == "ebs_gb_month.gp3"


def test_volumes_are_priced_in_a_stack_without_node_groups() -> None:
    # Fargate-only or a cluster whose nodes come from elsewhere: no node-group loop ran.
    resources = [
        storage_class("gp2-db", "gp2", default=True),
        helm("mongodb", {"replicaCount": 1, "persistence": {"enabled": True, "size": "8Gi"}}),
    ]
    result = estimate("test", resources, load(TABLE_PATH))
    gp2 = json.loads(TABLE_PATH.read_text())["prices"]["ebs_gb_month"]["gp2"]
    assert [(line.item, line.price_key, line.monthly) for line in result.lines] == [
        ("mongodb volumes", "ebs_gb_month.gp2", round(8 * gp2, 2))
    ]
