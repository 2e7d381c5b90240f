"""The analytics service's settings (on top of what every service reads)."""

from __future__ import annotations

from pydantic import Field

from apps.kit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    service_name: str = "analytics"
    mongo_database: str = "glosleep_analytics"

    # The event feeds analytics follows.
    order_url: str = Field(min_length=1)
    inventory_url: str = Field(min_length=1)
    procurement_url: str = Field(min_length=1)
    consumer_interval_seconds: float = Field(default=1.0, gt=0, le=300)

    # Report exports (S3). Credentials come the usual boto3 way (pod identity,
    # IRSA, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    export_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    aws_region: str = Field(default="ap-south-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    # Another S3 endpoint (moto in tests, MinIO and the like).
    s3_endpoint_url: str | None = None
    export_prefix: str = Field(default="reports", pattern=r"^[A-Za-z0-9/_-]{0,200}$")
    # The bucket's KMS key (id, ARN or alias ARN). Set: every export asks for SSE-KMS
    # with it (and an S3 Bucket Key). Unset: no encryption header, so the bucket's
    # default encryption applies (SSE-KMS with the bucket's key, as the Pulumi program
    # configures it). Never AES256, and never aws:kms without the key id (that would
    # use the account's aws/s3 key instead of the bucket's).
    export_kms_key_id: str | None = Field(
        default=None, min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9:/_+=,.@-]+$"
    )
