"""Image tags follow exactly what each build reads (issue 13, B3).

pulumi-docker-build rebuilds an Image whenever anything in its build context, its
Dockerfile or its build arguments changes, and the new build has a new digest. ECR
refuses a push of new content under an existing tag (IMMUTABLE), so a tag must change
whenever the provider would rebuild, and must not change when it would not (or every
deploy would roll every service).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from glosleep_platform.build_context import BuildContext, ignored, parse_ignore_file
from glosleep_platform.catalogue import SERVICES
from glosleep_platform.images import build_context, source_tag
from glosleep_platform.offline import OfflineRun
from glosleep_platform.settings import REPO_ROOT
from tests.platform.helpers import k8s_object

BUILD_INPUTS = ("apps", ".dockerignore", "pyproject.toml", "uv.lock")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of what image builds read, plus files that no build reads."""
    for name in BUILD_INPUTS:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("not in any image\n")
    return tmp_path


def tags(root: Path) -> dict[str, str]:
    return {spec.name: source_tag(root, spec) for spec in SERVICES}


def provider_inputs(root: Path) -> dict[str, tuple[bytes, tuple[tuple[str, bytes], ...]]]:
    """What pulumi-docker-build diffs, per image: the Dockerfile and the context's files."""
    out = {}
    for spec in SERVICES:
        build = build_context(root, spec)
        files = tuple((name, (root / build.context / name).read_bytes()) for name in build.files())
        out[spec.name] = ((root / build.dockerfile).read_bytes(), files)
    return out


def test_a_change_to_one_service_gives_every_rebuilt_image_a_new_tag(repo: Path) -> None:
    before_tags, before_inputs = tags(repo), provider_inputs(repo)
    with (repo / "apps" / "order" / "__init__.py").open("a") as handle:
        handle.write("# changed\n")
    after_tags, after_inputs = tags(repo), provider_inputs(repo)
    rebuilt = {name for name in before_inputs if before_inputs[name] != after_inputs[name]}
    # The context is the repository root: the provider rebuilds all five.
    assert rebuilt == {spec.name for spec in SERVICES}
    retagged = {name for name in before_tags if before_tags[name] != after_tags[name]}
    assert retagged == rebuilt, "a rebuilt image under an existing tag: ECR refuses the push"


@pytest.mark.parametrize(
    "path",
    ["docs/notes.md", "apps/devstack/__init__.py", "apps/order/__pycache__/x.pyc"],
)
def test_files_no_build_reads_change_no_tag(repo: Path, path: str) -> None:
    before = tags(repo)
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as handle:
        handle.write("# changed\n")
    assert tags(repo) == before


def test_the_dockerfile_and_build_arguments_are_part_of_the_tag(repo: Path) -> None:
    before = tags(repo)
    assert len(set(before.values())) == len(SERVICES), "SERVICE differs per image"
    with (repo / "apps" / "Dockerfile").open("a") as handle:
        handle.write("# changed\n")
    after = tags(repo)
    assert all(after[name] != before[name] for name in before)


def test_a_dockerfile_specific_ignore_file_wins(repo: Path) -> None:
    (repo / "apps" / "Dockerfile.dockerignore").write_text("*\n!pyproject.toml\n")
    build = BuildContext(repo, ".", "apps/Dockerfile", {})
    assert build.files() == ["pyproject.toml"]


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        ("*\n!apps/\n", "apps/kit/app.py", False),
        ("*\n!apps/\n", "tests/conftest.py", True),
        ("*\n!apps/\n", ".venv/bin/python", True),
        ("apps/devstack/\n", "apps/devstack/seed.py", True),
        ("**/__pycache__/\n", "apps/kit/__pycache__/app.cpython-311.pyc", True),
        ("**/*.py[cod]\n", "apps/kit/app.pyc", True),
        ("**/*.py[cod]\n", "apps/kit/app.py", False),
        ("*.md\n", "docs/a.md", False),  # `*` stays within one segment
        ("**/*.md\n", "docs/a.md", True),
        ("apps/?it/\n", "apps/kit/x.py", True),
        ("*.md\n!README.md\n", "README.md", False),
        ("!README.md\n*.md\n", "README.md", True),  # the last match wins
        ("# comment\n\n/docs\n", "docs/a.md", True),
    ],
)
def test_ignore_patterns_follow_dockers_rules(patterns: str, path: str, expected: bool) -> None:
    assert ignored(path, parse_ignore_file(patterns)) is expected


def test_the_real_context_holds_the_apps_and_the_lock_only() -> None:
    files = build_context(REPO_ROOT, SERVICES[0]).files()
    assert {"pyproject.toml", "uv.lock", "apps/Dockerfile"} <= set(files)
    assert all(f.startswith("apps/") or f in ("pyproject.toml", "uv.lock") for f in files)
    assert not [f for f in files if f.startswith("apps/devstack/") or "__pycache__" in f]


def test_deployments_pin_images_by_digest_alone(stack_run: OfflineRun) -> None:
    for spec in SERVICES:
        image = k8s_object(stack_run, "Deployment", spec.name)["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        repository, digest = image.split("@")
        assert digest.startswith("sha256:")
        assert ":" not in repository.rsplit("/", 1)[-1], "no tag: an unchanged digest never rolls"


def test_builds_are_reproducible_and_cached_on_eks(
    eks_run: OfflineRun, kind_run: OfflineRun
) -> None:
    for run in (eks_run, kind_run):
        for image in run.of_type("docker-build:index:Image"):
            assert image.inputs["buildArgs"]["SOURCE_DATE_EPOCH"] == "0"
            assert "org.opencontainers.image.version" not in image.inputs.get("labels", {})
    for image in eks_run.of_type("docker-build:index:Image"):
        (cache_to,) = image.inputs["cacheTo"]
        (cache_from,) = image.inputs["cacheFrom"]
        assert cache_to["registry"]["ref"] == cache_from["registry"]["ref"]
        assert cache_to["registry"]["ref"].endswith(
            "/glosleep/build-cache:" + image.inputs["buildArgs"]["SERVICE"]
        )
        assert cache_to["registry"]["mode"] == "max"
