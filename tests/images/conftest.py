"""Fixtures for the image tests: podman (set up once), the images (built once per
session, from the layer cache after the first time) and a size report."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from tests.images.podman import MAX_ADDED_BYTES, Podman, PodmanUnavailable, built_services

_podman: list[Podman] = []


@pytest.fixture(scope="session")
def podman() -> Podman:
    try:
        podman = Podman.set_up()
    except PodmanUnavailable as error:
        # Not a skip: the images are part of what `make test` proves.
        pytest.fail(f"podman cannot build or run images on this machine: {error}")
    _podman.append(podman)
    return podman


class Images(Mapping[str, str]):
    """Service name -> image tag, for every service whose code exists; each image is
    built when a test first asks for it (so `-k order` builds only what it needs)."""

    def __init__(self, podman: Podman) -> None:
        self._podman = podman
        self._tags: dict[str, str] = {}

    def __getitem__(self, service: str) -> str:
        if service not in built_services():
            raise KeyError(service)
        if service not in self._tags:
            self._tags[service] = self._podman.build(service)
        return self._tags[service]

    def __iter__(self) -> Iterator[str]:
        return iter(built_services())

    def __len__(self) -> int:
        return len(built_services())


@pytest.fixture(scope="session")
def images(podman: Podman) -> Images:
    return Images(podman)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _podman or not _podman[0].reports:
        return
    terminalreporter.section("container images (apps/Dockerfile)")
    limit = MAX_ADDED_BYTES / 1e6
    for report in _podman[0].reports.values():
        built = "not rebuilt" if report.cached else f"built in {report.build_seconds:.1f} s"
        terminalreporter.write_line(
            f"glosleep/{report.service:<12} adds {report.added_bytes / 1e6:6.1f} MB "
            f"over its base (limit {limit:.0f} MB), {report.total_bytes / 1e6:6.1f} MB "
            f"with the stand-in base; {built}"
        )
