"""The analytics service's business metrics (names in docs/architecture.md); the
consumers' `glosleep_events_consumed_total` and `glosleep_event_lag_seconds` are the
kit's."""

from apps.kit.metrics import counter

EXPORTS = counter("exports", "Report exports to S3 by report and outcome.", ["report", "outcome"])
REBUILDS = counter("read_model_rebuilds", "Rebuilds of the read models from the event feeds.")
UNREADABLE = counter(
    "events_unreadable", "Events whose payload analytics could not read (skipped).", ["source"]
)
