"""Every config key of a stack edited in turn (nested keys too), run offline once per
test session, and diffed against the unedited run.

A full run costs one to two seconds, so the variants run once, in two forked worker
processes (the program is already imported in the parent), and are shared by the tests.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glosleep_platform.graph_diff import GraphDiff, diff_runs
from glosleep_platform.offline import OfflineRun, run_offline
from glosleep_platform.settings import REPO_ROOT, ConfigError, stack_config, with_setting
from tests.platform.helpers import offline

# A plausible other value for keys a generic edit would not make sense for.
PLAUSIBLE: dict[str, Any] = {
    "aws:region": "ap-southeast-1",
    "glosleep:kubernetesVersion": "1.35",
    # A patch release of the same Kubernetes version (the minor must match kubernetesVersion).
    "glosleep:kind.nodeImage": "kindest/node:v1.34.1",
    # Same zones, another order: subnets are laid out by position.
    "glosleep:eks.availabilityZones": ["ap-south-1b", "ap-south-1c", "ap-south-1a"],
    "glosleep:hostname": "shop.glosleep.example",
    "glosleep:bootstrapAdminEmail": "ops@glosleep.example",
    "glosleep:services.logLevel": "DEBUG",
    "glosleep:mongodb.storageSize": "40Gi",
    "glosleep:mongodb.storageClass": "fast",
    "glosleep:monitoring.prometheusRetention": "30d",
    "glosleep:monitoring.prometheusStorageSize": "100Gi",
    "glosleep:eks.vpcCidr": "10.1.0.0/16",
    "glosleep:eks.natGateways": "single",
    "glosleep:eks.publicAccessCidrs": ["13.233.0.0/24"],
    "glosleep:eks.readOnlyRoleArns": ["arn:aws:iam::123456789012:role/glosleep-audit"],
    "glosleep:eks.nodeGroups.0.instanceTypes": ["m6i.xlarge"],
    "glosleep:eks.certificateArn": (
        "arn:aws:acm:ap-south-1:111122223333:certificate/1c4d3e2f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    ),
}


@dataclass(frozen=True)
class Edit:
    stack: str
    key: str  # "glosleep:eks.nodeGroups.0.maxSize"
    value: Any


@dataclass(frozen=True)
class EditResult:
    edit: Edit
    diff: GraphDiff | None
    rejected: str | None  # the program refused the value (ConfigError)


def _leaves(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}")
    elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}.{index}")
    else:
        yield prefix, value


def _changed(key: str, value: Any, scratch: Path) -> Any:
    if key in PLAUSIBLE:
        return PLAUSIBLE[key]
    if key == "glosleep:kind.configPath":
        copy = scratch / "kind-cluster.yaml"
        copy.write_text((REPO_ROOT / str(value)).read_text() + "# edited\n")
        return str(copy)
    if isinstance(value, bool):
        return not value
    if key.endswith(".replicaCount"):
        return value + 2  # a replica set keeps an odd number of members
    if key.endswith(".minSize"):
        return value - 1  # min <= desired
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "-2"
    raise AssertionError(f"no plausible edit for {key}={value!r}; add one to PLAUSIBLE")


def edits(stack: str, scratch: Path) -> list[Edit]:
    out = []
    for top, raw in stack_config(stack).items():
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if not isinstance(value, dict | list):
            value = raw
        for key, leaf in _leaves(value, top):
            out.append(Edit(stack, key, _changed(key, leaf, scratch)))
    return out


def edited_config(edit: Edit) -> dict[str, str]:
    return with_setting(stack_config(edit.stack), edit.key, edit.value)


_BASE: dict[str, OfflineRun] = {}
# What differs between two runs of the unedited program (kind's always-run up.sh).
_NOISE: dict[str, GraphDiff] = {}


def _run(edit: Edit) -> EditResult:
    try:
        run = run_offline(edit.stack, config=edited_config(edit))
    except ConfigError as error:
        return EditResult(edit, None, str(error))
    return EditResult(edit, diff_runs(_BASE[edit.stack], run).without(_NOISE[edit.stack]), None)


def noise(stack: str) -> GraphDiff:
    return _NOISE[stack]


def run_edits(stacks: tuple[str, ...], scratch: Path) -> list[EditResult]:
    for stack in stacks:
        _BASE[stack] = offline(stack)
        _NOISE[stack] = diff_runs(_BASE[stack], run_offline(stack))
    todo = [edit for stack in stacks for edit in edits(stack, scratch)]
    # Forked workers inherit the imported program and the base runs.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        return list(pool.map(_run, todo))
