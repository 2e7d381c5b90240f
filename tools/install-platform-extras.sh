#!/usr/bin/env bash
# Installs Python packages the Pulumi program needs that are not yet in uv.lock
# into .cache/platform-extras (a --target dir, never into .venv), so the platform
# tests and mypy can find them. Remove once pyproject's "platform" group lists them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/.cache/platform-extras"
stamp="$target/.installed-pulumi-tls-5.6.2"
[[ -f "$stamp" ]] && exit 0
rm -rf "$target"
# --no-deps: its dependencies (pulumi, semver, packaging) are already in .venv.
python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$target" "pulumi-tls==5.6.2"
touch "$stamp"
