#!/usr/bin/env bash
# Builds kmsgen's container image from bin/kmsgen without any base image or
# registry: the root filesystem of hack/rootfs.sh, imported with the same
# USER, ENTRYPOINT and labels as the Dockerfile's final stage.
#
#   hack/image.sh IMAGE VERSION
set -euo pipefail
image=$1 version=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/hack/rootfs.sh" "$work/rootfs" "$root/bin/kmsgen"
previous=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
tar --numeric-owner -C "$work/rootfs" -c . | docker import \
  --change 'USER 65532:65532' \
  --change 'ENTRYPOINT ["/kmsgen"]' \
  --change 'WORKDIR /work' \
  --change 'LABEL org.opencontainers.image.title="kmsgen"' \
  --change 'LABEL org.opencontainers.image.description="KRM function: Kubernetes Secrets from AWS KMS ciphertexts"' \
  --change 'LABEL org.opencontainers.image.source="https://kmsgen.dev/kmsgen"' \
  --change "LABEL org.opencontainers.image.version=\"$version\"" \
  - "$image" >/dev/null
# The image this one replaces would stay behind untagged: remove it if unused.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "built $image ($version)"
