"""Each config key of each stack edited in turn: what the deploy would add, delete, change
and replace, and that stateful things survive every edit that need not replace them."""

from __future__ import annotations

import pytest

from glosleep_platform.graph_diff import GraphDiff, is_stateful
from glosleep_platform.offline import DeclaredResource
from tests.platform.config_edits import EditResult, noise, run_edits
from tests.platform.helpers import STACKS, offline

# Edits that must rebuild stateful things, and why (docs/deploy.md says so too).
MUST_REPLACE: dict[tuple[str, str], str] = {
    ("kind", "glosleep:kind.nodeImage"): "a new node image is a new Kind cluster",
    ("kind", "glosleep:kind.configPath"): "a new cluster config is a new Kind cluster",
    ("kind", "glosleep:kind.clusterName"): "another name is another Kind cluster",
    ("kind", "glosleep:kind.registryPort"): "the registry's port is set when its container starts",
    ("eks", "glosleep:eks.vpcCidr"): "a new VPC: new subnets, so a new EKS cluster",
    ("eks", "glosleep:eks.availabilityZones"): "subnets are laid out per zone: new subnets",
}
# Edits the program refuses, with the words the error must contain.
REFUSED: dict[tuple[str, str], str] = {
    ("kind", "glosleep:kubernetesVersion"): "set both to the same version",
    ("eks", "aws:region"): "every availability zone must be in the region",
    ("eks", "glosleep:eks.endpointPublicAccess"): "publicAccessCidrs is set",
    ("eks", "glosleep:kubernetesVersion"): "has no EKS add-on versions",
}
# Edits with no effect on the declared graph, and why that is right.
NO_EFFECT: dict[tuple[str, str], str] = {
    ("kind", "glosleep:owner"): "owner is an AWS tag; kind has no AWS resources",
    ("kind", "glosleep:costCenter"): "cost-center is an AWS tag; kind has no AWS resources",
    ("eks", "glosleep:eks.deployRoleArn"): (
        "the deploy role holds the creator's access entry, which EKS makes; "
        "the program only checks it against the other roles"
    ),
}


@pytest.fixture(scope="session")
def edit_results(tmp_path_factory: pytest.TempPathFactory) -> list[EditResult]:
    return run_edits(STACKS, tmp_path_factory.mktemp("config-edits"))


def _stateful_hits(stack: str, diff: GraphDiff) -> list[str]:
    by_urn: dict[str, DeclaredResource] = {r.urn: r for r in offline(stack).resources}
    hits = [
        f"replaces {c.name} ({c.replacement.reason})"
        for c in diff.replaced
        if c.replacement and is_stateful(by_urn[c.urn])
    ]
    hits += [f"deletes {r.name}" for r in diff.removed if is_stateful(r)]
    return hits


def test_every_config_key_is_edited_nested_ones_too(edit_results: list[EditResult]) -> None:
    keys = {(r.edit.stack, r.edit.key) for r in edit_results}
    assert ("eks", "glosleep:eks.nodeGroups.0.maxSize") in keys
    assert ("kind", "glosleep:services.logLevel") in keys
    assert ("kind", "glosleep:kind.clusterName") in keys
    assert set(MUST_REPLACE) | set(REFUSED) | set(NO_EFFECT) <= keys


def test_stateful_things_survive_every_edit_that_need_not_replace_them(
    edit_results: list[EditResult],
) -> None:
    unexpected = {}
    for result in edit_results:
        where = (result.edit.stack, result.edit.key)
        if result.diff is None:
            continue
        hits = _stateful_hits(result.edit.stack, result.diff)
        if bool(hits) != (where in MUST_REPLACE):
            unexpected[f"{where[0]} {where[1]}={result.edit.value!r}"] = hits
    assert unexpected == {}


def test_refused_edits_say_why(edit_results: list[EditResult]) -> None:
    refused = {(r.edit.stack, r.edit.key): r.rejected for r in edit_results if r.rejected}
    assert set(refused) == set(REFUSED)
    for where, words in REFUSED.items():
        assert words in str(refused[where]), where


def test_every_other_edit_changes_the_declared_graph(edit_results: list[EditResult]) -> None:
    dead = [
        (r.edit.stack, r.edit.key) for r in edit_results if r.diff is not None and r.diff.empty()
    ]
    assert sorted(dead) == sorted(NO_EFFECT)


def test_replacements_give_reason_mode_and_source(edit_results: list[EditResult]) -> None:
    seen = set()
    for result in edit_results:
        for entry in result.diff.replaced if result.diff else []:
            assert entry.replacement is not None
            assert entry.replacement.reason
            assert entry.replacement.source
            seen.add((entry.type, entry.replacement.mode))
    # Auto-named ConfigMaps and a renamed Namespace are created first; the Kind cluster
    # command is deleted first (its deleteBeforeReplace option).
    assert ("kubernetes:core/v1:ConfigMap", "create-before-delete") in seen
    assert ("kubernetes:core/v1:Namespace", "create-before-delete") in seen
    assert ("command:local:Command", "delete-before-replace") in seen


def test_a_mongodb_volume_edit_is_flagged_as_an_update_helm_cannot_apply(
    edit_results: list[EditResult],
) -> None:
    for result in edit_results:
        if result.edit.key == "glosleep:mongodb.storageSize":
            assert result.diff is not None
            notes = [n for c in result.diff.changed for n in c.notes]
            assert any("volumeClaimTemplates" in n for n in notes), result.edit.stack


def test_two_unedited_runs_do_not_differ(edit_results: list[EditResult]) -> None:
    # kind's up.sh runs on every `pulumi up` by a trigger that changes each run; the
    # structural diff does not count it (glosleep_platform.triggers).
    assert noise("kind").empty()
    assert noise("eks").empty()
