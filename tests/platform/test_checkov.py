"""A checkov scan of every rendered manifest; each remaining finding is justified in
platform/checkov-justifications.yaml, and each justification still applies."""

from __future__ import annotations

import fnmatch
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from glosleep_platform.manifests import write_manifests
from tests.platform.helpers import STACKS, offline

ROOT = Path(__file__).resolve().parents[2]
JUSTIFICATIONS = ROOT / "platform" / "checkov-justifications.yaml"


@pytest.fixture(scope="session")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    checkov = subprocess.run(
        ["bash", str(ROOT / "tools" / "install-checkov.sh")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    directory = tmp_path_factory.mktemp("checkov")
    for stack in STACKS:
        write_manifests(offline(stack).kubernetes_objects(), directory / stack)
    result = subprocess.run(
        [checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports: Any = json.loads(result.stdout)
    found: dict[str, list[str]] = {}
    for report in reports if isinstance(reports, list) else [reports]:
        assert report["summary"]["passed"] > 0, "checkov scanned nothing"
        for check in report["results"]["failed_checks"]:
            found.setdefault(check["check_id"], []).append(check["resource"])
    return found


def justifications() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = yaml.safe_load(JUSTIFICATIONS.read_text())
    for check_id, entry in loaded.items():
        assert entry["why"].strip(), f"{check_id}: say why"
        assert entry["resources"], f"{check_id}: name the resources"
    return loaded


def test_every_finding_is_justified(findings: dict[str, list[str]]) -> None:
    accepted = justifications()
    unjustified = [
        f"{check_id} {resource}"
        for check_id, resources in findings.items()
        for resource in resources
        if not any(
            fnmatch.fnmatchcase(resource, pattern)
            for pattern in accepted.get(check_id, {}).get("resources", [])
        )
    ]
    assert unjustified == []


def test_no_justification_is_stale(findings: dict[str, list[str]]) -> None:
    stale = [
        f"{check_id} {pattern}"
        for check_id, entry in justifications().items()
        for pattern in entry["resources"]
        if not any(fnmatch.fnmatchcase(r, pattern) for r in findings.get(check_id, []))
    ]
    assert stale == []
