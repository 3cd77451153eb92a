#!/usr/bin/env bash
# Assembles the root filesystem of kmsgen's container image in DIR: the
# static binary, CA certificates for HTTPS to KMS, passwd/group entries for
# root, nobody (the user kustomize runs container functions as) and nonroot
# (65532, the image's USER), a /tmp, and /work, the working directory
# where hosts mount the kustomization root. Both the Dockerfile and
# `make image` use it, so the two images hold the same files.
#
#   hack/rootfs.sh DIR BINARY
set -euo pipefail
dir=$1 binary=$2
certs=/etc/ssl/certs/ca-certificates.crt
[ -f "$certs" ] || { echo "rootfs: no CA certificates at $certs (install ca-certificates)" >&2; exit 1; }

mkdir -p "$dir/etc/ssl/certs" "$dir/tmp" "$dir/home/nonroot" "$dir/work"
install -m 0755 "$binary" "$dir/kmsgen"
cp "$certs" "$dir/etc/ssl/certs/ca-certificates.crt"
cat > "$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$dir/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
GROUP
chmod 1777 "$dir/tmp"
chown 65532:65532 "$dir/home/nonroot" 2>/dev/null || true
