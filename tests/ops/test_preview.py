"""glosleep-ops preview: the structural diff of a stack between two git commits, as Markdown."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from glosleep_ops import EXIT_CHANGED, EXIT_ERROR, EXIT_OK
from glosleep_ops.cli import main
from glosleep_ops.preview import load_run, parse_setting, run
from glosleep_platform.graph_diff import diff_runs
from glosleep_platform.mocks import SECRET_MARKER
from tests.ops.checkouts import copy_checkout

GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with two commits: the program, then a config change on kind."""
    root = copy_checkout(tmp_path_factory.mktemp("preview") / "repo")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "the program as it is")
    config_file = root / "Pulumi.kind.yaml"
    document = yaml.safe_load(config_file.read_text())
    config = document["config"]
    config["glosleep:services"]["logLevel"] = "DEBUG"  # ConfigMaps: replaced (immutable)
    config["glosleep:monitoring"]["exposeGrafana"] = False  # the Grafana route goes
    config["glosleep:mongodb"]["replicaCount"] = 3  # MONGO_URL (a secret) changes
    config_file.write_text(yaml.safe_dump(document))
    _git(root, "commit", "-qam", "debug logs, Grafana private, three MongoDB members")
    return root


def _preview(repo: Path, ref: str, stack: str = "kind", *sets: str) -> tuple[int, str]:
    """The command as the workflow runs it, with the throw-away repository as this checkout."""
    return run(stack, ref, dict(parse_setting(text) for text in sets), root=repo)


def test_preview_against_the_previous_commit_shows_what_the_change_does(repo: Path) -> None:
    code, out = _preview(repo, "HEAD~1")
    assert code == EXIT_CHANGED
    assert out.startswith("### Structural preview, stack `kind`: this version against `HEAD~1`")
    # Deleted: the Grafana HTTPRoute.
    deleted = out.split("#### Deleted", 1)[1].split("####", 1)[0]
    assert "**grafana-route**" in deleted
    # Replaced, with reason, mode and source: every ConfigMap whose LOG_LEVEL changed.
    replaced = out.split("#### Replaced", 1)[1].split("####", 1)[0]
    row = next(line for line in replaced.splitlines() if "**order-env**" in line)
    assert "data.LOG_LEVEL changed | create-before-delete |" in row
    assert "pulumi-kubernetes forceNew" in row
    # Changed inputs name their paths; the MongoDB release's replica count is plain.
    assert "`values.replicaCount`: 1 -> 3" in out
    # The connection string is a secret: its path shows, its values never do.
    assert "`stringData.MONGO_URL`: [secret] -> [secret]" in out
    assert SECRET_MARKER not in out
    assert "mongodb://" not in out


def test_preview_against_the_same_commit_shows_no_change(repo: Path) -> None:
    # kind's up.sh runs on every `pulumi up` by a per-run trigger: not a change.
    code, out = _preview(repo, "HEAD")
    assert code == EXIT_OK, out
    assert "No structural change" in out


def test_set_gives_both_versions_the_same_value(repo: Path) -> None:
    # With the new log level set on both sides, only the other two edits remain.
    code, out = _preview(repo, "HEAD~1", "kind", "glosleep:services.logLevel=DEBUG")
    assert code == EXIT_CHANGED
    assert "LOG_LEVEL" not in out
    assert "**grafana-route**" in out
    assert "`values.replicaCount`: 1 -> 3" in out


def test_a_renamed_resource_with_an_alias_is_a_change_not_a_delete_and_create() -> None:
    base = {
        "type": "kubernetes:core/v1:Namespace",
        "inputs": {"metadata": {"name": "glosleep"}},
        "secret_inputs": [],
        "custom": True,
        "parent": "urn:pulumi:kind::glosleep::glosleep:platform:Services::services",
    }
    old = load_run("kind", [{**base, "name": "services-namespace"}])
    moved = {
        **base,
        "name": "app-namespace",
        "parent": "",
        "request": {
            "urn": "urn:pulumi:kind::glosleep::kubernetes:core/v1:Namespace::app-namespace",
            "aliases": [old.resources[0].urn],
        },
    }
    diff = diff_runs(old, load_run("kind", [moved]))
    assert diff.empty()


def test_the_command_line_names_a_bad_ref_and_a_bad_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["preview", "--stack", "kind", "--compare-to", "no-such-ref-anywhere"]
    assert main(argv) == EXIT_ERROR
    assert "no-such-ref-anywhere" in capsys.readouterr().err
    assert main([*argv[:4], str(tmp_path), "--set", "no-equals-sign"]) == EXIT_ERROR
    assert "expected KEY=VALUE" in capsys.readouterr().err
