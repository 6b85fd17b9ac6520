# SPDX-License-Identifier: Apache-2.0
# pano-analyzer image: build stage with the toolchain, runtime stage with only the shared
# libraries the binary links (tests/deploy/test_deploy.sh checks this list against ldd).
# The analyzer needs no privilege: it runs as an unprivileged user.

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends make gcc clang llvm bpftool libbpf-dev libelf-dev \
      zlib1g-dev pkg-config librdkafka-dev libprotobuf-c-dev protobuf-c-compiler \
      libcjson-dev libmicrohttpd-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make build/pano-analyzer

FROM debian:bookworm-slim
# runtime-libs: librdkafka1 libcjson1 libprotobuf-c1 libmicrohttpd12 libssl3
RUN apt-get update \
 && apt-get install -y --no-install-recommends librdkafka1 libcjson1 libprotobuf-c1 \
      libmicrohttpd12 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin pano
COPY --from=build /src/build/pano-analyzer /usr/local/bin/pano-analyzer
USER pano
EXPOSE 9103 57013
HEALTHCHECK --interval=15s --timeout=3s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9103 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ok <&3"]
ENTRYPOINT ["/usr/local/bin/pano-analyzer"]
