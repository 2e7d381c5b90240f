"""Fixtures for the image tests: the container engine (podman, or Docker where podman
is missing; set up once), the images (built once per
session, from the layer cache after the first time) and a size report."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from tests.images.containers import MAX_ADDED_BYTES, Engine, EngineUnavailable, built_services

_engines: list[Engine] = []


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        found = Engine.set_up()
    except EngineUnavailable as error:
        # Not a skip: the images are part of what `make test` proves.
        pytest.fail(f"no container engine can build or run images on this machine: {error}")
    _engines.append(found)
    return found


class Images(Mapping[str, str]):
    """Service name -> image tag, for every service whose code exists; each image is
    built when a test first asks for it (so `-k order` builds only what it needs)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._tags: dict[str, str] = {}

    def __getitem__(self, service: str) -> str:
        if service not in built_services():
            raise KeyError(service)
        if service not in self._tags:
            self._tags[service] = self._engine.build(service)
        return self._tags[service]

    def __iter__(self) -> Iterator[str]:
        return iter(built_services())

    def __len__(self) -> int:
        return len(built_services())


@pytest.fixture(scope="session")
def images(engine: Engine) -> Images:
    return Images(engine)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _engines or not _engines[0].reports:
        return
    terminalreporter.section("container images (apps/Dockerfile)")
    limit = MAX_ADDED_BYTES / 1e6
    for report in _engines[0].reports.values():
        built = "not rebuilt" if report.cached else f"built in {report.build_seconds:.1f} s"
        terminalreporter.write_line(
            f"glosleep/{report.service:<12} adds {report.added_bytes / 1e6:6.1f} MB "
            f"over its base (limit {limit:.0f} MB), {report.total_bytes / 1e6:6.1f} MB "
            f"with the stand-in base; {built}"
        )
