"""The offline runner's own contract (the tests, manifests and cost tool rely on it)."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from glosleep_platform import manifests
from glosleep_platform.offline import OfflineRun, plain, run_offline


def test_plain_unwraps_secrets_and_restores_integers() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": 3.0}
    assert plain({"a": [1.0, 1.5, secret], "b": "x"}) == {"a": [1, 1.5, 3], "b": "x"}


def test_runs_any_program_and_records_inputs_and_exports() -> None:
    def program() -> None:
        config_map = k8s.core.v1.ConfigMap(
            "cm", metadata={"name": "x", "labels": {"a_b": "c"}}, data={"replicas": "2"}
        )
        pulumi.export("name", config_map.metadata.name)
        pulumi.export("hidden", pulumi.Output.secret("s"))

    run = run_offline("kind", program=program)
    (config_map,) = run.of_type("kubernetes:core/v1:ConfigMap")
    assert config_map.inputs == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "labels": {"a_b": "c"}},
        "data": {"replicas": "2"},
    }
    assert config_map.is_kubernetes_object
    assert run.exports == {"name": "x", "hidden": "s"}
    assert run.secret_exports == {"hidden"}
    assert run.named("kubernetes:core/v1:ConfigMap", "cm") is config_map
    with pytest.raises(KeyError):
        run.named("kubernetes:core/v1:ConfigMap", "missing")


def test_the_same_process_can_run_both_stacks(kind_run: OfflineRun, eks_run: OfflineRun) -> None:
    assert kind_run.stack == "kind"
    assert eks_run.stack == "eks"
    assert not kind_run.of_type("eks:index:Cluster")
    assert len(eks_run.of_type("eks:index:Cluster")) == 1


def test_manifest_command_writes_and_validates(tmp_path: Path) -> None:
    assert manifests.main(["kind", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("deployment-glosleep-*.yaml"))) == 5
