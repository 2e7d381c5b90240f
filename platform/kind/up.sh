#!/usr/bin/env bash
# Creates the local registry and the Kind cluster, and joins them (idempotent).
# Run by the kind stack's pulumi-command resource; the environment names the parts:
#   CLUSTER_NAME, NODE_IMAGE, KIND_CONFIG, REGISTRY_NAME, REGISTRY_PORT
set -euo pipefail

: "${CLUSTER_NAME:?}" "${NODE_IMAGE:?}" "${KIND_CONFIG:?}" "${REGISTRY_NAME:?}" "${REGISTRY_PORT:?}"

if [[ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_NAME" 2>/dev/null || true)" != "true" ]]; then
    docker run -d --restart=always -p "127.0.0.1:${REGISTRY_PORT}:5000" \
        --network bridge --name "$REGISTRY_NAME" registry:2
fi

if ! kind get clusters | grep -qx "$CLUSTER_NAME"; then
    kind create cluster --name "$CLUSTER_NAME" --image "$NODE_IMAGE" \
        --config "$KIND_CONFIG" --wait 5m
fi

# Each node resolves localhost:<port> to the registry container on the kind network.
registry_dir="/etc/containerd/certs.d/localhost:${REGISTRY_PORT}"
for node in $(kind get nodes --name "$CLUSTER_NAME"); do
    docker exec "$node" mkdir -p "$registry_dir"
    printf '[host."http://%s:5000"]\n' "$REGISTRY_NAME" |
        docker exec -i "$node" cp /dev/stdin "$registry_dir/hosts.toml"
done

if [[ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_NAME")" == "null" ]]; then
    docker network connect kind "$REGISTRY_NAME"
fi
