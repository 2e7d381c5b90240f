"""What the Pulumi engine makes each resource wait for, rebuilt from the RegisterResource
requests an offline run records (the mock monitor sees every one of them).

The engine's rules (docs/deploy.md, "What the offline tests prove"):

- a resource waits for its dependencies: explicit ``depends_on`` plus every resource
  whose outputs feed its inputs (the request's ``dependencies`` and
  ``propertyDependencies``). The Python SDK has already replaced a dependency on a
  local component by the component's descendants (pulumi/pulumi#7732), as far as
  they existed when the dependent registered; a remote component (pulumi-eks) is
  sent as itself and counts as done once its construction is;
- a resource waits for its provider (a provider is a resource too);
- a child registers only once its parent's URN is known: for a custom parent that is
  after the parent is created, for a component after the component registered,
  which is after the component's own dependencies are done.

So a local component has two vertices: *registered* (waits for its own dependencies
and its parent) and *done* (registered, and every child done); anything else has one.
``waits_for(a, b)``: ``a`` cannot start before ``b`` is done.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from glosleep_platform.offline import DeclaredResource

Phase = Literal["registered", "done"]
Vertex = tuple[str, Phase]


def provider_urn(reference: str) -> str:
    """``<urn>::<id>`` (a provider reference) -> ``<urn>``; "" stays "" (default provider)."""
    return reference.rsplit("::", 1)[0] if reference else ""


@dataclass(frozen=True)
class Waits:
    """One resource's place in the graph, as its request put it."""

    urn: str
    parent: str
    provider: str
    dependencies: frozenset[str]
    property_dependencies: dict[str, frozenset[str]]

    @property
    def all_dependencies(self) -> frozenset[str]:
        return self.dependencies.union(*self.property_dependencies.values())


@dataclass
class WaitGraph:
    resources: dict[str, DeclaredResource]
    waits: dict[str, Waits]
    children: dict[str, list[str]] = field(default_factory=dict)
    _edges: dict[Vertex, set[Vertex]] = field(default_factory=dict)
    _reach: dict[Vertex, frozenset[Vertex]] = field(default_factory=dict)

    @classmethod
    def of(cls, resources: Sequence[DeclaredResource]) -> WaitGraph:
        by_urn = {r.urn: r for r in resources}
        if "" in by_urn or len(by_urn) != len(resources):
            raise ValueError("every resource needs a URN of its own (run it with run_offline)")
        waits = {
            r.urn: Waits(
                urn=r.urn,
                parent=r.request.parent,
                provider=provider_urn(r.request.provider_ref),
                dependencies=frozenset(r.request.dependencies),
                property_dependencies={
                    key: frozenset(urns) for key, urns in r.request.property_dependencies.items()
                },
            )
            for r in resources
        }
        graph = cls(by_urn, waits)
        for urn, wait in waits.items():
            if wait.parent in by_urn:
                graph.children.setdefault(wait.parent, []).append(urn)
        graph._build()
        return graph

    # -- vertices -------------------------------------------------------------------
    def is_local_component(self, urn: str) -> bool:
        resource = self.resources[urn]
        return not resource.custom and not resource.request.remote

    def start(self, urn: str) -> Vertex:
        """The vertex the resource's own registration is."""
        return (urn, "registered") if self.is_local_component(urn) else (urn, "done")

    @staticmethod
    def done(urn: str) -> Vertex:
        return (urn, "done")

    def _build(self) -> None:
        edges = self._edges
        for urn, wait in self.waits.items():
            start = self.start(urn)
            out = edges.setdefault(start, set())
            for dependency in wait.all_dependencies:
                if dependency in self.resources:
                    out.add(self.done(dependency))
            if wait.provider in self.resources:
                out.add(self.done(wait.provider))
            if wait.parent in self.resources:
                out.add(self.start(wait.parent))
            if self.is_local_component(urn):
                done = edges.setdefault(self.done(urn), set())
                done.add(start)
                done.update(self.done(child) for child in self.children.get(urn, []))

    # -- queries --------------------------------------------------------------------
    def resource(self, urn: str) -> DeclaredResource:
        return self.resources[urn]

    def direct(self, urn: str) -> set[str]:
        """The resources whose completion ``urn``'s registration waits on directly."""
        return {target for target, _ in self._edges.get(self.start(urn), set())} - {urn}

    def _reachable(self, vertex: Vertex) -> frozenset[Vertex]:
        cached = self._reach.get(vertex)
        if cached is not None:
            return cached
        seen: set[Vertex] = set()
        stack = [vertex]
        while stack:
            for target in self._edges.get(stack.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        result = frozenset(seen)
        self._reach[vertex] = result
        return result

    def waits_for(self, a: str, b: str) -> bool:
        """True when ``a`` cannot start before ``b`` is done (transitively); a local
        component is done once it registered and each of its children is done."""
        reached = self._reachable(self.start(a))
        if self.done(b) in reached:
            return True
        if not self.is_local_component(b) or self.start(b) not in reached:
            return False
        return all(self.waits_for(a, child) for child in self.children.get(b, []))

    def waited_on(self, a: str) -> set[str]:
        """Every resource that is done before ``a`` starts."""
        return {urn for urn, phase in self._reachable(self.start(a)) if phase == "done"} - {a}

    def descendants(self, urn: str) -> Iterator[str]:
        for child in self.children.get(urn, []):
            yield child
            yield from self.descendants(child)

    def cycles(self) -> list[list[str]]:
        """Strongly connected groups of vertices that wait on each other: a deadlock."""
        index: dict[Vertex, int] = {}
        low: dict[Vertex, int] = {}
        on_stack: set[Vertex] = set()
        stack: list[Vertex] = []
        found: list[list[str]] = []
        counter = 0
        vertices = set(self._edges) | {t for targets in self._edges.values() for t in targets}
        for root in sorted(vertices):
            if root in index:
                continue
            # Iterative Tarjan: (vertex, iterator over its targets).
            work: list[tuple[Vertex, Iterator[Vertex]]] = []
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            work.append((root, iter(sorted(self._edges.get(root, ())))))
            while work:
                vertex, targets = work[-1]
                advanced = False
                for target in targets:
                    if target not in index:
                        index[target] = low[target] = counter
                        counter += 1
                        stack.append(target)
                        on_stack.add(target)
                        work.append((target, iter(sorted(self._edges.get(target, ())))))
                        advanced = True
                        break
                    if target in on_stack:
                        low[vertex] = min(low[vertex], index[target])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[vertex])
                if low[vertex] == index[vertex]:
                    group: list[Vertex] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == vertex:
                            break
                    looped = len(group) > 1 or vertex in self._edges.get(vertex, set())
                    if looped:
                        found.append(sorted({urn for urn, _ in group}))
        return found

    def path(self, a: str, b: str) -> list[str]:
        """One chain of waits from ``a`` to ``b`` (URNs), for error messages; [] if none."""
        start, goal = self.start(a), self.done(b)
        previous: dict[Vertex, Vertex] = {}
        queue = [start]
        seen = {start}
        while queue:
            vertex = queue.pop(0)
            if vertex == goal:
                chain = [vertex]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                names: list[str] = []
                for urn, _ in reversed(chain):
                    if not names or names[-1] != urn:
                        names.append(urn)
                return names
            for target in sorted(self._edges.get(vertex, ())):
                if target not in seen:
                    seen.add(target)
                    previous[target] = vertex
                    queue.append(target)
        return []
