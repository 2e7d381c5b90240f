from __future__ import annotations

from typing import Any, Final, Literal

import boto3
import pytest

from tests.procurement.support import use_fast_loops
from tests.support.platform import Platform

EXPORT_BUCKET = "glosleep-test-exports"
REGION: Final = "ap-south-1"  # Final keeps the literal type boto3 wants
AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def aws_client(service: Literal["s3", "kms"], endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def kms_encrypted_bucket(endpoint: str, bucket: str) -> str:
    """A bucket whose default encryption is SSE-KMS with its own key (as the Pulumi
    program makes the export bucket); answers the key's ARN."""
    key: str = aws_client("kms", endpoint).create_key()["KeyMetadata"]["Arn"]
    s3 = aws_client("s3", endpoint)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return key


def start_full_platform(platform: Platform, s3_endpoint: str) -> Platform:
    """All five services, with fast loops; analytics exports to moto at ``s3_endpoint``."""
    use_fast_loops(platform)
    platform.configure(
        "analytics",
        {
            "EXPORT_BUCKET": EXPORT_BUCKET,
            "AWS_REGION": REGION,
            "S3_ENDPOINT_URL": s3_endpoint,
            **AWS_TEST_CREDENTIALS,
        },
    )
    platform.start("inventory", "order", "procurement", "analytics")
    return platform


@pytest.fixture(scope="session")
def full_platform(platform: Platform, s3_endpoint: str) -> Platform:
    """All five services; analytics exports to moto."""
    return start_full_platform(platform, s3_endpoint)
