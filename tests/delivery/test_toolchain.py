"""Which Python toolchain the Pulumi CLI picks for this project, and whether every
place that runs the CLI gives it what that toolchain needs (issue 13, B1).

The CLI's rule (pulumi/pulumi#22234, 3.227 and later): with
``runtime.options.toolchain`` unset it picks the toolchain from lock files (``uv.lock``
selects uv, which must be on PATH); older CLIs use pip and run ``python -m pip`` in the
virtualenv, which a venv made by ``uv sync`` lacks (pulumi/pulumi#22231).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / ".github" / "actions" / "pulumi-cli" / "action.yml"
UV_BIN = ".cache/tools/uv/bin"
LOCK_FILE_DETECTION = (3, 227, 0)
# The first CLI whose uv toolchain syncs the venv on every run (pulumi/pulumi#20117)
# and no older than the SDK floor in pyproject.toml.
SUPPORTED_FROM = (3, 190, 0)


def version(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def toolchain_the_cli_picks(project: dict[str, Any], files: set[str], cli: str) -> str:
    options = (project.get("runtime") or {}).get("options") or {}
    if isinstance(project.get("runtime"), str):
        options = {}
    if "toolchain" in options:
        return str(options["toolchain"])
    if version(cli) >= LOCK_FILE_DETECTION:
        if "uv.lock" in files:
            return "uv"
        if "poetry.lock" in files:
            return "poetry"
    return "pip"


def unmet_needs(toolchain: str, on_path: set[str], venv_has_pip: bool) -> list[str]:
    if toolchain == "uv":
        return [] if "uv" in on_path else ["uv on PATH"]
    if toolchain == "pip":
        return [] if venv_has_pip else ["pip in the virtualenv"]
    return [f"{toolchain} (not supported here)"]


def project_files() -> set[str]:
    return {path.name for path in ROOT.iterdir()}


def venv_has_pip() -> bool:
    """The real .venv, made by `make install` (uv sync): does `python -m pip` work?"""
    python = ROOT / ".venv" / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "--version"], capture_output=True, check=False
    )
    return result.returncode == 0


def test_the_projects_venv_has_no_pip() -> None:
    # The fact that makes the pip toolchain fail: the model below relies on it.
    assert not venv_has_pip()


@pytest.mark.parametrize("cli", ["3.190.0", "3.226.0", "3.227.0", "3.255.0", "3.300.0"])
def test_every_supported_cli_picks_a_toolchain_the_deploy_can_run(cli: str) -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    toolchain = toolchain_the_cli_picks(project, project_files(), cli)
    assert toolchain == "uv"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    # What the composite action puts on PATH for every workflow that runs the CLI.
    assert unmet_needs(toolchain, {"uv", "pulumi"}, venv_has_pip()) == []


def test_without_an_explicit_toolchain_both_old_and_new_clis_fail() -> None:
    # The program as it was: no toolchain option, uv.lock at the root, uv not on PATH.
    project = {"runtime": {"name": "python", "options": {"virtualenv": ".venv"}}}
    old = toolchain_the_cli_picks(project, project_files(), "3.200.0")
    new = toolchain_the_cli_picks(project, project_files(), "3.230.0")
    assert unmet_needs(old, {"pulumi"}, venv_has_pip()) == ["pip in the virtualenv"]
    assert unmet_needs(new, {"pulumi"}, venv_has_pip()) == ["uv on PATH"]


def action_steps() -> list[dict[str, Any]]:
    return list(yaml.safe_load(ACTION.read_text())["runs"]["steps"])


def test_the_cli_action_verifies_a_pinned_download_and_puts_uv_on_path() -> None:
    install = action_steps()[0]
    script, env = install["run"], install["env"]
    assert not re.search(r"\|\s*(ba)?sh\b", script), "no piping a download into a shell"
    assert re.fullmatch(r"[0-9a-f]{64}", env["PULUMI_SHA256"])
    assert "sha256sum --check" in script
    assert f"$GITHUB_WORKSPACE/{UV_BIN}" in script
    # The CLI and the SDK move together: the SDK pin in pyproject.toml and uv.lock.
    cli = env["PULUMI_VERSION"]
    assert version(cli) >= SUPPORTED_FROM
    assert f'"pulumi=={cli}"' in (ROOT / "pyproject.toml").read_text()
    assert f'name = "pulumi"\nversion = "{cli}"' in (ROOT / "uv.lock").read_text()
    # The uv the action adds is the one `make install` puts there.
    assert "CACHE)/tools/uv/bin/uv" in (ROOT / "Makefile").read_text()


def jobs_running_pulumi() -> list[tuple[str, str, list[dict[str, Any]]]]:
    found = []
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            steps = job.get("steps", [])
            if any(re.search(r"(^|\s)pulumi ", str(s.get("run", ""))) for s in steps):
                found.append((path.name, name, steps))
    return found


def test_every_job_that_runs_the_cli_installs_it_through_the_action_first() -> None:
    jobs = jobs_running_pulumi()
    assert {workflow for workflow, _, _ in jobs} >= {
        "deploy.yml",
        "drift.yml",
        "kind-e2e.yml",
        "preview.yml",
    }
    for workflow, name, steps in jobs:
        uses = [str(s.get("uses", "")) for s in steps]
        runs = [str(s.get("run", "")) for s in steps]
        action = uses.index("./.github/actions/pulumi-cli")
        install = runs.index("make install")
        first_cli = next(i for i, run in enumerate(runs) if re.search(r"(^|\s)pulumi ", run))
        assert install < action < first_cli, f"{workflow}:{name}"
        assert not any("get.pulumi.com" in run for run in runs), f"{workflow}:{name}"
