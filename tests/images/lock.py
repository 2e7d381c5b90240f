"""uv.lock as the image build reads it: the packages of one dependency group for one
Linux machine (markers evaluated), and which of their wheels that machine can install."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "uv.lock"
DOCKERFILE = ROOT / "apps" / "Dockerfile"
PROJECT = "glosleep-platform"
# The images' Python (the base image's) and C library (Debian 12: glibc 2.36).
PYTHON = (3, 11)
GLIBC = (2, 36)
MACHINES = ("x86_64", "aarch64")
WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<python>[^-]+)-(?P<abi>[^-]+)"
    r"-(?P<platform>[^-]+)\.whl$"
)
MANYLINUX = re.compile(r"^manylinux(?:_(?P<major>\d+)_(?P<minor>\d+)|(?P<legacy>1|2010|2014))_")
LEGACY_GLIBC = {"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}


@cache
def packages() -> dict[str, dict[str, Any]]:
    with LOCK.open("rb") as file:
        return {package["name"]: package for package in tomllib.load(file)["package"]}


def environment(machine: str) -> dict[str, str]:
    version = ".".join(map(str, PYTHON))
    return {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": machine,
        "python_version": version,
        "python_full_version": f"{version}.0",
        "extra": "",
    }


def _applies(dependency: dict[str, Any], machine: str) -> bool:
    marker = dependency.get("marker")
    return marker is None or Marker(marker).evaluate(environment(machine))


def group(name: str, machine: str = "x86_64") -> set[str]:
    """The packages `uv sync --only-group <name>` installs on a Linux `machine`."""
    roots = packages()[PROJECT]["dev-dependencies"][name]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    queue = [dep for dep in roots if _applies(dep, machine)]
    while queue:
        dependency = queue.pop()
        key = (dependency["name"], tuple(sorted(dependency.get("extra", []))))
        if key in seen:
            continue
        seen.add(key)
        package = packages()[dependency["name"]]
        extras = [
            dep
            for extra in key[1]
            for dep in package.get("optional-dependencies", {}).get(extra, [])
        ]
        queue += [
            dep for dep in [*package.get("dependencies", []), *extras] if _applies(dep, machine)
        ]
    return {name for name, _ in seen}


def declared(name: str) -> frozenset[str]:
    """The packages a dependency group names itself (the kit's included)."""
    return frozenset(dep["name"] for dep in packages()[PROJECT]["dev-dependencies"][name])


def left_out() -> set[str]:
    """Packages the Dockerfile's `uv sync` skips (--no-install-package)."""
    return set(re.findall(r"--no-install-package\s+([\w.-]+)", DOCKERFILE.read_text()))


def image_packages(service: str, machine: str = "x86_64") -> set[str]:
    """What apps/Dockerfile installs into the image of `service`."""
    return group(service, machine) - left_out()


@dataclass(frozen=True)
class Wheel:
    filename: str
    python: str
    abi: str
    platform: str

    def installs_on(self, machine: str) -> bool:
        """Whether pip/uv on CPython 3.11, glibc Linux `machine` would take this wheel."""
        return self._python_ok() and any(
            self._platform_ok(tag, machine) for tag in self.platform.split(".")
        )

    def _python_ok(self) -> bool:
        for tag in self.python.split("."):
            if tag in {"py3", f"py{PYTHON[0]}{PYTHON[1]}"} and self.abi == "none":
                return True
            if tag == f"cp{PYTHON[0]}{PYTHON[1]}" and self.abi in {tag, "abi3", "none"}:
                return True
            match = re.fullmatch(r"cp3(\d+)", tag)
            if match and self.abi == "abi3" and int(match.group(1)) <= PYTHON[1]:
                return True
        return False

    @staticmethod
    def _platform_ok(tag: str, machine: str) -> bool:
        if tag == "any":
            return True
        match = MANYLINUX.match(tag)
        if match is None or not tag.endswith("_" + machine):
            return False
        if match.group("legacy"):
            needs = LEGACY_GLIBC[match.group("legacy")]
        else:
            needs = (int(match.group("major")), int(match.group("minor")))
        return needs <= GLIBC


def wheels(name: str) -> list[Wheel]:
    found = []
    for wheel in packages()[name].get("wheels", []):
        filename = wheel["url"].rsplit("/", 1)[1]
        match = WHEEL.match(filename)
        assert match is not None, filename
        found.append(Wheel(filename, match["python"], match["abi"], match["platform"]))
    return found
