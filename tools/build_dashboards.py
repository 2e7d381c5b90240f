"""Writes the Grafana dashboards in monitoring/dashboards/ (the one source of them).

    .venv/bin/python tools/build_dashboards.py          # rewrite the JSON files
    .venv/bin/python tools/build_dashboards.py --check  # fail if they are out of date

Every panel queries the Prometheus datasource chosen by the DS_PROMETHEUS variable;
queries use the recording rules in monitoring/rules/ where one exists, so Grafana
and the alerts agree. tests/monitoring/ checks that every query parses, runs, and
names only metrics that exist.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glosleep_platform.catalogue import SERVICE_NAMES

OUT = Path(__file__).resolve().parents[1] / "monitoring" / "dashboards"
SERVICES = SERVICE_NAMES  # the one table of the services
JOBS = "|".join(SERVICES)
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
Json = dict[str, Any]


@dataclass
class Panel:
    title: str
    targets: list[tuple[str, str]]  # (expr, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    extra: Json = field(default_factory=dict)


@dataclass
class Row:
    title: str
    panels: list[Panel]


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> Json:
    body: Json = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {},
        "targets": [
            {
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
                "refId": chr(ord("A") + index),
            }
            for index, (expr, legend) in enumerate(panel.targets)
        ],
    }
    if panel.kind == "timeseries":
        body["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}}
    elif panel.kind in ("stat", "gauge"):
        body["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "values": False}}
    body["fieldConfig"]["defaults"].update(panel.extra)
    return body


def dashboard(uid: str, title: str, description: str, rows: list[Row], tags: list[str]) -> Json:
    panels: list[Json] = []
    next_id = 1
    y = 0
    for row in rows:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        x = 0
        row_height = 0
        for panel in row.panels:
            if x + panel.width > 24:
                x = 0
                y += row_height
                row_height = 0
            panels.append(_panel(panel, next_id, x, y))
            next_id += 1
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["glosleep", *tags],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "DS_PROMETHEUS",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "links": [
            {"title": "GloSleep", "type": "dashboards", "tags": ["glosleep"], "asDropdown": True}
        ],
        "panels": panels,
    }


def overview() -> Json:
    jobs = f'job=~"{JOBS}"'
    return dashboard(
        "glosleep-overview",
        "GloSleep / Platform overview",
        "Is every service up, answering, fast, and keeping its events flowing?",
        [
            Row(
                "Health",
                [
                    Panel(
                        "Instances up",
                        [(f"sum by (job) (up{{{jobs}}})", "{{job}}")],
                        kind="stat",
                        width=8,
                        height=5,
                        description="Scraped instances answering, per service. 0 is an outage.",
                    ),
                    Panel(
                        "Database reachable",
                        [(f"min by (job) (glosleep_database_up{{{jobs}}})", "{{job}}")],
                        kind="stat",
                        width=8,
                        height=5,
                        description="1 when every instance's last MongoDB ping succeeded.",
                    ),
                    Panel(
                        "GloSleep alerts firing",
                        [
                            (
                                'sum by (alertname, severity) (ALERTS{alertstate="firing", '
                                'alertname=~"GloSleep.*"})',
                                "{{alertname}} ({{severity}})",
                            )
                        ],
                        kind="stat",
                        width=8,
                        height=5,
                    ),
                ],
            ),
            Row(
                "Requests (health probes excluded)",
                [
                    Panel(
                        "Request rate",
                        [("job:http_requests:rate5m", "{{job}}")],
                        unit="reqps",
                        width=8,
                    ),
                    Panel(
                        "5xx ratio",
                        [("job:http_requests_errors:ratio_rate5m", "{{job}}")],
                        unit="percentunit",
                        width=8,
                    ),
                    Panel(
                        "Latency p95 / p99",
                        [
                            ("job:http_request_duration_seconds:p95_5m", "{{job}} p95"),
                            ("job:http_request_duration_seconds:p99_5m", "{{job}} p99"),
                        ],
                        unit="s",
                        width=8,
                    ),
                ],
            ),
            Row(
                "SLOs and events",
                [
                    Panel(
                        "Error budget left (30 days)",
                        [
                            (
                                "1 - slo:sli_error:ratio_rate30d / on (slo) group_left () "
                                "(1 - slo:objective:ratio)",
                                "{{slo}}",
                            )
                        ],
                        unit="percentunit",
                        kind="stat",
                        width=8,
                    ),
                    Panel(
                        "Outbox backlog",
                        [(f"max by (job) (glosleep_outbox_backlog{{{jobs}}})", "{{job}}")],
                        width=8,
                        description="Committed events not yet published; 0 when healthy.",
                    ),
                    Panel(
                        "Event lag",
                        [
                            (
                                f"max by (job, source) (glosleep_event_lag_seconds{{{jobs}}})",
                                "{{job}} <- {{source}}",
                            )
                        ],
                        unit="s",
                        width=8,
                    ),
                ],
            ),
            Row(
                "Resources",
                [
                    Panel(
                        "Resident memory",
                        [(f"sum by (job) (process_resident_memory_bytes{{{jobs}}})", "{{job}}")],
                        unit="bytes",
                    ),
                    Panel(
                        "CPU",
                        [
                            (
                                f"sum by (job) (rate(process_cpu_seconds_total{{{jobs}}}[5m]))",
                                "{{job}}",
                            )
                        ],
                        unit="percentunit",
                    ),
                ],
            ),
        ],
        ["overview"],
    )


BUSINESS_PANELS: dict[str, list[Panel]] = {
    "auth": [
        Panel(
            "Logins by outcome",
            [('sum by (outcome) (rate(glosleep_logins_total{job="auth"}[5m]))', "{{outcome}}")],
            unit="reqps",
            width=8,
            description="failure: wrong email or password; throttled: refused by the limiter.",
        ),
        Panel(
            "Tokens issued by grant",
            [('sum by (grant) (rate(glosleep_tokens_issued_total{job="auth"}[5m]))', "{{grant}}")],
            unit="reqps",
            width=8,
        ),
        Panel(
            "Refresh-token reuse detected (1 h)",
            [('sum(increase(glosleep_refresh_reuse_detected_total{job="auth"}[1h]))', "reuse")],
            kind="stat",
            width=8,
            description="Rotated refresh tokens presented again: stolen tokens or buggy clients.",
        ),
    ],
    "inventory": [
        Panel(
            "Reservations by outcome",
            [
                (
                    'sum by (outcome) (rate(glosleep_reservations_total{job="inventory"}[5m]))',
                    "{{outcome}}",
                )
            ],
            unit="reqps",
            width=8,
        ),
        Panel(
            "Short lines, expiries, stock-low events, receipts (per hour)",
            [
                (
                    'sum(increase(glosleep_reservation_short_lines_total{job="inventory"}[1h]))',
                    "short lines",
                ),
                (
                    'sum(increase(glosleep_reservations_expired_total{job="inventory"}[1h]))',
                    "reservations expired",
                ),
                (
                    'sum(increase(glosleep_stock_low_events_total{job="inventory"}[1h]))',
                    "stock low",
                ),
                ('sum(increase(glosleep_stock_receipts_total{job="inventory"}[1h]))', "receipts"),
            ],
            width=16,
        ),
    ],
    "order": [
        Panel(
            "Orders placed and outcomes",
            [
                ('sum(rate(glosleep_orders_placed_total{job="order"}[5m]))', "placed"),
                ('sum by (outcome) (rate(glosleep_orders_total{job="order"}[5m]))', "{{outcome}}"),
            ],
            unit="reqps",
            width=8,
        ),
        Panel(
            "Pending orders",
            [('max(glosleep_orders_pending{job="order"})', "pending")],
            width=8,
            description="Orders waiting for their reservation; recovery retries them.",
        ),
        Panel(
            "Saga step p95",
            [
                (
                    "histogram_quantile(0.95, sum by (step, le) "
                    '(rate(glosleep_saga_step_duration_seconds_bucket{job="order"}[5m])))',
                    "{{step}}",
                )
            ],
            unit="s",
            width=8,
        ),
    ],
    "procurement": [
        Panel(
            "Purchase orders by event",
            [
                (
                    "sum by (event) "
                    '(increase(glosleep_purchase_orders_total{job="procurement"}[1h]))',
                    "{{event}}",
                )
            ],
            width=12,
        ),
        Panel(
            "Goods receipts posted (per hour)",
            [('sum(increase(glosleep_goods_receipts_total{job="procurement"}[1h]))', "receipts")],
            width=12,
        ),
    ],
    "analytics": [],
}

PRODUCERS = ("inventory", "order", "procurement")
CONSUMERS = ("procurement", "analytics")


def _events_panels(service: str) -> list[Panel]:
    job = f'job="{service}"'
    panels: list[Panel] = []
    if service in PRODUCERS:
        panels += [
            Panel(
                "Outbox backlog",
                [(f"max(glosleep_outbox_backlog{{{job}}})", "unpublished")],
                width=12,
            ),
            Panel(
                "Events published by type",
                [(f"sum by (type) (rate(glosleep_outbox_events_total{{{job}}}[5m]))", "{{type}}")],
                unit="reqps",
                width=12,
            ),
        ]
    if service in CONSUMERS:
        panels += [
            Panel(
                "Events consumed by source",
                [
                    (
                        f"sum by (source) (rate(glosleep_events_consumed_total{{{job}}}[5m]))",
                        "{{source}}",
                    )
                ],
                unit="reqps",
                width=12,
            ),
            Panel(
                "Event lag by source",
                [(f"max by (source) (glosleep_event_lag_seconds{{{job}}})", "{{source}}")],
                unit="s",
                width=12,
            ),
        ]
    return panels


def service_dashboard(service: str) -> Json:
    job = f'job="{service}"'
    red = Row(
        "Requests: rate, errors, duration (by route template)",
        [
            Panel(
                "Requests by route and status",
                [
                    (
                        "sum by (method, handler, status) "
                        f"(job_handler_method_status:http_requests:rate5m{{{job}}})",
                        "{{method}} {{handler}} {{status}}",
                    )
                ],
                unit="reqps",
                width=8,
            ),
            Panel(
                "5xx ratio",
                [(f"job:http_requests_errors:ratio_rate5m{{{job}}}", "5xx")],
                unit="percentunit",
                width=8,
            ),
            Panel(
                "p95 by route",
                [
                    (
                        f"job_handler_method:http_request_duration_seconds:p95_5m{{{job}}}",
                        "{{method}} {{handler}}",
                    )
                ],
                unit="s",
                width=8,
            ),
        ],
    )
    saturation = Row(
        "Saturation",
        [
            Panel(
                "Requests in progress",
                [(f"sum by (instance) (http_requests_inprogress{{{job}}})", "{{instance}}")],
                width=8,
            ),
            Panel(
                "CPU (cores)",
                [(f"rate(process_cpu_seconds_total{{{job}}}[5m])", "{{instance}}")],
                width=8,
            ),
            Panel(
                "Open file descriptors (of the limit)",
                [
                    (
                        f"process_open_fds{{{job}}} / process_max_fds{{{job}}}",
                        "{{instance}}",
                    )
                ],
                unit="percentunit",
                width=8,
            ),
            Panel(
                "Resident memory",
                [(f"process_resident_memory_bytes{{{job}}}", "{{instance}}")],
                unit="bytes",
                width=8,
            ),
            Panel(
                "Memory of the limit (Kubernetes)",
                [
                    (
                        "max by (pod) (container_memory_working_set_bytes"
                        f'{{container="{service}"}}) / max by (pod) '
                        "(kube_pod_container_resource_limits"
                        f'{{resource="memory", container="{service}"}})',
                        "{{pod}}",
                    )
                ],
                unit="percentunit",
                width=8,
                description="cAdvisor working set / container limit; empty outside Kubernetes.",
            ),
            Panel(
                "Container restarts (1 h, Kubernetes)",
                [
                    (
                        "max by (pod) (increase(kube_pod_container_status_restarts_total"
                        f'{{container="{service}"}}[1h]))',
                        "{{pod}}",
                    )
                ],
                width=8,
            ),
        ],
    )
    health = Row(
        "Health",
        [
            Panel(
                "Instances up",
                [(f"sum(up{{{job}}})", "up")],
                kind="stat",
                width=12,
                height=4,
            ),
            Panel(
                "Database reachable",
                [(f"min(glosleep_database_up{{{job}}})", "database")],
                kind="stat",
                width=12,
                height=4,
            ),
        ],
    )
    rows = [health, red, saturation]
    business = BUSINESS_PANELS[service] + _events_panels(service)
    if business:
        rows.append(Row("Business and events", business))
    return dashboard(
        f"glosleep-{service}",
        f"GloSleep / {service}",
        f"The {service} service: RED metrics by route template, saturation, its own counters.",
        rows,
        ["service", service],
    )


def business() -> Json:
    return dashboard(
        "glosleep-business",
        "GloSleep / Business KPIs",
        "Orders, revenue, stock and procurement, from the services' own counters.",
        [
            Row(
                "Orders and revenue",
                [
                    Panel(
                        "Orders placed (24 h)",
                        [("sum(increase(glosleep_orders_placed_total[24h]))", "orders")],
                        kind="stat",
                        width=6,
                        height=5,
                    ),
                    Panel(
                        "Confirmed order value (24 h, INR)",
                        [("sum(increase(glosleep_order_value_paise_total[24h])) / 100", "INR")],
                        unit="currencyINR",
                        kind="stat",
                        width=6,
                        height=5,
                        description="Orders with GST, at confirmation; counters in paise / 100.",
                    ),
                    Panel(
                        "Average confirmed order value (24 h, INR)",
                        [
                            (
                                "sum(increase(glosleep_order_value_paise_total[24h])) / 100 / "
                                'sum(increase(glosleep_orders_total{outcome="confirmed"}[24h]))',
                                "INR",
                            )
                        ],
                        unit="currencyINR",
                        kind="stat",
                        width=6,
                        height=5,
                    ),
                    Panel(
                        "Pending orders",
                        [("max(glosleep_orders_pending)", "pending")],
                        kind="stat",
                        width=6,
                        height=5,
                    ),
                    Panel(
                        "Order outcomes per hour",
                        [("sum by (outcome) (increase(glosleep_orders_total[1h]))", "{{outcome}}")],
                        width=12,
                    ),
                    Panel(
                        "Confirmed order value per hour (INR)",
                        [("sum(increase(glosleep_order_value_paise_total[1h])) / 100", "INR")],
                        unit="currencyINR",
                        width=12,
                    ),
                ],
            ),
            Row(
                "Stock",
                [
                    Panel(
                        "Reservations by outcome per hour",
                        [
                            (
                                "sum by (outcome) (increase(glosleep_reservations_total[1h]))",
                                "{{outcome}}",
                            )
                        ],
                        width=8,
                    ),
                    Panel(
                        "Short lines per hour",
                        [("sum(increase(glosleep_reservation_short_lines_total[1h]))", "short")],
                        width=8,
                        description="Order lines refused for lack of stock: lost sales.",
                    ),
                    Panel(
                        "Stock-low events (24 h)",
                        [("sum(increase(glosleep_stock_low_events_total[24h]))", "stock low")],
                        kind="stat",
                        width=8,
                    ),
                ],
            ),
            Row(
                "Procurement",
                [
                    Panel(
                        "Purchase orders per day",
                        [
                            (
                                "sum by (event) (increase(glosleep_purchase_orders_total[24h]))",
                                "{{event}}",
                            )
                        ],
                        width=12,
                    ),
                    Panel(
                        "Goods received per day",
                        [
                            ("sum(increase(glosleep_goods_receipts_total[24h]))", "procurement"),
                            ("sum(increase(glosleep_stock_receipts_total[24h]))", "inventory"),
                        ],
                        width=12,
                    ),
                ],
            ),
            Row(
                "Sign-ins",
                [
                    Panel(
                        "Logins by outcome per hour",
                        [("sum by (outcome) (increase(glosleep_logins_total[1h]))", "{{outcome}}")],
                        width=24,
                    )
                ],
            ),
        ],
        ["business"],
    )


def _burn(window: str) -> tuple[str, str]:
    return (
        f"slo:sli_error:ratio_rate{window} / on (slo) group_left () (1 - slo:objective:ratio)",
        f"{{{{slo}}}} {window}",
    )


def slo() -> Json:
    return dashboard(
        "glosleep-slo",
        "GloSleep / SLOs and error budgets",
        "Login and order placement: objectives, what is left of the 30-day budget, burn rates.",
        [
            Row(
                "Now",
                [
                    Panel(
                        "Objective",
                        [("slo:objective:ratio", "{{slo}}")],
                        unit="percentunit",
                        kind="stat",
                        width=8,
                        extra={"decimals": 2},
                    ),
                    Panel(
                        "SLI over 30 days",
                        [("1 - slo:sli_error:ratio_rate30d", "{{slo}}")],
                        unit="percentunit",
                        kind="stat",
                        width=8,
                        extra={"decimals": 3},
                    ),
                    Panel(
                        "Error budget left (30 days)",
                        [
                            (
                                "1 - slo:sli_error:ratio_rate30d / on (slo) group_left () "
                                "(1 - slo:objective:ratio)",
                                "{{slo}}",
                            )
                        ],
                        unit="percentunit",
                        kind="gauge",
                        width=8,
                        extra={"min": 0, "max": 1},
                    ),
                ],
            ),
            Row(
                "Burn rate (1 = spending the budget exactly over 30 days)",
                [
                    Panel(
                        "Fast windows (page at 14.4 for 1 h and 5 m, or 6 for 6 h and 30 m)",
                        [_burn("5m"), _burn("1h"), _burn("30m"), _burn("6h")],
                        width=12,
                    ),
                    Panel(
                        "Slow windows (ticket at 3 for 1 d and 2 h, or 1 for 3 d and 6 h)",
                        [_burn("2h"), _burn("1d"), _burn("3d")],
                        width=12,
                    ),
                    Panel(
                        "Error ratio, 5 m",
                        [("slo:sli_error:ratio_rate5m", "{{slo}}")],
                        unit="percentunit",
                        width=12,
                    ),
                    Panel(
                        "Burn-rate alerts",
                        [
                            (
                                'sum by (alertname, slo, alertstate) (ALERTS{alertname=~"'
                                'GloSleepErrorBudgetBurn.*"})',
                                "{{alertname}} {{slo}} {{alertstate}}",
                            )
                        ],
                        width=12,
                    ),
                ],
            ),
        ],
        ["slo"],
    )


def all_dashboards() -> dict[str, Json]:
    boards = {"overview": overview(), "business": business(), "slo": slo()}
    boards.update({service: service_dashboard(service) for service in SERVICES})
    return boards


def render(board: Json) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name, board in all_dashboards().items():
        path = OUT / f"{name}.json"
        text = render(board)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print("out of date (run tools/build_dashboards.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
