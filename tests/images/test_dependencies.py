"""What each image installs, checked without building it: every package of a service's
dependency group (uv.lock, as apps/Dockerfile syncs it) is reached by the import closure
of that service's code, and nothing in the Dockerfile or the locked set is amd64-only.
tests/images/test_images.py checks the same closure inside the built images."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

import pytest

from tests.images import lock
from tests.images.containers import DOCKERFILE, ROOT, built_services
from tests.images.image_facts import SitePackages, source_imports

SERVICES = built_services()
HOST_SITE = Path(sysconfig.get_paths()["purelib"])


def service_imports(service: str) -> set[str]:
    apps = ROOT / "apps"
    return source_imports([apps / "__init__.py", apps / "kit", apps / service])


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _install(site: Path, dist: str, files: dict[str, str | bytes]) -> None:
    record = []
    for name, content in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        record.append(f"{name},,")
    _write(site / f"{dist.replace('-', '_')}-1.0.dist-info" / "RECORD", "\n".join(record) + "\n")


def test_the_closure_follows_imports_and_reports_what_nothing_reaches(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _install(site, "web", {"web/__init__.py": "from . import app\n", "web/app.py": "import db\n"})
    _install(site, "db", {"db/__init__.py": "def f():\n    import speedups\n"})
    _install(site, "speedups", {"speedups.cpython-311-x86_64-linux-gnu.so": b"\0_native\0"})
    _install(site, "native", {"_native.cpython-311-x86_64-linux-gnu.so": b"\0"})
    _install(site, "cloud-sdk", {"cloud_sdk/__init__.py": "import web\n"})
    _write(site / "stray.py")

    installed = SitePackages(site)
    assert installed.unused({"web.app"}) == ["cloud-sdk (cloud_sdk)"]
    assert installed.unused({"cloud_sdk"}) == []
    assert installed.unowned() == ["stray.py"]


def test_the_services_own_imports_are_read_from_their_code() -> None:
    assert "boto3" in service_imports("analytics")
    assert "argon2" in service_imports("auth")
    assert not {"boto3", "argon2"} & {name.split(".")[0] for name in service_imports("order")}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_group_holds_only_what_its_code_imports(service: str) -> None:
    """An image installs `uv sync --only-group <service>`; each of those packages must be
    reached from the service's own code through imports (boto3 only in analytics)."""
    installed = lock.image_packages(service)
    image = SitePackages(HOST_SITE, only=installed)  # the image's packages, from this venv
    assert set(image.files) == installed
    unused = image.unused(service_imports(service), lock.declared(service))
    assert unused == [], f"{service}'s image would hold packages it never imports"


@pytest.mark.parametrize("service", SERVICES)
def test_what_the_dockerfile_leaves_out_is_never_imported(service: str) -> None:
    left_out = lock.left_out()
    assert left_out <= lock.packages().keys()
    everything = SitePackages(HOST_SITE, only=lock.group(service))
    reached = everything.reached(service_imports(service), lock.declared(service))
    assert not left_out & reached


def test_only_the_analytics_image_holds_the_aws_sdk() -> None:
    holding = [service for service in SERVICES if "boto3" in lock.image_packages(service)]
    assert holding == ["analytics"]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("machine", lock.MACHINES)
def test_every_image_package_has_a_wheel_for_both_architectures(service: str, machine: str) -> None:
    """The Dockerfile installs with --no-build (wheels only): each package of the image
    must have a wheel that CPython 3.11 on glibc Linux `machine` installs."""
    missing = [
        name
        for name in sorted(lock.image_packages(service, machine))
        if not any(wheel.installs_on(machine) for wheel in lock.wheels(name))
    ]
    assert missing == [], f"no {machine} wheel in uv.lock for {missing}"


def test_the_wheel_check_tells_architectures_apart() -> None:
    def wheel(platform: str, python: str = "cp311", abi: str = "cp311") -> lock.Wheel:
        return lock.Wheel(f"x-1-{python}-{abi}-{platform}.whl", python, abi, platform)

    amd64_only = wheel("manylinux2014_x86_64.manylinux_2_17_x86_64")
    assert amd64_only.installs_on("x86_64")
    assert not amd64_only.installs_on("aarch64")
    assert wheel("manylinux_2_28_aarch64", "cp39", "abi3").installs_on("aarch64")
    assert not wheel("manylinux_2_39_aarch64").installs_on("aarch64")  # newer glibc
    assert not wheel("musllinux_1_2_aarch64").installs_on("aarch64")
    assert not wheel("manylinux_2_17_aarch64", "cp312", "cp312").installs_on("aarch64")
    assert wheel("any", "py3", "none").installs_on("aarch64")


def test_the_dockerfile_names_no_architecture() -> None:
    """One Dockerfile for linux/amd64 and linux/arm64: no --platform pins, no per-arch
    base images or downloads (buildx picks the platform)."""
    for number, line in enumerate(DOCKERFILE.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        assert not re.search(r"--platform|amd64|x86_64|x64|aarch64|arm64", code), (
            f"apps/Dockerfile:{number} is tied to one architecture: {line}"
        )
