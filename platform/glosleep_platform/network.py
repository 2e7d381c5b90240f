"""The VPC for EKS: three AZs, public /24s for load balancers, private /20s for nodes.

NAT is one gateway (cheap) or one per AZ (no cross-AZ dependency), per config.
S3 traffic stays off NAT through a gateway endpoint; flow logs go to CloudWatch.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from glosleep_platform import iam
from glosleep_platform.settings import EksSettings


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    public_cidr: str
    private_cidr: str


def plan_subnets(vpc_cidr: str, zones: list[str]) -> list[SubnetPlan]:
    """Private /20s from the second /20 on; public /24s carved from the first /20."""
    twenties = list(ipaddress.IPv4Network(vpc_cidr).subnets(new_prefix=20))
    publics = list(twenties[0].subnets(new_prefix=24))
    return [
        SubnetPlan(zone, str(publics[index]), str(twenties[index + 1]))
        for index, zone in enumerate(zones)
    ]


class Network(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: EksSettings,
        cluster_name: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("glosleep:platform:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def tagged(resource: str, **extra: str) -> dict[str, str]:
            return {**tags, "Name": f"{name}-{resource}", **extra}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=tagged("vpc"),
            opts=child,
        )
        self.vpc_id = vpc.id
        # Take every rule off the default security group so nothing can use it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, tags=tagged("default-sg"), opts=child
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tagged("igw"), opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=tagged("public"),
            opts=child,
        )
        cluster_tag = f"kubernetes.io/cluster/{cluster_name}"
        self.public_subnet_ids: list[pulumi.Output[str]] = []
        self.private_subnet_ids: list[pulumi.Output[str]] = []
        private_route_tables: list[aws.ec2.RouteTable] = []
        nat_ids: list[pulumi.Output[str]] = []
        for index, plan in enumerate(plan_subnets(settings.vpc_cidr, settings.availability_zones)):
            public = aws.ec2.Subnet(
                f"{name}-public-{plan.zone}",
                vpc_id=vpc.id,
                cidr_block=plan.public_cidr,
                availability_zone=plan.zone,
                map_public_ip_on_launch=False,
                tags=tagged(
                    f"public-{plan.zone}", **{"kubernetes.io/role/elb": "1", cluster_tag: "shared"}
                ),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{plan.zone}",
                subnet_id=public.id,
                route_table_id=public_rt.id,
                opts=child,
            )
            self.public_subnet_ids.append(public.id)
            if settings.nat_gateways == "per-az" or index == 0:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{plan.zone}",
                    domain="vpc",
                    tags=tagged(f"nat-{plan.zone}"),
                    opts=child,
                )
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{plan.zone}",
                    allocation_id=eip.id,
                    subnet_id=public.id,
                    tags=tagged(f"nat-{plan.zone}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)
            private = aws.ec2.Subnet(
                f"{name}-private-{plan.zone}",
                vpc_id=vpc.id,
                cidr_block=plan.private_cidr,
                availability_zone=plan.zone,
                map_public_ip_on_launch=False,
                tags=tagged(
                    f"private-{plan.zone}",
                    **{"kubernetes.io/role/internal-elb": "1", cluster_tag: "shared"},
                ),
                opts=child,
            )
            route_table = aws.ec2.RouteTable(
                f"{name}-private-{plan.zone}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_ids[-1]}],
                tags=tagged(f"private-{plan.zone}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{plan.zone}",
                subnet_id=private.id,
                route_table_id=route_table.id,
                opts=child,
            )
            private_route_tables.append(route_table)
            self.private_subnet_ids.append(private.id)

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{settings.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags=tagged("s3"),
            opts=child,
        )
        self._flow_logs(name, vpc, settings.log_retention_days, tags)
        self.register_outputs(
            {"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids}
        )

    def _flow_logs(
        self, name: str, vpc: aws.ec2.Vpc, retention_days: int, tags: dict[str, str]
    ) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=retention_days,
            tags={**tags, "Name": f"{name}-flow-logs"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        writer = iam.role(
            f"{name}-flow-logs",
            "vpc-flow-logs.amazonaws.com",
            (),
            tags,
            self,
            inline_policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=writer.arn,
            tags={**tags, "Name": f"{name}-flow-logs"},
            opts=pulumi.ResourceOptions(parent=self),
        )
