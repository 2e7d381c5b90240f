"""A local Prometheus (Debian's `prometheus` package) scraping the running services
with the repo's own rule files, so the alerts and the dashboards' queries run
outside Kubernetes too. Used by `make dev-monitoring` and the monitoring tests.

Each service is scraped as job=<service> with service=<service>, the labels the
ServiceMonitor gives it in the cluster, so the same rules work in both places."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from apps.devstack.ports import free_port
from apps.devstack.processes import REPO_ROOT, ManagedProcess

RULES_DIR = REPO_ROOT / "monitoring" / "rules"
INSTALL_SCRIPT = REPO_ROOT / "tools" / "install-prometheus.sh"


def rule_files() -> list[Path]:
    return sorted([*RULES_DIR.glob("*.yaml"), *RULES_DIR.glob("*.yml")])


def binary(name: str = "prometheus") -> str:
    """`prometheus` or `promtool`, installed from Debian by the repo script when missing."""
    found = shutil.which(name)
    if found is None:
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True)  # noqa: S603, S607 - our script
        found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed; run {INSTALL_SCRIPT}")
    return found


def scrape_config(
    targets: Mapping[str, int],
    *,
    interval_seconds: float,
    rules: Sequence[Path],
    host: str = "127.0.0.1",
) -> str:
    """prometheus.yml for services listening on `host`:<port> (JSON is valid YAML)."""
    interval = f"{interval_seconds:g}s"
    config = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
            "external_labels": {"environment": "local"},
        },
        "rule_files": [str(path) for path in rules],
        "scrape_configs": [
            {
                "job_name": name,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"{host}:{port}"], "labels": {"service": name}}],
            }
            for name, port in targets.items()
        ],
    }
    return json.dumps(config, indent=2) + "\n"


class LocalPrometheus(ManagedProcess):
    """A Prometheus server process with its own data folder."""

    def __init__(
        self,
        data_dir: Path,
        targets: Mapping[str, int],
        *,
        port: int | None = None,
        interval_seconds: float = 5.0,
        rules: Sequence[Path] | None = None,
        log: Path | None = None,
    ) -> None:
        super().__init__("prometheus", log)
        self.data_dir = data_dir
        self.targets = dict(targets)
        self.port = port or free_port()
        self.interval_seconds = interval_seconds
        self.rules = list(rules) if rules is not None else rule_files()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "prometheus.yml"

    def command(self) -> list[str]:
        return [
            binary(),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]

    def is_ready(self) -> bool:
        try:
            return httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout_seconds: float = 30.0) -> str:
        """Write the scrape config, start, wait until ready; answers the URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            scrape_config(self.targets, interval_seconds=self.interval_seconds, rules=self.rules)
        )
        self.spawn()
        try:
            self.wait_ready(timeout_seconds)
        except RuntimeError:
            self.stop()
            raise
        return self.url

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
