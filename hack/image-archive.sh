#!/usr/bin/env bash
# Writes kmsgen's container image for linux/ARCH as an image archive that
# `docker load` reads (gzipped docker-save layout: manifest.json, the image
# config, one layer): the root filesystem of hack/rootfs.sh around BINARY,
# and the image config of the Dockerfile's final stage (non-root user 65532,
# /kmsgen as the entrypoint, /work as the working directory, the OCI labels).
# It needs no base image, registry or builder; the same inputs give the
# same bytes (sorted entries, fixed owners and times, no creation date), so
# the image ID is reproducible.
#
#   hack/image-archive.sh OUT.tar.gz IMAGE VERSION ARCH BINARY
#
# make image and make images (hack/image.sh) and releases (hack/release.sh)
# use it; tests/container_test.go holds it to the Dockerfile.
set -euo pipefail
out=$1 image=$2 version=$3 arch=$4 binary=$5
case $arch in amd64|arm64) ;; *) echo "image-archive: ARCH must be amd64 or arm64, not $arch" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$root/hack/rootfs.sh" "$work/rootfs" "$binary"
mkdir "$work/image"
# Root owns every file but the nonroot user's home, whoever builds it.
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime='@0' --exclude=./home/nonroot \
  -C "$work/rootfs" -cf "$work/image/layer.tar" .
tar --numeric-owner --owner=65532 --group=65532 --mtime='@0' --no-recursion \
  -C "$work/rootfs" -rf "$work/image/layer.tar" ./home/nonroot
layer=$(sha256sum "$work/image/layer.tar" | cut -d' ' -f1)

jq -n --arg arch "$arch" --arg layer "sha256:$layer" --arg version "$version" --arg revision "$revision" '{
  architecture: $arch,
  os: "linux",
  config: {
    User: "65532:65532",
    Entrypoint: ["/kmsgen"],
    WorkingDir: "/work",
    Labels: {
      "org.opencontainers.image.title": "kmsgen",
      "org.opencontainers.image.description": "KRM function: Kubernetes Secrets from AWS KMS ciphertexts",
      "org.opencontainers.image.source": "https://kmsgen.dev/kmsgen",
      "org.opencontainers.image.version": $version,
      "org.opencontainers.image.revision": $revision
    }
  },
  rootfs: {type: "layers", diff_ids: [$layer]}
}' > "$work/image/config.json"
config=$(sha256sum "$work/image/config.json" | cut -d' ' -f1)
mv "$work/image/config.json" "$work/image/$config.json"
jq -n --arg config "$config.json" --arg tag "$image" \
  '[{Config: $config, RepoTags: [$tag], Layers: ["layer.tar"]}]' > "$work/image/manifest.json"
tar --numeric-owner --owner=0 --group=0 --mtime='@0' -C "$work/image" -c manifest.json "$config.json" layer.tar | gzip -n > "$out"
