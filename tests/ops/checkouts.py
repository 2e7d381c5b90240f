"""Copies of this checkout's program (code, config, the apps its images hash) for tests
that compare two versions."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("platform", "stacks", "apps", "monitoring", "tools")
COPIED_FILES = (
    "Pulumi.yaml",
    "Pulumi.eks.yaml",
    "Pulumi.kind.yaml",
    "pyproject.toml",
    "uv.lock",
    # What the image digests read (the build context) and what git keeps.
    ".dockerignore",
    ".gitignore",
)


def copy_checkout(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".pytest_cache")
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in COPIED_FILES:
        shutil.copy2(ROOT / name, target / name)
    return target
