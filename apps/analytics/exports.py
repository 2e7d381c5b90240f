"""Report exports to S3 (boto3; any S3-compatible endpoint in tests and dev)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from apps.analytics.metrics import EXPORTS
from apps.analytics.queries import PAGE_MAX, Format, Paged, ReportQuery
from apps.analytics.reports import REPORTS, Report, ReportFunction
from apps.analytics.schemas import ExportRequest, ExportResult
from apps.analytics.settings import AnalyticsSettings
from apps.kit.ids import new_id
from apps.kit.problems import ServiceUnavailable, UnprocessableContent, field_errors


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


async def every_page(produce: ReportFunction, query: ReportQuery) -> Report:
    """The whole report: a paged one's pages, one after another, as one."""
    report = await produce(query)
    rows = list(report.rows)
    while report.next_cursor is not None:
        report = await produce(query.model_copy(update={"cursor": report.next_cursor}))
        rows += report.rows
    return report.model_copy(update={"rows": rows})


async def export(settings: AnalyticsSettings, request: ExportRequest) -> ExportResult:
    """Produce the whole report with the request's filters and store it under
    `<EXPORT_PREFIX>/<report>/<yyyy/mm/dd/HHMMSS>-<id>.<format>`."""
    query_type, produce = REPORTS[request.report]
    # A paged report is read in the largest pages unless the filters set the size.
    defaults = {"limit": PAGE_MAX} if issubclass(query_type, Paged) else {}
    try:
        query = query_type.model_validate({**defaults, **request.filters})
    except ValidationError as error:
        raise UnprocessableContent(
            "The report filters are not valid.",
            slug="validation",
            errors=field_errors(
                [{**e, "loc": ("body", "filters", *e["loc"])} for e in error.errors()]
            ),
        ) from None
    report = await every_page(produce, query)
    stamp = datetime.now(UTC).strftime("%Y/%m/%d/%H%M%S")
    extension = request.format.value
    key = f"{settings.export_prefix}/{request.report}/{stamp}-{new_id('exp')}.{extension}"
    if request.format is Format.CSV:
        content, media = report.csv().encode(), "text/csv; charset=utf-8"
    else:
        content, media = report.model_dump_json().encode(), "application/json"
    try:
        stored = await store(settings, key.lstrip("/"), content, media)
    except ServiceUnavailable:
        EXPORTS.labels(request.report, "failed").inc()
        raise
    EXPORTS.labels(request.report, "stored").inc()
    return ExportResult(
        report=request.report,
        bucket=stored.bucket,
        key=stored.key,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        rows=len(report.rows),
    )
