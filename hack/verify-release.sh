#!/usr/bin/env bash
# Checks a release directory that hack/release.sh wrote: every artefact is
# there and in SHA256SUMS, each binary is static, for its platform and
# stamped with VERSION, the SBOM describes kmsgen's Go modules, and each
# image root filesystem, imported as an image for its architecture, runs
# `kmsgen version` (arm64 through qemu-aarch64-static, from Debian's
# qemu-user-static; .ci/run installs it). make release-snapshot and make
# release run it after building.
#
#   hack/verify-release.sh VERSION DIST
#
# Set KMSGEN_VERIFY_STRICT=1 (CI does) to fail rather than note it when
# Docker or qemu-aarch64-static is missing.
set -euo pipefail
version=$1 dist=$2
root=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "verify-release: $*" >&2; exit 1; }
missing() {
  [ "${KMSGEN_VERIFY_STRICT:-}" = 1 ] && fail "$* (KMSGEN_VERIFY_STRICT=1)"
  echo "verify-release: NOTE: $*: NOT checked" >&2
}

cd "$dist"
sha256sum --quiet -c SHA256SUMS || fail "SHA256SUMS does not match the files"
[ "$(ls kmsgen_* | sort)" = "$(awk '{print $2}' SHA256SUMS | sort)" ] || fail "SHA256SUMS does not list exactly the kmsgen_* files"

for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  os=${target%/*} arch=${target#*/}
  ext=""; [ "$os" = windows ] && ext=.exe
  bin=kmsgen_${version}_${os}_${arch}$ext
  [ -f "$bin" ] || fail "$bin is missing"
  info=$(go version -m "$bin") || fail "$bin: go version -m: not a Go binary"
  for want in "build	GOOS=$os" "build	GOARCH=$arch" "build	CGO_ENABLED=0"; do
    grep -qF -- "$want" <<<"$info" || fail "$bin: build information lacks \"$want\""
  done
  # -trimpath keeps -ldflags out of the build information: the stamped
  # version is a string in the binary (run below where the host can).
  grep -qaF -- "$version" "$bin" || fail "$bin: the version $version is not stamped in it"
done

host_arch=$(go env GOARCH)
got=$("./kmsgen_${version}_linux_${host_arch}" version) || fail "kmsgen_${version}_linux_${host_arch} version failed"
[ "$got" = "$version" ] || fail "kmsgen_${version}_linux_${host_arch} version printed \"$got\", want \"$version\""
got=$("./kmsgen_${version}_linux_${host_arch}" --version) || fail "--version failed"
[ "$got" = "$version" ] || fail "kmsgen --version printed \"$got\", want \"$version\""

sbom=kmsgen_${version}_sbom.cdx.json
jq -e --arg v "$version" '
  .bomFormat == "CycloneDX"
  and .metadata.component.name == "kmsgen.dev/kmsgen"
  and ([.components[].name] | index("github.com/aws/aws-sdk-go-v2/service/kms") != null)
  and ([.components[].name] | index("sigs.k8s.io/kustomize/kyaml") != null)
  and all(.components[]; .version != null and (.purl | startswith("pkg:golang/")))' "$sbom" >/dev/null \
  || fail "$sbom is not a CycloneDX SBOM of kmsgen.dev/kmsgen with its Go modules"

for arch in amd64 arm64; do
  archive=kmsgen_${version}_image_linux_${arch}.tar.gz
  layer=$(tar -xzOf "$archive" layer.tar | tar -t) || fail "$archive: no layer.tar in it"
  for want in ./kmsgen ./etc/ssl/certs/ca-certificates.crt ./etc/passwd ./etc/group ./tmp/ ./work/ ./home/nonroot/; do
    grep -qxF -- "$want" <<<"$layer" || fail "$archive: the image lacks $want"
  done
done

if ! docker info >/dev/null 2>&1; then
  missing "no Docker engine answers: the images were not built nor run"
  exit 0
fi
qemu=$(command -v qemu-aarch64-static || true)
for arch in amd64 arm64; do
  image=localhost/kmsgen:${version}-${arch}
  archive=kmsgen_${version}_image_linux_${arch}.tar.gz
  docker load --quiet --input "$archive" >/dev/null
  # The image ID docker reports is the config's digest the archive names.
  id=sha256:$(tar -xzOf "$archive" manifest.json | jq -r '.[0].Config | rtrimstr(".json")')
  [ "$(docker image inspect --format '{{.Id}}' "$image")" = "$id" ] || fail "$image: image ID is not $id"
  [ "$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$image")" = "linux/$arch" ] || fail "$image is not linux/$arch"
  if [ "$arch" = "$host_arch" ]; then
    got=$(docker run --rm "$image" version)
  elif [ "$arch" = arm64 ] && [ -n "$qemu" ]; then
    # No binfmt_misc needed: qemu runs the image's own /kmsgen.
    got=$(docker run --rm --platform linux/arm64 -v "$qemu:/qemu-aarch64-static:ro" \
      --entrypoint /qemu-aarch64-static "$image" /kmsgen version 2>/dev/null)
  else
    missing "no qemu-aarch64-static (apt-get install qemu-user-static): $image was not run"
    docker rmi "$image" >/dev/null
    continue
  fi
  docker rmi "$image" >/dev/null
  [ "$got" = "$version" ] || fail "$image: kmsgen version printed \"$got\", want \"$version\""
  echo "verify-release: $image runs: kmsgen version = $got"
done
echo "verify-release: $dist holds every artefact of $version"
