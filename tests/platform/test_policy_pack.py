"""platform/policy wires every rule into a pulumi-policy policy at the rule's level."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi_policy
import pytest
import yaml

from glosleep_platform.policy_rules import RULES

PACK = Path(__file__).resolve().parents[2] / "platform" / "policy"


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    captured: dict[str, Any] = {}

    def fake_pack(name: str, policies: list[Any], **_: Any) -> None:
        # The real PolicyPack starts serving the engine and never returns.
        captured.update(name=name, policies=policies)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    runpy.run_path(str(PACK / "__main__.py"), run_name="__main__")
    assert captured["name"] == "glosleep"
    return list(captured["policies"])


def test_every_rule_is_a_policy_at_its_enforcement_level(policies: list[Any]) -> None:
    assert [p.name for p in policies] == [rule.name for rule in RULES]
    levels = {
        "mandatory": pulumi_policy.EnforcementLevel.MANDATORY,
        "advisory": pulumi_policy.EnforcementLevel.ADVISORY,
    }
    for policy, rule in zip(policies, RULES, strict=True):
        assert isinstance(policy, pulumi_policy.ResourceValidationPolicy)
        assert policy.enforcement_level == levels[rule.enforcement]
    # Only plain HTTP (eks.allowPlainHttp, for throw-away stacks) is advisory.
    advisory = [p.name for p in policies if p.enforcement_level == levels["advisory"]]
    assert advisory == ["tls-at-the-edge"]


def test_policies_report_what_the_rules_find(policies: list[Any]) -> None:
    reported: list[str] = []
    encryption = next(p for p in policies if p.name == "aws-encryption")
    bad_key = SimpleNamespace(resource_type="aws:kms/key:Key", props={"enableKeyRotation": False})
    good_key = SimpleNamespace(resource_type="aws:kms/key:Key", props={"enableKeyRotation": True})
    encryption.validate(good_key, lambda message, urn: reported.append(message))
    assert reported == []
    encryption.validate(bad_key, lambda message, urn: reported.append(message))
    assert reported == ["KMS key rotation must be on"]


def test_the_pack_runs_in_the_projects_environment() -> None:
    """The CLI runs the pack with the project's toolchain and .venv, where pulumi-policy
    is locked (uv.lock); a requirements.txt would make the uv toolchain build another."""
    runtime = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"]["toolchain"] == "uv"
    assert (PACK / runtime["options"]["virtualenv"]).resolve() == PACK.parents[1] / ".venv"
    assert not (PACK / "requirements.txt").exists()
    assert "pulumi-policy" in (PACK.parents[1] / "uv.lock").read_text()
