"""`make dev`: the whole platform on this machine, with demo data.

Without MONGO_URL, SecantusDB (the embedded database) keeps its data in
.data/dev/db, so demo data and anything you add survive a restart;
`make reset-dev` deletes it. With MONGO_URL, that server is used instead."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from apps.devstack.embedded_db import EmbeddedMongo
from apps.devstack.ports import port_is_free
from apps.devstack.processes import REPO_ROOT
from apps.devstack.prometheus import LocalPrometheus
from apps.devstack.seed import seed_demo_data
from apps.devstack.stack import (
    DEV_PORTS,
    LocalStack,
    StackConfig,
    available_services,
    new_key_encryption_key,
)
from apps.kit.demo import demo_email
from apps.kit.security import Role

DATA_DIR = REPO_ROOT / ".data" / "dev"


def _ports() -> dict[str, int]:
    return {
        name: int(os.environ.get(f"GLOSLEEP_{name.upper()}_PORT", default))
        for name, default in DEV_PORTS.items()
    }


def _banner(stack: LocalStack, names: list[str], database: str, password: str) -> str:
    lines = ["", "GloSleep platform is running (Ctrl-C stops everything):", ""]
    for name in names:
        url = stack.url(name)
        lines.append(f"  {name:<12} {url:<24} API docs {url}/docs")
    lines += ["", f"  database     {database}", "", "Demo logins (password: " + password + "):"]
    lines += [f"  {demo_email(role)}" for role in Role]
    lines += ["", f"Logs: {DATA_DIR / 'logs'}", ""]
    return "\n".join(lines)


def _start_prometheus(stack: LocalStack, names: list[str], log_dir: Path) -> LocalPrometheus:
    """`make dev-monitoring`: Prometheus with the repo's rules, scraping every service."""
    port = int(os.environ.get("GLOSLEEP_PROMETHEUS_PORT", "9090"))
    prometheus = LocalPrometheus(
        DATA_DIR / "prometheus",
        {name: stack.ports[name] for name in names},
        port=port if port_is_free(port) else None,
        log=log_dir / "prometheus.log",
    )
    print("starting Prometheus ...", flush=True)
    prometheus.start()
    print(f"\n  prometheus   {prometheus.url:<24} alerts {prometheus.url}/alerts", flush=True)
    return prometheus


def _key_encryption_key() -> str:
    """The key auth encrypts its signing keys with, kept beside (not in) the dev
    database: made once, readable by this user only."""
    path = DATA_DIR / "auth-key-encryption.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(new_key_encryption_key() + "\n")
    return path.read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(prog="make dev", description=__doc__)
    parser.add_argument("--reset", action="store_true", help="delete the dev database and exit")
    args = parser.parse_args()
    if args.reset:
        shutil.rmtree(DATA_DIR / "db", ignore_errors=True)
        print(f"deleted {DATA_DIR / 'db'}")
        return 0

    log_dir = DATA_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    embedded: EmbeddedMongo | None = None
    mongo_url = os.environ.get("MONGO_URL")
    if not mongo_url:
        port = 27017 if port_is_free(27017) else None
        embedded = EmbeddedMongo(DATA_DIR / "db", port=port, log=log_dir / "database.log")
        print("starting the embedded database (SecantusDB) ...", flush=True)
        mongo_url = embedded.start()

    stack = LocalStack(
        StackConfig(
            mongo_url=mongo_url,
            dev_mode=True,
            ports=_ports(),
            log_dir=log_dir,
            key_encryption_key=_key_encryption_key(),
        )
    )
    names = available_services()
    stopped = threading.Event()
    prometheus: LocalPrometheus | None = None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("starting " + ", ".join(names) + " ...", flush=True)
        stack.start(names)
        password = os.environ.get("DEMO_PASSWORD", "glosleep-demo")
        seed_demo_data(stack, names, password)
        if os.environ.get("WITH_PROMETHEUS") == "1":
            prometheus = _start_prometheus(stack, names, log_dir)
        shown_db = "embedded SecantusDB, " + str(DATA_DIR / "db") if embedded else "MONGO_URL"
        print(_banner(stack, names, shown_db, password), flush=True)
        stopped.wait()
    except RuntimeError as error:
        print(f"make dev failed: {error}", file=sys.stderr)
        return 1
    finally:
        print("stopping ...", flush=True)
        if prometheus is not None:
            prometheus.stop()
        if stack is not None:
            stack.stop()
        if embedded:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
