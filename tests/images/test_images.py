"""The service images, built with podman (or Docker, tests/images/engine.py) from the
unchanged apps/Dockerfile on a local stand-in base (Docker: the official one), then
run as their non-root user on a read-only root filesystem against
the test database: ready, serving tokens across containers, stopping cleanly on SIGTERM."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from apps.devstack.stack import LocalStack, StackConfig
from tests.images import lock
from tests.images.containers import (
    DOCKERFILE,
    MAX_ADDED_BYTES,
    ROOT,
    Engine,
    built_services,
    git,
    project_version,
    wait_ready,
)
from tests.support.platform import bearer

SERVICES = built_services()
# auth last: the others verify tokens against the auth container while it runs.
RUN_ORDER = [name for name in SERVICES if name != "auth"] + ["auth"]
FACTS_SCRIPT = (Path(__file__).parent / "image_facts.py").read_text()
TEST_CLIENT = "svc-image-test"
STOP_LIMIT_SECONDS = 10.0
# Services with an event feed (docs/architecture.md, "Events").
EVENT_PRODUCERS = {"inventory", "order", "procurement"}


def test_hadolint_passes_and_every_exception_is_justified() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for number, line in enumerate(DOCKERFILE.read_text().splitlines(), 1):
        if "hadolint ignore" in line:
            reason = line.split("hadolint ignore", 1)[1].split(maxsplit=1)
            assert len(reason) == 2, f"line {number}: give the reason"
            assert len(reason[1]) > 10, f"line {number}: give the reason"


def test_every_service_with_code_gets_an_image() -> None:
    assert "auth" in SERVICES
    for name in SERVICES:
        assert (ROOT / "apps" / name / "__main__.py").is_file(), f"{name} cannot run as -m"


@pytest.mark.parametrize("service", SERVICES)
def test_image_metadata(engine: Engine, images: Mapping[str, str], service: str) -> None:
    image = engine.inspect_image(images[service])
    config = image["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["python", "-m", "glosleep_service"]  # exec form
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PORT"] == "8080"
    assert "8080/tcp" in config["ExposedPorts"]
    assert not any(key.endswith(("CERT", "CERT_FILE")) for key in env), "build-only CA leaked"
    health = image["Healthcheck"]["Test"]
    assert health[0] == "CMD"
    assert "/livez" in health[-1]
    labels = image["Labels"]
    assert labels["org.opencontainers.image.title"] == f"glosleep-{service}"
    assert labels["org.opencontainers.image.version"] == project_version()
    # The commit it was built from (this one, or an earlier one with the same files).
    revision = labels["org.opencontainers.image.revision"]
    assert git("cat-file", "-t", revision) == "commit", revision
    assert "org.opencontainers.image.source" in labels


@pytest.mark.parametrize("service", SERVICES)
def test_image_contents(engine: Engine, images: Mapping[str, str], service: str) -> None:
    """Checked as the image's own user, on a writable root, so permissions decide."""
    wanted = sorted(lock.declared(service))
    command = ["python", "-c", FACTS_SCRIPT, *wanted]
    result = engine("run", "--rm", "--entrypoint", command[0], images[service], *command[1:])
    facts = json.loads(result.stdout)
    assert (facts["uid"], facts["gid"]) == (10001, 10001)
    # The suite runs on this Python too (pyproject: requires-python).
    assert facts["python"] == list(sys.version_info[:2])
    assert facts["dont_write_bytecode"] is True
    assert facts["writable"] == [], "the service could change its own code"
    assert facts["not_root_owned"] == []
    assert facts["compilers"] == []
    assert facts["dev_modules"] == []
    # Only the kit and this one service: no tests, no dev tooling, no other service.
    assert facts["app_top"] == ["__pycache__", "apps", "glosleep_service.py"]
    assert facts["app_tree"] == sorted(["apps/__init__.py", f"apps/{service}", "apps/kit"])
    assert facts["secret_like"] == []
    # No dev-mode demo data or bench; the kit's demo identities (auth disables demo
    # users outside dev mode with them) are the one demo module.
    assert facts["demo_data"] == ["apps/kit/demo.py"]
    # Only this service's dependency group (uv.lock), and nothing in it that the import
    # closure of the service's own code does not reach (tests/images/image_facts.py).
    assert set(facts["distributions"]) == lock.image_packages(service)
    assert facts["unused_distributions"] == []
    assert facts["unowned_modules"] == []


def test_the_analytics_image_keeps_the_aws_clients_its_export_needs(
    engine: Engine, images: Mapping[str, str]
) -> None:
    """The Dockerfile cuts botocore's API models to S3 (the export) and STS (web-identity
    credentials in the cluster); both clients still build, and nothing else is kept."""
    script = (
        "import boto3, botocore, pathlib\n"
        "for name in ('s3', 'sts'):\n"
        "    boto3.client(name, region_name='ap-south-1')\n"
        "data = pathlib.Path(botocore.__file__).parent / 'data'\n"
        "print(sorted(p.name for p in data.iterdir() if p.is_dir()))\n"
    )
    result = engine("run", "--rm", "--entrypoint", "python", images["analytics"], "-c", script)
    assert result.stdout.split() == ["['s3',", "'sts']"]


@pytest.mark.parametrize("service", SERVICES)
def test_image_adds_less_than_the_size_limit(
    engine: Engine, images: Mapping[str, str], service: str
) -> None:
    images[service]  # built (or found) now, measured by the build
    report = engine.reports[service]
    assert report.added_bytes < MAX_ADDED_BYTES, (
        f"glosleep/{service} adds {report.added_bytes / 1e6:.1f} MB over its base"
    )


def test_images_share_all_but_their_own_layers(engine: Engine, images: Mapping[str, str]) -> None:
    """The base and the user are one set of layers for all images; each image's own are
    its virtual environment (its dependency group) and its code."""
    layers = {
        service: engine.inspect_image(tag)["RootFS"]["Layers"] for service, tag in images.items()
    }
    shared = {tuple(found[:-2]) for found in layers.values()}
    assert len(shared) == 1, layers
    assert len({found[-1] for found in layers.values()}) == len(layers)


@pytest.fixture(scope="module")
def stack(mongo_url: str, database_prefix: str) -> Iterator[LocalStack]:
    """Ports and environment for the containers, as `make dev` wires processes."""
    stack = LocalStack(
        StackConfig(
            mongo_url=mongo_url,
            database_prefix=f"{database_prefix}img_",
            extra_clients={TEST_CLIENT: (secrets.token_urlsafe(32), ["events:read"])},
        )
    )
    yield stack
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5_000) as client:
        for name in SERVICES:
            client.drop_database(stack.database(name))


def _container_name(service: str) -> str:
    return f"glosleep-image-test-{service}"


def _start(
    engine: Engine, images: Mapping[str, str], stack: LocalStack, service: str, tmp: Path
) -> str:
    name = _container_name(service)
    engine("rm", "--force", name, check=False)
    env = stack.env_for(service)
    # The kit's own drain period on SIGTERM, not the fast one `make dev` uses.
    env.pop("SHUTDOWN_DRAIN_SECONDS", None)
    env |= {"PORT": str(stack.ports[service]), "HOST": "127.0.0.1"}
    env_file = tmp / f"{service}.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    engine(
        "run",
        "--detach",
        f"--name={name}",
        *engine.read_only_options(),
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "--network=host",
        f"--env-file={env_file}",
        images[service],
    )
    return name


@pytest.fixture(scope="module")
def auth_container(
    engine: Engine,
    images: Mapping[str, str],
    stack: LocalStack,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    name = _start(engine, images, stack, "auth", tmp_path_factory.mktemp("env"))
    try:
        wait_ready(engine, name, stack.url("auth"))
        yield name
    finally:
        engine("rm", "--force", name, check=False)


def _service_token(stack: LocalStack) -> str:
    secret, _ = stack.config.extra_clients[TEST_CLIENT]
    response = httpx.post(
        stack.url("auth") + "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "events:read"},
        auth=(TEST_CLIENT, secret),
        timeout=10.0,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.mark.parametrize("service", RUN_ORDER)
def test_container_serves_read_only_and_stops_on_sigterm(
    engine: Engine,
    images: Mapping[str, str],
    stack: LocalStack,
    auth_container: str,
    tmp_path: Path,
    service: str,
) -> None:
    name = auth_container if service == "auth" else _start(engine, images, stack, service, tmp_path)
    url = stack.url(service)
    try:
        wait_ready(engine, name, url)
        assert engine("exec", name, "id", "-u").stdout.strip() == "10001"
        write = engine("exec", name, "touch", "/app/apps/written", check=False)
        assert write.returncode != 0
        assert "Read-only file system" in write.stderr
        # The image's HEALTHCHECK command works in the running container.
        assert engine.healthcheck(name).returncode == 0
        metrics = httpx.get(url + "/metrics", timeout=5.0)
        assert metrics.status_code == 200
        assert "http_requests_total" in metrics.text
        paths = httpx.get(url + "/openapi.json", timeout=5.0).json()["paths"]
        if service in EVENT_PRODUCERS:
            assert "/v1/events" in paths
            # Verified against the auth container's JWKS, container to container.
            events = url + "/v1/events?after=0"
            assert httpx.get(events, timeout=5.0).status_code == 401
            answer = httpx.get(events, headers=bearer(_service_token(stack)), timeout=10.0)
            assert answer.status_code == 200, answer.text

        started = time.monotonic()
        engine("kill", "--signal=TERM", name)
        code = engine("wait", name, timeout=STOP_LIMIT_SECONDS + 5).stdout.strip()
        elapsed = time.monotonic() - started
        logs = engine.logs(name)
        assert code == "0", f"exit code {code}:\n{logs}"
        assert elapsed < STOP_LIMIT_SECONDS, f"stopped after {elapsed:.1f} s"
        assert "Application shutdown complete" in logs
    finally:
        engine("rm", "--force", name, check=False)
