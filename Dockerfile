# kmsgen's container image: a static binary on an otherwise empty image
# (distroless-static style): CA certificates for HTTPS to KMS, a non-root
# user (65532), the function as the entrypoint. Multi-architecture: the build
# stage runs on the builder's platform and cross-compiles for each target.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=v0.2.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     -t <registry>/kmsgen:v0.2.0 --push .
#
# Without a registry or base images, `make image` (and `make images` for both
# architectures) builds the same root filesystem (hack/rootfs.sh) with
# `docker import`; a release's rootfs tarballs are these images' contents.

ARG GO_IMAGE=golang:1.27.3

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X kmsgen.dev/kmsgen/internal/cli.version=${VERSION}" -o /out/kmsgen . \
 && hack/rootfs.sh /rootfs /out/kmsgen

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/kmsgen"]
LABEL org.opencontainers.image.title="kmsgen" \
      org.opencontainers.image.description="KRM function: Kubernetes Secrets from AWS KMS ciphertexts" \
      org.opencontainers.image.source="https://kmsgen.dev/kmsgen" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
