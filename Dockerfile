# syntax=docker/dockerfile:1
# envctl in a container. Two ways to get the binary in:
#
#   docker build -t envctl .                        # default: compile from source (static musl)
#   docker build --target prebuilt -t envctl .      # copy a prebuilt static binary, no compiling:
#                                                   #   dist/envctl-amd64 / dist/envctl-arm64 by default,
#                                                   #   or --build-arg ENVCTL_BINARY=dist/<file>
#
# The release workflow uses `prebuilt` with the musl binaries it has already built and tested, so
# the image runs exactly the bytes in the release archives, for linux/amd64 and linux/arm64, with
# no second compile (for arm64 on an amd64 runner that would run under QEMU, many times slower).
#
# Run it in the app's repository (envctl reads envctl.toml and asks git for the branch and commit),
# passing AWS credentials as environment variables; add -u "$(id -u):$(id -g)" for commands that
# write files (init, ci github):
#   docker run --rm -v "$PWD:/work" -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     -e AWS_SESSION_TOKEN envctl plan
# BuildKit is required (cache mounts, COPY --chmod); it is the default builder since Docker 23.

ARG RUST_IMAGE=rust:1.95-alpine
ARG RUNTIME_IMAGE=alpine:3.22

# --- build from source -------------------------------------------------------------------------
# Alpine's Rust targets musl and links statically by default, so the binary has no libc dependency.
FROM ${RUST_IMAGE} AS builder
# aws-lc-sys (the TLS crypto behind rustls) is C: gcc + musl-dev compile it, linux-headers provides
# <linux/random.h> for its entropy source; cmake, make and perl are for its CMake builder, which it
# falls back to when the default cc builder cannot handle a target. Go is only needed for FIPS.
# Package versions come from the image's Alpine branch; pinning exact versions breaks as soon as
# that branch ships a security update (old versions leave the mirrors).
# hadolint ignore=DL3018
RUN apk add --no-cache gcc musl-dev linux-headers cmake make perl
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target dir between local builds without baking them into
# layers; the binary is copied out of the cache mount because the mount vanishes after this RUN.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -m 0755 target/release/envctl /usr/local/bin/envctl \
    && /usr/local/bin/envctl --version

# --- what every variant runs on ----------------------------------------------------------------
# Alpine rather than distroless: envctl runs `git` (env name from the branch, owner, build
# commits, `gc --live-branches-from git`), which distroless does not have. ca-certificates: the
# AWS SDK's rustls reads the system trust store. safe.directory: the mounted repository belongs to
# the host user, not to `envctl`, and git refuses to read a repository owned by someone else.
# A numeric USER lets Kubernetes' runAsNonRoot verify the image without reading /etc/passwd.
FROM ${RUNTIME_IMAGE} AS runtime-base
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates git \
    && addgroup -g 10001 envctl \
    && adduser -D -u 10001 -G envctl envctl \
    && git config --system --add safe.directory /work
WORKDIR /work
USER 10001:10001
ENTRYPOINT ["envctl"]

# --- prebuilt binary ---------------------------------------------------------------------------
# TARGETARCH (amd64, arm64) is set by BuildKit per platform, so one multi-platform build picks the
# matching binary. The file must be inside the build context and allowed by .dockerignore (dist/).
FROM runtime-base AS prebuilt
ARG TARGETARCH
ARG ENVCTL_BINARY=dist/envctl-${TARGETARCH}
COPY --chmod=0755 ${ENVCTL_BINARY} /usr/local/bin/envctl

# --- default: from source ----------------------------------------------------------------------
# Last stage, so a plain `docker build .` builds from source.
FROM runtime-base AS runtime
COPY --from=builder /usr/local/bin/envctl /usr/local/bin/envctl
