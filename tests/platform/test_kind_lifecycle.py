"""What `pulumi up` does to the local Kind cluster, with the real up.sh and down.sh
(issue 13, B4).

The engine runs a command:local:Command's ``create`` when the resource is new or
replaced, and its ``delete`` when the old one goes. A change of ``triggers`` replaces
it: create-before-delete unless ``deleteBeforeReplace`` is set (pulumi-command). Here
the scripts run against fake ``kind`` and ``docker`` commands that keep the world (which
clusters and containers exist) in a folder, so the test sees what a user would see.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from glosleep_platform.offline import DeclaredResource, OfflineRun, run_offline
from glosleep_platform.settings import REPO_ROOT, stack_config
from tests.platform.helpers import offline

COMMAND = "command:local:Command"

FAKE_KIND = r"""#!/usr/bin/env bash
set -euo pipefail
world="$FAKE_WORLD"
case "$1 $2" in
  "get clusters") ls "$world/clusters" 2>/dev/null || true ;;
  "create cluster") shift 2; name=""
    while [ $# -gt 0 ]; do [ "$1" = --name ] && name="$2"; shift; done
    [ ! -e "$world/clusters/$name" ] || { echo "cluster $name exists" >&2; exit 1; }
    mkdir -p "$world/clusters"; echo "$NODE_IMAGE" > "$world/clusters/$name" ;;
  "delete cluster") rm -f "$world/clusters/$4" ;;
  "get nodes") echo "$4-control-plane" ;;
  "get kubeconfig") cat "$world/clusters/$4" ;;
  *) echo "fake kind: $*" >&2; exit 2 ;;
esac
"""

FAKE_DOCKER = r"""#!/usr/bin/env bash
set -euo pipefail
world="$FAKE_WORLD"
mkdir -p "$world/containers"
case "$1" in
  inspect) name="${!#}"
    if [ -e "$world/containers/$name" ]; then
      case "$3" in *Running*) echo true ;; *) echo '{"IPAddress":"x"}' ;; esac
    else exit 1; fi ;;
  run) name=""; while [ $# -gt 0 ]; do [ "$1" = --name ] && name="$2"; shift; done
    touch "$world/containers/$name" ;;
  rm) rm -f "$world/containers/${!#}" ;;
  exec|network) cat >/dev/null 2>&1 || true ;;
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
"""


@dataclass
class World:
    """The host as the kind and docker CLIs see it."""

    folder: Path

    def run(self, command: DeclaredResource, script: str) -> None:
        env = {
            **os.environ,
            **command.inputs.get("environment", {}),
            "FAKE_WORLD": str(self.folder),
            "PATH": f"{self.folder / 'bin'}:{os.environ['PATH']}",
        }
        subprocess.run(script, shell=True, cwd=REPO_ROOT, env=env, check=True)  # noqa: S602 - the program's own command line

    def clusters(self) -> dict[str, str]:
        folder = self.folder / "clusters"
        return {p.name: p.read_text().strip() for p in folder.iterdir()} if folder.exists() else {}

    def registry_running(self) -> bool:
        return (self.folder / "containers" / "glosleep-registry").exists()


@pytest.fixture
def world(tmp_path: Path) -> World:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("kind", FAKE_KIND), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return World(tmp_path)


def commands(run: OfflineRun) -> dict[str, DeclaredResource]:
    return {r.name: r for r in run.of_type(COMMAND)}


def up(world: World, before: OfflineRun | None, after: OfflineRun) -> None:
    """The engine's update from ``before`` to ``after`` for the Commands, in the
    program's order (each waits for the ones before it)."""
    old = commands(before) if before is not None else {}
    for name, new in commands(after).items():
        previous = old.get(name)
        if previous is not None and previous.inputs.get("triggers") == new.inputs.get("triggers"):
            continue  # unchanged: nothing runs
        delete = previous.inputs.get("delete") if previous is not None else None
        if previous is not None and new.request.delete_before_replace and delete:
            world.run(previous, delete)
            world.run(new, new.inputs["create"])
        else:
            world.run(new, new.inputs["create"])
            if delete:
                world.run(previous, delete)  # type: ignore[arg-type]  # previous is set when delete is


def test_the_first_up_creates_the_cluster_and_the_registry(world: World) -> None:
    up(world, None, offline("kind"))
    assert world.clusters() == {"glosleep": "kindest/node:v1.34.0"}
    assert world.registry_running()


def test_a_new_node_image_replaces_the_cluster_and_keeps_it(world: World) -> None:
    before = offline("kind")
    up(world, None, before)
    kind = json.loads(stack_config("kind")["glosleep:kind"])
    kind["nodeImage"] = "kindest/node:v1.34.1"
    after = run_offline("kind", overrides={"glosleep:kind": json.dumps(kind)})
    up(world, before, after)
    assert world.clusters() == {"glosleep": "kindest/node:v1.34.1"}
    assert world.registry_running()


def test_a_cluster_deleted_by_hand_comes_back_on_the_next_up(world: World) -> None:
    first = offline("kind")
    up(world, None, first)
    (world.folder / "clusters" / "glosleep").unlink()  # `kind delete cluster` by hand
    assert world.clusters() == {}
    up(world, first, run_offline("kind"))  # the same program and config, run again
    assert world.clusters() == {"glosleep": "kindest/node:v1.34.0"}


def test_destroy_removes_the_cluster_and_the_registry(world: World) -> None:
    run = offline("kind")
    up(world, None, run)
    for command in reversed(list(commands(run).values())):
        if command.inputs.get("delete"):
            world.run(command, command.inputs["delete"])
    assert world.clusters() == {}
    assert not world.registry_running()
