"""Kubernetes objects go to the cluster the stack built, never to a default context."""

from __future__ import annotations

from glosleep_platform.offline import OfflineRun


def test_every_kubernetes_resource_uses_the_stacks_own_cluster(stack_run: OfflineRun) -> None:
    """None falls back to the default provider (whatever ~/.kube/config points at)."""
    (provider,) = stack_run.of_type("pulumi:providers:kubernetes")
    expected = f"pulumi:providers:kubernetes::{provider.name}::{provider.name}-id"
    kubernetes = [r for r in stack_run.resources if r.type.startswith("kubernetes:") and r.custom]
    assert kubernetes
    assert {r.provider.split("$")[-1] if r.provider else None for r in kubernetes} == {expected}
