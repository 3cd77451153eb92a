#!/usr/bin/env bash
# Runs a command against local-kms loaded with the public demo key
# (examples/demo-key/local-kms-seed.yaml), with the AWS SDK and CLI pointed
# at it. local-kms listens on every interface, so it gets a random high port
# and is stopped by PID when the command ends.
#
#   hack/with-demo-kms.sh kustomize build --enable-alpha-plugins --enable-exec examples/kustomize
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/bin:$root/.tools/bin:$PATH"
command -v local-kms >/dev/null || { echo "local-kms not found: run 'make tools'" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$(shuf -i 20000-60999 -n 1)
while port_in_use "$port"; do port=$(shuf -i 20000-60999 -n 1); done

data=$(mktemp -d)
KMS_REGION=eu-west-1 KMS_ACCOUNT_ID=111122223333 KMS_DATA_PATH="$data" \
  KMS_SEED_PATH="$root/examples/demo-key/local-kms-seed.yaml" PORT="$port" \
  local-kms >"$data/local-kms.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT

for _ in $(seq 100); do
  port_in_use "$port" && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/local-kms.log" >&2; exit 1; }
  sleep 0.1
done

# Only the emulator's settings: nothing from the caller's AWS configuration.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_KMS AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
"$@"
