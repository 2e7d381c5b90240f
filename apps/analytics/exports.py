"""Report exports to S3 (boto3; any S3-compatible endpoint in tests and dev)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from apps.analytics.settings import AnalyticsSettings
from apps.kit.problems import ServiceUnavailable


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    content_type: str
    size_bytes: int


def _put(settings: AnalyticsSettings, key: str, body: bytes, content_type: str) -> None:
    client = boto3.client(
        "s3", region_name=settings.aws_region, endpoint_url=settings.s3_endpoint_url
    )
    assert settings.export_bucket is not None
    if settings.export_kms_key_id:
        client.put_object(
            Bucket=settings.export_bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=settings.export_kms_key_id,
            BucketKeyEnabled=True,
        )
    else:  # the bucket's default encryption: SSE-KMS with the bucket's key
        client.put_object(
            Bucket=settings.export_bucket, Key=key, Body=body, ContentType=content_type
        )


async def store(
    settings: AnalyticsSettings, key: str, body: bytes, content_type: str
) -> StoredObject:
    if not settings.export_bucket:
        raise ServiceUnavailable(
            "Exports are not configured (EXPORT_BUCKET is not set).", slug="exports-not-configured"
        )
    try:
        await asyncio.to_thread(_put, settings, key, body, content_type)
    except (BotoCoreError, ClientError) as error:
        raise ServiceUnavailable(
            f"The export could not be stored: {type(error).__name__}.", slug="export-failed"
        ) from None
    return StoredObject(settings.export_bucket, key, content_type, len(body))
