#!/usr/bin/env bash
# Builds kmsgen's release artefacts into DIST for VERSION: static binaries for
# linux, darwin and windows on amd64 and arm64 (CGO_ENABLED=0, -trimpath,
# stripped, the version stamped), the container image for linux/amd64 and
# linux/arm64 as archives `docker load` reads (hack/image-archive.sh: the
# files and config of the Dockerfile's image), a CycloneDX SBOM of
# the Go modules linked into the binary, and SHA256SUMS over all of them.
#
#   hack/release.sh VERSION DIST
#
# make release-snapshot and make release call it; CYCLONEDX_GOMOD names the
# SBOM generator (make installs the pinned one into .tools/bin).
set -euo pipefail
version=$1 dist=$2
root=$(cd "$(dirname "$0")/.." && pwd)
sbom_tool=${CYCLONEDX_GOMOD:-cyclonedx-gomod}
ldflags="-s -w -X kmsgen.dev/kmsgen/internal/cli.version=$version"

rm -rf "$dist" && mkdir -p "$dist"
cd "$root"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  os=${target%/*} arch=${target#*/}
  ext=""; [ "$os" = windows ] && ext=.exe
  out="$dist/kmsgen_${version}_${os}_${arch}$ext"
  echo "release: $out"
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out" .
done

# The image per architecture, as an archive `docker load` reads; push it
# with docker push and join the two with docker manifest (README, Install).
for arch in amd64 arm64; do
  out="$dist/kmsgen_${version}_image_linux_${arch}.tar.gz"
  echo "release: $out"
  "$root/hack/image-archive.sh" "$out" "localhost/kmsgen:${version}-${arch}" "$version" "$arch" "$dist/kmsgen_${version}_linux_${arch}"
done

echo "release: $dist/kmsgen_${version}_sbom.cdx.json"
"$sbom_tool" app -main . -json -licenses=false -output "$dist/kmsgen_${version}_sbom.cdx.json" "$root" 2>/dev/null

(cd "$dist" && sha256sum kmsgen_* > SHA256SUMS)
echo "release: $dist/SHA256SUMS"
