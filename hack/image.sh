#!/usr/bin/env bash
# Builds kmsgen's container image for linux/ARCH into the local Docker
# engine without any base image or registry: kmsgen cross-compiled for
# linux/ARCH, put in an image archive by hack/image-archive.sh (the files
# and config of the Dockerfile's image), and `docker load`ed.
#
#   hack/image.sh IMAGE VERSION [ARCH]
#
# ARCH is amd64 or arm64 (default: the Go toolchain's GOARCH).
set -euo pipefail
image=$1 version=$2 arch=${3:-$(go env GOARCH)}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X kmsgen.dev/kmsgen/internal/cli.version=$version" -o "$work/kmsgen" .)
"$root/hack/image-archive.sh" "$work/image.tar.gz" "$image" "$version" "$arch" "$work/kmsgen"
previous=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
docker load --quiet --input "$work/image.tar.gz" >/dev/null
# The image this one replaces would stay behind untagged: remove it if unused.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "built $image (linux/$arch, $version)"
