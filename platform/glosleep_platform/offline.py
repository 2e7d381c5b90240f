"""Run the Pulumi program for a named stack offline, under mocks, and return what it declares.

This is the one way the tests, the manifest writer/validator and the cost tool
see the program: the same config files (``Pulumi.<stack>.yaml``), the same code
path as ``pulumi up``, no engine, no cloud.

    >>> run = run_offline("kind")
    >>> [r.name for r in run.of_type("kubernetes:apps/v1:Deployment")]
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import reset_options

from glosleep_platform.mocks import RecordingMocks, RecordingMonitor, Registration, RequestFacts
from glosleep_platform.settings import stack_config
from glosleep_platform.wait_graph import WaitGraph

PROJECT = "glosleep"


@dataclass(frozen=True)
class DeclaredResource:
    """A resource as the program declared it; numbers that arrived as integral floats are ints."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    # Dotted paths (list indexes as numbers) of inputs that were Pulumi secrets.
    secret_inputs: frozenset[str]
    provider: str | None
    custom: bool
    parent: str
    # Everything else the RegisterResource request said: URN, dependencies, options.
    request: RequestFacts = field(default_factory=RequestFacts)

    @property
    def urn(self) -> str:
        return self.request.urn

    @property
    def is_kubernetes_object(self) -> bool:
        return (
            self.type.startswith("kubernetes:")
            and self.custom
            and "kind" in self.inputs
            and "apiVersion" in self.inputs
        )


@dataclass(frozen=True)
class OfflineRun:
    stack: str
    resources: tuple[DeclaredResource, ...]
    exports: dict[str, Any]
    secret_exports: frozenset[str]
    invokes: tuple[str, ...]

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, type_token: str, name: str) -> DeclaredResource:
        matches = [r for r in self.of_type(type_token) if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources of type {type_token} named {name}")
        return matches[0]

    @cached_property
    def wait_graph(self) -> WaitGraph:
        """What the engine makes each resource wait for (glosleep_platform.wait_graph)."""
        return WaitGraph.of(self.resources)

    def by_urn(self, urn: str) -> DeclaredResource:
        return self.wait_graph.resource(urn)

    def kubernetes_objects(self) -> list[dict[str, Any]]:
        """Every Kubernetes object the program would apply (Helm releases are opaque)."""
        return [r.outputs for r in self.resources if r.is_kubernetes_object]


def plain(value: Any) -> Any:
    """Unwrap secrets and turn integral floats (protobuf numbers) back into ints."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def walk(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every node below ``value`` with its dotted path (list indexes as numbers);
    a Pulumi secret is a node of its own and is not descended into."""
    yield prefix, value
    if rpc.is_rpc_secret(value):
        return
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        yield from walk(item, f"{prefix}.{key}" if prefix else str(key))


def secret_paths(value: Any) -> Iterator[str]:
    return (path for path, node in walk(value) if rpc.is_rpc_secret(node))


def string_leaves(value: Any) -> Iterator[tuple[str, str]]:
    return ((path, node) for path, node in walk(value) if isinstance(node, str))


def _default_program() -> None:
    # `stacks` is installed with the project (pyproject.toml); another checkout's run
    # (glosleep_ops.resources.declared) finds its own first on PYTHONPATH.
    importlib.import_module("stacks").run()


def run_offline(
    stack: str,
    *,
    config: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
    program: Callable[[], None] | None = None,
) -> OfflineRun:
    """Run ``program`` (default: the repo's ``stacks.run``) as ``stack`` under mocks.

    ``config`` replaces the stack's config file; ``overrides`` are merged over it
    (full keys such as ``glosleep:hostname``, values as Pulumi passes them).
    """
    values = dict(config if config is not None else stack_config(stack))
    values.update(overrides or {})
    mocks = RecordingMocks()
    # The SDK schedules on the thread's current event loop; give it its own, so a
    # loop that another library (pytest-asyncio, say) set or closed can't interfere.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    reset_options(project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks)
    )
    set_all_config(values)
    exported: dict[str, tuple[Any, bool]] = {}

    async def body() -> None:
        (program or _default_program)()
        root = pulumi.runtime.get_root_resource()
        outputs: dict[str, Any] = getattr(root, "outputs", {})
        for name, value in outputs.items():
            output = pulumi.Output.from_input(value)
            exported[name] = (await output.future(), await output.is_secret())

    try:
        pulumi.runtime.test(body)()  # type: ignore[no-untyped-call]  # the SDK decorator is untyped
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return OfflineRun(
        stack=stack,
        resources=tuple(_declared(r) for r in mocks.registrations),
        exports={name: plain(value) for name, (value, _) in exported.items()},
        secret_exports=frozenset(name for name, (_, secret) in exported.items() if secret),
        invokes=tuple(mocks.invokes),
    )


def _declared(registration: Registration) -> DeclaredResource:
    return DeclaredResource(
        type=registration.type,
        name=registration.name,
        inputs=plain(registration.inputs),
        outputs=plain(registration.outputs),
        secret_inputs=frozenset(secret_paths(registration.inputs)),
        provider=registration.provider,
        custom=registration.custom,
        parent=registration.parent,
        request=registration.request,
    )
