"""The preview path: pull-request code never meets a production secret, the comments it
produces are scrubbed, and the path filters and versions the workflows use hold
(issue 13 B6, B12; issue 14 item 2). docs/deploy.md, "The preview path"."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml

from glosleep_ops import cli
from glosleep_ops.redact import MASK, redact

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PRODUCTION_ACCESS = re.compile(
    r"secrets\.|vars\.AWS_|vars\.PULUMI_BACKEND_URL|configure-aws-credentials"
)
# kindest/node images and the oldest kind release that can run them (kind's release notes).
KIND_FOR_NODE = {"1.32": (0, 26, 0), "1.33": (0, 29, 0), "1.34": (0, 30, 0)}


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    return {("on" if key is True else key): value for key, value in data.items()}


def triggers(data: dict[str, Any]) -> set[str]:
    on = data["on"]
    return {on} if isinstance(on, str) else set(on)


def test_no_workflow_runs_pull_request_code_with_production_access() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        data = workflow(path.name)
        assert "pull_request_target" not in triggers(data), path.name
        if "pull_request" not in triggers(data):
            continue
        for name, job in data["jobs"].items():
            text = yaml.safe_dump(job)
            assert not PRODUCTION_ACCESS.search(text), f"{path.name}:{name} reaches production"
            assert job["permissions"].get("id-token") is None, f"{path.name}:{name}"
            assert "environment" not in job


def test_jobs_with_production_access_run_only_on_reviewed_code() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        data = workflow(path.name)
        for job in data["jobs"].values():
            if not PRODUCTION_ACCESS.search(yaml.safe_dump(job)):
                continue
            assert triggers(data) <= {"push", "schedule", "workflow_dispatch"}, path.name
            if "push" in triggers(data):
                assert data["on"]["push"] == {"branches": ["main"]}
                assert job["environment"] in ("production", "production-preview")


def test_pull_request_previews_use_a_throw_away_backend() -> None:
    preview = workflow("preview.yml")
    job = preview["jobs"]["preview"]
    assert job["env"]["PULUMI_BACKEND_URL"].startswith("file://")
    assert job["permissions"] == {"contents": "read"}
    runs = "\n".join(str(step.get("run", "")) for step in job["steps"])
    assert "glosleep-ops preview --stack" in runs
    assert "--policy-pack platform/policy" in runs
    # Every text that leaves the job passes the redactor first.
    assert "glosleep-ops redact < pulumi-preview.raw" in runs


def test_the_comment_poster_never_runs_pull_request_code() -> None:
    poster = workflow("preview-comment.yml")
    assert triggers(poster) == {"workflow_run"}
    assert poster["on"]["workflow_run"]["workflows"] == ["preview"]
    (job,) = poster["jobs"].values()
    assert not any("checkout" in str(step.get("uses", "")) for step in job["steps"])
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    script = job["steps"][0]["with"]["script"]
    assert "pull.head.sha !== run.head_sha" in script


def test_deploys_preview_with_the_policy_pack_before_up() -> None:
    deploy = workflow("deploy.yml")
    preview, up = deploy["jobs"]["preview"], deploy["jobs"]["deploy"]
    assert up["needs"] == "preview"
    assert preview["environment"] == "production-preview"
    for job, command in ((preview, "pulumi preview --stack eks"), (up, "pulumi up --stack eks")):
        runs = "\n".join(str(step.get("run", "")) for step in job["steps"])
        assert command in runs
        assert "--policy-pack platform/policy" in runs
    uses = [str(step.get("uses", "")) for step in up["steps"]]
    qemu = next(i for i, u in enumerate(uses) if "setup-qemu-action" in u)
    assert qemu < next(i for i, u in enumerate(uses) if "setup-buildx-action" in u), (
        "arm64 nodes: the deploy builds arm64 images on an amd64 runner"
    )
    kind = "\n".join(
        str(s.get("run", "")) for s in workflow("kind-e2e.yml")["jobs"]["e2e"]["steps"]
    )
    assert "--policy-pack platform/policy" in kind


def github_glob(pattern: str) -> re.Pattern[str]:
    """GitHub's path filters: `**` spans folders, `*` stays within one."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "$")


@pytest.mark.parametrize(
    "path",
    [
        "platform/glosleep_platform/services.py",
        "stacks/eks.py",
        "apps/order/main.py",
        "monitoring/rules/slo.yaml",
        "Pulumi.eks.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "pyproject.toml",
        "uv.lock",
    ],
)
def test_every_file_the_program_reads_triggers_a_preview(path: str) -> None:
    patterns = workflow("preview.yml")["on"]["pull_request"]["paths"]
    assert any(github_glob(p).match(path) for p in patterns), path


def test_kind_e2e_installs_a_kind_that_can_run_the_node_image() -> None:
    node_image = yaml.safe_load((ROOT / "Pulumi.kind.yaml").read_text())["config"]["glosleep:kind"][
        "nodeImage"
    ]
    minor = re.search(r":v(1\.\d+)\.", node_image)
    assert minor is not None
    steps = workflow("kind-e2e.yml")["jobs"]["e2e"]["steps"]
    kind_action = next(s for s in steps if "helm/kind-action" in str(s.get("uses")))
    installed = tuple(int(p) for p in kind_action["with"]["version"].lstrip("v").split("."))
    assert installed >= KIND_FOR_NODE[minor.group(1)], f"kind {installed} cannot run {node_image}"


SECRET_TEXTS = [
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx\n-----END EC PRIVATE KEY-----",
    "mongodb://auth:hunter2hunter2@mongodb-0.mongodb-headless:27017/glosleep_auth",
    "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLXZhbHVl",
    "AKIAABCDEFGHIJKLMNOP",
]


@pytest.mark.parametrize("secret", SECRET_TEXTS)
def test_the_redactor_masks_credential_shapes(secret: str) -> None:
    text = f"  + password: {secret}\n  ~ replicas: 2 => 3\n"
    masked = redact(text)
    assert MASK in masked
    assert "hunter2" not in masked
    assert secret not in masked
    assert "replicas: 2 => 3" in masked


def test_the_redactor_masks_the_jobs_secrets_and_given_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct-horse-battery")
    monkeypatch.setenv("GREETING", "hello-world-visible")
    values = tmp_path / "outputs.json"
    values.write_text('{"bootstrapAdminPassword": "Zq9-admin-pass", "n": 3}')
    text = "pass correct-horse-battery, admin Zq9-admin-pass, hello-world-visible\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["redact", "--values-from", str(values)]) == 0
    assert out.getvalue() == f"pass {MASK}, admin {MASK}, hello-world-visible\n"
