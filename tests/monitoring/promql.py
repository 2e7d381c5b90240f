"""What the monitoring tests read from the repo: rule files, dashboards, the
metric names a PromQL expression uses, and the contract in docs/architecture.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from apps.devstack.processes import REPO_ROOT
from apps.devstack.prometheus import rule_files

MONITORING = REPO_ROOT / "monitoring"
DASHBOARDS = MONITORING / "dashboards"
RUNBOOKS = REPO_ROOT / "docs" / "runbooks"
# The one base of every alert's runbook_url (changing it: sed the rule files; the
# test says which alert is off).
RUNBOOK_BASE_URL = "https://github.com/glosleep/platform/blob/main/docs/runbooks"

# Grafana's own variables, replaced before a query is sent to Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}

_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"bool", "offset", "inf", "nan", "atan2"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^{}]*\}")
_GROUPING = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_RANGE = re.compile(r"\[[^\]]*\]")
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric (and recorded series) names an expression selects."""
    text = _STRING.sub('""', expr)
    text = _BRACES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _RANGE.sub(" ", text)
    names = set()
    for match in _NAME.finditer(text):
        rest = text[match.end() :].lstrip()
        before = text[: match.start()]
        if rest.startswith("(") or match.group() in _KEYWORDS or before.endswith("$"):
            continue
        if before and (before[-1].isdigit() or before[-1] == "."):
            continue  # the unit of a number, such as the "e" of 1e3
        names.add(match.group())
    return names


def load_rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in rule_files():
        groups += yaml.safe_load(path.read_text())["groups"]
    return groups


def rules() -> Iterator[dict[str, Any]]:
    for group in load_rule_groups():
        yield from group["rules"]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) for every target of every panel."""
    found = []
    for name, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                found.append((name, panel["title"], target["expr"]))
    return found


def runnable(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def contract_metrics() -> dict[str, set[str]]:
    """Metric names per service from docs/architecture.md's "Metrics" section,
    as exposition names (histograms as their _bucket series)."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    owners = {
        "auth": ["auth"],
        "inventory": ["inventory"],
        "order": ["order"],
        "procurement": ["procurement"],
        "analytics": ["analytics"],
        "outbox producers": ["inventory", "order", "procurement"],
    }
    found: dict[str, set[str]] = {}
    bullet = ""
    for line in section.splitlines():
        if line.startswith("- "):
            bullet = line[2:].split(":", 1)[0].strip()
        for name in re.findall(r"`(glosleep_[a-z0-9_]+)", line):
            for service in owners.get(bullet, []):
                found.setdefault(service, set()).add(name)
    return found
