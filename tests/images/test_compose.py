"""compose.yaml: checked by a real Compose implementation (`docker-compose config`,
Debian's Compose v1, which validates against its Compose-spec schema and resolves
variables; there is no Docker engine here), then read back and checked against what
the services, their settings and the monitoring files expect."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.auth.settings import AuthSettings
from apps.devstack.stack import SERVICE_ACCOUNTS, SERVICES
from apps.kit.settings import ServiceSettings
from tests.images.containers import ROOT, Engine, built_services

COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"


def compose_config(engine: Engine, env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *engine.compose_command(),
            "--project-directory",
            str(ROOT),
            "--env-file",
            str(env_file),
            "--file",
            str(COMPOSE_FILE),
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered(engine: Engine) -> dict[str, Any]:
    """The file as Compose resolves it with the documented .env.example values
    (with podman, the `engine` fixture's setup script also installs docker-compose)."""
    result = compose_config(engine, ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_secrets_must_come_from_an_env_file(engine: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config(engine, empty)
    assert result.returncode != 0
    assert "copy .env.example to .env" in result.stderr


def test_production_like_settings_cannot_turn_dev_mode_on(engine: Engine, tmp_path: Path) -> None:
    """No service gets DEV_MODE, even from an .env file or a shell that sets it."""
    env_file = tmp_path / "dev.env"
    env_file.write_text(ENV_EXAMPLE.read_text() + "DEV_MODE=true\n")
    result = compose_config(engine, env_file)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for service in SERVICES:
        environment = services[service]["environment"]
        assert not any(key.upper() == "DEV_MODE" for key in environment), service
        assert "env_file" not in services[service], service
    auth = services["auth"]["environment"]
    assert auth["AUTH_BOOTSTRAP_ADMIN_EMAIL"] == "admin@glosleep.example"
    assert auth["AUTH_BOOTSTRAP_ADMIN_PASSWORD"]


def test_auth_keeps_its_signing_keys_encrypted_with_a_key_from_env(
    rendered: dict[str, Any],
) -> None:
    """The key that encrypts the signing keys in MongoDB comes from .env, not the
    database, and is a valid AES-256 key."""
    auth = rendered["services"]["auth"]["environment"]
    assert "AUTH_SIGNING_KEY_DIR" not in auth  # keys in the database ...
    settings = AuthSettings(
        mongo_url=auth["MONGO_URL"], auth_key_encryption_key=auth["AUTH_KEY_ENCRYPTION_KEY"]
    )
    assert settings.key_encryption_key() is not None  # ... encrypted, 32 bytes


def test_the_whole_platform_is_in_the_file(rendered: dict[str, Any]) -> None:
    assert set(rendered["services"]) == {*SERVICES, "mongo", "prometheus", "grafana"}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_built_from_the_one_dockerfile(
    rendered: dict[str, Any], service: str
) -> None:
    spec = rendered["services"][service]
    assert Path(spec["build"]["context"]) == ROOT
    assert spec["build"]["dockerfile"] == "apps/Dockerfile"
    assert spec["build"]["args"] == {"SERVICE": service}
    assert spec["image"] == f"glosleep/{service}:local"
    # Hardened as in the cluster.
    assert spec["read_only"] is True
    assert spec["tmpfs"] == ["/tmp"]
    assert spec["cap_drop"] == ["ALL"]
    assert spec["depends_on"]["mongo"] == {"condition": "service_healthy"}
    if service != "auth":
        assert spec["depends_on"]["auth"] == {"condition": "service_healthy"}
    assert spec["ports"] == [f"127.0.0.1:{8001 + SERVICES.index(service)}:8080/tcp"]


def _settings_type(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"apps.{service}.settings")
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("service", built_services())
def test_each_service_accepts_its_compose_environment(
    rendered: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's own settings class validates the environment compose gives it."""
    settings_type = _settings_type(service)
    for field in settings_type.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    environment = rendered["services"][service]["environment"]
    for key, value in environment.items():
        monkeypatch.setenv(key, str(value))
    settings = settings_type()
    assert settings.service_name == service
    assert settings.mongo_database == f"glosleep_{service}"
    assert settings.dev_mode is False  # production-like: no demo data, no demo users
    assert "replicaSet=rs0" in settings.mongo_url.get_secret_value()
    if service != "auth":
        assert settings.jwks_url == "http://auth:8080/.well-known/jwks.json"
    if service in SERVICE_ACCOUNTS:
        assert settings.auth_url == "http://auth:8080"
        assert settings.service_client_id == SERVICE_ACCOUNTS[service][0]


def test_service_accounts_match_between_auth_and_callers(
    rendered: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = rendered["services"]
    monkeypatch.setenv("MONGO_URL", "mongodb://mongo:27017")
    monkeypatch.setenv(
        "AUTH_KEY_ENCRYPTION_KEY", services["auth"]["environment"]["AUTH_KEY_ENCRYPTION_KEY"]
    )
    clients = AuthSettings(
        auth_service_clients=json.loads(services["auth"]["environment"]["AUTH_SERVICE_CLIENTS"])
    ).auth_service_clients
    by_id = {client.client_id: client for client in clients}
    assert set(by_id) == {client_id for client_id, _ in SERVICE_ACCOUNTS.values()}
    for caller, (client_id, scopes) in SERVICE_ACCOUNTS.items():
        assert by_id[client_id].scopes == scopes
        secret = services[caller]["environment"]["SERVICE_CLIENT_SECRET"]
        assert by_id[client_id].client_secret.get_secret_value() == secret


def test_mongo_is_a_replica_set_that_initiates_itself(rendered: dict[str, Any]) -> None:
    mongo = rendered["services"]["mongo"]
    assert re.fullmatch(r"mongo:\d+\.\d+(\.\d+)?", mongo["image"])
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    check = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in check
    assert "isWritablePrimary" in check
    assert mongo["ports"] == ["127.0.0.1:27017:27017/tcp"]


def _mounts(spec: dict[str, Any]) -> dict[str, Path]:
    """Bind mounts: target -> source, every source a path in this repository."""
    mounts = {}
    for volume in spec["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("/"):
            path = Path(source)
            assert path.exists(), f"{path} is mounted but missing"
            assert ROOT in path.parents
            mounts[target] = path
    return mounts


def test_prometheus_scrapes_every_service_with_the_rules(rendered: dict[str, Any]) -> None:
    mounts = _mounts(rendered["services"]["prometheus"])
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(SERVICES)  # job=<service>, as the rules and dashboards expect
    for name, job in jobs.items():
        assert job["static_configs"] == [{"targets": [f"{name}:8080"]}]
    rules = mounts["/etc/prometheus/rules"]
    for pattern in config["rule_files"]:
        assert Path(pattern).parent == Path("/etc/prometheus/rules")
        assert list(rules.glob(Path(pattern).name)), f"no rule file matches {pattern}"


def test_grafana_provisions_the_datasource_and_the_dashboards(rendered: dict[str, Any]) -> None:
    mounts = _mounts(rendered["services"]["grafana"])
    datasources = yaml.safe_load(
        mounts["/etc/grafana/provisioning/datasources/glosleep.yaml"].read_text()
    )["datasources"]
    assert datasources[0]["url"] == "http://prometheus:9090"
    assert datasources[0]["isDefault"] is True
    providers = yaml.safe_load(
        mounts["/etc/grafana/provisioning/dashboards/glosleep.yaml"].read_text()
    )["providers"]
    path = providers[0]["options"]["path"]
    dashboards = mounts[path]
    assert list(dashboards.glob("*.json")), f"no dashboard in {dashboards}"
