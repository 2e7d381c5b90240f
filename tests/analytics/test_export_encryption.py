"""Exports are encrypted with the bucket's KMS key (issue 14, item 9), checked on
moto's S3 and KMS over HTTP: with EXPORT_KMS_KEY_ID the request names the key;
without it the bucket's default encryption (SSE-KMS) applies. Never AES256."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr

from apps.analytics.exports import store
from apps.analytics.settings import AnalyticsSettings
from tests.analytics.conftest import AWS_TEST_CREDENTIALS, REGION, aws_client, kms_encrypted_bucket


@pytest.mark.parametrize("name_the_key", [True, False])
async def test_an_export_is_encrypted_with_the_buckets_kms_key(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, name_the_key: bool
) -> None:
    for variable, value in AWS_TEST_CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    bucket = f"exports-{secrets.token_hex(4)}"
    key_arn = kms_encrypted_bucket(s3_endpoint, bucket)
    settings = AnalyticsSettings(
        mongo_url=SecretStr("mongodb://unused.invalid"),
        order_url="http://order.invalid",
        inventory_url="http://inventory.invalid",
        procurement_url="http://procurement.invalid",
        export_bucket=bucket,
        aws_region=REGION,
        s3_endpoint_url=s3_endpoint,
        export_kms_key_id=key_arn if name_the_key else None,
    )
    stored = await store(settings, "reports/sales/x.csv", b"group\r\n", "text/csv")
    head = aws_client("s3", s3_endpoint).head_object(Bucket=bucket, Key=stored.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_arn
    assert head["BucketKeyEnabled"] is True
