"""Who can reach the EKS API, how the cluster is upgraded, and whether NetworkPolicies
are enforced (issue 13 B5, B9, B11)."""

from __future__ import annotations

import json

import pytest

from glosleep_platform import eks_versions
from glosleep_platform.eks_cluster import CLUSTER_ADMIN_POLICY, READ_ONLY_POLICY
from glosleep_platform.offline import OfflineRun, run_offline
from glosleep_platform.settings import load_settings_file

ADDON = "aws:eks/addon:Addon"
NODE_GROUP = "eks:index:ManagedNodeGroup"


def grants(run: OfflineRun) -> dict[str, str]:
    """principal ARN -> access policy, from the declared entries and associations."""
    entries = {r.inputs["principalArn"] for r in run.of_type("aws:eks/accessEntry:AccessEntry")}
    policies = {
        r.inputs["principalArn"]: r.inputs["policyArn"]
        for r in run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert set(policies) == entries, "every entry has exactly one policy"
    return policies


def test_the_preview_and_drift_roles_can_read_the_cluster(eks_run: OfflineRun) -> None:
    eks = load_settings_file("eks").require_eks()
    given = grants(eks_run)
    for arn in eks.read_only_role_arns:
        assert given[arn] == READ_ONLY_POLICY
    for arn in eks.admin_role_arns:
        assert given[arn] == CLUSTER_ADMIN_POLICY
    # The deploy role creates the cluster; EKS gives the creator its admin entry, and a
    # second entry for the same principal would fail the create.
    assert eks.deploy_role_arn not in given
    (cluster,) = eks_run.of_type("eks:index:Cluster")
    assert cluster.inputs["authenticationMode"] == "API"
    assert cluster.inputs["publicAccessCidrs"] == eks.public_access_cidrs


def test_an_association_waits_for_its_entry(eks_run: OfflineRun) -> None:
    entries = {
        r.inputs["principalArn"]: r.urn for r in eks_run.of_type("aws:eks/accessEntry:AccessEntry")
    }
    for association in eks_run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"):
        assert entries[association.inputs["principalArn"]] in association.request.dependencies


def test_the_vpc_cni_enforces_network_policies(eks_run: OfflineRun) -> None:
    (cni,) = [a for a in eks_run.of_type(ADDON) if a.inputs["addonName"] == "vpc-cni"]
    assert json.loads(cni.inputs["configurationValues"])["enableNetworkPolicy"] == "true"


def test_standard_support_and_pinned_addon_versions(eks_run: OfflineRun) -> None:
    (cluster,) = eks_run.of_type("eks:index:Cluster")
    assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    version = cluster.inputs["version"]
    expected = eks_versions.ADDON_VERSIONS[version]
    addons = {a.inputs["addonName"]: a.inputs["addonVersion"] for a in eks_run.of_type(ADDON)}
    assert addons == expected
    for group in eks_run.of_type(NODE_GROUP):
        assert group.inputs["version"] == version


def test_a_kubernetes_version_bump_moves_nodes_and_addons_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    current = load_settings_file("eks").kubernetes_version
    next_row = {name: f"{v}-next" for name, v in eks_versions.ADDON_VERSIONS[current].items()}
    monkeypatch.setitem(eks_versions.ADDON_VERSIONS, "1.99", next_row)
    run = run_offline("eks", overrides={"glosleep:kubernetesVersion": "1.99"})
    (cluster,) = run.of_type("eks:index:Cluster")
    assert cluster.inputs["version"] == "1.99"
    assert {g.inputs["version"] for g in run.of_type(NODE_GROUP)} == {"1.99"}
    assert {a.inputs["addonName"]: a.inputs["addonVersion"] for a in run.of_type(ADDON)} == (
        next_row
    )
