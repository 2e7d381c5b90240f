"""Config the offline runs of the eks stack change in Pulumi.eks.yaml.

The file leaves ``eks.certificateArn`` unset on purpose (an operator sets their own;
without it the program stops); offline runs take it from stacks/offline-standins.yaml,
and these helpers name it explicitly where a test is about it.
111122223333 is the account id AWS's documentation uses.
"""

from __future__ import annotations

import json

from glosleep_platform.settings import stack_config

EKS_CERTIFICATE_ARN = (
    "arn:aws:acm:ap-south-1:111122223333:certificate/0b3c2d1e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
)


def eks_overrides(**changes: object) -> dict[str, str]:
    """``glosleep:eks`` from Pulumi.eks.yaml with ``changes`` (camelCase keys) applied;
    ``None`` removes a key."""
    eks = json.loads(stack_config("eks")["glosleep:eks"])
    for key, value in changes.items():
        if value is None:
            eks.pop(key, None)
        else:
            eks[key] = value
    return {"glosleep:eks": json.dumps(eks)}


def eks_with_certificate(**changes: object) -> dict[str, str]:
    """The eks stack as an operator runs it: with its TLS certificate set."""
    return eks_overrides(certificateArn=EKS_CERTIFICATE_ARN, **changes)


def overrides_for(stack: str) -> dict[str, str]:
    return eks_with_certificate() if stack == "eks" else {}
