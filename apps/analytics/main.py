"""The analytics service's app."""

from __future__ import annotations

from fastapi import FastAPI

from apps.analytics.feeds import consumers
from apps.analytics.levels import fill_current_levels
from apps.analytics.models import READ_MODELS
from apps.analytics.routes import admin, reports
from apps.analytics.sales_days import fill_sales_days
from apps.analytics.settings import AnalyticsSettings
from apps.kit.app import create_app
from apps.kit.consumer import CONSUMER_DOCUMENTS


def create_analytics_app(settings: AnalyticsSettings) -> FastAPI:
    return create_app(
        settings,
        title="GloSleep analytics",
        description="Reports (JSON and CSV) built only from the event feeds of order, "
        "inventory and procurement; rebuild from the feeds; exports to S3.",
        documents=[*READ_MODELS, *CONSUMER_DOCUMENTS],
        routers=[reports.router, admin.router],
        on_ready=[fill_current_levels, fill_sales_days],
        loops=consumers(settings),
    )
