#!/usr/bin/env bash
# Runs the end-to-end tests (tests/: the real kustomize, kpt, kubectl, aws
# CLI, pre-commit and Docker against both KMS emulators), which take a
# minute or more, saying what they are doing: one line per top-level test as it
# ends, then the whole verbose log if any failed. make test calls it.
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "e2e: tests/ drives the real binaries against local-kms, moto_server and a fake KMS (about a minute on 2 cores); each test is listed as it ends"
start=$SECONDS
status=0
go test -count=1 -v ./tests 2>&1 | tee "$log" | grep --line-buffered -E '^(--- (PASS|FAIL|SKIP): Test|FAIL|ok )' || status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "e2e: FAILED after $((SECONDS - start)) s; the full log:"
  cat "$log"
  exit "$status"
fi
echo "e2e: passed in $((SECONDS - start)) s"
