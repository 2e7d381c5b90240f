"""glosleep-ops cost: the estimate for each stack, traceable lines, and the diff of two versions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from glosleep_ops import EXIT_CHANGED, EXIT_ERROR, EXIT_OK
from glosleep_ops.cli import main
from glosleep_ops.cost import estimate, gib
from glosleep_ops.prices import load, path_for
from glosleep_ops.resources import Resource, checkout, to_json
from tests.ops.checkouts import copy_checkout


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_eks_estimate_is_plausible_and_every_line_traces_to_the_price_table(
    eks_resources: list[Resource],
) -> None:
    table = load(path_for("ap-south-1"))
    result = estimate("eks", eks_resources, table)
    components = {line.component for line in result.lines}
    assert {
        "EKS control plane",
        "Node groups",
        "EBS volumes",
        "NAT gateways",
        "Load balancers",
        "ECR",
        "KMS",
        "CloudWatch Logs",
        "Data transfer",
    } <= components
    # 3 x m6i.large, per-AZ NAT, one NLB: a few hundred dollars a month, not tens or thousands.
    assert 300 < result.total < 1500
    prices = table.prices.model_dump()
    for line in result.lines:
        section, _, sub = line.price_key.partition(".")
        unit_price = prices[section][sub] if sub else prices[section]
        assert line.unit_price == unit_price, line
        assert line.monthly == round(line.quantity * unit_price, 2)
    control_plane = next(line for line in result.lines if line.component == "EKS control plane")
    assert control_plane.monthly == round(table.hours_per_month * 0.10, 2)
    nodes = next(line for line in result.lines if line.component == "Node groups")
    assert nodes.detail == "3 x m6i.large (desired size)"
    volumes = {line.item: line.quantity for line in result.lines if line.component == "EBS volumes"}
    assert volumes["mongodb-release volumes"] == 60  # 3 replicas x 20Gi (Helm values)
    assert volumes["glosleep-eks-general root volumes"] == 150  # 3 nodes x 50 GiB


def test_kind_costs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, body = run_json(capsys, "cost", "--stack", "kind", "--json")
    assert code == EXIT_OK
    assert body["total"] == 0
    assert body["lines"] == []


def test_text_report_prints_a_table_and_the_total(
    capsys: pytest.CaptureFixture[str], eks_dump: Path
) -> None:
    assert main(["cost", "--stack", "eks", "--resources", str(eks_dump)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "| component" in out
    assert "**Total**" in out
    assert "prices of 2026-" in out
    assert "Not included:" in out


def test_storage_sizes() -> None:
    assert gib("20Gi") == 20
    assert gib("512Mi") == 0.5
    assert gib("1Ti") == 1024


def test_compare_to_another_checkout_prints_the_difference_and_exits_10(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, eks_dump: Path
) -> None:
    other = copy_checkout(tmp_path / "main")
    config_file = other / "Pulumi.eks.yaml"
    config = yaml.safe_load(config_file.read_text())
    eks = config["config"]["glosleep:eks"]
    eks["natGateways"] = "single"
    group = eks["nodeGroups"][0]
    group["minSize"] = group["desiredSize"] = group["desiredSize"] - 1
    config_file.write_text(yaml.safe_dump(config))

    code, body = run_json(
        capsys,
        "cost",
        "--stack",
        "eks",
        "--json",
        "--resources",
        str(eks_dump),
        "--compare-to",
        str(other),
    )
    assert code == EXIT_CHANGED
    lines = {line["key"]: line for line in body["lines"]}
    table = load(path_for("ap-south-1"))
    node = lines["Node groups / glosleep-eks-general"]
    hourly = table.prices.ec2_instance_hour["m6i.large"]
    assert node["delta"] == round(table.hours_per_month * hourly, 2)
    nat = lines["NAT gateways / gateways"]
    assert nat["delta"] == round(2 * table.hours_per_month * table.prices.nat_gateway_hour, 2)
    assert body["delta_total"] == round(body["after_total"] - body["before_total"], 2)
    assert body["delta_total"] > 0


def test_compare_to_the_same_program_exits_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, eks_dump: Path
) -> None:
    other = copy_checkout(tmp_path / "same")
    code = main(
        ["cost", "--stack", "eks", "--resources", str(eks_dump), "--compare-to", str(other)]
    )
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "No change in the estimate." in out


def test_compare_to_a_git_ref_uses_a_temporary_worktree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    (repo / "Pulumi.eks.yaml").write_text("config: {}\n")
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=repo, check=True)
    with checkout("HEAD", root=repo) as path:
        assert (path / "Pulumi.eks.yaml").read_text() == "config: {}\n"
        assert path != repo
    assert not path.exists()


def test_unknown_instance_type_and_bad_ref_are_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, eks_resources: list[Resource]
) -> None:
    records = to_json(eks_resources)
    for record in records:
        if record["type"] == "eks:index:ManagedNodeGroup":
            record["inputs"]["instanceTypes"] = ["x9.mega"]
    dump = tmp_path / "bad.json"
    dump.write_text(json.dumps(records))
    assert main(["cost", "--stack", "eks", "--resources", str(dump)]) == EXIT_ERROR
    assert "x9.mega" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(to_json(eks_resources)))
    compare = ["--resources", str(good), "--compare-to", "no-such-ref-xyz"]
    assert main(["cost", "--stack", "eks", *compare]) == EXIT_ERROR
    assert "no-such-ref-xyz" in capsys.readouterr().err
