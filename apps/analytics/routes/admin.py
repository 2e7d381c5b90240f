"""Operations: rebuild the read models from the event feeds, export a report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field, ValidationError

from apps.analytics.access import Admin, Reader
from apps.analytics.exports import store
from apps.analytics.feeds import rebuild
from apps.analytics.queries import Format
from apps.analytics.reports import REPORTS
from apps.analytics.settings import AnalyticsSettings
from apps.kit.app import Kit
from apps.kit.ids import new_id
from apps.kit.openapi import problems
from apps.kit.problems import ServiceUnavailable, UnprocessableContent, field_errors
from apps.kit.schemas import RequestModel, ResponseModel

router = APIRouter(prefix="/v1", tags=["operations"])


class RebuildResult(ResponseModel):
    replayed: dict[str, int]


@router.post("/admin/rebuild", response_model=RebuildResult, summary="Rebuild the read models")
async def rebuild_read_models(_: Admin, kit: Kit) -> RebuildResult:
    """Empty every read model and replay all events of every feed from seq 0."""
    return RebuildResult(replayed=await rebuild(kit))


ReportName = Annotated[str, Field(pattern="^(" + "|".join(REPORTS) + ")$")]
FilterValue = Annotated[str, Field(max_length=64)] | int


class ExportRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "report": "sales",
                    "format": "csv",
                    "filters": {"from": "2026-04-01", "to": "2026-06-30"},
                }
            ]
        }
    )

    report: ReportName
    format: Format = Format.CSV
    filters: dict[Annotated[str, Field(max_length=40)], FilterValue] = Field(
        default_factory=dict, max_length=20
    )


class ExportResult(ResponseModel):
    report: str
    bucket: str
    key: str
    content_type: str
    size_bytes: int
    rows: int


@router.post(
    "/exports",
    response_model=ExportResult,
    status_code=201,
    responses=problems(
        UnprocessableContent(
            "The report filters are not valid.",
            slug="validation",
            errors=[{"path": "filters.from", "message": "Input should be a valid date"}],
        ),
        ServiceUnavailable(
            "Exports are not configured (EXPORT_BUCKET is not set).", slug="exports-not-configured"
        ),
        ServiceUnavailable("The export could not be stored: ClientError.", slug="export-failed"),
    ),
    summary="Export to S3",
)
async def export_report(body: ExportRequest, principal: Reader, kit: Kit) -> ExportResult:
    query_type, produce = REPORTS[body.report]
    try:
        query = query_type.model_validate(body.filters)
    except ValidationError as error:
        raise UnprocessableContent(
            "The report filters are not valid.",
            slug="validation",
            errors=field_errors(
                [{**e, "loc": ("body", "filters", *e["loc"])} for e in error.errors()]
            ),
        ) from None
    report = await produce(query)
    settings = kit.settings
    assert isinstance(settings, AnalyticsSettings)
    stamp = datetime.now(UTC).strftime("%Y/%m/%d/%H%M%S")
    extension = body.format.value
    key = f"{settings.export_prefix}/{body.report}/{stamp}-{new_id('exp')}.{extension}"
    content: Any
    if body.format is Format.CSV:
        content, media = report.csv().encode(), "text/csv; charset=utf-8"
    else:
        content, media = report.model_dump_json().encode(), "application/json"
    stored = await store(settings, key.lstrip("/"), content, media)
    return ExportResult(
        report=body.report,
        bucket=stored.bucket,
        key=stored.key,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        rows=len(report.rows),
    )
