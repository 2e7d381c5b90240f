#!/usr/bin/env bash
# Installs checkov into its own virtualenv under .cache/checkov (it pins many
# dependencies of its own, so it stays out of the project's .venv). Idempotent;
# prints the path of the checkov executable.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="3.3.30"
venv="$root/.cache/checkov"
stamp="$venv/.installed-$version"
# One install at a time (two test runs on one checkout would otherwise race).
mkdir -p "$root/.cache"
exec 9>"$root/.cache/checkov.lock"
flock 9
if [[ ! -f "$stamp" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$version" >&2
    touch "$stamp"
fi
echo "$venv/bin/checkov"
