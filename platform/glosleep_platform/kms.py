"""Customer-managed KMS keys: rotated yearly, 30-day deletion window, tagged."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def kms_key(
    name: str,
    description: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
    retain: bool = False,
) -> aws.kms.Key:
    """``retain``: the key outlives `pulumi destroy` (data retained elsewhere needs it)."""
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags={**tags, "Name": name},
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=retain),
    )
