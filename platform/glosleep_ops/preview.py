"""``glosleep-ops preview``: what a deploy of this version would do to a stack, compared
with another version (a git ref), as Markdown for a pull request comment.

Both versions run offline under mocks, each in a child process with its own program and
config (see :func:`glosleep_ops.resources.declared`); the structural diff (added,
deleted, changed inputs, replacements with reason and mode) comes from
:mod:`glosleep_platform.graph_diff`. No cloud credentials; secret values print as
``[secret]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glosleep_ops import EXIT_CHANGED, EXIT_OK
from glosleep_ops.resources import REPO_ROOT, OpsError, checkout, run_in_checkout
from glosleep_platform.graph_diff import GraphDiff, diff_runs
from glosleep_platform.mocks import RequestFacts
from glosleep_platform.offline import DeclaredResource, OfflineRun
from glosleep_platform.settings import stack_config, with_setting

# Runs in the child, against *that* checkout's runner: an older one may lack the
# recorded requests, so every field beyond the basics is optional.
DUMP_SCRIPT = """
import dataclasses, json, sys
from glosleep_platform.offline import run_offline
run = run_offline(sys.argv[1], overrides=json.loads(sys.argv[2]))
out = []
for r in run.resources:
    request = getattr(r, "request", None)
    out.append({
        "type": r.type, "name": r.name, "inputs": r.inputs,
        "secret_inputs": sorted(r.secret_inputs), "provider": r.provider,
        "custom": r.custom, "parent": r.parent,
        "request": dataclasses.asdict(request) if request is not None else None,
    })
json.dump(out, sys.stdout, default=str)
"""


def _urn(stack: str, parent: str, type_token: str, name: str) -> str:
    """The URN the mock monitor gives (for runs recorded before URNs were kept)."""
    if parent:
        type_token = parent.split("::")[2].rsplit("$", maxsplit=1)[-1] + "$" + type_token
    return f"urn:pulumi:{stack}::glosleep::{type_token}::{name}"


def _request(stack: str, item: dict[str, Any]) -> RequestFacts:
    raw = item.get("request")
    if not raw:
        return RequestFacts(
            urn=_urn(stack, str(item["parent"]), str(item["type"]), str(item["name"])),
            parent=str(item["parent"]),
        )
    return RequestFacts(
        **{
            **raw,
            "dependencies": tuple(raw.get("dependencies", ())),
            "property_dependencies": {
                key: tuple(urns) for key, urns in raw.get("property_dependencies", {}).items()
            },
            "replace_on_changes": tuple(raw.get("replace_on_changes", ())),
            "ignore_changes": tuple(raw.get("ignore_changes", ())),
            "aliases": tuple(raw.get("aliases", ())),
        }
    )


def load_run(stack: str, data: Any) -> OfflineRun:
    if not isinstance(data, list):
        raise OpsError("the offline run's dump is not a list")
    resources = tuple(
        DeclaredResource(
            type=str(item["type"]),
            name=str(item["name"]),
            inputs=item["inputs"],
            outputs={},
            secret_inputs=frozenset(item["secret_inputs"]),
            provider=item.get("provider"),
            custom=bool(item["custom"]),
            parent=str(item["parent"]),
            request=_request(stack, item),
        )
        for item in data
    )
    return OfflineRun(stack, resources, {}, frozenset(), ())


def overrides(stack: str, root: Path, settings: Mapping[str, Any]) -> dict[str, str]:
    """The config keys ``settings`` (``key[.path]`` -> value) change in ``root``'s stack file."""
    config = stack_config(stack, root)
    for key, value in settings.items():
        config = with_setting(config, key, value)
    return {key.partition(".")[0]: config[key.partition(".")[0]] for key in settings}


def offline_run(
    stack: str, root: Path = REPO_ROOT, settings: Mapping[str, Any] | None = None
) -> OfflineRun:
    changes = overrides(stack, root, settings or {})
    return load_run(stack, json.loads(run_in_checkout(stack, root, DUMP_SCRIPT, changes)))


def preview(
    stack: str, base_root: Path, root: Path = REPO_ROOT, settings: Mapping[str, Any] | None = None
) -> GraphDiff:
    """The diff of ``root`` against ``base_root``, both with the same ``settings`` set."""
    return diff_runs(offline_run(stack, base_root, settings), offline_run(stack, root, settings))


def parse_setting(text: str) -> tuple[str, Any]:
    """``KEY[.PATH]=VALUE``; VALUE is JSON when it parses as JSON, else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise OpsError(
            f"--set {text!r}: expected KEY=VALUE (e.g. glosleep:eks.certificateArn=arn:...)"
        )
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def markdown(stack: str, diff: GraphDiff, base_label: str) -> str:
    title = f"Structural preview, stack `{stack}`: this version against `{base_label}`"
    footer = (
        "\n_From the offline run of both versions under mocks (no cloud access): replacements "
        "follow the providers' own rules (platform/glosleep_platform/replacements.py); values "
        "known only after deploy, and anything outside the program, are not shown._\n"
    )
    return diff.to_markdown(title) + footer


def run(
    stack: str, compare_to: str, settings: Mapping[str, Any], root: Path = REPO_ROOT
) -> tuple[int, str]:
    """The command: the Markdown for ``root`` against ``compare_to`` (a git ref of
    ``root``'s repository, or another checkout), and the exit code (10: changed)."""
    with checkout(compare_to, root) as other:
        diff = preview(stack, other, root, settings)
    return (EXIT_OK if diff.empty() else EXIT_CHANGED), markdown(stack, diff, compare_to)
