from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import boto3
import pytest
from moto.server import ThreadedMotoServer

from apps.devstack.ports import free_port
from tests.procurement.support import use_fast_loops
from tests.support.platform import Platform

EXPORT_BUCKET = "glosleep-test-exports"
REGION: Final = "ap-south-1"  # Final keeps the literal type boto3 wants
AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 as a real HTTP server on loopback, with the export bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=EXPORT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def full_platform(platform: Platform, s3_endpoint: str) -> Platform:
    """All five services; analytics exports to moto."""
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
