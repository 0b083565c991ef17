# wristband in a container: built with the Rust toolchain, run on a slim Debian as an
# unprivileged user. Templates and the stylesheet are compiled into the binary.
#   docker build -t wristband .
#   docker run -p 8080:8080 -e WRISTBAND_ISSUER=https://id.example.com wristband
FROM rust:1.94-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin wristband \
 && strip target/release/wristband

FROM debian:bookworm-slim
# libssl3: RSA and AES; ca-certificates: back-channel logout to https clients; curl: the
# health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/wristband --create-home wristband
COPY --from=build /src/target/release/wristband /usr/local/bin/wristband
USER wristband
WORKDIR /var/lib/wristband
# SQLite in /var/lib/wristband/data unless WRISTBAND_DATABASE_URL names PostgreSQL.
ENV WRISTBAND_BIND=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/var/lib/wristband"]
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1
ENTRYPOINT ["wristband"]
CMD ["serve"]
