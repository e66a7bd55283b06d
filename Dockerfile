# syntax=docker/dockerfile:1
#
# stockd container image: the same `cargo build --release` binary the README runs, on a
# distroless runtime (no shell, no package manager), as a non-root user, with every write going
# to the data volume so the root filesystem can be mounted read-only.
#
#   docker build \
#     --build-arg VERSION=0.1.0 \
#     --build-arg STOCKD_GIT_COMMIT="$(git describe --tags --always --dirty)" \
#     -t stockd:0.1.0 .
#   docker run --rm -p 8080:8080 -v stockd-data:/var/lib/stockd --read-only stockd:0.1.0
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts below.

# Keep in step with rust-toolchain.toml and [workspace.package] version in Cargo.toml
# (crates/stockd/tests/dockerfile.rs checks both).
ARG RUST_VERSION=1.95.0
ARG VERSION=0.1.0

# ---- build --------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS builder
ARG RUST_VERSION

# No separate Node stage: crates/web/build.rs runs `npm ci` on its committed lock files to embed
# the /docs bundle and to build the dashboard (/app/; Vite 6, which bookworm's Node 18 runs), so
# npm only has to be on PATH here. Without it the build still succeeds but /docs degrades to a
# link to /openapi.json and /app/ to a page saying how to get the dashboard. Debian's versions are not pinned: a pinned Debian
# revision stops resolving once a security update supersedes it, and the bundle itself is pinned
# by the lock file, not by npm's version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*

# The image already holds exactly this compiler. Naming it overrides rust-toolchain.toml, whose
# rustfmt and clippy components a release build does not use and rustup would otherwise
# download on every build.
ENV RUSTUP_TOOLCHAIN=${RUST_VERSION} \
    CARGO_TERM_COLOR=never

WORKDIR /src
# .dockerignore lets in only the workspace sources (no .git, no target/, no local data).
COPY . .

# There is no .git in the context, so the build script takes the commit from this variable
# (it falls back to `unknown`). It is an ARG, so it reaches the build but not the runtime image.
ARG STOCKD_GIT_COMMIT=unknown

# Dependency caching with BuildKit cache mounts rather than the "build a dummy main.rs first"
# trick: a workspace of a dozen crates with build scripts would need a dummy per crate, while a
# cache mount keeps cargo's registry, its target dir (so incremental rebuilds compile only what
# changed) and npm's cache across builds. The target dir lives only in the cache, so the binary
# is copied out in the same step.
# Optional cargo features of stockd: `--build-arg CARGO_FEATURES=kafka` for the Kafka bus
# (deploy/k8s/components/kafka; librdkafka links the OpenSSL that distroless/cc carries).
ARG CARGO_FEATURES=""
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p stockd --bin stockd --features "${CARGO_FEATURES}" \
    && install -D -m 0755 target/release/stockd /out/stockd \
    && /out/stockd --version \
    && mkdir -p /out/data

# ---- runtime ------------------------------------------------------------------------------
# distroless/cc: glibc and libgcc_s, which is all the binary links (SQLite and TLS are built in).
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION
ARG STOCKD_GIT_COMMIT=unknown
ARG SOURCE=https://example.invalid/stockd

LABEL org.opencontainers.image.title="stockd" \
      org.opencontainers.image.description="Self-hosted stock market data and alerting service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${STOCKD_GIT_COMMIT}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"

COPY --from=builder /out/stockd /usr/local/bin/stockd
# The image has no shell to create the data dir at run time: it is created empty in the builder
# and owned by `nonroot` (65532), so a fresh volume mounted here inherits that owner.
COPY --from=builder --chown=65532:65532 /out/data /var/lib/stockd

# SQLite database, archive and any other state go to the volume; the rest of the filesystem is
# never written. Every other setting keeps its default and can be set with STOCKD_* variables.
ENV STOCKD_DATA_DIR=/var/lib/stockd
VOLUME ["/var/lib/stockd"]
WORKDIR /var/lib/stockd
# `nonroot` by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 65532:65532
EXPOSE 8080

# No shell or curl in the image: the binary probes its own GET /health on the configured port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/stockd", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/stockd"]
CMD ["serve"]
