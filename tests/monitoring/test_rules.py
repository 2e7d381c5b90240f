"""The alert rules: promtool accepts them, every alert has unit tests that show it
firing and staying quiet, and every alert leads to its runbook."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict

import yaml

from apps.devstack.prometheus import binary, rule_files
from tests.monitoring.promql import MONITORING, RUNBOOK_BASE_URL, RUNBOOKS, alerts, rules


def test_promtool_checks_the_rule_files() -> None:
    result = subprocess.run(
        [binary("promtool"), "check", "rules", *map(str, rule_files())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    tests = sorted(MONITORING.glob("tests/*.yaml"))
    assert tests
    result = subprocess.run(
        [binary("promtool"), "test", "rules", *map(str, tests)],
        capture_output=True,
        text=True,
        check=False,
        cwd=MONITORING / "tests",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    firing: dict[str, int] = defaultdict(int)
    quiet: dict[str, int] = defaultdict(int)
    tested_files: set[str] = set()
    for path in MONITORING.glob("tests/*.yaml"):
        spec = yaml.safe_load(path.read_text())
        tested_files.update(name.rsplit("/", 1)[-1] for name in spec["rule_files"])
        for test in spec["tests"]:
            for case in test.get("alert_rule_test", []):
                if case.get("exp_alerts"):
                    firing[case["alertname"]] += 1
                else:
                    quiet[case["alertname"]] += 1
    assert {path.name for path in rule_files()} <= tested_files
    names = {alert["alert"] for alert in alerts()}
    assert names, "no alerts found"
    assert sorted(names - set(firing)) == [], "alerts never shown firing"
    assert sorted(names - set(quiet)) == [], "alerts never shown staying quiet"


def test_every_alert_has_severity_annotations_and_its_runbook() -> None:
    seen = set()
    for alert in alerts():
        name = alert["alert"]
        assert name not in seen, f"{name} is defined twice"
        seen.add(name)
        assert alert["labels"]["severity"] in {"critical", "warning"}, name
        annotations = alert["annotations"]
        assert annotations["summary"], name
        assert annotations["description"], name
        assert annotations["runbook_url"] == f"{RUNBOOK_BASE_URL}/{name}.md", name
        runbook = RUNBOOKS / f"{name}.md"
        assert runbook.exists(), f"missing {runbook}"
        text = runbook.read_text()
        for section in ("## What it means", "## How to confirm", "## What to do"):
            assert section in text, f"{runbook.name} lacks {section!r}"


def test_rules_select_only_glosleep_jobs() -> None:
    """The same rules run in the cluster next to other apps' metrics: every raw
    service metric a rule reads is narrowed to our jobs, never all of Prometheus."""
    raw = ["up", "http_requests_total", "http_request_duration_seconds_bucket"]
    raw += ["glosleep_database_up", "glosleep_outbox_backlog", "glosleep_event_lag_seconds"]
    for rule in rules():
        for name in raw:
            for match in re.finditer(rf"(?<![\w:]){name}(?![\w:])(\{{[^}}]*\}})?", rule["expr"]):
                assert "job=" in (match.group(1) or ""), f"{name} without a job in {rule}"
