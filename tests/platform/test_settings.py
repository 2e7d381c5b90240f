"""Stack config is read once into typed settings; bad config stops with the key named."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from glosleep_platform.offline import run_offline
from glosleep_platform.settings import (
    ConfigError,
    load_settings_file,
    settings_from_values,
    stack_config,
)


def raw_values(stack: str) -> dict[str, Any]:
    prefix = "glosleep:"
    values: dict[str, Any] = {}
    for key, raw in stack_config(stack).items():
        if key.startswith(prefix):
            text = raw.lstrip()
            values[key[len(prefix) :]] = json.loads(raw) if text[:1] in "{[" else raw
    return values


def test_both_stack_files_load() -> None:
    kind = load_settings_file("kind")
    eks = load_settings_file("eks")
    assert kind.kind is not None
    assert kind.eks is None
    assert eks.eks is not None
    assert eks.kind is None
    assert eks.require_eks().region == "ap-south-1"
    assert kind.tags == {
        "project": "glosleep",
        "stack": "kind",
        "owner": "platform-team",
        "cost-center": "engineering",
        "managed-by": "pulumi",
    }


def test_config_files_hold_no_secrets() -> None:
    for stack in ("kind", "eks"):
        text = json.dumps(stack_config(stack)).lower()
        for word in ("password", "secret", "token", "secure"):
            assert word not in text, f"Pulumi.{stack}.yaml mentions {word}"


@pytest.mark.parametrize(
    ("stack", "change", "message"),
    [
        ("kind", {"ownr": "x"}, "glosleep:ownr: not a known setting"),
        ("kind", {"owner": None}, "glosleep:owner: required but not set"),
        ("kind", {"hostname": "Not A Host"}, "glosleep:hostname:"),
        ("kind", {"kubernetesVersion": "1.3"}, "glosleep:kubernetesVersion:"),
        ("kind", {"services": {"minReplicas": 3, "maxReplicas": 2}}, "maxReplicas must be >="),
        (
            "kind",
            {"mongodb": {"replicaCount": 2, "storageSize": "1Gi", "storageClass": "x"}},
            "odd",
        ),
        ("kind", {"eks": raw_values("eks")["eks"]}, "must not set the 'eks' config object"),
        ("kind", {"kind": None}, "needs the 'kind' config object"),
        ("eks", {"eks.natGateways": "two"}, "glosleep:eks.natGateways:"),
        ("eks", {"eks.publicAccessCidrs": ["0.0.0.0/0"]}, "opens the API to the whole internet"),
        ("eks", {"eks.publicAccessCidrs": ["203.0.113.0/24"]}, "is a documentation range"),
        ("eks", {"eks.publicAccessCidrs": ["10.20.0.0/16"]}, "is a private range"),
        ("eks", {"eks.publicAccessCidrs": ["not-a-cidr"]}, "is not a network address"),
        ("eks", {"eks.publicAccessCidrs": []}, "needs publicAccessCidrs"),
        ("eks", {"eks.deployRoleArn": "arn:aws:iam::1:user/x"}, "glosleep:eks.deployRoleArn:"),
        ("eks", {"eks.readOnlyRoleArns": []}, "glosleep:eks.readOnlyRoleArns:"),
        (
            "eks",
            {"eks.adminRoleArns": ["arn:aws:iam::123456789012:role/glosleep-deploy"]},
            "already holds its admin access entry",
        ),
        ("eks", {"kubernetesVersion": "1.39"}, "has no EKS add-on versions"),
        ("eks", {"eks.availabilityZones": ["ap-south-1a", "ap-south-1b"]}, "availabilityZones"),
        ("eks", {"eks.availabilityZones": ["a-1a", "a-1b", "a-1c"]}, "in the region"),
        ("eks", {"eks.endpointPublicAccess": False}, "endpointPublicAccess is false"),
        ("eks", {"eks.nodeGroups": []}, "glosleep:eks.nodeGroups:"),
        ("eks", {"eks.typo": 1}, "glosleep:eks.typo: Extra inputs are not permitted"),
        ("eks", {"eks.nodeArchitecture": "arm64"}, "m6i.large is not arm64 (nodeArchitecture)"),
        ("eks", {"eks.nodeArchitecture": "sparc"}, "glosleep:eks.nodeArchitecture:"),
    ],
)
def test_bad_config_names_the_key(stack: str, change: dict[str, Any], message: str) -> None:
    values = raw_values(stack)
    for key, value in change.items():
        target, _, field = key.partition(".")
        if field:
            values[target] = {**values[target], field: value}
        elif value is None:
            values.pop(key, None)
        else:
            values[key] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_from_values("glosleep", stack, values, "ap-south-1")


def test_the_program_stops_on_bad_config_before_declaring_anything() -> None:
    with pytest.raises(ConfigError, match=r"glosleep:mongodb\.replicaCount"):
        run_offline(
            "kind",
            overrides={
                "glosleep:mongodb": json.dumps(
                    {"replicaCount": "three", "storageSize": "1Gi", "storageClass": "standard"}
                )
            },
        )


def test_an_unknown_top_level_key_in_the_stack_is_an_error() -> None:
    with pytest.raises(ConfigError, match="glosleep:replicas: not a known setting"):
        run_offline("kind", overrides={"glosleep:replicas": "3"})


def test_arm64_nodes_need_multi_arch_mongodb_images() -> None:
    values = raw_values("eks")
    groups = [{**group, "instanceTypes": ["m7g.large"]} for group in values["eks"]["nodeGroups"]]
    values["eks"] = {**values["eks"], "nodeArchitecture": "arm64", "nodeGroups": groups}
    with pytest.raises(ConfigError, match="published for amd64 only"):
        settings_from_values("glosleep", "eks", values, "ap-south-1")
    values["mongodb"] = {
        **values["mongodb"],
        "imageRepository": "example/mongodb",
        "osShellRepository": "example/os-shell",
        "tlsImageRepository": "example/nginx",
    }
    eks = settings_from_values("glosleep", "eks", values, "ap-south-1").require_eks()
    assert (eks.node_ami_type, eks.image_platform) == ("AL2023_ARM_64_STANDARD", "linux/arm64")


def test_the_eks_stack_file_alone_names_every_setting_its_account_must_give() -> None:
    """`pulumi up -s eks` reads Pulumi.eks.yaml without the offline stand-ins: it stops
    before declaring anything, naming each account-specific setting."""
    config = stack_config("eks", standins=False)
    values: dict[str, Any] = {
        key.removeprefix("glosleep:"): json.loads(raw) if raw.startswith(("{", "[")) else raw
        for key, raw in config.items()
        if key.startswith("glosleep:")
    }
    with pytest.raises(ConfigError) as stopped:
        settings_from_values("glosleep", "eks", values, config["aws:region"])
    message = str(stopped.value)
    assert "glosleep:eks.deployRoleArn: required but not set (the IAM role" in message
    assert "glosleep:eks.readOnlyRoleArns: required but not set (the preview" in message
    # With the roles given, the API's allowed networks are next.
    values["eks"] |= {
        "deployRoleArn": "arn:aws:iam::123456789012:role/deploy",
        "readOnlyRoleArns": ["arn:aws:iam::123456789012:role/preview"],
    }
    with pytest.raises(ConfigError, match="a public API endpoint needs publicAccessCidrs"):
        settings_from_values("glosleep", "eks", values, config["aws:region"])


def test_kind_on_an_arm64_machine_stops_at_once_naming_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kind's nodes run on the host's architecture; the bitnamilegacy images have no
    arm64 build, so MongoDB would crash-loop. The program says so before anything."""
    monkeypatch.setattr("platform.machine", lambda: "arm64")
    with pytest.raises(ConfigError) as stopped:
        run_offline("kind")
    message = str(stopped.value)
    assert "this machine is arm64" in message
    assert "mongodb.imageRepository" in message
    multi_arch = json.loads(stack_config("kind")["glosleep:mongodb"]) | {
        "imageRepository": "example/mongodb",
        "osShellRepository": "example/os-shell",
        "tlsImageRepository": "example/nginx",
    }
    run = run_offline("kind", overrides={"glosleep:mongodb": json.dumps(multi_arch)})
    assert run.of_type("kubernetes:helm.sh/v3:Release")
