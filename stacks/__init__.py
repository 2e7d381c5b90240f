"""Per-environment compositions of the platform components; the stack name picks one."""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from glosleep_platform.settings import ConfigError, PlatformSettings, load_settings
from stacks import eks, kind

COMPOSITIONS: dict[str, Callable[[PlatformSettings], None]] = {
    "kind": kind.build,
    "eks": eks.build,
}


def run() -> None:
    """The Pulumi program: read config once, then build the stack's composition."""
    stack = pulumi.get_stack()
    if stack not in COMPOSITIONS:
        raise ConfigError(f"unknown stack {stack!r}; expected one of {sorted(COMPOSITIONS)}")
    COMPOSITIONS[stack](load_settings())
