# syntax=docker/dockerfile:1
#
# vouch in a small runtime image: a build stage with the Rust toolchain, then a distroless
# runtime (glibc, CA certificates, a non-root user, no shell) holding only the stripped binary.
#
#   docker build -t vouch .
#   docker run --rm -u "$(id -u):$(id -g)" -v "$PWD:/src" vouch check .
#
# Run it as the owner of the mounted tree (`-u`): git, and so `vouch gate`, refuses a repository
# owned by another user. The control library is compiled into the binary; nothing else is read
# from the image. Helm charts are listed as not rendered (the image has no `helm`).

# The toolchain the project is tested with (Cargo.toml's rust-version is the oldest supported).
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-trixie AS build
WORKDIR /build
# Only what the package needs to build (see .dockerignore); Cargo.lock pins every dependency.
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY controls ./controls
COPY policies ./policies
COPY tools ./tools
COPY examples ./examples
# The registry and the target directory are BuildKit caches: a rebuild after a source edit
# recompiles vouch only, not its 227 dependencies.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/build/target,sharing=locked \
    cargo build --release --locked --bin vouch \
    && install -D -m 0755 target/release/vouch /out/vouch

# Debian 13 like the build stage, so the glibc the binary links against is there.
FROM gcr.io/distroless/cc-debian13:nonroot AS runtime
LABEL org.opencontainers.image.title="vouch" \
      org.opencontainers.image.description="Compliance as code: SOC 2, ISO 27001 and HIPAA controls as Cedar policies over Terraform, Kubernetes, IAM and a SaaS inventory" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/vouch /usr/local/bin/vouch
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/vouch"]
CMD ["--help"]
