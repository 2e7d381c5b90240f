"""What is live in AWS under the stack's tags, against what the program declares.

Live: the Resource Groups Tagging API (everything tagged project/stack/owner) plus the
service APIs for the attributes that matter (EKS node groups, NAT gateways, subnets,
load balancers, EBS volumes, S3 public access blocks, ECR repositories). Declared: the
offline run of the program. Resources are matched by their ``Name`` tag (ECR by
repository name), which the program sets on everything it creates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from glosleep_ops.cost import _load_balancers as declared_load_balancers
from glosleep_ops.resources import OpsError, Resource, dig

# The tags the program puts on every AWS resource and the reports select by.
SELECTOR_TAGS = ("project", "stack", "owner")

# Pulumi type -> (drift kind, attributes to compare).
KINDS = {
    # pulumi-eks components: their inputs are what the program declares.
    "eks:index:Cluster": "eks-cluster",
    "eks:index:ManagedNodeGroup": "node-group",
    "aws:ec2/natGateway:NatGateway": "nat-gateway",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:s3/bucket:Bucket": "s3-bucket",
    "aws:s3/bucketV2:BucketV2": "s3-bucket",
    "aws:ecr/repository:Repository": "ecr-repository",
}


@dataclass
class Item:
    kind: str
    key: str
    attributes: dict[str, Any] = field(default_factory=dict)
    arn: str = ""


@dataclass(frozen=True)
class Finding:
    status: str  # missing | unexpected | changed
    kind: str
    key: str
    attribute: str = ""
    declared: Any = None
    live: Any = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def selector(resources: Iterable[Resource]) -> dict[str, str]:
    """The project/stack/owner tags common to every declared AWS resource."""
    tagged = [r.tags for r in resources if r.type.startswith("aws:") and r.tags]
    if not tagged:
        raise OpsError("the program declares no tagged AWS resources for this stack")
    common = {k: v for k, v in tagged[0].items() if k in SELECTOR_TAGS}
    for tags in tagged[1:]:
        common = {k: v for k, v in common.items() if tags.get(k) == v}
    if set(common) != set(SELECTOR_TAGS):
        missing = ", ".join(sorted(set(SELECTOR_TAGS) - set(common)))
        raise OpsError(f"not every AWS resource carries the tags {missing}")
    return common


def expected(resources: list[Resource]) -> tuple[list[Item], dict[str, Any]]:
    """Declared items by kind and key; plus expectations that hold for a whole kind."""
    items: list[Item] = []
    for r in resources:
        kind = KINDS.get(r.type)
        if kind is None:
            continue
        key = _name_tag(r) or str(r.inputs.get("name") or r.name)
        if kind == "ecr-repository":
            key = str(r.inputs.get("name") or key)
        items.append(Item(kind, key, _declared_attributes(kind, r.inputs)))
    blocks = [
        r.inputs
        for r in resources
        if r.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    ]
    all_blocked = bool(blocks) and all(_all_blocked(b) for b in blocks)
    for item in items:
        if item.kind == "s3-bucket":
            item.attributes["publicAccessBlocked"] = all_blocked
    nlb, alb = declared_load_balancers(resources)
    return items, {"load_balancers": nlb + alb, "volumes_encrypted": True}


def _name_tag(resource: Resource) -> str | None:
    """The Name tag the live resource carries (pulumi-eks puts clusterTags on the cluster)."""
    cluster_tags = resource.inputs.get("clusterTags")
    if isinstance(cluster_tags, dict) and cluster_tags.get("Name"):
        return str(cluster_tags["Name"])
    return resource.tags.get("Name")


def _all_blocked(block: Any) -> bool:
    names = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    return all(bool(block.get(n)) for n in names)


def _declared_attributes(kind: str, inputs: Any) -> dict[str, Any]:
    if kind == "node-group":
        return {
            "instanceTypes": list(dig(inputs, "instanceTypes") or []),
            "capacityType": dig(inputs, "capacityType") or "ON_DEMAND",
            "minSize": dig(inputs, "scalingConfig", "minSize"),
            "maxSize": dig(inputs, "scalingConfig", "maxSize"),
            # desiredSize is left to the autoscaler (ignore_changes in the program).
        }
    if kind == "eks-cluster":
        return {
            "version": dig(inputs, "version"),
            "endpointPublicAccess": bool(dig(inputs, "endpointPublicAccess")),
            "secretsEncrypted": bool(dig(inputs, "encryptionConfigKeyArn")),
        }
    if kind == "subnet":
        return {"mapPublicIpOnLaunch": bool(dig(inputs, "mapPublicIpOnLaunch"))}
    if kind == "ecr-repository":
        return {
            "imageTagMutability": dig(inputs, "imageTagMutability") or "MUTABLE",
            "scanOnPush": bool(dig(inputs, "imageScanningConfiguration", "scanOnPush")),
        }
    return {}


def live(session: Any, tags: dict[str, str]) -> tuple[list[Item], list[Item], list[Item]]:
    """(matched-by-key items, load balancers, volumes) live under ``tags``."""
    tag_filters = [{"Key": k, "Values": [v]} for k, v in tags.items()]
    tagging = session.client("resourcegroupstaggingapi")
    arns: dict[str, dict[str, str]] = {}
    for page in tagging.get_paginator("get_resources").paginate(TagFilters=tag_filters):
        for mapping in page.get("ResourceTagMappingList", []):
            arns[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}

    def ids(kind: str) -> dict[str, dict[str, str]]:
        marker = f":{kind}/"
        return {arn.split(marker, 1)[1]: t for arn, t in arns.items() if marker in arn}

    items: list[Item] = []
    ec2 = session.client("ec2")
    nat_ids = ids("natgateway")
    if nat_ids:
        for nat in ec2.describe_nat_gateways(NatGatewayIds=list(nat_ids))["NatGateways"]:
            if nat.get("State") in ("available", "pending"):
                name = nat_ids[nat["NatGatewayId"]].get("Name", nat["NatGatewayId"])
                items.append(Item("nat-gateway", name, {}, nat["NatGatewayId"]))
    subnet_ids = ids("subnet")
    if subnet_ids:
        for subnet in ec2.describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]:
            name = subnet_ids[subnet["SubnetId"]].get("Name", subnet["SubnetId"])
            attributes = {"mapPublicIpOnLaunch": bool(subnet.get("MapPublicIpOnLaunch"))}
            items.append(Item("subnet", name, attributes, subnet["SubnetId"]))
    for vpc_id, vpc_tags in ids("vpc").items():
        items.append(Item("vpc", vpc_tags.get("Name", vpc_id), {}, vpc_id))
    items += _eks(session, tags)
    items += _buckets(session, arns)
    items += _repositories(session, tags)

    volumes: list[Item] = []
    volume_ids = ids("volume")
    if volume_ids:
        for volume in ec2.describe_volumes(VolumeIds=list(volume_ids))["Volumes"]:
            name = volume_ids[volume["VolumeId"]].get("Name", volume["VolumeId"])
            attributes = {
                "encrypted": bool(volume.get("Encrypted")),
                "type": volume.get("VolumeType"),
            }
            volumes.append(
                Item("ebs-volume", f"{name} ({volume['VolumeId']})", attributes, volume["VolumeId"])
            )

    balancers: list[Item] = []
    lb_arns = [arn for arn in arns if ":loadbalancer/" in arn]
    if lb_arns:
        elb = session.client("elbv2")
        for lb in elb.describe_load_balancers(LoadBalancerArns=lb_arns)["LoadBalancers"]:
            attributes = {"type": lb.get("Type"), "scheme": lb.get("Scheme")}
            balancers.append(
                Item("load-balancer", lb["LoadBalancerName"], attributes, lb["LoadBalancerArn"])
            )
    return items, balancers, volumes


def _matches(resource_tags: dict[str, str], tags: dict[str, str]) -> bool:
    return all(resource_tags.get(k) == v for k, v in tags.items())


def _eks(session: Any, tags: dict[str, str]) -> list[Item]:
    eks = session.client("eks")
    items: list[Item] = []
    for page in eks.get_paginator("list_clusters").paginate():
        for cluster_name in page.get("clusters", []):
            cluster = eks.describe_cluster(name=cluster_name)["cluster"]
            if not _matches(cluster.get("tags") or {}, tags):
                continue
            encrypted = any(
                dig(config, "provider", "keyArn")
                for config in cluster.get("encryptionConfig") or []
            )
            items.append(
                Item(
                    "eks-cluster",
                    (cluster.get("tags") or {}).get("Name", cluster_name),
                    {
                        "version": cluster.get("version"),
                        "endpointPublicAccess": bool(
                            dig(cluster, "resourcesVpcConfig", "endpointPublicAccess")
                        ),
                        "secretsEncrypted": bool(encrypted),
                    },
                    cluster.get("arn", ""),
                )
            )
            groups = eks.list_nodegroups(clusterName=cluster_name).get("nodegroups", [])
            for group_name in groups:
                group = eks.describe_nodegroup(clusterName=cluster_name, nodegroupName=group_name)
                group = group["nodegroup"]
                scaling = group.get("scalingConfig") or {}
                items.append(
                    Item(
                        "node-group",
                        (group.get("tags") or {}).get("Name", group_name),
                        {
                            "instanceTypes": list(group.get("instanceTypes") or []),
                            "capacityType": group.get("capacityType") or "ON_DEMAND",
                            "minSize": scaling.get("minSize"),
                            "maxSize": scaling.get("maxSize"),
                            "desiredSize": scaling.get("desiredSize"),
                        },
                        group.get("nodegroupArn", ""),
                    )
                )
    return items


def _buckets(session: Any, arns: dict[str, dict[str, str]]) -> list[Item]:
    s3 = session.client("s3")
    items: list[Item] = []
    for arn, bucket_tags in arns.items():
        if not arn.startswith("arn:aws:s3:::") or "/" in arn:
            continue
        bucket = arn.removeprefix("arn:aws:s3:::")
        try:
            block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except s3.exceptions.ClientError:
            block = {}
        blocked = all(
            bool(block.get(n))
            for n in (
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            )
        )
        items.append(
            Item(
                "s3-bucket", bucket_tags.get("Name", bucket), {"publicAccessBlocked": blocked}, arn
            )
        )
    return items


def _repositories(session: Any, tags: dict[str, str]) -> list[Item]:
    ecr = session.client("ecr")
    items: list[Item] = []
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repo in page.get("repositories", []):
            listed = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
            if not _matches({t["Key"]: t["Value"] for t in listed}, tags):
                continue
            items.append(
                Item(
                    "ecr-repository",
                    repo["repositoryName"],
                    {
                        "imageTagMutability": repo.get("imageTagMutability"),
                        "scanOnPush": bool(dig(repo, "imageScanningConfiguration", "scanOnPush")),
                    },
                    repo["repositoryArn"],
                )
            )
    return items


def compare(
    declared_items: list[Item],
    expectations: dict[str, Any],
    live_items: list[Item],
    balancers: list[Item],
    volumes: list[Item],
) -> list[Finding]:
    findings: list[Finding] = []
    want = {(i.kind, i.key): i for i in declared_items}
    have = {(i.kind, i.key): i for i in live_items}
    for key, item in want.items():
        if key not in have:
            findings.append(Finding("missing", item.kind, item.key))
            continue
        for attribute, value in item.attributes.items():
            actual = have[key].attributes.get(attribute)
            if _normal(actual) != _normal(value):
                findings.append(Finding("changed", item.kind, item.key, attribute, value, actual))
    findings += [Finding("unexpected", i.kind, i.key) for k, i in have.items() if k not in want]
    wanted_lbs = int(expectations.get("load_balancers", 0))
    if len(balancers) < wanted_lbs:
        findings.append(
            Finding(
                "missing",
                "load-balancer",
                "(from the Gateway's Service)",
                "count",
                wanted_lbs,
                len(balancers),
            )
        )
    for lb in balancers[wanted_lbs:]:
        findings.append(Finding("unexpected", "load-balancer", lb.key))
    for volume in volumes:
        if not volume.attributes.get("encrypted"):
            findings.append(Finding("changed", "ebs-volume", volume.key, "encrypted", True, False))
    order = {"missing": 0, "unexpected": 1, "changed": 2}
    return sorted(findings, key=lambda f: (order[f.status], f.kind, f.key, f.attribute))


def _normal(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value
