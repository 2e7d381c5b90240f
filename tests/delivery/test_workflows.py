"""The GitHub workflows: actionlint + shellcheck + zizmor clean, and the repository's own
policy."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# tools/ is a folder of scripts, not a package (pytest puts it on the path): load the
# linter driver by name.
lint_workflows: Any = importlib.import_module("lint_workflows")

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses:\s*\S+@[0-9a-f]{40} # v?\d+\.\d+\.\d+$")
SECRET_IN_RUN = re.compile(r"\$\{\{[^}]*secrets\.")
WRITE_SCOPES_ALLOWED = {"id-token", "pull-requests", "issues"}


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    return {("on" if key is True else key): value for key, value in data.items()}


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    return dict(load(path)["jobs"])


def test_the_five_workflows_exist() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "preview.yml", "kind-e2e.yml", "deploy.yml", "drift.yml"} <= names


def test_actionlint_and_shellcheck_are_clean_on_every_workflow() -> None:
    findings = lint_workflows.actionlint(WORKFLOWS) + lint_workflows.shellcheck(WORKFLOWS)
    assert findings == []


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
        '      - run: echo "${{ matrix.nope }}"\n'
        "      - run: rm -rf $TARGET/*\n"
    )
    found = lint_workflows.actionlint([bad])
    assert any("potentially untrusted" in f for f in found)
    assert any('property "nope" is not defined' in f for f in found)
    checked = lint_workflows.shellcheck([bad])
    assert any("SC2086" in f for f in checked)  # unquoted $TARGET
    assert lint_workflows.main([str(bad)]) == 1


def test_zizmor_finds_nothing_in_the_workflows_and_actions() -> None:
    """The security audit over .github (workflows and this repository's own actions);
    what it reports that we keep is ignored, with the reason, in .github/zizmor.yml."""
    assert lint_workflows.zizmor([ROOT / ".github"]) == []


def test_zizmor_catches_an_unsafe_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "unsafe.yml"
    bad.write_text(
        "on: pull_request_target\n"
        "permissions: {}\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    found = "\n".join(lint_workflows.zizmor([bad]))
    assert "[zizmor dangerous-triggers]" in found
    assert "[zizmor unpinned-uses]" in found
    assert f"{bad}:8: code injection via template expansion" in found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    for job in jobs(path).values():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is None or uses.startswith("./"):
                continue
            assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a 40-hex SHA"
    for line in path.read_text().splitlines():
        if "uses:" in line and "@" in line:
            assert VERSION_COMMENT.search(line.strip()), f"{path.name}: no # vX.Y.Z on {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_empty_at_the_top_and_least_privilege_per_job(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") in ({}, "read-all", {"contents": "read"}), path.name
    for name, job in jobs(path).items():
        assert "permissions" in job, f"{path.name}: job {name} declares no permissions"
        permissions = job["permissions"]
        assert isinstance(permissions, dict), f"{path.name}: {name} uses a permissions shorthand"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= WRITE_SCOPES_ALLOWED, f"{path.name}: {name} writes {writes}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in jobs(path).items():
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {name} has no timeout"


def test_oidc_only_where_aws_or_signing_needs_it() -> None:
    for path in WORKFLOWS:
        for name, job in jobs(path).items():
            steps = job.get("steps", [])
            needs_oidc = any(
                "configure-aws-credentials" in str(s.get("uses", ""))
                or "cosign sign" in str(s.get("run", ""))
                for s in steps
            )
            has_oidc = job.get("permissions", {}).get("id-token") == "write"
            assert has_oidc == needs_oidc, f"{path.name}: {name} id-token {has_oidc}"


def test_no_secret_is_expanded_inside_a_run_script() -> None:
    for path in WORKFLOWS:
        for name, job in jobs(path).items():
            for step in job.get("steps", []):
                run = str(step.get("run", ""))
                assert not SECRET_IN_RUN.search(run), f"{path.name}: {name} puts a secret in run"
        assert "AWS_SECRET_ACCESS_KEY" not in path.read_text(), f"{path.name}: long-lived AWS key"


def test_deploys_never_overlap_and_go_through_the_protected_environment() -> None:
    deploy = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "production"
    runs = "\n".join(str(s.get("run", "")) for s in job["steps"])
    assert "pulumi up --stack eks" in runs
    assert 'cosign sign --yes "$image"' in runs
    assert any("configure-aws-credentials" in str(s.get("uses", "")) for s in job["steps"])


def test_ci_runs_the_suite_on_both_databases_and_python_versions() -> None:
    ci = jobs(ROOT / ".github" / "workflows" / "ci.yml")
    assert any("make test" in str(s.get("run", "")) for s in ci["test"]["steps"])
    mongo = ci["test-mongodb"]
    assert mongo["strategy"]["matrix"]["python"] == ["3.11", "3.12"]
    assert "replicaSet=rs0" in mongo["env"]["MONGO_URL"]
    assert any("--replSet rs0" in str(s.get("run", "")) for s in mongo["steps"])
    images = ci["images"]
    assert len(images["strategy"]["matrix"]["service"]) == 5
    # Both architectures, each built natively (issue 16 item 5).
    assert images["strategy"]["matrix"]["arch"] == ["amd64", "arm64"]
    assert "ubuntu-24.04-arm" in images["runs-on"]
    build = next(s for s in images["steps"] if "build-push-action" in str(s.get("uses")))
    assert build["with"]["platforms"] == "linux/${{ matrix.arch }}"
    assert build["with"]["cache-from"].startswith("type=gha")
    scan = next(s for s in images["steps"] if "trivy-action" in str(s.get("uses")))
    assert scan["with"] == scan["with"] | {
        "severity": "CRITICAL",
        "ignore-unfixed": True,
        "exit-code": "1",
    }


def test_drift_runs_on_a_schedule_and_manages_one_labelled_issue() -> None:
    drift = load(ROOT / ".github" / "workflows" / "drift.yml")
    assert "schedule" in drift["on"]
    text = (ROOT / ".github" / "workflows" / "drift.yml").read_text()
    assert "--expect-no-changes" in text
    assert "glosleep-ops drift" in text
    assert "labels: ['drift']" in text
    assert "state: 'closed'" in text
