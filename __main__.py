"""Pulumi entry point: `pulumi up -s kind` or `pulumi up -s eks` (see docs/deploy.md)."""

import sys
from pathlib import Path

# `platform` is a stdlib module name, so the components live in platform/glosleep_platform
# and that folder goes on the path rather than being a package itself.
sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))

import stacks

stacks.run()
