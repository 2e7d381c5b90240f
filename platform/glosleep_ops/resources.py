"""What the program declares, as plain records, from the platform's offline runner.

The runner (``glosleep_platform.offline.run_offline``) executes the program under
Pulumi mocks. It runs here in a child process so that another checkout (``--compare-to``)
is run with *its* program, config and stack files, never a mix of two versions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS = ("eks", "kind")


class OpsError(Exception):
    """Something the command cannot work around; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class Resource:
    """One declared resource: Pulumi type token, logical name, inputs (camelCase keys)."""

    type: str
    name: str
    inputs: Mapping[str, Any]

    @property
    def tags(self) -> dict[str, str]:
        tags = self.inputs.get("tags") or {}
        return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def dig(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...`` or None when any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def from_json(data: Any) -> list[Resource]:
    if not isinstance(data, list):
        raise OpsError("resource list must be a JSON array")
    out = []
    for item in data:
        if not isinstance(item, dict) or not {"type", "name"} <= item.keys():
            raise OpsError(f"not a resource record: {str(item)[:80]}")
        out.append(Resource(str(item["type"]), str(item["name"]), item.get("inputs") or {}))
    return out


def to_json(resources: list[Resource]) -> list[dict[str, Any]]:
    return [{"type": r.type, "name": r.name, "inputs": dict(r.inputs)} for r in resources]


DECLARED_SCRIPT = (
    "import json, sys\n"
    "from glosleep_platform.offline import run_offline\n"
    "run = run_offline(sys.argv[1], overrides=json.loads(sys.argv[2]))\n"
    "json.dump([{'type': r.type, 'name': r.name, 'inputs': r.inputs}"
    " for r in run.resources], sys.stdout, default=str)\n"
)


def run_in_checkout(
    stack: str, root: Path, script: str, overrides: Mapping[str, str] | None = None
) -> str:
    """Run ``script`` (argv: the stack, then the config overrides as JSON) with the
    checkout at ``root``'s own program and config; its standard output."""
    if stack not in STACKS:
        raise OpsError(f"unknown stack {stack!r}; one of {', '.join(STACKS)}")
    if not (root / f"Pulumi.{stack}.yaml").is_file():
        raise OpsError(f"{root} has no Pulumi.{stack}.yaml")
    # Only the other checkout's own code; third-party packages come from this .venv.
    paths = [root / "platform", root]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths if p.is_dir())}
    # The program reads the checkout it lives in (REPO_ROOT of its own offline.py).
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script, stack validated above
        [sys.executable, "-c", script, stack, json.dumps(dict(overrides or {}))],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise OpsError(f"the offline run of {root} (stack {stack}) failed:\n{tail}")
    return result.stdout


def declared(
    stack: str, root: Path = REPO_ROOT, overrides: Mapping[str, str] | None = None
) -> list[Resource]:
    """Run the program of the checkout at ``root`` for ``stack`` offline; its resources.
    ``overrides`` are merged over the stack's config (as ``run_offline`` takes them)."""
    return from_json(json.loads(run_in_checkout(stack, root, DECLARED_SCRIPT, overrides)))


@contextmanager
def checkout(ref_or_path: str, root: Path = REPO_ROOT) -> Iterator[Path]:
    """A directory holding the other version: an existing checkout, or a git worktree of a ref."""
    path = Path(ref_or_path)
    if path.is_dir():
        yield path.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="glosleep-ops-") as tmp:
        target = Path(tmp) / "checkout"
        added = subprocess.run(  # noqa: S603 - git with a ref the user named, no shell
            ["git", "worktree", "add", "--detach", str(target), ref_or_path],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if added.returncode != 0:
            raise OpsError(
                f"--compare-to {ref_or_path!r}: not a directory nor a git ref\n"
                f"{added.stderr.strip()}"
            )
        try:
            yield target
        finally:
            subprocess.run(  # noqa: S603 - git, fixed arguments
                ["git", "worktree", "remove", "--force", str(target)],  # noqa: S607 - git from PATH
                cwd=root,
                capture_output=True,
                check=False,
            )
