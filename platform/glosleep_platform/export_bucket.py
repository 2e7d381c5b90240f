"""The S3 bucket analytics exports reports to: private, KMS-encrypted, TLS-only,
versioned, old exports expired; only analytics' service account can use it.

Every object is SSE-KMS with the bucket's own key: the key is the bucket's default,
and the bucket policy refuses a write that asks for anything else (AES256, another
KMS key). The writer role may only put objects under the export prefix and have
that key make data keys; it cannot read, list or delete.

The exports are business records, so `pulumi destroy` keeps the bucket, its settings
(a deleted public-access block would leave it open) and the key its objects are
encrypted with (retainOnDelete): destroy succeeds and leaves them, removed from the
stack's state (docs/deploy.md, "What destroy keeps").
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from glosleep_platform import iam
from glosleep_platform.kms import kms_key

EXPORT_RETENTION_DAYS = 90
# Where analytics writes (its EXPORT_PREFIX); the writer may put objects only here.
EXPORT_PREFIX = "reports"
SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def _bucket_policy(bucket_arn: str, key_arn: str) -> str:
    # IfExists: a write without encryption headers gets the bucket's default (this
    # key); a write that names other encryption is refused.
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "DenyOtherEncryption",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {"StringNotEqualsIfExists": {SSE_HEADER: "aws:kms"}},
                },
                {
                    "Sid": "DenyOtherKmsKeys",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {"StringNotEqualsIfExists": {SSE_KEY_HEADER: key_arn}},
                },
            ],
        }
    )


def _writer_policy(bucket_arn: str, key_arn: str, region: str) -> str:
    # Writing an SSE-KMS object (one PutObject): S3 asks the key for a data key on the
    # caller's behalf, and only through S3. Reading back would need kms:Decrypt.
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WriteExports",
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{EXPORT_PREFIX}/*",
                },
                {
                    "Sid": "EncryptWithTheBucketKey",
                    "Effect": "Allow",
                    "Action": "kms:GenerateDataKey",
                    "Resource": key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
                },
            ],
        }
    )


class ExportBucket(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cluster_name: pulumi.Output[str],
        namespace: str,
        service_account: str,
        tags: dict[str, str],
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("glosleep:platform:ExportBucket", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        key = kms_key(
            f"{name}-key", "Encryption of GloSleep analytics exports", tags, self, retain=True
        )
        bucket = aws.s3.Bucket(f"{name}", tags={**tags, "Name": name}, opts=kept)
        on_bucket = pulumi.ResourceOptions(parent=bucket, retain_on_delete=True)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=on_bucket,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=on_bucket,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=on_bucket,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=on_bucket,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-old-exports",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": EXPORT_RETENTION_DAYS},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=on_bucket,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, key.arn).apply(
                lambda arns: _bucket_policy(arns[0], arns[1])
            ),
            opts=on_bucket,
        )
        writer = iam.pod_identity_role(
            f"{name}-writer",
            cluster_name,
            namespace,
            service_account,
            tags,
            self,
            inline_policy=pulumi.Output.all(bucket.arn, key.arn).apply(
                lambda arns: _writer_policy(arns[0], arns[1], region)
            ),
        )
        self.bucket_name = bucket.bucket
        self.key_arn = key.arn
        # What the writer's pods must wait for to have credentials.
        self.writer_ready = writer.ready
        self.register_outputs({"bucket": self.bucket_name})
