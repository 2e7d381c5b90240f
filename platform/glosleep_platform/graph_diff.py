"""The structural difference between two offline runs of the program: what a deploy of
the new one would add, remove, change and replace (and how), from the declared graph.

Resources are matched by URN. A replacement comes from the provider facts in
:mod:`glosleep_platform.replacements` or the resource's ``replace_on_changes`` option;
it cascades to a resource whose replacing input comes from a replaced resource (the
new value is unknown until then) and to everything a replaced provider manages.
Secret inputs (paths the run recorded as secrets) are never shown: ``[secret]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from glosleep_platform.offline import DeclaredResource, OfflineRun, walk
from glosleep_platform.replacements import (
    CREATE_FIRST,
    DELETE_FIRST,
    HELM_IMMUTABLE_VALUES,
    Mode,
    matches,
    option_paths,
    replacing_paths,
    rules_for,
)
from glosleep_platform.triggers import is_every_update

SECRET = "[secret]"  # noqa: S105 - the placeholder printed instead of a secret
RELEASE = "kubernetes:helm.sh/v3:Release"
COMMAND = "command:local:Command"


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any
    secret: bool

    def shown(self, value: Any) -> str:
        if self.secret:
            return SECRET
        if value is None:
            return "(none)"
        text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
        return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Replacement:
    reason: str
    mode: Mode
    source: str


@dataclass
class ResourceDiff:
    urn: str
    type: str
    name: str
    changes: list[Change]
    replacement: Replacement | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class GraphDiff:
    added: list[DeclaredResource]
    removed: list[DeclaredResource]
    changed: list[ResourceDiff]

    @property
    def replaced(self) -> list[ResourceDiff]:
        return [c for c in self.changed if c.replacement is not None]

    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def without(self, noise: GraphDiff) -> GraphDiff:
        """This diff less what also differs between two runs of the same program (a
        trigger that changes on every run, say)."""
        same = {(c.urn, c.replacement) for c in noise.changed}
        return GraphDiff(
            added=[r for r in self.added if r.urn not in {n.urn for n in noise.added}],
            removed=[r for r in self.removed if r.urn not in {n.urn for n in noise.removed}],
            changed=[c for c in self.changed if (c.urn, c.replacement) not in same],
        )

    def to_markdown(self, title: str) -> str:
        return render_markdown(self, title)


def _leaves(inputs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, node in walk(inputs):
        if path and (not isinstance(node, dict | list) or not node):
            out[path] = node
    return out


def _is_secret(path: str, *resources: DeclaredResource) -> bool:
    parts = path.split(".")
    prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return any(prefixes & r.secret_inputs for r in resources)


def changed_inputs(old: DeclaredResource, new: DeclaredResource) -> list[Change]:
    before, after = _leaves(old.inputs), _leaves(new.inputs)
    return [
        Change(path, before.get(path), after.get(path), _is_secret(path, old, new))
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path) or (path in before) != (path in after)
        # A trigger that changes on every run is not a change this edit made.
        if not (is_every_update(before.get(path)) and is_every_update(after.get(path)))
    ]


def _mode(old: DeclaredResource, new: DeclaredResource) -> tuple[Mode, str]:
    if new.request.delete_before_replace:
        return DELETE_FIRST, "delete_before_replace option"
    if new.is_kubernetes_object:
        name = new.inputs.get("metadata", {}).get("name")
        same_place = all(
            old.inputs.get("metadata", {}).get(key) == new.inputs.get("metadata", {}).get(key)
            for key in ("name", "namespace")
        )
        if name and same_place:
            return DELETE_FIRST, "fixed name: pulumi-kubernetes deletes first"
    return CREATE_FIRST, "engine default"


def _direct_replacement(
    old: DeclaredResource, new: DeclaredResource, changes: list[Change]
) -> Replacement | None:
    paths = [c.path for c in changes]
    found = replacing_paths(new.type, paths, new.inputs)
    option = [
        p for p in paths if any(matches(p, o) for o in option_paths(new.request.replace_on_changes))
    ]
    if not found and not option:
        return None
    mode, why = _mode(old, new)
    if found:
        path, rule = found[0]
        return Replacement(f"{path} changed", mode, f"{rule.source}; mode: {why}")
    return Replacement(f"{option[0]} changed", mode, f"replace_on_changes option; mode: {why}")


# Types whose ``name`` input is the physical name in the cloud: a replacement that
# creates first collides with the old one.
NAMED_IN_THE_CLOUD = frozenset(
    {
        "eks:index:Cluster",
        "aws:eks/cluster:Cluster",
        "aws:ecr/repository:Repository",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:iam/role:Role",
    }
)
STATEFUL_CHARTS = frozenset({"mongodb"})
STATEFUL_TYPES = frozenset(
    {
        "eks:index:Cluster",
        "aws:eks/cluster:Cluster",
        "aws:ecr/repository:Repository",
        "aws:s3/bucket:Bucket",
        "aws:kms/key:Key",
    }
)


def is_stateful(resource: DeclaredResource) -> bool:
    """What holds data or is slow and costly to rebuild: the Kind cluster command (it
    also runs the registry), MongoDB's release and namespace (its volumes), the EKS
    cluster, the ECR repositories, the export bucket and the KMS keys behind them."""
    if resource.type in STATEFUL_TYPES:
        return True
    if resource.type == RELEASE:
        return str(resource.inputs.get("chart", "")).rsplit("/", 1)[-1] in STATEFUL_CHARTS
    if resource.type == "kubernetes:core/v1:Namespace":
        return bool(resource.inputs.get("metadata", {}).get("name") == "mongodb")
    if resource.type == COMMAND:
        # The command whose delete removes the cluster; the one that only runs up.sh
        # on every update deletes nothing when it is replaced.
        return "kind/down.sh" in str(resource.inputs.get("delete", ""))
    return False


def _replacement_notes(new: DeclaredResource, replacement: Replacement) -> list[str]:
    if (
        replacement.mode == CREATE_FIRST
        and new.type in NAMED_IN_THE_CLOUD
        and new.inputs.get("name")
    ):
        return [
            f"created before the old one is deleted, under the same name "
            f"{new.inputs['name']!r}: the create fails unless it is deleted first"
        ]
    return []


def _notes(new: DeclaredResource, changes: list[Change]) -> list[str]:
    notes = []
    paths = [c.path for c in changes]
    if new.type == RELEASE:
        chart = str(new.inputs.get("chart", "")).rsplit("/", 1)[-1]
        for value in HELM_IMMUTABLE_VALUES.get(chart, ()):
            if any(matches(p, f"values.{value}") for p in paths):
                notes.append(
                    f"values.{value} changed: Helm upgrades the StatefulSet, whose "
                    "volumeClaimTemplates Kubernetes refuses to change (the update fails)"
                )
    if new.type == COMMAND and not new.inputs.get("update"):
        others = [p for p in paths if not matches(p, "triggers")]
        if others:
            notes.append(
                f"{others[0]} changed: updated in place by running create again; "
                "delete never runs for the old values"
            )
    return notes


def diff_runs(old: OfflineRun, new: OfflineRun) -> GraphDiff:
    after = {r.urn: r for r in new.resources}
    old_by_urn = {r.urn: r for r in old.resources}
    # The old resource each new one continues: the same URN, or one of its aliases.
    before: dict[str, DeclaredResource] = {}
    for urn, resource in after.items():
        if urn in old_by_urn:
            before[urn] = old_by_urn[urn]
            continue
        for alias in resource.request.aliases:
            if alias in old_by_urn and alias not in after:
                before[urn] = old_by_urn[alias]
                break
    continued = {r.urn for r in before.values()}
    diffs: dict[str, ResourceDiff] = {}
    for urn, old_resource in before.items():
        changes = changed_inputs(old_resource, after[urn])
        if changes:
            replacement = _direct_replacement(old_resource, after[urn], changes)
            notes = _notes(after[urn], changes)
            if replacement is not None:
                notes += _replacement_notes(after[urn], replacement)
            diffs[urn] = ResourceDiff(
                urn, after[urn].type, after[urn].name, changes, replacement, notes
            )
    _cascade(before, after, diffs)
    return GraphDiff(
        added=[after[u] for u in after if u not in before],
        removed=[r for r in old.resources if r.urn not in continued],
        changed=[diffs[u] for u in after if u in diffs],
    )


def _cascade(
    before: dict[str, DeclaredResource],
    after: dict[str, DeclaredResource],
    diffs: dict[str, ResourceDiff],
) -> None:
    """Replace what takes a replacing input from a replaced resource, and whatever a
    replaced provider manages, until nothing more changes."""
    while True:
        replaced = {u for u, d in diffs.items() if d.replacement is not None}
        grew = False
        for urn, resource in after.items():
            if urn not in before or urn in replaced:
                continue
            reason = _cascade_reason(resource, replaced, after)
            if reason is None:
                continue
            mode, why = _mode(before[urn], resource)
            entry = diffs.setdefault(urn, ResourceDiff(urn, resource.type, resource.name, []))
            entry.replacement = Replacement(reason, mode, f"cascade; mode: {why}")
            entry.notes += _replacement_notes(resource, entry.replacement)
            grew = True
        if not grew:
            return


def _cascade_reason(
    resource: DeclaredResource, replaced: set[str], after: dict[str, DeclaredResource]
) -> str | None:
    provider = resource.request.provider_ref.rsplit("::", 1)[0]
    if provider in replaced:
        return f"its provider {after[provider].name} is replaced"
    # Only an input that is replacing as a whole: a deeper path (spec.selector) cannot be
    # told apart from the rest of the input the dependency feeds.
    whole = {
        p
        for rule in rules_for(resource.type, resource.inputs)
        if rule.cascades
        for p in rule.paths
        if "." not in p
    }
    whole |= {p.split(".")[0] for p in option_paths(resource.request.replace_on_changes)}
    for key, sources in resource.request.property_dependencies.items():
        hit = sorted(set(sources) & replaced)
        if hit and key in whole:
            return f"{key} comes from {after[hit[0]].name}, which is replaced"
    return None


def _label(resource: DeclaredResource | ResourceDiff) -> str:
    return f"`{resource.type}` **{resource.name}**"


def render_markdown(diff: GraphDiff, title: str) -> str:
    lines = [f"### {title}", ""]
    if diff.empty():
        lines.append("No structural change: the same resources with the same inputs.")
        return "\n".join(lines) + "\n"
    counts = (
        f"{len(diff.added)} to add, {len(diff.removed)} to delete, "
        f"{len(diff.changed)} to change, {len(diff.replaced)} of them replaced"
    )
    lines += [counts, ""]
    if diff.replaced:
        lines += ["#### Replaced", "", "| resource | why | how | source |", "|---|---|---|---|"]
        for entry in diff.replaced:
            assert entry.replacement is not None
            r = entry.replacement
            lines.append(f"| {_label(entry)} | {r.reason} | {r.mode} | {r.source} |")
        lines.append("")
    if diff.added:
        lines += ["#### Added", ""] + [f"- {_label(r)}" for r in diff.added] + [""]
    if diff.removed:
        lines += ["#### Deleted", ""] + [f"- {_label(r)}" for r in diff.removed] + [""]
    if diff.changed:
        lines += ["#### Changed inputs", ""]
        for entry in diff.changed:
            lines.append(f"- {_label(entry)}")
            for change in entry.changes:
                lines.append(
                    f"  - `{change.path}`: {change.shown(change.old)} -> {change.shown(change.new)}"
                )
            for note in entry.notes:
                lines.append(f"  - note: {note}")
        lines.append("")
    notes = [(entry, note) for entry in diff.replaced if not entry.changes for note in entry.notes]
    if notes:
        lines += ["#### Notes", ""] + [f"- {_label(e)}: {n}" for e, n in notes] + [""]
    return "\n".join(lines)
