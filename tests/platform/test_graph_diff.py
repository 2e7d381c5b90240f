"""The structural diff of two offline runs: replacements, their mode, cascades, secrets."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_command as command
import pulumi_docker_build as docker_build
import pulumi_kubernetes as k8s
import pulumi_random as random

from glosleep_platform.graph_diff import GraphDiff, diff_runs
from glosleep_platform.offline import run_offline


def _diff(program: Callable[[str], None]) -> GraphDiff:
    return diff_runs(
        run_offline("kind", program=lambda: program("old")),
        run_offline("kind", program=lambda: program("new")),
    )


def _modes(diff: GraphDiff) -> dict[str, tuple[str, str]]:
    return {
        c.name: (c.replacement.mode, c.replacement.reason)
        for c in diff.changed
        if c.replacement is not None
    }


def test_fixed_name_objects_are_deleted_first_and_auto_named_ones_created_first() -> None:
    def program(value: str) -> None:
        k8s.core.v1.ConfigMap("named", metadata={"name": "settings"}, data={"v": value})
        k8s.core.v1.ConfigMap("auto", metadata={"namespace": "default"}, data={"v": value})
        k8s.core.v1.ConfigMap("renamed", metadata={"name": f"settings-{value}"}, data={"v": "1"})
        k8s.apps.v1.Deployment(
            "same-selector",
            metadata={"name": "app"},
            spec={
                "selector": {"match_labels": {"app": "a"}},
                "replicas": len(value),
                "template": {"spec": {"containers": []}},
            },
        )

    modes = _modes(_diff(program))
    assert modes == {
        "named": ("delete-before-replace", "data.v changed"),
        "auto": ("create-before-delete", "data.v changed"),
        "renamed": ("create-before-delete", "metadata.name changed"),
    }


def test_command_triggers_replace_and_other_inputs_update_in_place() -> None:
    def program(value: str) -> None:
        command.local.Command(
            "cluster",
            create="kind create cluster",
            delete="kind delete cluster",
            triggers=[value],
            opts=pulumi.ResourceOptions(delete_before_replace=True),
        )
        command.local.Command("rerun", create=f"echo {value}")
        docker_build.Image("image", push=False, tags=[f"app:{value}"])

    diff = _diff(program)
    assert _modes(diff) == {"cluster": ("delete-before-replace", "triggers.0 changed")}
    notes = {c.name: c.notes for c in diff.changed}
    assert any("delete never runs for the old values" in n for n in notes["rerun"])
    assert {c.name for c in diff.changed} == {"cluster", "rerun", "image"}


def test_a_replacement_cascades_through_replacing_inputs_only() -> None:
    def program(value: str) -> None:
        password = random.RandomPassword("password", length=16 if value == "old" else 20)
        # Its whole `keepers` input replaces it: fed by the replaced password, it goes too.
        random.RandomPassword("follower", length=8, keepers={"p": password.result})
        # A Secret's data is immutable: replaced too.
        k8s.core.v1.Secret("holder", string_data={"p": password.result})
        # An annotation is updatable: an update, not a replacement.
        k8s.core.v1.ServiceAccount("annotated", metadata={"annotations": {"p": password.result}})

    diff = _diff(program)
    modes = _modes(diff)
    assert modes["password"] == ("create-before-delete", "length changed")
    assert modes["follower"] == (
        "create-before-delete",
        "keepers comes from password, which is replaced",
    )
    assert modes["holder"][1] == "stringData comes from password, which is replaced"
    assert "annotated" not in modes


def test_secret_values_never_show() -> None:
    def program(value: str) -> None:
        k8s.core.v1.Secret(
            "creds", metadata={"name": "creds"}, string_data={"token": pulumi.Output.secret(value)}
        )

    text = _diff(program).to_markdown("secrets")
    assert "`stringData.token`: [secret] -> [secret]" in text
    assert "old" not in text.replace("bold", "")
    assert "new" not in text
