# kmsgen: make demo (quickstart), make test (everything CI runs).
SHELL := /bin/bash

TOOLS_DIR := $(CURDIR)/.tools
TOOLS_BIN := $(TOOLS_DIR)/bin
# Pinned tools, installed into $(TOOLS_BIN) (gitignored).
KUSTOMIZE_VERSION := v5.8.2
LOCAL_KMS_VERSION := v0.0.0-20260228092603-2a5e92d09ab6

export PATH := $(CURDIR)/bin:$(TOOLS_BIN):$(PATH)
# The Go toolchain: go.mod asks for 1.27.3 (1.26's standard library has
# reachable vulnerabilities), which the go command fetches through the module
# proxy. Every shell that runs go needs it: export GOTOOLCHAIN=go1.27.3.
export GOTOOLCHAIN := go1.27.3
# sops, for the benchmarks only (make bench compares kmsgen with sops -d).
SOPS_VERSION := v3.13.3
# govulncheck and the vulnerability database, built from the golang.org/x/vulndb
# module (the online database is not reachable from every build host).
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
# The SBOM generator for releases.
CYCLONEDX_GOMOD_VERSION := v1.10.0

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The image the examples and tests use; a registry-less name kpt will not prefix.
IMAGE ?= localhost/kmsgen:dev
LDFLAGS := -s -w -X kmsgen.dev/kmsgen/internal/cli.version=$(VERSION)

.PHONY: all build image images tools demo test test-argocd fuzz vulncheck bench release release-snapshot lint clean

all: build

## build: bin/kmsgen, statically linked
build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/kmsgen .

## image: the container image $(IMAGE) for linux/$(ARCH) (docker load of an image archive: no base image, no registry)
ARCH ?= $(shell go env GOARCH)
image:
	hack/image.sh $(IMAGE) $(VERSION) $(ARCH)

## images: the image for linux/amd64 and linux/arm64, as $(IMAGE)-amd64 and $(IMAGE)-arm64
images:
	hack/image.sh $(IMAGE)-amd64 $(VERSION) amd64
	hack/image.sh $(IMAGE)-arm64 $(VERSION) arm64

## release-snapshot: every release artefact into dist/ (binaries, images, SBOM, SHA256SUMS), versioned from git describe, then checked
release-snapshot: $(TOOLS_DIR)/cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION).stamp
	CYCLONEDX_GOMOD=$(TOOLS_BIN)/cyclonedx-gomod hack/release.sh $(VERSION)-snapshot dist
	hack/verify-release.sh $(VERSION)-snapshot dist

## release: the same from a clean checkout of a tag, versioned with the tag
release: $(TOOLS_DIR)/cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION).stamp
	@tag=$$(git describe --exact-match --tags 2>/dev/null) || { echo "release: HEAD is not a tag (git tag vX.Y.Z first; make release-snapshot builds without one)" >&2; exit 1; }; \
	  [ -z "$$(git status --porcelain)" ] || { echo "release: the work tree has changes; release from a clean checkout of $$tag" >&2; exit 1; }; \
	  CYCLONEDX_GOMOD=$(TOOLS_BIN)/cyclonedx-gomod hack/release.sh $$tag dist && \
	  hack/verify-release.sh $$tag dist

$(TOOLS_DIR)/cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION).stamp:
	GOBIN=$(TOOLS_BIN) go install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_GOMOD_VERSION)
	@touch $@

## tools: the pinned kustomize and local-kms, into .tools/bin
tools: $(TOOLS_DIR)/kustomize-$(KUSTOMIZE_VERSION).stamp $(TOOLS_DIR)/local-kms-$(LOCAL_KMS_VERSION).stamp

$(TOOLS_DIR)/kustomize-$(KUSTOMIZE_VERSION).stamp:
	GOBIN=$(TOOLS_BIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@touch $@

$(TOOLS_DIR)/local-kms-$(LOCAL_KMS_VERSION).stamp:
	GOBIN=$(TOOLS_BIN) go install github.com/nsmithuk/local-kms@$(LOCAL_KMS_VERSION)
	@touch $@

## demo: local-kms with the public demo key, then kustomize build examples/kustomize
demo: tools build
	hack/with-demo-kms.sh kustomize build --enable-alpha-plugins --enable-exec examples/kustomize

## lint: formatting and go vet
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...

## test: lint, then every test (unit, golden, emulators, kustomize differential, examples)
test: tools build lint
	@docker info >/dev/null 2>&1 || echo "NOTE: no Docker engine answers: the container tests will be SKIPPED (they say so with go test -v)"
	go test -count=1 $$(go list ./... | grep -v '^kmsgen.dev/kmsgen/tests$$')
	hack/test-e2e.sh

## test-argocd: the real Argo CD (tests/argocd-real, a module of its own): its argocd-cmp-server runs examples/argocd/plugin.yaml, called as the repo server calls it, against local-kms
# Building Argo CD takes minutes on two cores: its binary is kept in
# $(ARGOCD_CACHE), keyed by the nested module's go.mod and go.sum (a new key
# replaces the old binary, 300 MB). It is built with go test's settings (no
# -trimpath), so the build cache also serves the test binary.
ARGOCD_CACHE ?= $(TOOLS_DIR)
ARGOCD_KEY = $(shell cat tests/argocd-real/go.mod tests/argocd-real/go.sum | sha256sum | cut -c1-16)
ARGOCD_CMP_SERVER = $(ARGOCD_CACHE)/argocd-real-$(ARGOCD_KEY)/argocd-cmp-server
test-argocd: tools
	@test -x $(ARGOCD_CMP_SERVER) || { echo "building Argo CD into $(ARGOCD_CMP_SERVER)"; \
	  rm -rf $(ARGOCD_CACHE)/argocd-real-*/ && mkdir -p $(dir $(ARGOCD_CMP_SERVER)) && cd tests/argocd-real && \
	  go build -o $(ARGOCD_CMP_SERVER).tmp github.com/argoproj/argo-cd/v3/cmd && \
	  mv $(ARGOCD_CMP_SERVER).tmp $(ARGOCD_CMP_SERVER); }
	cd tests/argocd-real && go vet ./... && ARGOCD_CMP_SERVER=$(ARGOCD_CMP_SERVER) go test -count=1 -v ./...

## bench: paired, interleaved timings of kmsgen against kustomize's builtin generator and sops (see BENCHMARKS.md); BENCH_RUNS runs per side
BENCH_RUNS ?= 7
bench: tools $(TOOLS_DIR)/sops-$(SOPS_VERSION).stamp
	go run ./bench -runs $(BENCH_RUNS)
	go test -run '^$$' -bench . ./fn/...

$(TOOLS_DIR)/sops-$(SOPS_VERSION).stamp:
	GOBIN=$(TOOLS_BIN) go install github.com/getsops/sops/v3/cmd/sops@$(SOPS_VERSION)
	@touch $@

## fuzz: each fuzz target for FUZZTIME (default 20s); make test runs their seed corpora
FUZZTIME ?= 20s
FUZZ_TARGETS := ./fn/envfile:FuzzParse ./fn/ciphertext:FuzzParse ./fn/api:FuzzDecode ./fn/api:FuzzFileSource ./fn:FuzzProcessor ./internal/tlsroots:FuzzSubjectOf
fuzz: tools
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
	  go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## vulncheck: govulncheck against a vulnerability database built from golang.org/x/vulndb; fails on a reachable vulnerability
vulncheck: $(TOOLS_DIR)/govulncheck-$(GOVULNCHECK_VERSION).stamp $(TOOLS_DIR)/vulndb-$(VULNDB_VERSION).stamp
	govulncheck -db file://$(TOOLS_DIR)/vulndb ./...

$(TOOLS_DIR)/govulncheck-$(GOVULNCHECK_VERSION).stamp:
	GOBIN=$(TOOLS_BIN) go install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	@touch $@

# indexdb (from the vulndb module, which go install puts in the module cache
# with its OSV files) turns data/osv into the database govulncheck reads.
$(TOOLS_DIR)/vulndb-$(VULNDB_VERSION).stamp:
	GOBIN=$(TOOLS_BIN) go install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)
	rm -rf $(TOOLS_DIR)/vulndb
	indexdb -vulns "$$(go env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv" -out $(TOOLS_DIR)/vulndb
	@touch $@

clean:
	rm -rf bin $(TOOLS_DIR)
