"""IAM roles: trust policies and EKS Pod Identity roles scoped to one service account."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

AWS_MANAGED = "arn:aws:iam::aws:policy/"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def trust_policy(service: str) -> str:
    actions = ["sts:AssumeRole"]
    if service in (POD_IDENTITY_PRINCIPAL, "eks.amazonaws.com"):
        actions.append("sts:TagSession")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}
            ],
        }
    )


def role(
    name: str,
    service: str,
    managed_policies: Sequence[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
    inline_policy: pulumi.Input[str] | None = None,
) -> aws.iam.Role:
    """A role for ``service`` with AWS-managed policies (by name) and an optional inline one."""
    created = aws.iam.Role(
        name,
        assume_role_policy=trust_policy(service),
        tags={**tags, "Name": name},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    for policy in managed_policies:
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1].lower()}",
            role=created.name,
            policy_arn=AWS_MANAGED + policy,
            opts=pulumi.ResourceOptions(parent=created),
        )
    if inline_policy is not None:
        aws.iam.RolePolicy(
            f"{name}-inline",
            role=created.id,
            policy=inline_policy,
            opts=pulumi.ResourceOptions(parent=created),
        )
    return created


@dataclass(frozen=True)
class PodIdentity:
    """A Pod Identity role and its association: pods get credentials only once the
    association exists, so whatever runs as the service account waits for it."""

    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation | None

    @property
    def ready(self) -> list[pulumi.Resource]:
        return [self.association] if self.association is not None else [self.role]


def pod_identity_role(
    name: str,
    cluster_name: pulumi.Input[str],
    namespace: str,
    service_account: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    managed_policies: Sequence[str] = (),
    inline_policy: pulumi.Input[str] | None = None,
    associate: bool = True,
) -> PodIdentity:
    """A role only ``namespace/service_account`` on this cluster can assume (EKS Pod Identity).

    With ``associate=False`` the association is left to the caller (EKS add-ons
    declare theirs on the add-on itself).
    """
    created = role(
        name, POD_IDENTITY_PRINCIPAL, managed_policies, tags, parent, inline_policy=inline_policy
    )
    association = None
    if associate:
        association = aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=created.arn,
            tags={**tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=created),
        )
    return PodIdentity(created, association)
