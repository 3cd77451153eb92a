# kmsgen's container image: a static binary on an otherwise empty image
# (distroless-static style): CA certificates for HTTPS to KMS, a non-root
# user, the function as the entrypoint.
#
#   docker build --build-arg VERSION=v0.1.0 -t <registry>/kmsgen:v0.1.0 .
#
# Without a registry, `make image` builds the same root filesystem (see
# hack/rootfs.sh) with `docker import`.

ARG GO_IMAGE=golang:1.27.3

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X kmsgen.dev/kmsgen/internal/cli.version=${VERSION}" -o /out/kmsgen . \
 && hack/rootfs.sh /rootfs /out/kmsgen

FROM scratch
ARG VERSION=dev
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/kmsgen"]
LABEL org.opencontainers.image.title="kmsgen" \
      org.opencontainers.image.description="KRM function: Kubernetes Secrets from AWS KMS ciphertexts" \
      org.opencontainers.image.source="https://kmsgen.dev/kmsgen" \
      org.opencontainers.image.version="${VERSION}"
