"""Changes the tests make to the eks stack's config.

Pulumi.eks.yaml leaves ``eks.certificateArn`` unset on purpose (an operator sets their
own; without it the program stops); offline runs take it from
stacks/offline-standins.yaml, which is where EKS_CERTIFICATE_ARN comes from.
"""

from __future__ import annotations

import json

from glosleep_platform.settings import stack_config

EKS_CERTIFICATE_ARN: str = json.loads(stack_config("eks")["glosleep:eks"])["certificateArn"]


def eks_overrides(**changes: object) -> dict[str, str]:
    """``glosleep:eks`` as the offline runs see it (the stack file and its stand-ins)
    with ``changes`` (camelCase keys) applied; ``None`` removes a key."""
    eks = json.loads(stack_config("eks")["glosleep:eks"])
    for key, value in changes.items():
        if value is None:
            eks.pop(key, None)
        else:
            eks[key] = value
    return {"glosleep:eks": json.dumps(eks)}
