"""Data at rest and in transit on eks: exports are SSE-KMS with the bucket's own key
and the writer can do nothing but write them; MongoDB speaks TLS and the services
verify its certificate."""

from __future__ import annotations

import json
from typing import Any

from glosleep_platform.offline import DeclaredResource, OfflineRun
from tests.platform.helpers import env_of


def statements(resource: DeclaredResource) -> list[dict[str, Any]]:
    document = json.loads(resource.inputs["policy"])
    found: list[dict[str, Any]] = document["Statement"]
    return found


def as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_the_export_writer_may_only_write_exports(eks_run: OfflineRun) -> None:
    (bucket,) = eks_run.of_type("aws:s3/bucket:Bucket")
    (key,) = [k for k in eks_run.of_type("aws:kms/key:Key") if k.name.startswith("exports")]
    (writer,) = [
        p for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy") if "exports-writer" in p.name
    ]
    granted = {
        (action, resource)
        for statement in statements(writer)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    config, _ = env_of(eks_run, "analytics")
    prefix = config["EXPORT_PREFIX"]
    assert granted == {
        ("s3:PutObject", f"{bucket.outputs['arn']}/{prefix}/*"),
        ("kms:GenerateDataKey", key.outputs["arn"]),
    }
    # The key makes data keys for this role only when S3 asks, never for direct use.
    (kms,) = [s for s in statements(writer) if "kms:GenerateDataKey" in as_list(s["Action"])]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.ap-south-1.amazonaws.com"}}


def test_the_bucket_refuses_writes_with_other_encryption(eks_run: OfflineRun) -> None:
    (bucket,) = eks_run.of_type("aws:s3/bucket:Bucket")
    (key,) = [k for k in eks_run.of_type("aws:kms/key:Key") if k.name.startswith("exports")]
    (encryption,) = eks_run.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    (policy,) = eks_run.of_type("aws:s3/bucketPolicy:BucketPolicy")
    denied_puts = [
        s["Condition"]
        for s in statements(policy)
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and "s3:PutObject" in as_list(s["Action"])
        and f"{bucket.outputs['arn']}/*" in as_list(s["Resource"])
        and "aws:SecureTransport" not in json.dumps(s["Condition"])
    ]
    # A write that asks for AES256 or another key is refused; one that asks for
    # nothing gets the default above.
    assert {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}} in (
        denied_puts
    )
    assert {
        "StringNotEqualsIfExists": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": key.outputs["arn"]
        }
    } in denied_puts
    # The app asks for that key itself (apps/analytics: EXPORT_KMS_KEY_ID).
    config, _ = env_of(eks_run, "analytics")
    assert config["EXPORT_KMS_KEY_ID"] == key.outputs["arn"]
