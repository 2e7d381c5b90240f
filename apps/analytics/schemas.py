"""The analytics service's request and response bodies (the reports' own rows are
`apps.analytics.reports.Report`; their query parameters `apps.analytics.queries`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from apps.analytics.queries import Format
from apps.analytics.reports import REPORTS
from apps.kit.schemas import RequestModel, ResponseModel


class RebuildResult(ResponseModel):
    replayed: dict[str, int]


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

    @field_validator("filters")
    @classmethod
    def _no_cursor(cls, filters: dict[str, str | int]) -> dict[str, str | int]:
        if "cursor" in filters:
            raise ValueError("an export has every page: its filters take no cursor")
        return filters


class ExportResult(ResponseModel):
    report: str
    bucket: str
    key: str
    content_type: str
    size_bytes: int
    rows: int
