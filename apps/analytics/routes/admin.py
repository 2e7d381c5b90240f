"""Operations: rebuild the read models from the event feeds, export a report."""

from __future__ import annotations

from fastapi import APIRouter

from apps.analytics import exports
from apps.analytics.access import Admin, Reader
from apps.analytics.feeds import rebuild
from apps.analytics.schemas import ExportRequest, ExportResult, RebuildResult
from apps.analytics.settings import AnalyticsSettings
from apps.kit.app import Kit
from apps.kit.openapi import problems
from apps.kit.problems import ServiceUnavailable, UnprocessableContent

router = APIRouter(prefix="/v1", tags=["operations"])


@router.post("/admin/rebuild", response_model=RebuildResult, summary="Rebuild the read models")
async def rebuild_read_models(_: Admin, kit: Kit) -> RebuildResult:
    """Empty every read model and replay all events of every feed from seq 0."""
    return RebuildResult(replayed=await rebuild(kit))


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
async def export_report(body: ExportRequest, _: Reader, kit: Kit) -> ExportResult:
    settings = kit.settings
    assert isinstance(settings, AnalyticsSettings)
    return await exports.export(settings, body)
