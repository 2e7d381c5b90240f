#!/usr/bin/env bash
# Installs Debian's Prometheus (prometheus + promtool) when missing. Used by the
# monitoring tests and by `make dev-monitoring`. Needs root or sudo (CI runs as root
# on a fresh Debian 12 machine). The package's own systemd service is not used:
# the tests and the dev stack run the binary themselves with a generated config.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi
sudo=""
if [[ "$(id -u)" != "0" ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-prometheus: not root and no sudo; install the 'prometheus' package" >&2
        exit 1
    fi
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Keep the package's service from starting (no init in containers, and we run our own).
policy="/usr/sbin/policy-rc.d"
created_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
fi
cleanup() { if [[ "$created_policy" == 1 ]]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null && command -v promtool >/dev/null
