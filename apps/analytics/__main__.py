from apps.analytics.main import create_analytics_app
from apps.analytics.settings import AnalyticsSettings
from apps.kit.server import serve

serve(create_analytics_app, AnalyticsSettings)
