"""Write every Kubernetes object the program declares as YAML, and validate it.

Built-in kinds are checked against the Kubernetes JSON schemas of the cluster's
version in strict mode (kubernetes-validate); custom resources against the CRD
schemas kept in ``schemas/``. A custom kind without a schema is an error, so a
new CRD cannot slip through unchecked.

    python -m glosleep_platform.manifests kind out/kind   # render and validate
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_DIR = Path(__file__).parent / "schemas"
BUILT_IN_GROUPS = {
    "",
    "apps",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
}

Manifest = dict[str, Any]


def api_group(manifest: Manifest) -> str:
    api_version = str(manifest["apiVersion"])
    return api_version.split("/", maxsplit=1)[0] if "/" in api_version else ""


def file_name(manifest: Manifest) -> str:
    metadata = manifest.get("metadata", {})
    namespace = metadata.get("namespace", "cluster")
    return f"{manifest['kind'].lower()}-{namespace}-{metadata['name']}.yaml"


def write_manifests(manifests: Iterable[Manifest], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for manifest in manifests:
        path = directory / file_name(manifest)
        path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        paths.append(path)
    return paths


@cache
def _crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    group, version = api_version.split("/")
    path = SCHEMA_DIR / f"{kind.lower()}-{group}-{version}.json"
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


@cache
def _kubernetes_validator(api_version: str, kind: str, kubernetes_version: str) -> Any:
    """kubernetes-validate's strict schema for one kind, compiled once.

    The same schemas and resolution as ``kubernetes_validate.validate(strict=True)``,
    which would reload the 2 MB definitions file for every object.
    """
    from kubernetes_validate import utils  # type: ignore[import-untyped]  # ships no type hints
    from referencing import Registry, Resource

    wanted = utils.major_minor(kubernetes_version)
    version = [v for v in utils.all_versions() if utils.major_minor(v) <= wanted][-1]
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    directory = f"kubernetes-json-schema/v{version}-local-strict"
    try:
        schema = utils.schema_contents(f"{directory}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        return None
    definitions = utils.schema_contents(f"{directory}/_definitions.json", version)
    registry: Registry[Any] = Resource.from_contents(definitions) @ (
        Resource.from_contents(schema) @ Registry()
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_manifest(manifest: Manifest, kubernetes_version: str) -> list[str]:
    """Problems with one object; empty when it is valid."""
    label = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
    api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
    if api_group(manifest) in BUILT_IN_GROUPS:
        validator = _kubernetes_validator(api_version, kind, kubernetes_version)
        if validator is None:
            return [f"{label}: no schema for {api_version} {kind} in {kubernetes_version}"]
    else:
        schema = _crd_schema(api_version, kind)
        if schema is None:
            return [f"{label}: no CRD schema for {api_version} {kind}"]
        validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{label}: {'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("stack", choices=["kind", "eks"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)

    from glosleep_platform.offline import run_offline
    from glosleep_platform.settings import load_settings_file

    run = run_offline(args.stack)
    version = load_settings_file(args.stack).kubernetes_version
    manifests = run.kubernetes_objects()
    write_manifests(manifests, args.directory)
    problems = [p for m in manifests for p in validate_manifest(m, version)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(manifests)} objects written to {args.directory}, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
