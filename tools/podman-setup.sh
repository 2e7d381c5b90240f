#!/usr/bin/env bash
# Podman on a machine without a Docker engine, ready to build apps/Dockerfile:
#   1. installs podman, runc and debootstrap from Debian's archive when missing
#      (CI runs as root on a fresh Debian 12 machine), and Debian's docker-compose
#      (Compose v1, used only for `docker-compose config`, the check of compose.yaml);
#   2. writes .cache/podman/containers.conf (no default ulimits: this host refuses
#      setrlimit RLIMIT_NOFILE inside containers);
#   3. makes a local stand-in for the official Python base image named in the
#      Dockerfile's first FROM line, once: a Debian 12 root (debootstrap, the
#      distribution the official *-slim-bookworm images are built on) with Debian's
#      python3 (3.11), imported under the official name so the unchanged FROM line
#      resolves to it. Nothing is ever pulled from a registry.
# Prints the podman command line to use (runtime and containers.conf) on its last line.
# See docs/images.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/podman"
conf="$cache/containers.conf"
dockerfile="$root/apps/Dockerfile"

log() { printf 'podman-setup: %s\n' "$*" >&2; }

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
            log "missing ${missing[*]}, not root and no sudo: install them with apt-get (Debian 12)"
            exit 3
        fi
        sudo="sudo"
    fi
    log "installing ${missing[*]} from Debian's archive"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

mkdir -p "$cache"
cat >"$conf" <<'EOF'
# Written by tools/podman-setup.sh.
[containers]
# This host refuses setrlimit(RLIMIT_NOFILE) in containers; keep the inherited limits.
default_ulimits = []

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$conf"
podman=(podman --runtime runc)

# The base image the Dockerfile names (its first FROM line), e.g. python:3.11.14-slim-bookworm.
base="$(awk 'toupper($1) == "FROM" { print $2; exit }' "$dockerfile")"
case "$base" in
    python:*-slim-bookworm) ;;
    *)
        log "unexpected base image '$base' in $dockerfile"
        exit 4
        ;;
esac
official="docker.io/library/$base"

if ! "${podman[@]}" image exists "$official"; then
    log "making a local stand-in for $official (debootstrap, about a minute)"
    work="$(mktemp -d "$cache/standin.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    rootfs="$work/root"
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
        bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || {
        tail -n 30 "$work/debootstrap.log" >&2
        exit 5
    }
    # Slim like the official image: no package lists, caches or docs.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    version="$(chroot "$rootfs" python3 -c 'import platform; print(platform.python_version())')"
    tar -C "$rootfs" -c . | "${podman[@]}" import \
        --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV PYTHON_VERSION=$version" \
        --change 'CMD ["python3"]' \
        --message "local stand-in for $official: Debian 12 minbase + Debian python3 $version" \
        - "$official" >/dev/null
    log "stand-in $official ready (Debian python3 $version)"
fi

echo "CONTAINERS_CONF=$conf podman --runtime runc"
