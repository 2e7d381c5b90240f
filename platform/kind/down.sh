#!/usr/bin/env bash
# Deletes what up.sh created. Run by `pulumi destroy -s kind`.
set -euo pipefail

: "${CLUSTER_NAME:?}" "${REGISTRY_NAME:?}"

kind delete cluster --name "$CLUSTER_NAME"
docker rm -f "$REGISTRY_NAME" >/dev/null 2>&1 || true
