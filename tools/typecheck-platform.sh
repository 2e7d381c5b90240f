#!/usr/bin/env bash
# mypy --strict over the Pulumi program. While pulumi-tls is not yet in uv.lock it
# lives in .cache/platform-extras (tools/install-platform-extras.sh); this config
# adds that folder and keeps mypy from type-checking the SDK's own sources.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if .venv/bin/python -c "import pulumi_tls" 2>/dev/null; then
    exec .venv/bin/mypy --strict platform/glosleep_platform platform/policy stacks "$@"
fi
bash tools/install-platform-extras.sh
config="$root/.cache/platform-extras/mypy.ini"
cat >"$config" <<INI
[mypy]
strict = True
python_version = 3.11
plugins = pydantic.mypy
mypy_path = platform:.cache/platform-extras
explicit_package_bases = True
warn_unreachable = True
cache_dir = .mypy_cache

[pydantic-mypy]
init_forbid_extra = True
init_typed = True
warn_required_dynamic_aliases = True

[mypy-pulumi_tls.*]
ignore_errors = True
INI
exec .venv/bin/mypy --config-file "$config" platform/glosleep_platform platform/policy stacks "$@"
