"""The wait graph: what the engine makes each resource wait for, from the recorded requests."""

from __future__ import annotations

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest

from glosleep_platform.mocks import RequestFacts
from glosleep_platform.offline import DeclaredResource, OfflineRun, run_offline
from glosleep_platform.wait_graph import WaitGraph, provider_urn


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        self.first = random.RandomPet(f"{name}-first", opts=pulumi.ResourceOptions(parent=self))
        self.second = random.RandomPet(
            f"{name}-second", opts=pulumi.ResourceOptions(parent=self.first)
        )
        self.register_outputs({})


def _program() -> None:
    base = random.RandomPet("base")
    box = Box("box", pulumi.ResourceOptions(depends_on=[base]))
    random.RandomPet("after-box", opts=pulumi.ResourceOptions(depends_on=[box]))
    random.RandomPet("feeds", prefix=base.id)
    kubeconfig = command.local.Command("kubeconfig", create="echo config")
    provider = k8s.Provider("cluster", kubeconfig=kubeconfig.stdout)
    k8s.core.v1.ConfigMap(
        "on-cluster", data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider)
    )


@pytest.fixture(scope="module")
def small() -> OfflineRun:
    return run_offline("kind", program=_program)


def _urn(run: OfflineRun, name: str) -> str:
    (match,) = [r.urn for r in run.resources if r.name == name]
    return match


def test_every_resource_has_its_request_recorded(small: OfflineRun) -> None:
    graph = small.wait_graph
    box, first = _urn(small, "box"), _urn(small, "box-first")
    assert graph.waits[first].parent == box
    assert graph.children[box] == [first]
    feeds = small.by_urn(_urn(small, "feeds"))
    assert feeds.request.property_dependencies["prefix"] == (_urn(small, "base"),)
    on_cluster = small.by_urn(_urn(small, "on-cluster"))
    assert provider_urn(on_cluster.request.provider_ref) == _urn(small, "cluster")


def test_inputs_and_depends_on_are_waits(small: OfflineRun) -> None:
    graph = small.wait_graph
    assert graph.waits_for(_urn(small, "feeds"), _urn(small, "base"))
    assert not graph.waits_for(_urn(small, "base"), _urn(small, "feeds"))


def test_a_child_waits_for_its_parents_registration_and_so_its_dependencies(
    small: OfflineRun,
) -> None:
    graph = small.wait_graph
    # box-first's parent (box) depends on base; box-second's parent is the custom box-first.
    assert graph.waits_for(_urn(small, "box-first"), _urn(small, "base"))
    assert graph.waits_for(_urn(small, "box-second"), _urn(small, "box-first"))
    assert graph.waits_for(_urn(small, "box-second"), _urn(small, "base"))
    # ...but a child does not wait for its component parent's other children.
    assert not graph.waits_for(_urn(small, "box-first"), _urn(small, "box-second"))


def test_depending_on_a_component_waits_for_its_descendants(small: OfflineRun) -> None:
    graph = small.wait_graph
    after = _urn(small, "after-box")
    assert graph.waits_for(after, _urn(small, "box-first"))
    # The SDK expands a component to its children, not to a custom child's children
    # (pulumi/pulumi#7732): the graph follows what the engine is actually told.
    assert graph.waits_for(after, _urn(small, "box-second")) == (
        _urn(small, "box-second") in small.by_urn(after).request.dependencies
    )
    assert graph.waits_for(after, _urn(small, "box"))
    assert set(graph.descendants(_urn(small, "box"))) == {
        _urn(small, "box-first"),
        _urn(small, "box-second"),
    }


def test_a_resource_waits_for_its_provider_and_what_the_provider_needs(
    small: OfflineRun,
) -> None:
    graph = small.wait_graph
    on_cluster = _urn(small, "on-cluster")
    assert graph.waits_for(on_cluster, _urn(small, "cluster"))
    assert graph.waits_for(on_cluster, _urn(small, "kubeconfig"))
    assert graph.path(on_cluster, _urn(small, "kubeconfig")) == [
        on_cluster,
        _urn(small, "cluster"),
        _urn(small, "kubeconfig"),
    ]
    assert graph.cycles() == []


def _record(
    name: str, *, custom: bool = True, depends: tuple[str, ...] = (), parent: str = ""
) -> DeclaredResource:
    urn = f"urn:pulumi:test::glosleep::test:index:Thing::{name}"
    return DeclaredResource(
        type="test:index:Thing",
        name=name,
        inputs={},
        outputs={},
        secret_inputs=frozenset(),
        provider=None,
        custom=custom,
        parent=parent,
        request=RequestFacts(urn=urn, parent=parent, dependencies=depends),
    )


def _u(name: str) -> str:
    return f"urn:pulumi:test::glosleep::test:index:Thing::{name}"


def test_cycles_are_found_through_dependencies_and_component_parents() -> None:
    # The SDK refuses a plain depends_on cycle itself (see test_the_sdk_refuses_a_direct_cycle);
    # a component whose registration waits on something that waits for the whole component
    # is one it cannot see: a deadlock the engine would sit in.
    records = [
        _record("a", depends=(_u("b"),)),
        _record("b", depends=(_u("a"),)),
        _record("solo"),
        _record("comp", custom=False, depends=(_u("late"),)),
        _record("child", parent=_u("comp")),
        _record("late", depends=(_u("child"),)),
    ]
    cycles = WaitGraph.of(records).cycles()
    assert sorted(cycles) == [[_u("a"), _u("b")], [_u("child"), _u("comp"), _u("late")]]


def test_the_sdk_refuses_a_direct_cycle() -> None:
    def looped() -> None:
        box = Box("loop")
        outside = random.RandomPet("outside", opts=pulumi.ResourceOptions(depends_on=[box]))
        random.RandomPet("inside", opts=pulumi.ResourceOptions(parent=box, depends_on=[outside]))

    with pytest.raises(Exception, match="circular dependency"):
        run_offline("kind", program=looped)


def test_each_stack_graph_holds_every_resource_and_no_cycle(stack_run: OfflineRun) -> None:
    graph = stack_run.wait_graph
    assert len(graph.resources) == len(stack_run.resources)
    assert graph.cycles() == []
    # Every Deployment waits for the Secret its environment comes from (an input).
    for deployment in stack_run.of_type("kubernetes:apps/v1:Deployment"):
        secret = stack_run.named(
            "kubernetes:core/v1:Secret", f"{deployment.name.split('-')[0]}-secret-env"
        )
        assert graph.waits_for(deployment.urn, secret.urn)
