"""The project installs itself: its commands are entry points, and nothing outside the
Pulumi entry point reaches code through sys.path edits or PYTHONPATH."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The Pulumi entry point adds platform/ (a stdlib module name) itself. The ops tool's
# run of *another* checkout's program (--compare-to) must import that checkout's code
# rather than the installed one, so it passes that checkout's folders to the child.
ALLOWED = {REPO / "__main__.py", REPO / "platform" / "glosleep_ops" / "resources.py"}


def test_commands_are_entry_points_of_the_installed_project() -> None:
    scripts = {
        entry.name: entry.value
        for entry in distribution("glosleep-platform").entry_points
        if entry.group == "console_scripts"
    }
    assert scripts == {
        "glosleep-ops": "glosleep_ops.cli:main",
        "glosleep-dev": "apps.devstack.__main__:main",
    }


def test_glosleep_ops_runs_from_anywhere_without_pythonpath(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("glosleep-ops")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(command), "cost", "--stack", "kind", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"total": 0' in result.stdout


def _path_edits(source: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Attribute) and node.attr in {"insert", "append", "extend"}:
            target = node.value
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "path"
                and isinstance(target.value, ast.Name)
                and target.value.id == "sys"
            ):
                found.append(f"{source}:{node.lineno} sys.path.{node.attr}")
        if isinstance(node, ast.Constant) and node.value == "PYTHONPATH":
            found.append(f"{source}:{node.lineno} PYTHONPATH")
    return found


def test_no_sys_path_edits_or_pythonpath_outside_the_pulumi_entry_point() -> None:
    sources = [
        path
        for folder in ("apps", "platform", "stacks", "tests", "tools")
        for path in (REPO / folder).rglob("*.py")
        if path.resolve() != Path(__file__).resolve()
    ]
    sources.append(REPO / "__main__.py")
    edits = [edit for path in sources if path not in ALLOWED for edit in _path_edits(path)]
    assert edits == []
    shell = [REPO / "Makefile", *(REPO / "tools").glob("*.sh"), REPO / "tools" / "glosleep-ops"]
    assert [str(path) for path in shell if "PYTHONPATH" in path.read_text()] == []
